"""Explanation maps as pictures, in numpy alone: scaling, colormaps, blending, upsampling.

The command line writes these with :func:`engine.io.media.write_image`; a window may use them
or draw the float maps with its own lookup tables.

>>> import numpy as np
>>> heat = np.array([[0.0, 1.0], [2.0, 4.0]], np.float32)
>>> upsample(heat, 4, 4).shape
(4, 4)
>>> colorize(heat).shape, colorize(heat).dtype
((2, 2, 3), dtype('uint8'))
"""

from __future__ import annotations

import numpy as np

from engine.graph.pipeline import Pipeline

__all__ = ["COLORMAPS", "blend", "colorize", "heat_levels", "magnify", "overlay", "to_image",
           "upsample"]

# Anchor colours, evenly spaced from 0 to 1; values between them are interpolated linearly.
COLORMAPS: dict[str, np.ndarray] = {
    # matplotlib's inferno, sampled at 9 points: black, purple, red, orange, pale yellow
    "inferno": np.array([(0, 0, 4), (31, 12, 72), (85, 15, 109), (136, 34, 106),
                         (186, 54, 85), (227, 89, 51), (249, 140, 10), (249, 201, 50),
                         (252, 255, 164)], np.float32),
    # Moreland's cool-to-warm, for signed maps: blue, white at zero, red
    "coolwarm": np.array([(59, 76, 192), (141, 176, 254), (221, 221, 221), (244, 154, 123),
                          (180, 4, 38)], np.float32),
    "gray": np.array([(0, 0, 0), (255, 255, 255)], np.float32),
}


def _linear_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) bilinear weights with pixel centres aligned (align_corners=False)."""
    centres = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    centres = np.clip(centres, 0, n_in - 1)
    low = np.floor(centres).astype(int)
    high = np.minimum(low + 1, n_in - 1)
    frac = centres - low
    w = np.zeros((n_out, n_in), np.float64)
    w[np.arange(n_out), low] += 1 - frac
    w[np.arange(n_out), high] += frac
    return w


def upsample(heat: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize an ``(h, w)`` map to ``(height, width)`` bilinearly (like OpenCV's INTER_LINEAR
    and PyTorch's ``interpolate(..., "bilinear", align_corners=False)``); float32."""
    heat = np.asarray(heat, np.float64)
    if heat.shape == (height, width):
        return heat.astype(np.float32)
    rows = _linear_weights(heat.shape[0], height) @ heat  # (height, w)
    return (rows @ _linear_weights(heat.shape[1], width).T).astype(np.float32)


def heat_levels(heat: np.ndarray, signed: bool) -> tuple[float, float]:
    """Display levels of a heat map.

    The minimum and the 99th percentile (gradient maps are peaky: a few pixels would otherwise
    take the whole scale); for a signed map -m .. m with m the 99th percentile of |heat|, so
    that zero sits in the middle of a diverging colormap.

    >>> heat_levels(np.array([[-2.0, 1.0]]), signed=True)
    (-1.99, 1.99)
    """
    finite = heat[np.isfinite(heat)]
    if not finite.size:
        return 0.0, 1.0
    if signed:
        top = float(np.percentile(np.abs(finite), 99)) or float(np.abs(finite).max()) or 1.0
        return -top, top
    lo = float(finite.min())
    hi = float(np.percentile(finite, 99))
    hi = hi if hi > lo else float(finite.max())
    return lo, (hi if hi > lo else lo + 1.0)


def colorize(heat: np.ndarray, cmap: str | None = None, signed: bool = False,
             levels: tuple[float, float] | None = None) -> np.ndarray:
    """An ``(H, W)`` map as an ``(H, W, 3)`` uint8 RGB picture.

    ``levels`` (low, high) default to the map's minimum and 99th percentile, or to ``(-m, m)``
    with ``m`` the 99th percentile of its absolute value when ``signed`` (zero in the
    colormap's middle); values beyond are clipped. ``cmap`` defaults
    to "coolwarm" for signed maps and "inferno" for the others.
    """
    cmap = cmap or ("coolwarm" if signed else "inferno")
    anchors = COLORMAPS[cmap]
    heat = np.asarray(heat, np.float32)
    lo, hi = levels if levels is not None else heat_levels(heat, signed)
    t = np.clip((np.nan_to_num(heat, nan=lo) - lo) / (hi - lo), 0.0, 1.0)
    pos = t * (len(anchors) - 1)
    i = np.minimum(pos.astype(int), len(anchors) - 2)
    frac = (pos - i)[..., None]
    rgb = anchors[i] * (1 - frac) + anchors[i + 1] * frac
    return np.rint(rgb).astype(np.uint8)


def blend(image: np.ndarray, color: np.ndarray, alpha) -> np.ndarray:
    """``(1 - alpha) * image + alpha * color`` for two (H, W, 3) uint8 pictures; ``alpha`` a
    number or an (H, W) array of per-pixel weights."""
    a = np.asarray(alpha, np.float32)
    a = a[..., None] if a.ndim == 2 else a
    out = (1 - a) * image.astype(np.float32) + a * color.astype(np.float32)
    return np.rint(out).astype(np.uint8)


def overlay(image: np.ndarray, heat: np.ndarray, alpha: float = 0.7, cmap: str | None = None,
            signed: bool = False) -> np.ndarray:
    """The map coloured and laid over an (H, W, 3) uint8 picture (upsampled to its size).

    Each pixel's opacity grows with the map's strength there (its distance from the lowest
    value, or from zero for a ``signed`` map) up to ``alpha``: where the map is weak the picture
    shows through.
    """
    h, w = image.shape[:2]
    up = upsample(heat, h, w)
    lo, hi = heat_levels(up, signed)
    strength = np.abs(up) / hi if signed else (up - lo) / (hi - lo)
    weight = alpha * np.clip(np.nan_to_num(strength), 0.0, 1.0)
    return blend(image, colorize(up, cmap, signed, (lo, hi)), weight)


def to_image(x: np.ndarray, pipeline: Pipeline) -> np.ndarray:
    """A network input ``(C, H, W)`` back as an ``(H, W, 3)`` uint8 RGB picture.

    Undoes the pipeline's preprocessing (std, mean, scale, inversion, BGR order); a one-channel
    input becomes gray; values outside the picture's range are clipped.
    """
    x = np.asarray(x, np.float64)
    recipe = pipeline.input_spec.preprocess
    c = x.shape[0]
    if recipe is None:
        pixels = x * 255.0
    else:
        mean = np.broadcast_to(np.asarray(recipe.mean, np.float64), (c,))[:, None, None]
        std = np.broadcast_to(np.asarray(recipe.std, np.float64), (c,))[:, None, None]
        pixels = (x * std + mean) / recipe.scale
        if recipe.invert:
            pixels = 255.0 - pixels
        if recipe.channel_order == "BGR" and c == 3:
            pixels = pixels[::-1]
    if c != 3:
        pixels = np.repeat(pixels[:1], 3, axis=0)
    return np.ascontiguousarray(np.rint(np.clip(pixels, 0, 255)).astype(np.uint8).transpose(
        1, 2, 0))


def magnify(perturbation: np.ndarray, pipeline: Pipeline | None = None) -> np.ndarray:
    """A small signed change ``(C, H, W)`` made visible: mid-grey for zero, scaled so that the
    largest change reaches black or white; ``(H, W, 3)`` uint8 (gray for one channel).

    Also shows a signed gradient (guided backpropagation) as a picture. With ``pipeline``, a
    network fed BGR gets its channels put back in RGB order.
    """
    p = np.asarray(perturbation, np.float64)
    top = float(np.abs(p).max()) or 1.0
    pixels = 127.5 + 127.5 * p / top
    recipe = None if pipeline is None else pipeline.input_spec.preprocess
    if recipe is not None and recipe.channel_order == "BGR" and p.shape[0] == 3:
        pixels = pixels[::-1]
    if p.shape[0] != 3:
        pixels = np.repeat(pixels[:1], 3, axis=0)
    return np.ascontiguousarray(np.rint(pixels).astype(np.uint8).transpose(1, 2, 0))
