"""Image folders with one subfolder per class, written in tmp_path with cv2.imwrite."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.train import DatasetError, load_folder, open_dataset


def bgr(color, h=30, w=40) -> np.ndarray:
    image = np.empty((h, w, 3), np.uint8)
    image[:] = color[::-1]  # cv2 writes BGR
    return image


@pytest.fixture
def pets(tmp_path):
    """cat: 2 PNGs and a broken JPEG; dog: a JPEG, a BMP in a deeper folder, a hidden file."""
    root = tmp_path / "pets"
    (root / "cat").mkdir(parents=True)
    (root / "dog" / "more").mkdir(parents=True)
    assert cv2.imwrite(str(root / "cat" / "a.png"), bgr((255, 0, 0)))
    assert cv2.imwrite(str(root / "cat" / "b.png"), bgr((250, 0, 0), 50, 20))
    (root / "cat" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    assert cv2.imwrite(str(root / "dog" / "c.jpg"), bgr((0, 0, 255)))
    assert cv2.imwrite(str(root / "dog" / "more" / "d.bmp"), bgr((0, 0, 250), 64, 64))
    (root / "dog" / ".DS_Store").write_bytes(b"junk")
    (root / ".hidden").mkdir()
    return root


def test_classes_are_sorted_subfolders_and_unreadable_files_counted(pets):
    data = load_folder(pets, size=(16, 24), channels=3)
    assert data.class_names == ("cat", "dog")
    assert data.images.shape == (4, 16, 24, 3)
    assert data.labels.tolist() == [0, 0, 1, 1]
    assert data.skipped == 1  # broken.jpg; the hidden file is not even tried
    # Colors survive as RGB: cats red, dogs blue.
    assert (data.images[:2, ..., 0] > 200).all() and (data.images[:2, ..., 2] < 30).all()
    assert (data.images[2:, ..., 2] > 200).all() and (data.images[2:, ..., 0] < 30).all()
    assert "1 unreadable files skipped" in repr(data)


def test_gray_input_uses_luma(pets):
    data = load_folder(pets, size=(8, 8), channels=1)
    assert data.images.shape == (4, 8, 8, 1)
    assert abs(int(data.images[0, 0, 0, 0]) - round(0.299 * 255)) <= 1


def test_images_are_center_cropped_not_stretched(tmp_path):
    root = tmp_path / "d"
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
    wide = np.zeros((20, 60, 3), np.uint8)
    wide[:, 20:40] = 255  # a white middle third: after the crop to a square, all white
    cv2.imwrite(str(root / "a" / "wide.png"), wide)
    cv2.imwrite(str(root / "b" / "x.png"), wide)
    data = load_folder(root, size=(10, 10), channels=1)
    assert (data.images[0] == 255).all()


def test_progress_and_n(pets):
    calls = []
    data = load_folder(pets, size=(8, 8), n=2, seed=1, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (2, 2) and len(calls) == 2
    assert data.labels.tolist() == [0, 1]  # one file of each class (seed 1: not broken.jpg)
    with pytest.raises(DatasetError, match="cannot cover the 2 classes"):
        load_folder(pets, n=1)


def test_open_dataset_takes_a_folder_path(pets):
    data = open_dataset(str(pets), size=(12, 12), channels=3)
    assert len(data) == 4 and data.source == str(pets)


def test_missing_folder(tmp_path):
    with pytest.raises(DatasetError, match=r"The folder .*nowhere does not exist"):
        load_folder(tmp_path / "nowhere")


def test_a_file_instead_of_a_folder(tmp_path):
    (tmp_path / "a.png").write_bytes(b"x")
    with pytest.raises(DatasetError, match="is a file"):
        load_folder(tmp_path / "a.png")


def test_empty_folder(tmp_path):
    with pytest.raises(DatasetError, match="is empty: it needs one subfolder of images per class"):
        load_folder(tmp_path)


def test_images_without_class_subfolders(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), bgr((1, 2, 3)))
    with pytest.raises(DatasetError, match="has files but no class subfolders"):
        load_folder(tmp_path)


def test_one_class(tmp_path):
    (tmp_path / "only").mkdir()
    cv2.imwrite(str(tmp_path / "only" / "a.png"), bgr((1, 2, 3)))
    with pytest.raises(DatasetError, match="only one class subfolder \\('only'\\); a classifier"
                       " needs at least two"):
        load_folder(tmp_path)


def test_an_empty_class(pets):
    (pets / "bird").mkdir()
    with pytest.raises(DatasetError, match=r"Class 'bird' has no readable image in .*pets"):
        load_folder(pets)


def test_a_class_of_unreadable_files(pets):
    (pets / "bird").mkdir()
    (pets / "bird" / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    (pets / "bird" / "notes.txt").write_text("hello")
    with pytest.raises(DatasetError, match="Class 'bird' has no readable image"):
        load_folder(pets)


def test_messages_are_one_line(tmp_path):
    for make in (lambda: load_folder(tmp_path / "none"), lambda: load_folder(tmp_path)):
        with pytest.raises(DatasetError) as info:
            make()
        assert "\n" not in str(info.value)
