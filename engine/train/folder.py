"""An image folder with one subfolder per class: ``pets/cat/*.jpg``, ``pets/dog/*.png``, ...

The class names are the subfolder names, sorted. Every file below a class folder (also in
deeper folders) is tried with :func:`engine.io.media.read_image`, so whatever OpenCV reads works and
what it cannot read is skipped and counted, not fatal. Each image is center-cropped to the
network's aspect ratio, resized to its input size and converted to its channels. Hidden files
and folders (names starting with a dot) are ignored.

Examples
--------
>>> import tempfile, pathlib
>>> from engine.io.media import write_image
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> for name in ("cat", "dog"):
...     (root / name).mkdir()
...     write_image(root / name / "a.png", np.zeros((30, 40, 3), np.uint8))
>>> (root / "dog" / "notes.txt").write_text("not an image")
12
>>> data = load_folder(root, size=(16, 16), channels=1)
>>> data.class_names, data.images.shape, data.skipped
(('cat', 'dog'), (2, 16, 16, 1), 1)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from engine.i18n import _
from engine.train.dataset import (
    ArrayDataset,
    DatasetError,
    check_fits_in_memory,
    check_input,
    fit_image,
    stratified_pick,
)

__all__ = ["class_files", "load_folder"]


def _visible(path: Path, root: Path) -> bool:
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def class_files(folder) -> tuple[tuple[str, ...], list[Path], np.ndarray]:
    """The class names, every file of every class and its label, without reading any image.

    Raises
    ------
    DatasetError
        The folder is missing or a file, has no class subfolders, has only one, or a class
        folder has no file at all.
    """
    root = Path(folder).expanduser()
    if not root.exists():
        raise DatasetError(_("The folder {folder} does not exist").format(folder=root))
    if not root.is_dir():
        raise DatasetError(_("{folder} is a file; give a folder with one subfolder of images per"
                             " class").format(folder=root))
    entries = [p for p in root.iterdir() if not p.name.startswith(".")]
    classes = sorted(p.name for p in entries if p.is_dir())
    if not classes:
        if any(p.is_file() for p in entries):
            raise DatasetError(_("{folder} has files but no class subfolders: put the images of"
                                 " each class in a subfolder named after the class")
                               .format(folder=root))
        raise DatasetError(_("The folder {folder} is empty: it needs one subfolder of images per"
                             " class").format(folder=root))
    if len(classes) == 1:
        raise DatasetError(_("{folder} has only one class subfolder ({name!r}); a classifier"
                             " needs at least two classes").format(folder=root, name=classes[0]))
    files, labels = [], []
    for label, name in enumerate(classes):
        found = sorted(p for p in (root / name).rglob("*") if p.is_file() and _visible(p, root))
        if not found:
            raise DatasetError(_("Class {name!r} has no readable image in {folder}")
                               .format(name=name, folder=root))
        files += found
        labels += [label] * len(found)
    return tuple(classes), files, np.asarray(labels, np.int64)


def load_folder(folder, *, size: tuple[int, int] = (64, 64), channels: int = 3,
                n: int | None = None, seed: int = 0,
                progress: Callable[[int, int], None] | None = None) -> ArrayDataset:
    """Read every image of every class subfolder of ``folder`` into an :class:`ArrayDataset`.

    Parameters
    ----------
    folder : str or path-like
        ``folder/<class name>/<any file OpenCV reads>``.
    size : (height, width)
        The network's input size; images are center-cropped to its aspect ratio and resized.
    channels : 1 or 3
        Gray (BT.601 luma) or RGB.
    n : int, optional
        Read at most this many files, every class in its share, chosen by ``seed``.
    progress : callable, optional
        Called as ``progress(done, total)`` after each file, for a progress bar.

    Raises
    ------
    DatasetError
        See :func:`class_files`; also when every file of a class is unreadable.
    """
    from engine.io.media import MediaError, read_image  # OpenCV loads on first use

    size, channels = check_input(size, channels)
    classes, files, labels = class_files(folder)
    root = Path(folder).expanduser()
    if n is not None and n < len(classes):
        raise DatasetError(_("Reading {n} images cannot cover the {k} classes in {folder}")
                           .format(n=n, k=len(classes), folder=root))
    keep = stratified_pick(labels, n, seed)
    check_fits_in_memory(len(keep), size, channels)
    images = np.empty((len(keep), *size, channels), np.uint8)  # (N, H, W, C)
    kept = np.empty(len(keep), np.int64)
    count = skipped = 0
    for done, i in enumerate(keep, start=1):
        try:
            image = read_image(files[i])
        except MediaError:
            skipped += 1
        else:
            images[count] = fit_image(image, size, channels).reshape(*size, channels)
            kept[count] = labels[i]
            count += 1
        if progress is not None:
            progress(done, len(keep))
    have = np.bincount(kept[:count], minlength=len(classes))
    if (have == 0).any():
        name = classes[int(np.argmax(have == 0))]
        raise DatasetError(_("Class {name!r} has no readable image in {folder}")
                           .format(name=name, folder=root))
    return ArrayDataset(images[:count], kept[:count], classes, skipped=skipped,
                        source=str(root))
