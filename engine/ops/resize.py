"""Resizing maps, as ONNX's Resize (and ``torch.nn.functional.interpolate``) does: nearest or
linear, with ONNX's coordinate transformations; and its backward pass.

Each axis is resized on its own: output index ``o`` reads the input at the coordinate that the
coordinate transformation gives, either the nearest index (by the nearest mode) or the two
neighbours with linear weights. The forward gathers; the backward multiplies by the transposed
interpolation matrix of each axis, ``R_h^T @ G @ R_w``.
"""

from __future__ import annotations

import math

import numpy as np

from engine.i18n import _

__all__ = ["COORDINATE_MODES", "NEAREST_MODES", "axis_matrix", "output_size", "resize2d",
           "resize2d_backward", "source_coordinates"]

COORDINATE_MODES = ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                    "tf_half_pixel_for_nn", "half_pixel_symmetric")
# "simple": ONNX's Upsample (and Resize before opset 11): truncate, but ceil when shrinking.
NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil", "simple")


def source_coordinates(n_in: int, n_out: int, scale: float, mode: str) -> np.ndarray:
    """The input coordinate each output index reads, (n_out,), in float32 as onnxruntime.

    Examples
    --------
    >>> source_coordinates(2, 4, 2.0, "half_pixel").tolist()
    [-0.25, 0.25, 0.75, 1.25]
    >>> [round(float(v), 4) for v in source_coordinates(2, 4, 2.0, "align_corners")]
    [0.0, 0.3333, 0.6667, 1.0]
    """
    o, scale, half = np.arange(n_out, dtype=np.float32), np.float32(scale), np.float32(0.5)
    n_in, n_out = np.float32(n_in), np.float32(n_out)
    if mode == "half_pixel":
        return (o + half) / scale - half
    if mode == "pytorch_half_pixel":
        return (o + half) / scale - half if n_out > 1 else np.zeros_like(o)
    if mode == "align_corners":
        return o * (n_in - 1) / (n_out - 1) if n_out > 1 else np.zeros_like(o)
    if mode == "asymmetric":
        return o / scale
    if mode == "tf_half_pixel_for_nn":
        return (o + half) / scale
    if mode == "half_pixel_symmetric":
        adjustment = n_out / (scale * n_in)
        offset = n_in / 2 * (1 - adjustment)
        return offset + (o + half) / scale - half
    raise ValueError(_("resize: coordinate mode {mode!r} is not one of"
                       " {values}").format(mode=mode, values=', '.join(COORDINATE_MODES)))


def _nearest(x: np.ndarray, mode: str, shrinking: bool) -> np.ndarray:
    if mode == "round_prefer_floor":
        return np.where(x - np.floor(x) == 0.5, np.floor(x), np.round(x))
    if mode == "round_prefer_ceil":
        return np.where(x - np.floor(x) == 0.5, np.ceil(x), np.round(x))
    if mode == "floor":
        return np.floor(x)
    if mode == "ceil" or (mode == "simple" and shrinking):
        return np.ceil(x)
    if mode == "simple":
        return np.trunc(x)
    raise ValueError(_("resize: nearest mode {mode!r} is not one of {values}").format(
        mode=mode, values=', '.join(NEAREST_MODES)))


def _taps(n_in, n_out, scale, mode, coord, nearest):
    """(first index, second index, weight of the second), each (n_out,)."""
    x = source_coordinates(n_in, n_out, scale, coord)
    if mode == "nearest":
        i = np.clip(_nearest(x, nearest, scale < 1), 0, n_in - 1).astype(np.intp)
        return i, i, np.zeros(n_out, np.float32)
    x = np.clip(x, 0, n_in - 1)
    i0 = np.floor(x).astype(np.intp)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, (x - i0).astype(np.float32)


def axis_matrix(n_in, n_out, scale, mode="nearest", coord="half_pixel",
                nearest="round_prefer_floor") -> np.ndarray:
    """The interpolation matrix R (n_out, n_in) of one axis: ``y = R @ x`` along it.

    Examples
    --------
    >>> axis_matrix(2, 4, 2.0, "linear").tolist()
    [[1.0, 0.0], [0.75, 0.25], [0.25, 0.75], [0.0, 1.0]]
    """
    i0, i1, w = _taps(n_in, n_out, scale, mode, coord, nearest)
    r = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    np.add.at(r, (rows, i0), 1 - w)
    np.add.at(r, (rows, i1), w)
    return r


def resize2d(x, out_hw, scales, mode="nearest", coord="half_pixel",
             nearest="round_prefer_floor") -> np.ndarray:
    """Resize the last two axes of ``x`` to ``out_hw``; ``scales`` (h, w) for the coordinates.

    Examples
    --------
    >>> x = np.array([[[1.0, 2.0]]], np.float32)
    >>> resize2d(x, (1, 4), (1.0, 2.0), "linear").tolist()
    [[[1.0, 1.25, 1.75, 2.0]]]
    """
    y = np.asarray(x, np.float32)
    for axis, n_out, scale in ((-1, out_hw[1], scales[1]), (-2, out_hw[0], scales[0])):
        n_in = y.shape[axis]
        if n_in == n_out and scale == 1 and coord != "tf_half_pixel_for_nn":
            continue
        i0, i1, w = _taps(n_in, n_out, scale, mode, coord, nearest)
        a = np.take(y, i0, axis=axis)
        if mode == "nearest" or not w.any():
            y = a
            continue
        shape = (-1, 1) if axis == -2 else (-1,)
        w = w.astype(np.float32).reshape(shape)
        b = np.take(y, i1, axis=axis)
        y = a + (b - a) * w
    return np.ascontiguousarray(y, dtype=np.float32)


def resize2d_backward(grad, in_hw, scales, mode="nearest", coord="half_pixel",
                      nearest="round_prefer_floor") -> np.ndarray:
    """Gradient of :func:`resize2d` with respect to its input (of height and width ``in_hw``)."""
    g = np.asarray(grad, np.float32)
    r_h = axis_matrix(in_hw[0], g.shape[-2], scales[0], mode, coord, nearest)
    r_w = axis_matrix(in_hw[1], g.shape[-1], scales[1], mode, coord, nearest)
    out = np.matmul(np.matmul(r_h.T.astype(np.float32), g), r_w.astype(np.float32))
    return out.astype(np.float32, copy=False)


def output_size(n_in: int, scale: float) -> int:
    """ONNX's output size for a scale: ``floor(n_in * scale)`` in float32, at least 1."""
    return max(1, math.floor(np.float32(n_in) * np.float32(scale)))
