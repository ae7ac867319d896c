"""Export as a numpy-only script (run here, against the engine) and as PyTorch source (compiled
here; torch is not a test dependency, the benchmark runs it), and the ``export`` command."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys

import numpy as np
import pytest

import main
from engine.export import FORMATS, ExportError, export_pipeline
from engine.export.code import identifiers, outputs_of
from engine.onnx.importer import load_onnx, load_onnx_model
from engine.resolve import resolve_pipeline
from tests.engine.onnx.networks import NETWORKS
from tests.engine.onnx.reference import assert_close, input_for
from tests.engine.onnx_models import MODELS


def _pipelines():
    yield from ((n, lambda n=n: resolve_pipeline(n)) for n in ("default", "lecture", "shapes"))
    yield from ((n, lambda f=f: load_onnx_model(f())) for n, f in {**NETWORKS, **MODELS}.items())


CASES = dict(_pipelines())


def _module(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(CASES))
def test_numpy_script_computes_what_the_engine_does(name, tmp_path):
    pipeline = CASES[name]()
    script, weights = export_pipeline(pipeline, "numpy", tmp_path / f"{name}.py")
    assert "import torch" not in script.read_text() and "engine" not in script.read_text()
    x = input_for(pipeline, batch=2, seed=7)
    with np.load(weights) as arrays:
        ys = _module(script).run(x, arrays)
    ys = ys if isinstance(ys, tuple) else (ys,)
    ours = pipeline.forward(x)
    for y, out in zip(ys, outputs_of(pipeline), strict=True):
        assert_close(y, ours[out], f"{name}: {out}", rtol=1e-5)


@pytest.mark.parametrize("name", sorted(CASES))
def test_pytorch_source_is_valid_python_naming_every_weight(name, tmp_path):
    pipeline = CASES[name]()
    source, weights = export_pipeline(pipeline, "pytorch", tmp_path / "net.py")
    text = source.read_text()
    tree = ast.parse(text)
    assert {c.name for c in tree.body if isinstance(c, ast.ClassDef)} == {"Net"}
    assert "class Net(nn.Module)" in text and "def load(" in text
    with np.load(weights) as arrays:
        for key in arrays.files:
            module = key.split(".")[0]
            assert f"self.{module} = nn." in text or f"register_buffer({key!r}" in text, key


def test_the_script_runs_on_its_own(tmp_path):
    pipeline = resolve_pipeline("lecture")
    script, _ = export_pipeline(pipeline, "numpy", tmp_path / "lecture_net.py")
    np.save(tmp_path / "x.npy", input_for(pipeline, batch=1))
    done = subprocess.run([sys.executable, script.name, "x.npy"], cwd=tmp_path,
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == str((1, *pipeline.shapes((3, 32, 32))[pipeline.nodes[-1].name]))


def test_identifiers_are_python_names():
    names = identifiers(["/features/0/Conv_output_0", "input", "1x", "class", "a", "A"])
    assert list(names.values()) == ["features_0_conv_output_0", "t_input", "t_1x", "t_class",
                                    "a", "a_2"]


def test_export_command(tmp_path, capsys):
    out = tmp_path / "shapes.onnx"
    assert main.main(["export", "shapes", "--format", "onnx", "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    assert load_onnx(out).input_spec.preprocess == resolve_pipeline("shapes").input_spec.preprocess
    code = main.main(["export", "edges", "--format", "numpy", "--out", str(tmp_path / "e.py")])
    assert code == 2 and "give one (C,H,W)" in capsys.readouterr().err
    assert main.main(["export", "edges", "--format", "numpy", "--out", str(tmp_path / "e.py"),
                      "--input-shape", "1,16,16"]) == 0
    assert (tmp_path / "e.npz").is_file()
    with pytest.raises(SystemExit):
        main.main(["export", "edges", "--format", "caffe", "--out", "x"])
    assert FORMATS == ("onnx", "pytorch", "numpy")
    with pytest.raises(ExportError, match="unknown export format"):
        export_pipeline(resolve_pipeline("lecture"), "caffe", tmp_path / "x")
