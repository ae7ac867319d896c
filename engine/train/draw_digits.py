"""Digits 0-9 drawn from a seed in OpenCV's fonts: a second data set that needs no download.

Like the shapes (:mod:`engine.train.draw_shapes`), every picture imitates a marker on paper held
to the webcam: dark ink on light paper with uneven lighting, drawn with ``cv2.putText`` with
varied stroke weight, size, position, a small rotation, slant and stretch, blur and noise. The
same seed gives the same pictures on every machine with the same OpenCV major version (OpenCV 5
draws text in another font than OpenCV 4).

Examples
--------
>>> images, labels = make_digits(20, seed=0)
>>> images.shape, images.dtype, sorted(set(labels.tolist())) == list(range(10))
((20, 64, 64, 3), dtype('uint8'), True)
"""

from __future__ import annotations

import numpy as np

__all__ = ["DIGITS", "FONTS", "SIZE", "draw_digit", "make_digits"]

DIGITS = tuple("0123456789")
SIZE = 64
FONTS = (0, 1, 2, 3, 4, 6, 7)
"""OpenCV 4's Hershey stroke fonts, by number (cv2.FONT_HERSHEY_SIMPLEX = 0, PLAIN, DUPLEX,
COMPLEX, TRIPLEX, and SCRIPT_SIMPLEX = 6, SCRIPT_COMPLEX); OpenCV 5 draws them all in one
variable-weight font."""
_VARIABLE_FONT: bool | None = None
"""Whether cv2 has OpenCV 5's variable font; None: look on first use (tests may set it)."""


def _paper(rng: np.random.Generator, big: int) -> np.ndarray:
    """A light sheet with a linear lighting gradient, (big, big, 3) float32."""
    paper = rng.uniform(175, 255, size=3).astype(np.float32)
    gy, gx = np.mgrid[0:big, 0:big].astype(np.float32) / big - 0.5
    light = 1 + rng.uniform(-0.25, 0.25) * gx + rng.uniform(-0.25, 0.25) * gy
    return light[..., None] * paper  # (big, big, 3)


def _glyph(text: str, rng: np.random.Generator, big: int) -> np.ndarray:
    """The digit as a white-on-black (big, big) uint8 mask, drawn somewhere near the middle.

    OpenCV 5 draws text in a built-in variable-weight sans font (its Hershey names all map to
    it): the weight varies from thin to black. OpenCV 4 has only the Hershey stroke fonts, so
    the font and the stroke width vary. Either way the slant comes later, from the affine warp.
    """
    import cv2  # here, not at the top: importing the engine does not load OpenCV

    mask = np.zeros((big, big), np.uint8)
    origin = (int(0.3 * big), int(0.8 * big))  # bottom-left of the text
    variable = hasattr(cv2, "FontFace") if _VARIABLE_FONT is None else _VARIABLE_FONT
    if variable:
        weight = int(rng.uniform(200, 900))
        cv2.putText(mask, text, origin, 255, cv2.FontFace("sans"), int(0.6 * big), weight)
    else:
        font = int(FONTS[rng.integers(len(FONTS))])
        thickness = max(1, int(rng.uniform(0.03, 0.12) * big / 4))
        font_scale = cv2.getFontScaleFromHeight(font, int(0.45 * big), thickness)
        cv2.putText(mask, text, origin, font, font_scale, 255, thickness, cv2.LINE_AA)
    return mask


def draw_digit(label: int, rng: np.random.Generator, size: int = SIZE) -> np.ndarray:
    """Draw the digit ``label`` (0-9) as a (size, size, 3) uint8 RGB image."""
    import cv2

    scale = 4  # draw large, then shrink: smooth strokes
    big = size * scale
    img = _paper(rng, big)
    ink = rng.uniform(0, 110, size=3) if rng.random() < 0.8 else rng.uniform(0, 200, size=3) * [
        1, 0.5, 0.5][:: rng.choice([1, -1])]
    mask = _glyph(DIGITS[label], rng, big)
    x, y, w, h = cv2.boundingRect(mask)  # the glyph's tight box
    # Size, rotation, slant, stretch and position of the digit on the sheet: one affine map
    # that takes the glyph's center to the sheet's center (plus a shift).
    zoom = rng.uniform(0.45, 0.7) * big / max(h, 1)
    angle = np.deg2rad(rng.uniform(-15, 15))
    slant = rng.uniform(-0.3, 0.15)  # mostly leaning right, as handwriting and italics do
    sx, sy = rng.uniform(0.8, 1.15), rng.uniform(0.9, 1.1)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    linear = zoom * rotation @ np.array([[sx, slant], [0.0, sy]])  # (2, 2)
    target = big / 2 + rng.uniform(-0.1, 0.1, size=2) * big
    source = np.array([x + w / 2, y + h / 2])
    affine = np.hstack([linear, (target - linear @ source)[:, None]])  # (2, 3)
    mask = cv2.warpAffine(mask, affine, (big, big), flags=cv2.INTER_LINEAR)
    alpha = mask.astype(np.float32)[..., None] / 255  # (big, big, 1)
    img += alpha * (ink.astype(np.float32) - img)
    small = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        small = cv2.GaussianBlur(small, (3, 3), rng.uniform(0.3, 1.0))
    small += rng.normal(0, rng.uniform(0, 8), size=small.shape)
    return np.clip(small, 0, 255).astype(np.uint8)


def make_digits(n: int, seed: int, size: int = SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Return ``n`` digit images (n, size, size, 3) uint8 and their labels (n,) int64, balanced."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % len(DIGITS)
    rng.shuffle(labels)
    images = np.empty((n, size, size, 3), np.uint8)
    for i, label in enumerate(labels):
        images[i] = draw_digit(int(label), rng, size)
    return images, labels.astype(np.int64)
