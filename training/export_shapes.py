"""Turn the trained weights into the app's bundled network: a pipeline file and an ONNX file.

Run: ``python -m training.export_shapes`` (after :mod:`training.train_shapes`).

Reads ``assets/models/shapes.npz`` (PyTorch's state dict, written by the training script) and
writes:

- ``assets/models/shapes.json`` + ``shapes.npz`` beside it: the engine's pipeline, with its
  preprocessing (64 x 64 center crop, RGB, pixel / 255) and a Softmax at the end so that the
  last node gives probabilities. The weights are re-stored under the pipeline's node names.
- ``assets/models/shapes.onnx`` (only when PyTorch is installed): the same trained network as
  an ONNX file, for "Open model" and the benchmark.

Saving the pipeline replaces ``shapes.npz`` (PyTorch's names) by the same arrays under the
pipeline's node names; a second run reads them back from there, so the script can run again.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

from engine.graph.pipeline import InputSpec, Pipeline
from engine.graph.spec import load_pipeline, save_pipeline
from engine.io.preprocess import Preprocess
from engine.layers import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Softmax
from training.shapes_data import CLASSES, SIZE

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "assets" / "models"
PREPROCESS = Preprocess(size=(SIZE, SIZE), resize="crop", channel_order="RGB", scale=1 / 255)
DESCRIPTION = (f"A small CNN trained to tell {len(CLASSES)} hand-drawn shapes apart ("
               + ", ".join(CLASSES) + "). Draw one on paper and hold it to the camera, or draw"
               " it on the drawing canvas. Trained by training/train_shapes.py; see"
               " docs/training.md.")


TORCH_INDEX = (0, 3, 6, 10, 12)  # positions of the layers with weights in build_model()


def trained_state() -> dict[str, np.ndarray]:
    """PyTorch's state dict ("0.weight", "0.bias", "3.weight", ...) as float32 arrays."""
    with np.load(MODELS / "shapes.npz") as archive:
        state = {key: archive[key].astype(np.float32) for key in archive.files}
    if "0.weight" in state:  # straight from the training script
        return state
    # Already exported: the same arrays under the pipeline's node names.
    weighted = [node for node in load_pipeline(MODELS / "shapes.json") if node.layer.parameters()]
    return {f"{index}.{param}": array
            for index, node in zip(TORCH_INDEX, weighted, strict=True)
            for param, array in node.layer.parameters().items()}


def build_pipeline(state: dict[str, np.ndarray]) -> Pipeline:
    """The trained network as an engine pipeline, PyTorch's layer order (see build_model)."""
    def conv(index: int, c_in: int, c_out: int, k: int) -> Conv2d:
        return Conv2d(c_in, c_out, k, padding=k // 2, weight=state[f"{index}.weight"],
                      bias_values=state[f"{index}.bias"])

    def linear(index: int) -> Linear:
        weight = state[f"{index}.weight"]  # (out, in)
        return Linear(weight.shape[1], weight.shape[0], weight=weight,
                      bias_values=state[f"{index}.bias"])

    layers = [
        conv(0, 3, 8, 5), ReLU(), MaxPool2d(2),      # (8, 32, 32)
        conv(3, 8, 16, 3), ReLU(), MaxPool2d(2),     # (16, 16, 16)
        conv(6, 16, 32, 3), ReLU(), MaxPool2d(2),    # (32, 8, 8)
        Flatten(), linear(10), ReLU(), linear(12),   # (2048,) -> (64,) -> (8,) logits
        Softmax(),                                   # (8,) probabilities
    ]
    spec = InputSpec(3, "rgb", SIZE, SIZE, preprocess=PREPROCESS)
    return Pipeline.chain(layers, input_spec=spec, name="shapes", description=DESCRIPTION)


def export_onnx(state: dict[str, np.ndarray], path: Path) -> bool:
    """Write the trained network as ONNX with PyTorch; False when PyTorch is not installed."""
    try:
        import torch
    except ImportError:
        return False
    from training.train_shapes import build_model

    model = build_model()
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
    model.eval()
    example = torch.zeros(1, 3, SIZE, SIZE)
    with warnings.catch_warnings():
        # dynamo=False on purpose: the TorchScript exporter writes one small self-contained
        # file with plain Conv/Gemm nodes; PyTorch warns that it is the older exporter.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(model, (example,), str(path), dynamo=False, input_names=["image"],
                          output_names=["logits"], opset_version=17,
                          dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    return True


def _panel(values: list[float], title: str, lo: float, hi: float, ticks: list[float],
           color: tuple[int, int, int], size: tuple[int, int] = (300, 420)) -> np.ndarray:
    """One line chart (BGR uint8) of ``values`` per epoch, y from ``lo`` to ``hi``."""
    import cv2

    h, w = size
    left, right, top, bottom = 58, 16, 34, 40
    img = np.full((h, w, 3), 255, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    n = len(values)

    def xy(i: int, v: float) -> tuple[int, int]:
        x = left + (w - left - right) * i / max(n - 1, 1)
        y = top + (h - top - bottom) * (hi - v) / (hi - lo)
        return round(x), round(y)

    for t in ticks:  # horizontal grid lines with their labels
        y = xy(0, t)[1]
        cv2.line(img, (left, y), (w - right, y), (225, 225, 225), 1)
        cv2.putText(img, f"{t:g}", (4, y + 4), font, 0.4, (90, 90, 90), 1, cv2.LINE_AA)
    for i in range(n):
        x = xy(i, lo)[0]
        cv2.line(img, (x, h - bottom), (x, h - bottom + 4), (90, 90, 90), 1)
        cv2.putText(img, str(i + 1), (x - 4 * len(str(i + 1)), h - bottom + 18), font, 0.4,
                    (90, 90, 90), 1, cv2.LINE_AA)
    cv2.rectangle(img, (left, top), (w - right, h - bottom), (120, 120, 120), 1)
    points = np.array([xy(i, v) for i, v in enumerate(values)], np.int32)
    cv2.polylines(img, [points], False, color, 2, cv2.LINE_AA)
    for p in points:
        cv2.circle(img, tuple(int(c) for c in p), 3, color, -1, cv2.LINE_AA)
    cv2.putText(img, title, (left, 22), font, 0.5, (30, 30, 30), 1, cv2.LINE_AA)
    cv2.putText(img, "epoch", (w // 2 - 20, h - 8), font, 0.45, (60, 60, 60), 1, cv2.LINE_AA)
    return img


def draw_training_curve(report: dict) -> np.ndarray:
    """The training loss and the validation accuracy per epoch, side by side (BGR uint8)."""
    history = report["history"]
    loss = [row["train_loss"] for row in history]
    accuracy = [row["val_accuracy"] * 100 for row in history]
    left = _panel(loss, "training loss (cross-entropy)", 0.0, 1.8, [0, 0.5, 1.0, 1.5],
                  (200, 90, 30))
    right = _panel(accuracy, "validation accuracy (%)", 70.0, 100.0, [70, 80, 90, 95, 100],
                   (40, 140, 40))
    return np.hstack([left, right])


def main() -> None:
    state = trained_state()
    pipeline = build_pipeline(state)
    reference = np.load(MODELS / "shapes_reference.npz")
    logits = pipeline.forward(reference["inputs"])["fc2"]
    error = float(np.abs(logits - reference["logits"]).max())
    print(f"largest difference from PyTorch's reference logits: {error:.2e}")
    save_pipeline(pipeline, MODELS / "shapes.json")
    print(f"wrote {MODELS / 'shapes.json'} and shapes.npz")
    if export_onnx(state, MODELS / "shapes.onnx"):
        (MODELS / "shapes.preprocess.json").write_text(
            json.dumps(PREPROCESS.to_dict(), indent=2) + "\n")
        print(f"wrote {MODELS / 'shapes.onnx'} and shapes.preprocess.json")
    else:
        print("PyTorch is not installed: shapes.onnx was not written")
    import cv2

    report = json.loads((ROOT / "docs" / "training.json").read_text())
    cv2.imwrite(str(ROOT / "docs" / "training-curve.png"), draw_training_curve(report))
    print(f"wrote {ROOT / 'docs' / 'training-curve.png'}")


if __name__ == "__main__":
    main()
