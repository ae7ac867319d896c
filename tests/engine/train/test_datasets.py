"""ArrayDataset, the seeded split, the drawn data sets and open_dataset's words."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import training.shapes_data
from engine.train import (
    ArrayDataset,
    Dataset,
    DatasetError,
    digits_dataset,
    draw_digits,
    make_dataset,
    make_digits,
    open_dataset,
    shapes_dataset,
    split,
    stratified_pick,
)
from engine.train import draw_digits as digits_module


def small(n=12, classes=("a", "b", "c"), size=(4, 5), channels=3, seed=0) -> ArrayDataset:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, *size, channels), dtype=np.uint8)
    return ArrayDataset(images, np.arange(n) % len(classes), classes)


def test_array_dataset_items_and_protocol():
    data = small()
    assert isinstance(data, Dataset)
    image, label = data[4]
    assert image.shape == (4, 5, 3) and label == 1 and isinstance(label, int)
    assert len(data) == 12 and data.image_shape == (4, 5, 3)
    assert data.counts().tolist() == [4, 4, 4]
    assert repr(data) == "ArrayDataset(12 images of 4x5x3, 3 classes: a, b, c)"


def test_array_dataset_is_read_only_but_the_callers_arrays_are_not():
    images = np.zeros((2, 3, 3, 1), np.uint8)
    labels = np.array([0, 1])
    data = ArrayDataset(images, labels, ("x", "y"))
    with pytest.raises(ValueError, match="read-only"):
        data.images[0, 0, 0, 0] = 1
    images[0, 0, 0, 0] = 7  # the caller's array stays writable (and the data set a view of it)
    labels[0] = 1
    assert data.labels[0] == 0


@pytest.mark.parametrize(("images", "labels", "names", "match"), [
    (np.zeros((2, 3, 3), np.uint8), [0, 1], ("a", "b"), "shape"),
    (np.zeros((2, 3, 3, 2), np.uint8), [0, 1], ("a", "b"), "1 or 3"),
    (np.zeros((2, 3, 3, 3), np.float32), [0, 1], ("a", "b"), "uint8"),
    (np.zeros((2, 3, 3, 3), np.uint8), [0], ("a", "b"), "one whole-number label per image"),
    (np.zeros((2, 3, 3, 3), np.uint8), [0, 2], ("a", "b"), "between 0 and 1"),
])
def test_array_dataset_refuses_bad_arrays(images, labels, names, match):
    with pytest.raises(DatasetError, match=match):
        ArrayDataset(images, np.asarray(labels), names)


def test_subset_copies_and_keeps_names_and_skipped():
    data = ArrayDataset(small().images, small().labels, ("a", "b", "c"), skipped=3, source="s")
    part = data.subset([5, 0])
    assert part.labels.tolist() == [2, 0] and part.class_names == data.class_names
    assert part.skipped == 3 and part.source == "s"
    np.testing.assert_array_equal(part.images[0], data.images[5])


@settings(max_examples=60, deadline=None)
@given(counts=st.lists(st.integers(1, 25), min_size=2, max_size=5),
       fraction=st.floats(0.0, 0.9), seed=st.integers(0, 1000))
def test_split_is_seeded_disjoint_complete_and_stratified(counts, fraction, seed):
    labels = np.repeat(np.arange(len(counts)), counts)
    rng = np.random.default_rng(seed)
    rng.shuffle(labels)
    # Tag every image with its index (two pixels: high and low byte) to see where it went.
    index = np.arange(len(labels))
    tags = np.stack([index // 256, index % 256], axis=1).astype(np.uint8)  # (N, 2)
    tagged = ArrayDataset(tags[:, None, :, None], labels, tuple("abcde"[: len(counts)]))
    train, val = split(tagged, fraction, seed)
    again_train, again_val = split(tagged, fraction, seed)
    np.testing.assert_array_equal(train.images, again_train.images)
    np.testing.assert_array_equal(val.labels, again_val.labels)
    assert len(train) + len(val) == len(tagged)
    for c, count in enumerate(counts):
        in_val = int((val.labels == c).sum())
        assert in_val == min(int(np.floor(fraction * count + 0.5)), count - 1)
        assert (train.labels == c).sum() >= 1
    tags_train = {(int(a), int(b)) for a, b in train.images[:, 0, :, 0]}
    tags_val = {(int(a), int(b)) for a, b in val.images[:, 0, :, 0]}
    assert not tags_train & tags_val
    assert len(tags_train | tags_val) == len(labels)


def test_split_depends_on_the_seed_and_checks_the_fraction():
    data = small(n=60)
    a = split(data, 0.5, seed=1)[1].images
    b = split(data, 0.5, seed=2)[1].images
    assert not np.array_equal(a, b)
    assert len(split(data, 0.0)[1]) == 0
    for bad in (1.0, -0.1, 2):
        with pytest.raises(DatasetError, match="validation fraction"):
            split(data, bad)


@settings(max_examples=80, deadline=None)
@given(counts=st.lists(st.integers(1, 30), min_size=1, max_size=6),
       n=st.integers(1, 200), seed=st.integers(0, 100))
def test_stratified_pick(counts, n, seed):
    labels = np.repeat(np.arange(len(counts)), counts)
    picked = stratified_pick(labels, n, seed)
    assert len(picked) == min(n, len(labels))
    assert len(set(picked.tolist())) == len(picked) and (np.diff(picked) > 0).all()
    if len(counts) <= n < len(labels):
        got = np.bincount(labels[picked], minlength=len(counts))
        assert (got >= 1).all()
        assert (np.abs(got - np.asarray(counts) * n / len(labels)) < 2).all() or (got == 1).any()
    np.testing.assert_array_equal(picked, stratified_pick(labels, n, seed))


def test_shapes_are_the_bundled_classifier_data_byte_for_byte():
    """The drawing moved from training/shapes_data.py into the engine; the pictures did not
    change. This hash was taken from the code before the move (images + labels of a batch)."""
    assert training.shapes_data.make_dataset is make_dataset
    images, labels = make_dataset(24, 20261125)
    digest = hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()
    assert digest == "1e03ca70d5f2f796ad9772b384adb86e87121198e68db7b991522918f69e428b"
    data = shapes_dataset(24, 20261125)
    np.testing.assert_array_equal(data.images, images)
    np.testing.assert_array_equal(data.labels, labels)
    assert data.class_names == training.shapes_data.CLASSES


def test_drawn_sets_at_other_sizes_and_gray():
    data = open_dataset("SHAPES ", size=(24, 40), channels=1, n=16, seed=2)
    assert data.images.shape == (16, 24, 40, 1) and data.counts().tolist() == [2] * 8
    digits = digits_dataset(20, seed=5, size=(28, 28), channels=3)
    assert digits.images.shape == (20, 28, 28, 3) and digits.counts().tolist() == [2] * 10
    assert digits.class_names == tuple("0123456789")


def test_digits_are_seeded_balanced_and_dark_on_light():
    images, labels = make_digits(30, seed=4)
    again, _ = make_digits(30, seed=4)
    np.testing.assert_array_equal(images, again)
    assert np.bincount(labels).tolist() == [3] * 10
    other, _ = make_digits(30, seed=5)
    assert not np.array_equal(images, other)
    for image in images:  # ink darker than the paper around it
        assert image[28:36, 28:36].mean() < image[:4].mean() + 40
        assert image.min() < image.max() - 60


def test_digits_with_opencv4_hershey_fonts(monkeypatch):
    monkeypatch.setattr(digits_module, "_VARIABLE_FONT", False)
    images, labels = make_digits(10, seed=1)
    assert images.shape == (10, 64, 64, 3) and sorted(labels.tolist()) == list(range(10))
    assert all(image.min() < image.max() - 60 for image in images)
    assert draw_digits is not None


@pytest.mark.parametrize(("spec", "kwargs", "match"), [
    ("", {}, "Say which data to train on"),
    (None, {}, "Say which data to train on"),
    ("pictures-of-cats", {}, "'pictures-of-cats' is neither shapes, digits, mnist:FOLDER nor"),
    ("mnist", {}, "mnist:FOLDER"),
    ("mnist:", {}, "Name the folder that holds the IDX files"),
    ("fashion-mnist:  ", {}, "fashion-mnist:~/data/mnist"),
    ("shapes", {"n": 0}, "number of images"),
    ("shapes", {"n": 2.5}, "number of images"),
    ("shapes", {"size": (0, 4)}, "input size"),
    ("shapes", {"size": 64}, "input size"),
    ("shapes", {"channels": 2}, "1 \\(gray\\) or 3 \\(RGB\\)"),
])
def test_open_dataset_bad_words_get_one_line(spec, kwargs, match):
    with pytest.raises(DatasetError, match=match) as info:
        open_dataset(spec, **kwargs)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_open_dataset_refuses_more_than_fits_in_memory():
    with pytest.raises(DatasetError, match="GiB of memory"):
        open_dataset("digits", size=(1024, 1024), n=5000)
