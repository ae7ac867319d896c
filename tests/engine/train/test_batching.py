"""Batches cover every item once per epoch; to_batch gives exactly frame_to_input's numbers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.graph.node import InputSpec
from engine.graph.pipeline import Pipeline
from engine.io.preprocess import PRESETS, Preprocess, frame_to_input
from engine.layers import ReLU
from engine.train import ArrayDataset, DatasetError, batches, to_batch


def numbered(n: int) -> ArrayDataset:
    images = np.zeros((n, 2, 2, 1), np.uint8)
    return ArrayDataset(images, np.arange(n) % 3, ("a", "b", "c"))


class Listed:
    """A data set that only follows the protocol (no arrays)."""

    class_names = ("even", "odd")

    def __len__(self):
        return 7

    def __getitem__(self, i):
        return np.full((3, 3, 3), i, np.uint8), i % 2


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 50), size=st.integers(1, 17), shuffle=st.booleans(),
       drop_last=st.booleans(), seed=st.integers(0, 100))
def test_every_index_once_per_epoch(n, size, shuffle, drop_last, seed):
    data = ArrayDataset(np.arange(n, dtype=np.uint8).reshape(n, 1, 1, 1), np.zeros(n, np.int64),
                        ("x",))
    seen = [images[:, 0, 0, 0] for images, labels in
            batches(data, size, shuffle=shuffle, seed=seed, drop_last=drop_last)]
    sizes = [len(s) for s in seen]
    order = np.concatenate(seen) if seen else np.array([], np.uint8)
    assert all(s == size for s in sizes[:-1])
    if drop_last:
        assert len(order) == n - n % size and (not sizes or sizes[-1] == size)
        assert len(set(order.tolist())) == len(order)
    else:
        assert sorted(order.tolist()) == list(range(n))
    if not shuffle:
        assert order.tolist() == list(range(len(order)))


def test_shuffling_is_seeded_and_a_generator_gives_new_epochs():
    data = numbered(40)

    def epoch(seed):
        return np.concatenate([labels for _images, labels in batches(data, 8, seed=seed)])

    np.testing.assert_array_equal(epoch(3), epoch(3))
    assert not np.array_equal(epoch(3), epoch(4))
    rng = np.random.default_rng(0)
    first, second = epoch(rng), epoch(rng)
    assert not np.array_equal(first, second)
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(epoch(rng), first)


def test_batches_are_uint8_copies_with_int64_labels():
    data = numbered(5)
    images, labels = next(batches(data, 4, seed=0))
    assert images.dtype == np.uint8 and images.shape == (4, 2, 2, 1)
    assert labels.dtype == np.int64
    images[:] = 9  # a batch may be changed in place; the data set is not
    assert (data.images == 0).all()


def test_a_protocol_only_dataset_is_stacked():
    batch = list(batches(Listed(), 3, shuffle=False))
    assert [labels.tolist() for _images, labels in batch] == [[0, 1, 0], [1, 0, 1], [0]]
    assert batch[1][0].shape == (3, 3, 3, 3) and batch[1][0][0, 0, 0, 0] == 3


@pytest.mark.parametrize("size", [0, -1, 2.0, True])
def test_bad_batch_size(size):
    with pytest.raises(DatasetError, match="batch size"):
        next(batches(numbered(3), size))


RECIPES = [None, *PRESETS.values(),
           Preprocess(None, "crop", "BGR", 1 / 255, (0.2, 0.3, 0.4), (0.5, 0.25, 2.0), True),
           Preprocess(None, "stretch", "RGB", 2.0, (3.0,), (7.0,), False)]


@settings(max_examples=80, deadline=None)
@given(n=st.integers(1, 4), h=st.integers(1, 24), w=st.integers(1, 24),
       recipe=st.sampled_from(RECIPES), channels=st.sampled_from([1, 3]),
       stored=st.sampled_from([1, 3]), seed=st.integers(0, 2**16))
def test_to_batch_equals_frame_to_input_exactly(n, h, w, recipe, channels, stored, seed):
    if recipe is not None:
        recipe = recipe.with_size((h, w))
        if len(recipe.mean) not in (1, channels) or len(recipe.std) not in (1, channels):
            recipe = Preprocess((h, w), recipe.resize, recipe.channel_order, recipe.scale)
    spec = InputSpec(channels=channels, color="gray" if channels == 1 else "rgb",
                     preprocess=recipe)
    pipeline = Pipeline.chain([ReLU()], input_spec=spec)
    images = np.random.default_rng(seed).integers(0, 256, (n, h, w, stored), dtype=np.uint8)
    x = to_batch(images, spec)
    frames = images if stored == 3 else images[..., 0]  # a gray frame is (H, W)
    expected = np.stack([frame_to_input(frame, pipeline) for frame in frames])
    assert x.dtype == np.float32 and x.shape == (n, channels, h, w)
    np.testing.assert_array_equal(x, expected)


def test_to_batch_with_a_bare_recipe_and_none():
    images = np.random.default_rng(0).integers(0, 256, (3, 5, 6, 3), dtype=np.uint8)
    recipe = PRESETS["Caffe / VGG (BGR, 0-255, mean subtracted)"].with_size(None)
    np.testing.assert_array_equal(to_batch(images, recipe),
                                  np.stack([recipe.apply(f) for f in images]))
    np.testing.assert_allclose(to_batch(images), images.transpose(0, 3, 1, 2) / 255, atol=1e-7)
    assert to_batch(images, None, channels=1).shape == (3, 1, 5, 6)


def test_to_batch_refuses_wrong_sizes_and_types():
    recipe = Preprocess((8, 8))
    with pytest.raises(DatasetError, match="images are 5x6 but the network takes 8x8"):
        to_batch(np.zeros((1, 5, 6, 3), np.uint8), recipe)
    with pytest.raises(DatasetError, match="uint8"):
        to_batch(np.zeros((1, 5, 6, 3), np.float32))
    with pytest.raises(DatasetError, match="1 \\(gray\\) or 3"):
        to_batch(np.zeros((1, 5, 6, 3), np.uint8), None, channels=2)
