"""The command line end to end: summary, run, bad input, and the window's options."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import main
from assets import asset_path
from engine.graph.spec import BUNDLED, save_pipeline
from engine.io.media import read_image, to_input, write_image
from engine.io.mosaic import mosaic_shape, tile_origin
from engine.io.preprocess import frame_to_input
from engine.onnx.importer import load_onnx
from engine.resolve import resolve_pipeline
from tests.engine import onnx_models

ROOT = Path(__file__).resolve().parents[1]
SHAPES = asset_path("samples", "shapes.png")
SHAPES_ONNX = asset_path("models", "shapes.onnx")


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


def test_summary_of_an_onnx_model_counts_every_weight(capsys):
    code, out, err = _run(capsys, "summary", str(SHAPES_ONNX))
    assert code == 0 and err == ""
    ledger = load_onnx(SHAPES_ONNX).summary((3, 64, 64))  # the size its preprocessing gives
    # Counted from the file itself, without the engine: every initializer is a weight or a bias.
    initializers = onnx.load(str(SHAPES_ONNX)).graph.initializer
    stored = sum(numpy_helper.to_array(t).size for t in initializers)
    assert ledger.total_params == stored == 138_072
    assert f"Total params: {stored:,}" in out
    assert "(3, 64, 64)" in out.splitlines()[0]
    for row in ledger.rows:
        assert row.name in out
    code, out, _ = _run(capsys, "summary", str(SHAPES_ONNX), "--json")
    assert code == 0
    assert json.loads(out) == json.loads(json.dumps(ledger.to_dict()))


def test_run_on_an_onnx_model_writes_forward_of_the_preprocessed_image(tmp_path, capsys):
    import onnxruntime as ort

    code, out, err = _run(capsys, "run", str(SHAPES_ONNX), str(SHAPES), "--out", str(tmp_path))
    assert code == 0 and err == ""
    model = resolve_pipeline(SHAPES_ONNX)  # with shapes.preprocess.json beside it
    x = frame_to_input(read_image(SHAPES), model)
    assert x.shape == (3, 64, 64)
    expected = model.forward(x)
    saved = sorted(tmp_path.glob("*.npy"))
    assert len(saved) == len(expected)
    for path, (name, activation) in zip(saved, expected.items(), strict=True):
        assert path.stem.endswith(name.strip("/").replace("/", "_"))
        got = np.load(path)
        assert got.dtype == np.float32
        # Not bit for bit: the resize is a BLAS matmul, which the engine's first large op puts
        # on one thread, so the first preprocessing in a process may round differently.
        scale = float(np.abs(activation).max())
        np.testing.assert_allclose(got, activation, rtol=1e-5, atol=1e-5 * scale)
    # The class scores also agree with another runtime given the same preprocessed input.
    session = ort.InferenceSession(str(SHAPES_ONNX), providers=["CPUExecutionProvider"])
    (scores,) = session.run(None, {session.get_inputs()[0].name: x[None]})
    last = np.load(saved[-1])
    np.testing.assert_allclose(last, scores[0], rtol=1e-4, atol=1e-4 * np.abs(scores).max())
    ledger = json.loads((tmp_path / "ledger.json").read_text())
    assert ledger["total_params"] == 138_072
    assert "64 x 64 input" in out


def test_summary_of_a_residual_graph_shows_each_nodes_inputs(tmp_path, capsys):
    path = tmp_path / "residual.onnx"
    onnx.save(onnx_models.residual(), str(path))
    code, out, err = _run(capsys, "summary", str(path))
    assert code == 0 and err == ""
    network = load_onnx(path)
    assert out == network.summary((3, 12, 12)).to_text() + "\n"
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("#"))
    assert "Inputs" in header.split()
    adds = [line for line in lines if "(Add)" in line]
    assert len(adds) == 2
    for line in adds:  # a residual add joins two branches: both are listed
        (node,) = [n for n in network.nodes if line.split()[1] == n.name]
        assert len(node.inputs) == 2
        assert ", ".join(node.inputs) in line


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


def test_damaged_onnx_files_exit_2_with_one_line(tmp_path, capsys):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"this is not a protobuf")
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(SHAPES_ONNX.read_bytes()[:3000])
    directory = tmp_path / "net.onnx"
    directory.mkdir()
    unreadable = "cannot be read as an ONNX model"
    cases = [
        (("summary", str(garbage)), "garbage.onnx", unreadable),
        (("summary", str(truncated)), "truncated.onnx", unreadable),
        (("run", str(truncated), str(SHAPES), "--out", str(tmp_path / "o")), unreadable),
        (("summary", str(directory)), "net.onnx: the model file is a folder, not a file"),
        (("summary", str(tmp_path / "missing.onnx")), "missing.onnx", "does not exist"),
    ]
    for argv, *fragments in cases:
        code, _, err = _run(capsys, *argv)
        _assert_one_line_error(code, err, *fragments)
    assert not (tmp_path / "o").exists()


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


def test_summary_of_a_folder_says_it_is_a_folder(tmp_path, capsys):
    folder = tmp_path / "nets"
    folder.mkdir()
    assert main.main(["summary", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a folder" in err and "Traceback" not in err


def test_onnx_pool_with_absurd_padding_is_refused_when_loading(tmp_path, capsys):
    # Uneven pads become a separate Pad node; without a limit this pool loaded and `run` then
    # died with a MemoryError traceback (89 GiB for the padded input).
    g = onnx_models.GraphBuilder((1, 3, 8, 8))
    y = g.node("MaxPool", ["input"], kernel_shape=[3, 3], pads=[0, 0, 0, 10**9])
    path = tmp_path / "huge.onnx"
    onnx.save(g.model([y]), str(path))
    code, _, err = _run(capsys, "summary", str(path))
    _assert_one_line_error(code, err, "huge.onnx", "the MaxPool node",
                           "pads [0, 0, 0, 1000000000] may be")
    out_dir = tmp_path / "o"
    code, _, err = _run(capsys, "run", str(path), str(SHAPES), "--out", str(out_dir))
    _assert_one_line_error(code, err, "huge.onnx", "at most 256")
    assert not out_dir.exists()
