"""Occlusion sensitivity against a plain loop written here."""

from __future__ import annotations

import numpy as np
import pytest

from engine.explain import Cancelled, ExplainError, grey_value, input_range, occlusion
from engine.explain.occlusion import patch_positions
from engine.explain.overlay import to_image
from engine.graph.node import InputSpec
from engine.graph.pipeline import Pipeline
from engine.io.preprocess import PRESETS, Preprocess
from engine.layers import Flatten
from tests.engine.explain.nets import random_input, small_net


def probability(pipeline, x, k) -> float:
    scores = pipeline.forward(x)["fc1"].astype(np.float64)
    p = np.exp(scores - scores.max())
    return float(p[k] / p.sum())


def by_loop(pipeline, x, k, patch, stride, fill):
    _c, h, w = x.shape
    ph, pw = patch
    ys = list(range(0, h - ph + 1, stride[0]))
    xs = list(range(0, w - pw + 1, stride[1]))
    if ys[-1] + ph < h:
        ys.append(h - ph)
    if xs[-1] + pw < w:
        xs.append(w - pw)
    base = probability(pipeline, x, k)
    total, count = np.zeros((h, w)), np.zeros((h, w))
    for y in ys:
        for x0 in xs:
            hidden = x.copy()
            hidden[:, y:y + ph, x0:x0 + pw] = fill
            total[y:y + ph, x0:x0 + pw] += base - probability(pipeline, hidden, k)
            count[y:y + ph, x0:x0 + pw] += 1
    return total / count, len(ys) * len(xs)


@pytest.mark.parametrize(("patch", "stride", "batch"), [(2, 2, 32), (3, 2, 4), ((2, 4), (1, 3), 7),
                                                        (9, 1, 3)])
def test_occlusion_is_the_mean_probability_drop_of_the_patches_over_each_pixel(patch, stride,
                                                                               batch):
    pipeline, x = small_net(side=8), random_input(2, 8, 8, seed=3)
    e = occlusion(pipeline, x, target=1, patch=patch, stride=stride, batch=batch)
    pair = (patch, patch) if np.ndim(patch) == 0 else patch
    pair = (min(pair[0], 8), min(pair[1], 8))
    step = (stride, stride) if np.ndim(stride) == 0 else stride
    expected, n = by_loop(pipeline, x, 1, pair, step, 0.5)  # mid-grey of a [0, 1] input
    np.testing.assert_allclose(e.map, expected, atol=1e-6)
    assert e.map.dtype == np.float32 and e.settings["positions"] == n and e.signed
    assert e.probability == pytest.approx(probability(pipeline, x, 1), rel=1e-5)


def test_a_batch_a_fill_value_progress_and_stop():
    pipeline = small_net(side=8)
    x = np.stack([random_input(2, 8, 8, seed=s) for s in (4, 5)])
    seen = []
    e = occlusion(pipeline, x, patch=4, stride=2, fill=(0.0, 1.0), batch=4,
                  progress=lambda done, total: seen.append((done, total)))
    assert e.map.shape == (2, 8, 8) and len(e.target) == 2
    for i in range(2):
        k = e.target[i]
        expected, _n = by_loop(pipeline, x[i], k, (4, 4), (2, 2), np.array([0.0, 1.0])[:, None,
                                                                                          None])
        np.testing.assert_allclose(e.map[i], expected, atol=1e-6)
    assert seen[-1] == (18, 18) and [d for d, _t in seen] == [4, 8, 9, 13, 17, 18]
    with pytest.raises(Cancelled):
        occlusion(pipeline, x[0], stop=lambda: True)
    with pytest.raises(ExplainError, match="patch size"):
        occlusion(pipeline, x[0], patch=0)
    with pytest.raises(ExplainError, match="fill"):
        occlusion(pipeline, x[0], fill=(1.0, 2.0, 3.0))


def test_positions_cover_every_pixel():
    assert patch_positions(10, 4, 4) == [0, 4, 6]
    assert patch_positions(8, 4, 4) == [0, 4]
    assert patch_positions(3, 5, 2) == [0]


def test_grey_and_the_range_follow_the_networks_preprocessing():
    imagenet = PRESETS["ImageNet (PyTorch / torchvision)"]
    pipeline = Pipeline.chain([Flatten()], input_spec=InputSpec(channels=3, preprocess=imagenet))
    mean, std = np.array(imagenet.mean), np.array(imagenet.std)
    lo, hi = input_range(pipeline)
    np.testing.assert_allclose(lo.ravel(), -mean / std, rtol=1e-6)
    np.testing.assert_allclose(hi.ravel(), (1 - mean) / std, rtol=1e-6)
    np.testing.assert_allclose(grey_value(pipeline).ravel(), (0.5 - mean) / std, rtol=1e-6)


def test_an_input_goes_back_to_its_picture():
    picture = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    for recipe in [*PRESETS.values(), Preprocess(channel_order="BGR", scale=1.0, mean=(9.0,),
                                                 invert=True)]:
        recipe = recipe.with_size(None)
        pipeline = Pipeline.chain([Flatten()], input_spec=InputSpec(preprocess=recipe))
        np.testing.assert_array_equal(to_image(recipe.apply(picture), pipeline), picture)
