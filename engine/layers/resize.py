"""Resize (ONNX Resize and Upsample, PyTorch's Upsample / interpolate): nearest or bilinear
resizing of the maps' height and width, the decoder half of a U-Net or an FPN."""

from __future__ import annotations

import math

from engine.i18n import N_, _
from engine.layers.base import Field, Layer, LayerError
from engine.ops.resize import COORDINATE_MODES, NEAREST_MODES, output_size, resize2d
from engine.ops.resize import resize2d_backward as _backward
from engine.ops.shapes import ShapeError

__all__ = ["Resize"]


class Resize(Layer):
    """Resize the last two axes by ``scale_factor`` (h, w) or to a fixed ``size`` (h, w).

    ``mode``: "nearest" or "linear"; ``coordinate_mode`` and ``nearest_mode`` as ONNX's
    ``coordinate_transformation_mode`` and ``nearest_mode``. With ``size`` the coordinates use
    the ratio of the output to the input size.

    Examples
    --------
    >>> Resize(scale_factor=(2.0, 2.0)).out_shape((8, 7, 5))
    (8, 14, 10)
    """

    type_name = "Resize"
    name_prefix = "resize"
    differentiable = True
    FIELDS = (
        Field("mode", "choice", "nearest", help=N_("nearest neighbour or (bi)linear"),
              choices=("nearest", "linear")),
        Field("coordinate_mode", "choice", "half_pixel", choices=COORDINATE_MODES,
              help=N_("how an output position maps to an input coordinate")),
        Field("nearest_mode", "choice", "round_prefer_floor", choices=NEAREST_MODES,
              help=N_("how a coordinate rounds to a pixel in nearest mode")),
    )

    def __init__(self, scale_factor=None, size=None, mode="nearest", coordinate_mode="half_pixel",
                 nearest_mode="round_prefer_floor"):
        self._store(mode=mode, coordinate_mode=coordinate_mode, nearest_mode=nearest_mode)
        if (scale_factor is None) == (size is None):
            raise LayerError(_("Resize: give either scale_factor or size"), "scale_factor")
        self.scale_factor = None if scale_factor is None else tuple(
            float(s) for s in scale_factor)
        self.size = None if size is None else tuple(int(s) for s in size)
        values = self.scale_factor or self.size
        if len(values) != 2 or min(values) <= 0 or not all(map(math.isfinite, values)):
            raise LayerError(_("Resize: need two positive values (height, width), got "
                               "{values}").format(
                values=values),
                             "scale_factor" if self.size is None else "size")

    def _plan(self, hw):
        """(output height and width, scales for the coordinates)."""
        if self.size is not None:
            return self.size, tuple(o / n for o, n in zip(self.size, hw, strict=True))
        return tuple(output_size(n, s) for n, s in zip(hw, self.scale_factor, strict=True)), \
            self.scale_factor

    def _modes(self):
        return self.mode, self.coordinate_mode, self.nearest_mode

    def forward(self, x):
        out, scales = self._plan(x.shape[-2:])
        return resize2d(x, out, scales, *self._modes())

    def backward(self, grad, saved, params, need_input=True):
        (x,), _ = saved
        _, scales = self._plan(x.shape[-2:])
        return (_backward(grad, x.shape[-2:], scales, *self._modes()),), {}

    def _out_shape(self, in_shape, strict):
        if len(in_shape) < 2:
            raise ShapeError(_("Resize: input {in_shape} has fewer than 2 dimensions").format(
                in_shape=in_shape))
        out, _scale = self._plan(in_shape[-2:])
        if max(out) > 1 << 16:
            raise ShapeError(_("Resize: an output of {h}x{w} is too large").format(
                h=out[0], w=out[1]))
        return (*in_shape[:-2], *out)

    def size_formula(self, *in_shapes):
        h, w = in_shapes[0][-2:]
        ho, wo = self._plan((h, w))[0]
        if self.size is not None:
            return f"{h}x{w} -> {ho}x{wo}"
        sh, sw = self.scale_factor
        return f"H: floor({h} x {sh:g}) = {ho}; W: floor({w} x {sw:g}) = {wo}"

    def macs(self, *in_shapes):
        out = self.out_shape(*in_shapes)
        return math.prod(out) * (4 if self.mode == "linear" else 0)

    def config(self):
        return {"scale_factor": None if self.scale_factor is None else list(self.scale_factor),
                "size": None if self.size is None else list(self.size), **super().config()}

    def _kwargs(self):
        return {"scale_factor": self.scale_factor, "size": self.size, **super()._kwargs()}

    def __repr__(self):
        what = (f"size={self.size}" if self.size is not None
                else f"scale_factor={self.scale_factor}")
        extra = "" if self.coordinate_mode == "half_pixel" else f", {self.coordinate_mode}"
        return f"Resize({what}, mode={self.mode!r}{extra})"
