"""The command line end to end: summary, run, bad input, and the window's options."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import main
from assets import asset_path
from engine.media import read_image, to_input, write_image
from engine.mosaic import mosaic_shape, tile_origin
from engine.spec import BUNDLED, resolve_pipeline, save_pipeline

ROOT = Path(__file__).resolve().parents[1]
SHAPES = asset_path("samples", "shapes.png")


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", BUNDLED)
def test_summary_of_each_bundled_pipeline_is_its_ledger(capsys, name):
    code, out, err = _run(capsys, "summary", name)
    assert code == 0 and err == ""
    pipeline = resolve_pipeline(name)
    spec = pipeline.input_spec
    shape = spec.shape or (spec.channels, 480, 640)
    assert out == pipeline.summary(shape).to_text() + "\n"
    for node in pipeline.nodes:
        assert node.name in out


def test_summary_of_lecture_prints_the_lectures_numbers(capsys):
    code, out, _ = _run(capsys, "summary", "lecture")
    assert code == 0
    assert "(10, 32, 32)" in out  # 32 x 32 x 10 = 10,240 values
    assert "(32 - 5 + 2*2)/1 + 1 = 32" in out
    assert "10 x (5 x 5 x 3 + 1) = 760" in out
    assert "94,402,560" in out  # the fully connected equivalent, about 10^8
    code, out, _ = _run(capsys, "summary", "lecture", "--json")
    ledger = json.loads(out)
    (row,) = ledger["rows"]
    assert int(np.prod(row["out_shape"])) == 10_240
    assert row["params"] == 760 and ledger["total_params"] == 760


def test_summary_input_shape_and_pipeline_file(capsys, tmp_path):
    code, out, _ = _run(capsys, "summary", "default", "--input-shape", "3,64,96")
    assert code == 0
    assert out == resolve_pipeline("default").summary((3, 64, 96)).to_text() + "\n"
    path = tmp_path / "mine.json"
    save_pipeline(resolve_pipeline("edges"), path)
    code, out, _ = _run(capsys, "summary", str(path), "--input-shape", "1x40x60")
    assert code == 0
    assert out == resolve_pipeline("edges").summary((1, 40, 60)).to_text() + "\n"


@pytest.mark.parametrize("name", ["default", "edges"])
def test_run_writes_every_layer_equal_to_forward(tmp_path, capsys, name):
    out_dir = tmp_path / "out"
    code, out, err = _run(capsys, "run", name, str(SHAPES), "--out", str(out_dir))
    assert code == 0 and err == ""
    pipeline = resolve_pipeline(name)
    x = to_input(read_image(SHAPES), pipeline.input_spec)
    expected = pipeline.forward(x)
    for index, (node_name, activation) in enumerate(expected.items()):
        stem = f"{index:02d}_{node_name}"
        saved = np.load(out_dir / f"{stem}.npy")
        assert saved.dtype == np.float32
        np.testing.assert_allclose(saved, activation, rtol=1e-6, atol=1e-6)
        png = read_image(out_dir / f"{stem}.png")
        assert png.shape[:2] == mosaic_shape(activation.shape)
        assert stem in out
    ledger = json.loads((out_dir / "ledger.json").read_text())
    assert ledger == json.loads(json.dumps(pipeline.summary(x.shape).to_dict()))
    np.testing.assert_array_equal(read_image(out_dir / "input.png"), read_image(SHAPES))


def test_run_png_is_the_layers_maps_normalized_by_layer(tmp_path, capsys):
    code, _, _ = _run(capsys, "run", "edges", str(SHAPES), "--out", str(tmp_path))
    assert code == 0
    act = np.load(tmp_path / "00_conv1.npy")  # (2, 480, 640): Sobel X and Y
    png = read_image(tmp_path / "00_conv1.png")[:, :, 0].astype(np.float64)
    h, w = act.shape[1:]
    lo, hi = float(act.min()), float(act.max())
    for i in range(act.shape[0]):
        y0, x0 = tile_origin(i, act.shape)
        expected = np.rint((act[i] - lo) * 255.0 / (hi - lo))
        np.testing.assert_allclose(png[y0 : y0 + h, x0 : x0 + w], expected, atol=1)


def test_run_with_side_scales_the_image(tmp_path, capsys):
    code, out, _ = _run(capsys, "run", "edges", str(SHAPES), "--out", str(tmp_path), "--side", "64")
    assert code == 0
    assert np.load(tmp_path / "00_conv1.npy").shape == (2, 48, 64)
    assert "48 x 64 input" in out


def _assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("cnn-explorer: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


def test_bad_inputs_exit_2_with_one_line(tmp_path, capsys):
    text = tmp_path / "notes.png"
    text.write_text("not an image\n")
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "cnn-explorer-pipeline", "version": 1, "layers": [')
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    cases = [
        (("run", "edges", str(tmp_path / "missing.png"), "--out", str(tmp_path)), "does not exist"),
        (("run", "edges", str(text), "--out", str(tmp_path)), "not an image"),
        (("run", "edges", str(SHAPES), "--out", str(a_file / "sub")), "a_file"),
        (("run", "edges", str(SHAPES), "--out", str(tmp_path), "--side", "0"), "at least 1"),
        (("summary", "no-such-pipeline"), "no-such-pipeline"),
        (("summary", str(broken)), "broken.json"),
        (("summary", "lecture", "--input-shape", "4,32,32"), "got 4"),
        (("summary", "lecture", "--input-shape", "3,x,32"), "C,H,W"),
        (("run", "edges"), "required"),
        (("--camera", "0", "--source", str(SHAPES)), "either --source or --camera"),
    ]
    for argv, fragment in cases:
        try:
            code = main.main(list(argv))
        except SystemExit as exc:  # argparse usage errors exit from inside parse_args
            code = exc.code
        _, err = capsys.readouterr()
        _assert_one_line_error(code, err, fragment)


def test_shapes_that_do_not_fit(tmp_path, capsys):
    # A 2 x 2 image cannot go through three 2 x 2 max pools.
    tiny = tmp_path / "tiny.png"
    write_image(tiny, np.zeros((2, 2, 3), np.uint8))
    out_dir = str(tmp_path / "o")
    code, _, err = _run(capsys, "run", "default", str(tiny), "--out", out_dir, "--side", "2")
    _assert_one_line_error(code, err)
    assert not (tmp_path / "o").exists()  # checked before anything is written


def test_process_exit_code_and_stderr():
    """Through a real process: the exit code reaches the shell, no traceback, and the headless
    subcommands never import Qt."""
    probe = (
        "import sys, main\n"
        "code = main.main(['summary', 'edges'])\n"
        "assert 'PySide6' not in sys.modules, 'summary imported Qt'\n"
        "sys.exit(code)\n"
    )
    ok = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "conv1" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "main.py", "run", "edges", "missing.png", "--out", "unused"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    _assert_one_line_error(bad.returncode, bad.stderr, "missing.png")
    assert not (ROOT / "unused").exists()


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("cnn-explorer 0.")


def test_no_subcommand_opens_the_window_with_all_options(monkeypatch):
    import gui.app

    seen = {}

    def fake_run(args):
        seen["args"] = args
        return 0

    monkeypatch.setattr(gui.app, "run", fake_run)
    assert main.main([]) == 0
    args = seen["args"]
    assert (args.source, args.pipeline, args.layer, args.screenshot) == (None, None, None, None)
    assert (args.tour, args.model, args.camera, args.fresh) == (None, None, None, False)
    argv = [
        "--source",
        "a.png",
        "--pipeline",
        "edges",
        "--layer",
        "2",
        "--screenshot",
        "s.png",
        "--tour",
        "3",
        "--model",
        "m.onnx",
        "--fresh",
    ]
    assert main.main(argv) == 0
    args = seen["args"]
    assert (args.source, args.pipeline, args.layer, args.screenshot) == (
        "a.png",
        "edges",
        2,
        "s.png",
    )
    assert (args.tour, args.model, args.camera, args.fresh) == (3, "m.onnx", None, True)
    assert main.main(["--camera", "1"]) == 0
    assert seen["args"].camera == 1
