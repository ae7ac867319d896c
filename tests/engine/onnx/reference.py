"""onnxruntime as the reference for the ONNX import tests: run a model, compare every node."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

from engine.onnx.importer import load_onnx_model

RTOL = 1e-4


def run_onnxruntime(model: onnx.ModelProto, names: list[str], x: np.ndarray) -> dict:
    """onnxruntime's value of every name in ``names``, each made an extra graph output."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    declared = {o.name for o in model.graph.output}
    for name in names:
        if name not in declared:
            model.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    for out in model.graph.output:  # ONNX's and onnxruntime's ceil-mode sizes can differ
        out.type.tensor_type.ClearField("shape")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    outputs = [o.name for o in session.get_outputs()]
    return dict(zip(outputs, session.run(None, {"input": x}), strict=True))


def assert_close(ours: np.ndarray, ref: np.ndarray, what: str, rtol: float = RTOL) -> None:
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape}, onnxruntime {ref.shape}"
    finite = np.isfinite(ref)
    assert np.array_equal(finite, np.isfinite(ours)), f"{what}: NaN or inf differ"
    if not finite.any():
        return
    scale = max(float(np.abs(ref[finite]).max()), 1e-6)
    err = float(np.abs(ours[finite].astype(np.float64) - ref[finite]).max())
    assert err <= rtol * scale, f"{what}: max error {err:.3g} is more than {rtol} x {scale:.3g}"


def input_for(pipeline, batch: int = 2, seed: int = 0, low: float | None = None) -> np.ndarray:
    """A random (N, C, H, W) batch of the pipeline's input size (uniform above ``low``)."""
    spec = pipeline.input_spec
    shape = (batch, spec.channels, spec.height, spec.width)
    rng = np.random.default_rng(seed)
    if low is not None:
        return rng.uniform(low, low + 2.0, shape).astype(np.float32)
    return rng.standard_normal(shape).astype(np.float32)


def check_model(model: onnx.ModelProto, batch: int = 2, seed: int = 0, low=None,
                rtol: float = RTOL):
    """Import ``model`` and compare every imported node with onnxruntime; the pipeline."""
    pipeline = load_onnx_model(model)
    names = [n.name for n in pipeline if ":" not in n.name]  # ":pad" nodes are ours only
    x = input_for(pipeline, batch, seed, low)
    ref = run_onnxruntime(model, names, x)
    ours = pipeline.forward(x)
    for name in names:
        assert_close(ours[name], ref[name], f"node {name} ({pipeline[name].layer!r})", rtol)
    return pipeline
