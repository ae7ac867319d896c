"""Memory bombs: tiny files and arguments that declare huge sizes. Each runs in a child process
whose address space is capped 1.5 GiB above its start; it must end with exit code 2 and one
line, never a MemoryError, a traceback or a kill, and its resident memory must barely grow."""

from __future__ import annotations

import resource
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.hostile import makers as mk
from tests.hostile.harness import (
    CAP_ABOVE_BASELINE,
    PEAK_ALLOWED,
    assert_one_line,
    child_baseline,
    run_capped,
)

SAMPLE = str(Path(__file__).resolve().parents[2] / "assets" / "samples" / "shapes.png")
TOO_LARGE = "too large: 20000 x 20000 = 400.0 megapixels"
OVER_BUDGET = "more than the budget of"


def _image(name: str, data: bytes):
    def make(tmp: Path) -> list[str]:
        (tmp / name).write_bytes(data)
        return ["run", "edges", str(tmp / name), "--out", str(tmp / "out")]
    return make


def _pipeline(data, *extra: str, npz: tuple[str, object] | None = None):
    def make(tmp: Path) -> list[str]:
        if npz is not None:
            npz[1](tmp / npz[0])
        mk.write_json(tmp / "p.json", data)
        return ["run", str(tmp / "p.json"), SAMPLE, "--out", str(tmp / "out"), *extra]
    return make


def _onnx_input(height: int, width: int):
    def make(tmp: Path) -> list[str]:
        import onnx

        from tests.engine import onnx_models

        g = onnx_models.GraphBuilder((1, 3, height, width))
        onnx.save(g.model([g.node("Relu", ["input"])]), str(tmp / "wide.onnx"))
        return ["run", str(tmp / "wide.onnx"), SAMPLE, "--out", str(tmp / "out")]
    return make


def _onnx_broadcast(tmp: Path) -> list[str]:
    """Two constants of 100,000 values whose sum broadcasts to 10^10 while loading."""
    import numpy as np
    import onnx

    from tests.engine import onnx_models

    g = onnx_models.GraphBuilder((1, 3, 8, 8))
    g.node("Add", [g.const(np.zeros((100_000, 1), np.float32)),
                   g.const(np.zeros((1, 100_000), np.float32))])
    onnx.save(g.model([g.node("Relu", ["input"])]), str(tmp / "fold.onnx"))
    return ["summary", str(tmp / "fold.onnx")]


def _wide(height: int, width: int, channels: int = 3, **input_extra) -> dict:
    conv = {"type": "Conv2d", "in_channels": 3, "out_channels": channels, "kernel_size": 1}
    return mk.pipeline([conv], input={"channels": 3, "color": "rgb", "height": height,
                                      "width": width, **input_extra})


BOMBS = [
    ("gif-35-bytes", _image("bomb.gif", mk.gif()), TOO_LARGE),
    ("gif-frame-past-screen", _image("frame.gif", mk.gif(16, 16, frame=(BIG := mk.BIG, BIG))),
     TOO_LARGE),
    ("jpeg-header", _image("bomb.jpg", mk.jpeg()), TOO_LARGE),
    ("jpeg-fill-bytes", _image("fill.jpg", mk.jpeg(fill=5)), TOO_LARGE),
    ("jpeg-frame-after-2mb-comment", _image(
        "late.jpg", mk.jpeg(before=b"".join(mk.jpeg_segment(0xFE, bytes(65000))
                                            for _ in range(33)))), TOO_LARGE),
    ("png-ihdr", _image("bomb.png", mk.png()), TOO_LARGE),
    ("bmp-header", _image("bomb.bmp", mk.bmp()), TOO_LARGE),
    ("tiff-directory-at-1mb", _image("bomb.tif", mk.tiff(ifd_at=1 << 20)), TOO_LARGE),
    ("webp-vp8x-canvas", _image("bomb.webp", mk.webp_vp8x()), "16384 x 16384"),
    ("webp-lossless", _image("lossless.webp", mk.webp_vp8l()), "16384 x 16384"),
    ("pnm-unread-format", _image("bomb.png", b"P6\n20000 20000\n255\n"), "PNM image"),
    ("npz-inflates-to-1gib", _pipeline(mk.conv_from_npz("w.npz"), npz=(
        "w.npz", mk.npz_inflating)), OVER_BUDGET),
    ("npz-header-declares-2e40", _pipeline(mk.conv_from_npz("w.npz"), npz=(
        "w.npz", lambda p: mk.npz_lying(p, (1 << 40,), bytes(64)))), "the file is damaged"),
    ("npz-directory-declares-4gb", _pipeline(mk.conv_from_npz("w.npz"), npz=(
        "w.npz", lambda p: mk.npz_declaring(p, 0xFFFFFFF0))), OVER_BUDGET),
    ("linear-2e24-inputs", _pipeline(mk.pipeline(
        [{"type": "Flatten"}, {"type": "Linear", "in_features": 1 << 24, "out_features": 64}])),
     OVER_BUDGET),
    ("conv-4096-filters-of-256x256", _pipeline(mk.pipeline(
        [{"type": "Conv2d", "in_channels": 3, "out_channels": 4096, "kernel_size": 256}])),
     OVER_BUDGET),
    ("side-60000", _pipeline(mk.pipeline(), "--side", "60000"), "megapixels is too large"),
    ("side-400-digits", _pipeline(mk.pipeline(), "--side", "9" * 400), "at most 65536 pixels"),
    ("declared-input-100000", _pipeline(_wide(100000, 100000)), "megapixels is too large"),
    ("activations-of-9000x9000", _pipeline(_wide(9000, 9000, channels=64)),
     "running the pipeline on a 3 x 9000 x 9000 input"),
    ("preprocess-size-32768", _pipeline(_wide(32, 32, preprocess={"size": [32768, 32768]})),
     "running the pipeline on a 3 x 32768 x 32768 input"),
    ("onnx-input-100000", _onnx_input(100000, 100000), "megapixels is too large"),
    ("onnx-constants-broadcast-to-1e10", _onnx_broadcast, "folding Add on constants"),
]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, tuple[int, str, int, Path]]:
    """Every bomb run in its own capped child, four at a time: id -> (code, stderr, growth,
    folder). The children are independent processes; running them side by side only saves
    the suite's time."""
    baseline = child_baseline()
    folders = {i: tmp_path_factory.mktemp(i) for i, _m, _f in BOMBS}
    argvs = {i: make(folders[i]) for i, make, _f in BOMBS}
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {i: pool.submit(run_capped, argv, baseline) for i, argv in argvs.items()}
        return {i: (*future.result(), folders[i]) for i, future in futures.items()}


@pytest.mark.parametrize(("bomb", "fragment"), [pytest.param(i, f, id=i) for i, _m, f in BOMBS])
def test_bomb_ends_with_one_line_and_little_memory(outcomes, bomb, fragment):
    code, err, growth, folder = outcomes[bomb]
    assert_one_line(code, err, fragment)
    assert growth < PEAK_ALLOWED, f"resident memory grew by {growth >> 20} MiB"
    assert not (folder / "out").exists()  # refused before anything was written


def test_the_cap_stops_a_plain_2_gib_allocation():
    """The bombs above were refused by the app, not spared by a loose cap."""
    cap = child_baseline()[0] + CAP_ABOVE_BASELINE
    done = subprocess.run(
        [sys.executable, "-c", "import numpy; numpy.ones(2 << 30, numpy.uint8)"],
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (cap, cap)),
        capture_output=True, text=True, check=False)
    assert done.returncode != 0 and "MemoryError" in done.stderr
