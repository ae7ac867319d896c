"""Preprocessing recipes: geometry, channel order, scaling, files, the pipeline carrying them."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from engine.graph.pipeline import InputSpec, Pipeline
from engine.graph.spec import (
    SpecError,
    load_pipeline,
    pipeline_from_dict,
    pipeline_to_dict,
    save_pipeline,
)
from engine.io.preprocess import (
    PRESETS,
    Preprocess,
    PreprocessError,
    frame_to_input,
    load_beside,
    save_beside,
    sidecar_path,
)
from engine.layers import Conv2d, ReLU


def random_frame(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def test_normalization_matches_a_plain_loop():
    frame = random_frame(5, 7)
    recipe = PRESETS["ImageNet (PyTorch / torchvision)"].with_size((5, 7))
    x = recipe.apply(frame)
    assert x.shape == (3, 5, 7) and x.dtype == np.float32
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    for c in range(3):
        for i in range(5):
            for j in range(7):
                expected = (frame[i, j, c] / 255 - mean[c]) / std[c]
                assert x[c, i, j] == pytest.approx(expected, rel=1e-5, abs=1e-5)


def test_caffe_preset_reorders_to_bgr_and_subtracts_the_mean():
    frame = random_frame(3, 4, seed=1)
    x = PRESETS["Caffe / VGG (BGR, 0-255, mean subtracted)"].with_size(None).apply(frame)
    means = (103.94, 116.78, 123.68)
    for c, source in enumerate((2, 1, 0)):  # B, G, R
        np.testing.assert_allclose(x[c], frame[:, :, source].astype(np.float64) - means[c],
                                   rtol=0, atol=1e-4)


def test_inception_preset_spans_minus_one_to_one():
    frame = np.array([[[0, 255, 127]]], np.uint8)
    x = PRESETS["Keras / TF Inception ([-1, 1])"].with_size(None).apply(frame)
    np.testing.assert_allclose(x[:, 0, 0], [-1.0, 1.0, 127 / 127.5 - 1], atol=1e-6)


def test_gray_network_gets_luma_and_invert_flips():
    frame = random_frame(4, 4, seed=2)
    x = Preprocess(invert=True).apply(frame, channels=1)
    assert x.shape == (1, 4, 4)
    for i in range(4):
        for j in range(4):
            r, g, b = (255 - int(v) for v in frame[i, j])
            assert x[0, i, j] == pytest.approx((0.299 * r + 0.587 * g + 0.114 * b) / 255,
                                               abs=1e-5)


@pytest.mark.parametrize(("shape", "size"), [((6, 10), (3, 3)), ((10, 6), (4, 2)),
                                              ((8, 8), (8, 8))])
def test_crop_keeps_the_center_with_the_target_aspect(shape, size):
    frame = random_frame(*shape, seed=3)
    h, w = shape
    th, tw = size
    # An independent crop: the largest centered window with aspect tw/th.
    if w / h > tw / th:
        cw = round(h * tw / th)
        ref = frame[:, (w - cw) // 2 : (w - cw) // 2 + cw]
    else:
        ch = round(w * th / tw)
        ref = frame[(h - ch) // 2 : (h - ch) // 2 + ch]
    crop_size = ref.shape[:2]
    x = Preprocess(size=crop_size, resize="crop", scale=1.0).apply(frame)
    np.testing.assert_array_equal(x, ref.transpose(2, 0, 1).astype(np.float32))


def test_enlarging_is_bilinear_like_opencv():
    frame = random_frame(9, 13, seed=4)
    x = Preprocess(size=(20, 31), resize="stretch", scale=1.0).apply(frame)
    ref = cv2.resize(frame.astype(np.float32), (31, 20), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(x, ref.transpose(2, 0, 1), atol=1e-3)


def test_shrinking_averages_with_a_widened_triangle():
    frame = random_frame(8, 12, seed=5)
    x = Preprocess(size=(4, 4), resize="stretch", scale=1.0).apply(frame)

    def weights(n_in, n_out):  # a loop version of the antialiasing filter
        ratio = n_in / n_out
        rows = []
        for o in range(n_out):
            center = (o + 0.5) * ratio - 0.5
            row = [max(0.0, 1 - abs(i - center) / ratio) for i in range(n_in)]
            rows.append([v / sum(row) for v in row])
        return np.array(rows)

    wy, wx = weights(8, 4), weights(12, 4)
    for c in range(3):
        ref = wy @ frame[:, :, c].astype(np.float64) @ wx.T
        np.testing.assert_allclose(x[c], ref, atol=1e-3)
    flat = np.full((8, 12, 3), 77, np.uint8)  # a flat picture stays flat
    np.testing.assert_allclose(Preprocess((4, 4), "stretch", scale=1.0).apply(flat), 77, atol=1e-4)


def test_none_keeps_the_frame_size():
    frame = random_frame(6, 9)
    assert Preprocess(size=(2, 2), resize="none").apply(frame).shape == (3, 6, 9)
    assert Preprocess().output_size(6, 9) == (6, 9)
    assert Preprocess((2, 3)).output_size(6, 9) == (2, 3)


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"size": (0, 4)}, "two positive whole numbers"),
    ({"size": (4,)}, "two positive whole numbers"),
    ({"resize": "zoom"}, "crop, stretch, none"),
    ({"channel_order": "GBR"}, "RGB or BGR"),
    ({"scale": 0}, "above zero"),
    ({"std": (1.0, 0.0, 1.0)}, "above zero"),
    ({"mean": (1.0, 2.0)}, "1 or 3"),
    ({"mean": "x"}, "one number or one per channel"),
    ({"mean": (1.0, float("nan"), 0.0)}, "1 or 3 finite"),
    ({"invert": "yes"}, "true or false"),
])
def test_bad_recipes_say_what_is_wrong(kwargs, words):
    with pytest.raises(PreprocessError, match=words):
        Preprocess(**kwargs)


def test_bad_frames_and_channel_counts():
    with pytest.raises(PreprocessError, match="uint8"):
        Preprocess().apply(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(PreprocessError, match="3 values"):
        PRESETS["ImageNet (PyTorch / torchvision)"].apply(random_frame(8, 8), channels=1)
    with pytest.raises(ValueError, match="3 values"):
        InputSpec(1, "gray", preprocess=PRESETS["ImageNet (PyTorch / torchvision)"])


def test_dict_round_trip_and_unknown_keys():
    for recipe in PRESETS.values():
        d = json.loads(json.dumps(recipe.to_dict()))
        assert Preprocess.from_dict(d) == recipe
    with pytest.raises(PreprocessError, match="unknown preprocessing key"):
        Preprocess.from_dict({"sise": [2, 2]})
    with pytest.raises(PreprocessError, match="JSON object"):
        Preprocess.from_dict([1, 2])


def test_sidecar_file_beside_the_model(tmp_path):
    model = tmp_path / "net.onnx"
    assert sidecar_path(model).name == "net.preprocess.json"
    assert load_beside(model) is None
    recipe = PRESETS["Caffe / VGG (BGR, 0-255, mean subtracted)"]
    save_beside(recipe, model)
    assert load_beside(model) == recipe
    sidecar_path(model).write_text('{"scale": -1}')
    with pytest.raises(PreprocessError, match=r"net\.preprocess\.json: scale must be above zero"):
        load_beside(model)
    sidecar_path(model).write_text("{not json")
    with pytest.raises(PreprocessError, match="cannot be read"):
        load_beside(model)


def small_pipeline(recipe=None) -> Pipeline:
    conv = Conv2d(3, 2, 3, padding=1, init="he", seed=1)
    return Pipeline.chain([conv, ReLU()], input_spec=InputSpec(3, "rgb", preprocess=recipe))


def test_pipeline_file_keeps_the_recipe(tmp_path):
    recipe = Preprocess((8, 8), "crop", "BGR", 1.0, (1.0, 2.0, 3.0), (2.0,))
    pipeline = small_pipeline(recipe)
    assert pipeline_to_dict(pipeline)["input"]["preprocess"] == recipe.to_dict()
    save_pipeline(pipeline, tmp_path / "p.json")
    loaded = load_pipeline(tmp_path / "p.json")
    assert loaded == pipeline and loaded.input_spec.preprocess == recipe
    bad = pipeline_to_dict(pipeline)
    bad["input"]["preprocess"]["resize"] = "zoom"
    with pytest.raises(SpecError, match=r"input\.preprocess.*crop, stretch, none"):
        pipeline_from_dict(bad)


def test_frame_to_input_with_and_without_a_recipe():
    frame = random_frame(12, 16, seed=6)
    plain = small_pipeline()
    np.testing.assert_allclose(frame_to_input(frame, plain),
                               frame.transpose(2, 0, 1) / np.float32(255), atol=1e-7)
    recipe = Preprocess((6, 6), "crop", scale=1 / 255)
    attached = plain.with_preprocess(recipe)
    assert plain.input_spec.preprocess is None  # the old pipeline is untouched
    assert attached.nodes == plain.nodes and attached != plain
    np.testing.assert_array_equal(frame_to_input(frame, attached), recipe.apply(frame))
    assert attached.with_preprocess(None) == plain
