"""The bundled shapes classifier: same outputs as PyTorch, same accuracy as docs/ records."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assets import asset_path
from engine.graph.spec import BUNDLED_MODELS, load_pipeline
from engine.io.preprocess import frame_to_input
from engine.layers import Linear, Softmax
from engine.resolve import resolve_pipeline
from training.shapes_data import CLASSES, make_dataset

ROOT = asset_path().parent


@pytest.fixture(scope="module")
def shapes():
    return resolve_pipeline("shapes")


@pytest.fixture(scope="module")
def report() -> dict:
    return json.loads((ROOT / "docs" / "training.json").read_text())


def test_the_file_loads_with_its_preprocessing(shapes):
    assert "shapes" in BUNDLED_MODELS
    assert load_pipeline(asset_path("models", "shapes.json")) == shapes
    recipe = shapes.input_spec.preprocess
    assert recipe is not None and recipe.size == (64, 64) and recipe.scale == pytest.approx(1 / 255)
    assert shapes.input_spec.shape == (3, 64, 64)
    assert isinstance(shapes[-1].layer, Softmax) and isinstance(shapes[-2].layer, Linear)
    labels = asset_path("labels", "shapes.txt").read_text().split()
    assert tuple(labels) == CLASSES
    assert shapes.summary((3, 64, 64)).rows[-1].out_shape == (len(CLASSES),)


def test_engine_matches_pytorch_reference_logits(shapes):
    with np.load(asset_path("models", "shapes_reference.npz")) as ref:
        inputs, logits = ref["inputs"], ref["logits"]
    out = shapes.forward(inputs)
    got = out[shapes[-2].name]  # the Linear node: logits, before our Softmax
    scale = np.abs(logits).max()
    np.testing.assert_allclose(got, logits, rtol=1e-4, atol=1e-4 * scale)
    probs = out[shapes[-1].name]
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # Softmax by hand, in float64, from PyTorch's logits.
    e = np.exp(logits.astype(np.float64) - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(probs, e / e.sum(axis=1, keepdims=True), atol=1e-5)


def test_onnx_export_matches_too(shapes):
    path = asset_path("models", "shapes.onnx")
    model = resolve_pipeline(path)  # with shapes.preprocess.json beside it
    assert model.input_spec.preprocess == shapes.input_spec.preprocess
    with np.load(asset_path("models", "shapes_reference.npz")) as ref:
        inputs, logits = ref["inputs"], ref["logits"]
    got = list(model.forward(inputs).values())[-1]
    np.testing.assert_allclose(got, logits, rtol=1e-4, atol=1e-4 * np.abs(logits).max())


def test_engine_predicts_the_same_classes_as_pytorch(shapes):
    with np.load(asset_path("models", "shapes_reference.npz")) as ref:
        inputs, logits = ref["inputs"], ref["logits"]
    predicted = shapes.forward(inputs)[shapes[-1].name].argmax(axis=1)
    np.testing.assert_array_equal(predicted, logits.argmax(axis=1))


def test_held_out_accuracy_is_what_docs_record(shapes, report):
    # The held-out set of training/train_shapes.py: seed + 2, drawn again from its seed.
    images, labels = make_dataset(report["test"], report["seed"] + 2)
    x = np.stack([frame_to_input(image, shapes) for image in images])  # (N, 3, 64, 64)
    with np.load(asset_path("models", "shapes_reference.npz")) as ref:
        # PyTorch's reference inputs are the first images of this same set, so this is the
        # same data, preprocessed the same way.
        np.testing.assert_allclose(x[: len(ref["inputs"])], ref["inputs"], atol=1e-6)
        np.testing.assert_array_equal(labels[: len(ref["labels"])], ref["labels"])
    last = shapes[-1].name
    predicted = np.concatenate(
        [shapes.forward(x[i : i + 500])[last].argmax(axis=1) for i in range(0, len(x), 500)]
    )
    correct = int((predicted == labels).sum())
    # docs/training.json records PyTorch's accuracy as a float32 (3982 / 4000 is stored as
    # 0.99550002...), so compare whole images: the engine must get at least as many right.
    recorded = round(report["test_accuracy"] * report["test"])
    assert correct >= recorded, (correct, recorded)
