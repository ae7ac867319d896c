"""Random changes to a batch of pictures, all images at once: shift, crop, mirror, rotation,
brightness and contrast.

The geometric changes of every image are combined into one affine map per image; all output
pixel coordinates of the batch are mapped through them together and sampled in one pass with
bilinear interpolation (four ``np.take`` gathers over the whole batch, no loop per image; whole-
pixel shifts and mirroring need only one gather and stay sharp).
Outside the picture the nearest edge pixel is repeated, which suits sketches on paper and MNIST
alike. Brightness and contrast follow torchvision's ``ColorJitter``: brightness multiplies the
pixels by a factor in ``[1 - b, 1 + b]``; contrast blends each image with its mean gray level by
a factor in ``[1 - c, 1 + c]``.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> images = rng.integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)
>>> settings = Augment(shift=0.1, mirror=True, rotate_degrees=10, brightness=0.2)
>>> settings
Augment(shift 10%, mirror, rotate ±10°, brightness ±20%)
>>> out = settings(images, rng)
>>> out.shape, out.dtype
((4, 8, 8, 3), dtype('uint8'))
>>> np.array_equal(Augment()(images, rng), images)
True
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from engine.i18n import _
from engine.io.color import LUMA

__all__ = ["Augment", "augment"]


def _fraction(value, top: float, message: str) -> float:
    """``value`` as a float from 0 to ``top``; else ValueError with ``message`` (a whole
    sentence with ``{value!r}``)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not 0.0 <= number <= top:
        raise ValueError(message.format(value=value))
    return number


@dataclass(frozen=True)
class Augment:
    """Augmentation settings; every one off by default. Call it on a batch with an rng.

    Attributes
    ----------
    shift : float
        Move each picture by up to this fraction of its width and height (whole pixels).
    crop : float
        Cut up to this fraction of each side away at a random place and scale the rest back
        up (a random crop that keeps the size).
    mirror : bool
        Flip half of the pictures left to right (not for digits or arrows!).
    rotate_degrees : float
        Rotate by up to this many degrees either way.
    brightness, contrast : float
        Multiply brightness / contrast by a random factor in ``[1 - x, 1 + x]``.
    """

    shift: float = 0.0
    crop: float = 0.0
    mirror: bool = False
    rotate_degrees: float = 0.0
    brightness: float = 0.0
    contrast: float = 0.0

    def __post_init__(self):
        check = {
            "shift": (0.5, _("The shift must be a number from 0 to 0.5, not {value!r}")),
            "crop": (0.9, _("The crop must be a number from 0 to 0.9, not {value!r}")),
            "rotate_degrees": (180.0, _("The rotation must be a number of degrees from 0 to"
                                        " 180, not {value!r}")),
            "brightness": (1.0, _("The brightness change must be a number from 0 to 1, not"
                                  " {value!r}")),
            "contrast": (1.0, _("The contrast change must be a number from 0 to 1, not"
                                " {value!r}")),
        }
        for name, (top, message) in check.items():
            object.__setattr__(self, name, _fraction(getattr(self, name), top, message))
        if not isinstance(self.mirror, bool | np.bool_):
            raise ValueError(_("The mirror setting must be true or false, not {value!r}")
                             .format(value=self.mirror))
        object.__setattr__(self, "mirror", bool(self.mirror))

    @property
    def is_identity(self) -> bool:
        """True when every setting is off: the pictures come back unchanged."""
        return self == Augment()

    def __call__(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return augment(images, rng, **asdict(self))

    def __repr__(self) -> str:
        parts = []
        if self.shift:
            parts.append(f"shift {self.shift:.0%}")
        if self.crop:
            parts.append(f"crop {self.crop:.0%}")
        if self.mirror:
            parts.append("mirror")
        if self.rotate_degrees:
            parts.append(f"rotate ±{self.rotate_degrees:g}°")
        if self.brightness:
            parts.append(f"brightness ±{self.brightness:.0%}")
        if self.contrast:
            parts.append(f"contrast ±{self.contrast:.0%}")
        return f"Augment({', '.join(parts) or 'off'})"


def _rows(n: int, h: int, w: int, ys: np.ndarray) -> np.ndarray:
    """Flat index of the first pixel of source row ``ys`` (clipped) of each image: (N, H', W')."""
    base = (np.arange(n, dtype=np.intp) * h)[:, None, None]  # (N, 1, 1): each image its own
    return (base + np.clip(ys, 0, h - 1)) * w


def _gather(images: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The pixels at whole-number source coordinates, edges repeated: (N, H', W', C)."""
    n, h, w, c = images.shape
    flat = images.reshape(n * h * w, c)  # one row per pixel: a gather is one np.take
    index = _rows(n, h, w, ys.astype(np.intp)) + np.clip(xs.astype(np.intp), 0, w - 1)
    return np.take(flat, index, axis=0)


def _sample(images: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Bilinear samples of (N, H, W, C) images at (N, H', W') source coordinates, edges
    repeated; returns (N, H', W', C) float32."""
    n, h, w, c = images.shape
    flat = images.reshape(n * h * w, c)
    x0, y0 = np.floor(xs), np.floor(ys)
    fx, fy = (xs - x0)[..., None], (ys - y0)[..., None]  # (N, H', W', 1)
    x0, y0 = x0.astype(np.intp), y0.astype(np.intp)
    xa, xb = np.clip(x0, 0, w - 1), np.clip(x0 + 1, 0, w - 1)
    ra, rb = _rows(n, h, w, y0), _rows(n, h, w, y0 + 1)

    def lerp(left, right):  # flat[left] + fx * (flat[right] - flat[left]), in place
        a = np.take(flat, left, axis=0).astype(np.float32)
        b = np.take(flat, right, axis=0).astype(np.float32)
        b -= a
        b *= fx
        a += b
        return a

    top, bottom = lerp(ra + xa, ra + xb), lerp(rb + xa, rb + xb)
    bottom -= top
    bottom *= fy
    top += bottom
    return top


def augment(images: np.ndarray, rng: np.random.Generator, *, shift: float = 0.0,
            crop: float = 0.0, mirror: bool = False, rotate_degrees: float = 0.0,
            brightness: float = 0.0, contrast: float = 0.0) -> np.ndarray:
    """Randomly changed copies of a batch of (N, H, W, C) pictures.

    Parameters
    ----------
    images : numpy.ndarray
        (N, H, W, C) uint8 (0-255) or float (0-1) pictures, C = 1 or 3; not changed.
    rng : numpy.random.Generator
        The only source of randomness: the same generator state gives the same result.
    shift, crop, mirror, rotate_degrees, brightness, contrast
        See :class:`Augment`. With all of them off the result equals ``images``.

    Returns
    -------
    numpy.ndarray
        A new array of the same shape and dtype (uint8 rounded, values clipped to the range).
    """
    settings = Augment(shift, crop, mirror, rotate_degrees, brightness, contrast)
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[3] not in (1, 3) or not (
            images.dtype == np.uint8 or np.issubdtype(images.dtype, np.floating)):
        raise ValueError(_("Augmentation takes (N, H, W, C) uint8 or float pictures with 1 or 3"
                           " channels, not shape {shape} of {dtype}")
                         .format(shape=images.shape, dtype=images.dtype))
    n, h, w, c = images.shape
    top = 255.0 if images.dtype == np.uint8 else 1.0
    geometric = settings.shift or settings.crop or settings.mirror or settings.rotate_degrees
    if geometric and n:
        xs, ys = _coordinates(settings, rng, n, h, w)
        if settings.rotate_degrees or settings.crop:
            out = _sample(images, xs, ys)  # float32
        else:  # whole-pixel shifts and mirroring: no interpolation, no blur
            out = _gather(images, np.rint(xs), np.rint(ys))
    else:
        out = images.copy()
    if (settings.brightness or settings.contrast) and out.dtype != np.float32:
        out = out.astype(np.float32)
    if settings.brightness and n:
        out *= rng.uniform(1 - settings.brightness, 1 + settings.brightness, (n, 1, 1, 1)
                           ).astype(np.float32)
    if settings.contrast and n:
        factor = rng.uniform(1 - settings.contrast, 1 + settings.contrast, (n, 1, 1, 1)
                             ).astype(np.float32)
        gray = out @ LUMA if c == 3 else out[..., 0]  # (N, H, W)
        mean = gray.mean(axis=(1, 2), dtype=np.float32)[:, None, None, None]  # (N, 1, 1, 1)
        out *= factor
        out += (1 - factor) * mean
    if settings.brightness or settings.contrast:
        np.clip(out, 0.0, top, out=out)
    if out.dtype == images.dtype:
        return out
    if images.dtype == np.uint8:
        return np.rint(out).astype(np.uint8)
    return out.astype(images.dtype)


def _coordinates(settings: Augment, rng: np.random.Generator, n: int, h: int,
                 w: int) -> tuple[np.ndarray, np.ndarray]:
    """Source coordinates (xs, ys), each (N, H, W) float32, of every output pixel.

    Output pixel (x, y), taken from the picture's center c, comes from the source point
    ``c + A (x - c) + t`` with ``A = rotation * zoom * mirror`` and ``t`` the shift plus the
    crop window's offset: one 2 x 2 matrix and one offset per image.
    """
    angle = np.deg2rad(rng.uniform(-1, 1, n) * settings.rotate_degrees)
    zoom = 1 - rng.uniform(0, settings.crop, n)  # the crop window's side, as a fraction
    flip = np.where(rng.random(n) < 0.5, -1.0, 1.0) if settings.mirror else np.ones(n)
    room = (1 - zoom) / 2  # the crop window may sit anywhere inside the picture
    tx = np.rint(rng.uniform(-1, 1, n) * settings.shift * w) + rng.uniform(-1, 1, n) * room * w
    ty = np.rint(rng.uniform(-1, 1, n) * settings.shift * h) + rng.uniform(-1, 1, n) * room * h
    cos, sin = np.cos(angle) * zoom, np.sin(angle) * zoom
    cx, cy = (w - 1) / 2, (h - 1) / 2

    def col(v):  # (N,) -> (N, 1, 1) float32, to broadcast over the pixels
        return np.asarray(v, np.float32)[:, None, None]

    gx = (np.arange(w, dtype=np.float32) - np.float32(cx))[None, None, :]  # (1, 1, W)
    gy = (np.arange(h, dtype=np.float32) - np.float32(cy))[None, :, None]  # (1, H, 1)
    xs = col(cos * flip) * gx + col(-sin) * gy + col(cx + tx)  # (N, H, W)
    ys = col(sin * flip) * gx + col(cos) * gy + col(cy + ty)
    return xs, ys
