"""One entry point for every data source: :func:`open_dataset` reads the word the user typed.

``shapes`` and ``digits`` are drawn from the seed (nothing is downloaded); a path is an image
folder with one subfolder per class; ``mnist:FOLDER`` and ``fashion-mnist:FOLDER`` read the IDX
files in FOLDER. Every bad case raises :class:`~engine.train.dataset.DatasetError` with one line.

Examples
--------
>>> data = open_dataset("digits", size=(28, 28), channels=1, n=30, seed=1)
>>> data
ArrayDataset(30 images of 28x28x1, 10 classes: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
>>> open_dataset("mnist:")
Traceback (most recent call last):
...
engine.train.dataset.DatasetError: Name the folder that holds the IDX files after the colon, \
as in mnist:~/data/mnist
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from engine.i18n import _
from engine.train import draw_digits, draw_shapes
from engine.train.dataset import (
    ArrayDataset,
    DatasetError,
    check_fits_in_memory,
    check_input,
    fit_image,
    to_channels,
)
from engine.train.folder import load_folder
from engine.train.idx import load_mnist

__all__ = ["DEFAULT_DRAWN", "digits_dataset", "open_dataset", "shapes_dataset"]

DEFAULT_DRAWN = 4000
"""How many pictures ``shapes`` and ``digits`` draw when no count is given (a few seconds)."""

_MNIST_WORDS = {"mnist": False, "fashion-mnist": True, "fashion_mnist": True}


def _drawn(draw, classes, n, seed, size, channels, progress, source) -> ArrayDataset:
    size, channels = check_input(size, channels)
    n = DEFAULT_DRAWN if n is None else n
    check_fits_in_memory(n, size, channels)
    side = max(size)  # draw square pictures, then cut to the input's aspect ratio
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % len(classes)
    rng.shuffle(labels)
    images = np.empty((n, *size, channels), np.uint8)  # (N, H, W, C)
    for i, label in enumerate(labels):
        picture = draw(int(label), rng, side)
        if picture.shape[:2] != size:
            picture = fit_image(picture, size, 3)
        images[i] = to_channels(picture, channels)
        if progress is not None:
            progress(i + 1, n)
    return ArrayDataset(images, labels.astype(np.int64), classes, source=source)


def shapes_dataset(n: int | None = None, seed: int = 0, size: tuple[int, int] = (64, 64),
                   channels: int = 3,
                   progress: Callable[[int, int], None] | None = None) -> ArrayDataset:
    """The bundled classifier's drawn shapes; at 64 x 64 RGB exactly its training pictures.

    ``shapes_dataset(n, seed)`` holds the same images and labels as
    ``training.shapes_data.make_dataset(n, seed)``.

    Examples
    --------
    >>> shapes_dataset(16, seed=0).class_names[:3]
    ('circle', 'triangle', 'square')
    """
    return _drawn(draw_shapes.draw_shape, draw_shapes.CLASSES, n, seed, size, channels,
                  progress, _("drawn shapes"))


def digits_dataset(n: int | None = None, seed: int = 0, size: tuple[int, int] = (64, 64),
                   channels: int = 3,
                   progress: Callable[[int, int], None] | None = None) -> ArrayDataset:
    """Digits 0-9 drawn with OpenCV's text renderer (see :mod:`engine.train.draw_digits`).

    Examples
    --------
    >>> digits_dataset(20, seed=0, size=(28, 28), channels=1).counts().tolist()
    [2, 2, 2, 2, 2, 2, 2, 2, 2, 2]
    """
    return _drawn(draw_digits.draw_digit, draw_digits.DIGITS, n, seed, size, channels,
                  progress, _("drawn digits"))


def open_dataset(spec: str, *, size: tuple[int, int] = (64, 64), channels: int = 3,
                 n: int | None = None, seed: int = 0, part: str = "train",
                 progress: Callable[[int, int], None] | None = None) -> ArrayDataset:
    """The data set that ``spec`` names, at the network's input size and channels.

    Parameters
    ----------
    spec : str
        ``shapes`` or ``digits`` (drawn from ``seed``); a folder with one subfolder of images
        per class (write ``./shapes`` for a folder that is named like a keyword);
        ``mnist:FOLDER`` or ``fashion-mnist:FOLDER`` for the IDX files in FOLDER.
    size : (height, width)
        The network's input size.
    channels : 1 or 3
        The network's input channels (gray or RGB).
    n : int, optional
        How many pictures to draw (default :data:`DEFAULT_DRAWN`), or at most how many to
        read from a folder or MNIST (default: all), every class in its share.
    seed : int
        Fixes the drawings and the choice of ``n`` files.
    part : "train" or "test"
        Which MNIST files to read (``train-*`` or ``t10k-*``); the other sources ignore it.
    progress : callable, optional
        ``progress(done, total)`` while drawing or reading images.

    Raises
    ------
    DatasetError
        One line that says what is wrong: an unknown word, a missing or empty folder, one
        class, a class without a readable image, missing or damaged MNIST files.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise DatasetError(_("Say which data to train on: shapes, digits, a folder with one"
                             " subfolder per class, or mnist:FOLDER"))
    size, channels = check_input(size, channels)
    if n is not None and (isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1):
        raise DatasetError(_("The number of images must be a whole number of at least 1, not"
                             " {n!r}").format(n=n))
    text = spec.strip()
    word = text.lower()
    if word == "shapes":
        return shapes_dataset(n, seed, size, channels, progress)
    if word == "digits":
        return digits_dataset(n, seed, size, channels, progress)
    kind, colon, rest = text.partition(":")
    if colon and kind.lower() in _MNIST_WORDS:
        if not rest.strip():
            raise DatasetError(_("Name the folder that holds the IDX files after the colon, as"
                                 " in {example}").format(example=f"{kind}:~/data/mnist"))
        return load_mnist(rest.strip(), fashion=_MNIST_WORDS[kind.lower()], part=part,
                          size=size, channels=channels, n=n, seed=seed)
    path = Path(text).expanduser()
    if not path.exists():
        if word in _MNIST_WORDS:
            raise DatasetError(_("Say where the IDX files are: {word}:FOLDER").format(word=word))
        raise DatasetError(_("{spec!r} is neither shapes, digits, mnist:FOLDER nor an existing"
                             " folder").format(spec=text))
    return load_folder(path, size=size, channels=channels, n=n, seed=seed, progress=progress)
