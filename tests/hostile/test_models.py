"""ONNX models whose external data points anywhere, and preprocessing sidecars that cannot be
used: the first are refused with one line, the second leave a valid model loading with a
warning."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import onnx
import pytest

import engine
from engine.io.preprocess import PreprocessWarning, sidecar_path
from engine.onnx.importer import OnnxImportError
from tests.engine import onnx_models
from tests.hostile import makers as mk
from tests.hostile.harness import assert_api, assert_one_line, run_cli

OUTSIDE = "outside the model's folder"


def _model_reading(tmp: Path, location: str, **entries: str) -> Path:
    """chain.onnx whose weights are stored as external data at ``location``."""
    folder = tmp / "model"
    folder.mkdir()
    path = folder / "chain.onnx"
    onnx.save(onnx_models.plain_chain(), str(path), save_as_external_data=True,
              location="chain.weights", size_threshold=0)
    model = onnx.load(str(path), load_external_data=False)
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = location
            elif entry.key in entries:
                entry.value = entries[entry.key]
    path.write_bytes(model.SerializeToString())
    (tmp / "elsewhere").mkdir()
    (tmp / "elsewhere" / "secret.bin").write_bytes(bytes(4096))
    return path


def _link(target: str):
    def make(tmp: Path) -> Path:
        path = _model_reading(tmp, "link.bin")
        (path.parent / "link.bin").symlink_to(target.format(tmp=tmp))
        return path
    return make


EXTERNAL = [
    ("parent-folder", lambda t: _model_reading(t, "../elsewhere/secret.bin"), OUTSIDE),
    ("absolute", lambda t: _model_reading(t, str(t / "elsewhere" / "secret.bin")), OUTSIDE),
    ("etc-passwd", lambda t: _model_reading(t, "/etc/passwd"), OUTSIDE),
    ("empty-location", lambda t: _model_reading(t, ""), OUTSIDE),
    ("symlink-out", _link("{tmp}/elsewhere/secret.bin"), OUTSIDE),
    ("symlink-to-device", _link("/dev/zero"), OUTSIDE),
    ("fifo-inside", lambda t: mk.fifo(_model_reading(t, "pipe.bin").parent / "pipe.bin").parent
     / "chain.onnx", "named pipe (FIFO)"),
    ("folder-inside", lambda t: _mkdir(_model_reading(t, "sub"), "sub"), "it is a folder"),
    ("length-past-the-end", lambda t: _model_reading(t, "chain.weights", length="10" + "0" * 11),
     "reads bytes 0 to 1,000,000,000,000"),
    ("negative-offset", lambda t: _model_reading(t, "chain.weights", offset="-5"),
     "must be non-negative"),
    ("sparse-20-gib", lambda t: _sparse_inside(_model_reading(t, "huge.bin", offset="0",
                                                             length=str(20 << 30))),
     "more than the budget of"),
]


def _mkdir(path: Path, name: str) -> Path:
    (path.parent / name).mkdir()
    return path


def _sparse_inside(path: Path) -> Path:
    mk.sparse(path.parent / "huge.bin", 20 << 30)
    return path


@pytest.mark.parametrize(("make", "fragment"), [pytest.param(m, f, id=i) for i, m, f in EXTERNAL])
def test_external_data_only_from_inside_the_models_folder(tmp_path, capfd, make, fragment):
    path = make(tmp_path)
    code, out, err = run_cli(capfd, ["summary", str(path)])
    line = assert_one_line(code, err, fragment)
    assert "chain.onnx: cannot be read as an ONNX model" in line and out == ""
    assert_api(lambda: engine.load_onnx(path), OnnxImportError, fragment)


SIDECARS = [
    ("not-json", lambda p: p.write_text("{not json"), "not valid JSON"),
    ("deep", lambda p: p.write_text("[" * 60_000), "nest 60000 levels deep"),
    ("wrong-types", lambda p: p.write_text('{"size": "big"}'), "two positive whole numbers"),
    ("huge-number", lambda p: p.write_text('{"scale": 1e999}'), "too large for a number"),
    ("unknown-key", lambda p: p.write_text('{"sise": [2, 2]}'), "unknown preprocessing key"),
    ("not-utf8", lambda p: p.write_bytes(b"\xff\xfe\x00"), "not a text file"),
    ("fifo", mk.fifo, "named pipe (FIFO)"),
    ("folder", Path.mkdir, "it is a folder"),
    ("40-mb", lambda p: mk.sparse(p, 40 << 20), "bytes allowed"),
]


@pytest.mark.parametrize(("make", "fragment"), [pytest.param(m, f, id=i) for i, m, f in SIDECARS])
def test_a_bad_sidecar_does_not_stop_a_valid_model(tmp_path, capfd, make, fragment):
    path = tmp_path / "net.onnx"
    onnx.save(onnx_models.plain_chain(), str(path))
    make(sidecar_path(path))
    code, out, err = run_cli(capfd, ["summary", str(path)])
    assert code == 0 and "Total params" in out
    (line,) = err.splitlines()
    assert line.startswith("cnn-explorer: warning: net.preprocess.json: ")
    assert fragment in line and "the model is opened without it" in line
    with pytest.warns(PreprocessWarning, match=re.escape(fragment)):
        pipeline = engine.resolve_pipeline(path)
    assert pipeline.input_spec.preprocess is None
    assert np.isfinite(pipeline.forward(np.zeros(pipeline.input_spec.shape, np.float32))[
        pipeline.nodes[-1].name]).all()


def test_a_bad_sidecar_still_runs_the_model(tmp_path, capfd):
    path = tmp_path / "net.onnx"
    onnx.save(onnx_models.plain_chain(), str(path))
    sidecar_path(path).write_text("[" * 1000)
    sample = Path(__file__).resolve().parents[2] / "assets" / "samples" / "shapes.png"
    code, out, err = run_cli(capfd, ["run", str(path), str(sample), "--out", str(tmp_path / "o")])
    assert code == 0 and "wrote" in out
    assert len(err.splitlines()) == 1 and "warning" in err
