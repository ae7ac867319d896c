"""The transposed convolution layer (a U-Net's or an autoencoder's learned upsampling)."""

from __future__ import annotations

import numpy as np

from engine.i18n import N_, _
from engine.layers.base import REQUIRED, Field, Layer, LayerError, _size_field
from engine.layers.weighted import _Weighted
from engine.ops.conv_transpose import (
    conv_transpose2d,
    conv_transpose2d_backward,
    conv_transpose_size,
)
from engine.ops.shapes import ShapeError, pair

__all__ = ["ConvTranspose2d"]


class ConvTranspose2d(_Weighted, Layer):
    """Transposed convolution like PyTorch's: each input value scatters a scaled kernel.

    ``weight`` is ``(in_channels, out_channels / groups, kh, kw)``; ``weight=None`` draws
    seeded He-normal values. ``H_out = (H - 1) stride - 2 padding + dilation (k - 1) +
    output_padding + 1``.

    Examples
    --------
    >>> ConvTranspose2d(8, 4, 2, stride=2).out_shape((8, 7, 7))
    (4, 14, 14)
    """

    type_name = "ConvTranspose2d"
    name_prefix = "deconv"
    _repr_always = ("kernel_size", "stride")
    FIELDS = (
        Field("in_channels", "int", REQUIRED, 1, 4096, N_("channels of the input volume")),
        Field("out_channels", "int", REQUIRED, 1, 4096, N_("channels of the output volume")),
        _size_field("kernel_size", REQUIRED, 1, N_("filter height and width")),
        _size_field("stride", 1, 1, N_("step between the scattered copies")),
        _size_field("padding", 0, 0, N_("rows and columns cropped from every side")),
        _size_field("output_padding", 0, 0, N_("rows and columns added at the bottom and right")),
        _size_field("dilation", 1, 1, N_("spacing between kernel taps (1 = dense)")),
        Field("groups", "int", 1, 1, 4096, N_("split channels into groups")),
        Field("bias", "bool", True, help=N_("add one learned offset per output channel")),
    )

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, dilation=1, groups=1, bias=True, weight=None,
                 bias_values=None, seed=0):
        self._store(in_channels=in_channels, out_channels=out_channels, kernel_size=kernel_size,
                    stride=stride, padding=padding, output_padding=output_padding,
                    dilation=dilation, groups=groups)
        if in_channels % groups or out_channels % groups:
            raise LayerError(_("ConvTranspose2d: groups {groups} must divide both in_channels"
                               " {in_channels} and out_channels {out_channels}").format(
                groups=groups, in_channels=in_channels, out_channels=out_channels), "groups")
        shape = (in_channels, out_channels // groups, *pair(self.kernel_size))
        if weight is None:
            fan = shape[1] * shape[2] * shape[3]
            weight = np.random.default_rng(seed).standard_normal(shape) * np.sqrt(2 / fan)
        self.weight = np.array(weight, dtype=np.float32)
        if self.weight.shape != shape:
            raise LayerError(_("ConvTranspose2d: weight has shape {shape}, expected"
                               " {expected} (in_channels, out_channels/groups, kh, kw)").format(
                shape=self.weight.shape, expected=shape), "weights")
        self.weight.setflags(write=False)
        self.bias = None
        if Field("bias", "bool").check(bias, self.type_name):
            values = np.zeros(out_channels) if bias_values is None else bias_values
            self.bias = np.array(values, dtype=np.float32)
            if self.bias.shape != (out_channels,):
                raise LayerError(_("ConvTranspose2d: bias has shape {shape}, expected"
                                   " ({out_channels},)").format(
                    shape=self.bias.shape, out_channels=str(out_channels)), "bias_values")
            self.bias.setflags(write=False)

    def _settings(self):
        return (self.stride, self.padding, self.output_padding, self.groups, self.dilation)

    def forward(self, x):
        return conv_transpose2d(x, self.weight, self.bias, *self._settings())

    def forward_train(self, xs, params, train, rng):
        (x,) = xs
        y = conv_transpose2d(x, params["weight"], params.get("bias"), *self._settings())
        return y, (x, params["weight"]), {}

    def backward(self, grad, saved, params, need_input=True):
        x, weight = saved
        gx, gw, gb = conv_transpose2d_backward(grad, x, weight, *self._settings(),
                                               need_input=need_input,
                                               need_bias=self.bias is not None)
        grads = {"weight": gw}
        if self.bias is not None:
            grads["bias"] = gb
        return (gx,), grads

    def _out_shape(self, in_shape, strict):
        self._need_map(in_shape)
        if in_shape[0] != self.in_channels:
            raise ShapeError(_("ConvTranspose2d: input has {in_shape} channels, the layer"
                               " expects {in_channels}").format(
                in_shape=in_shape[0], in_channels=self.in_channels), "in_channels")
        sizes = [conv_transpose_size(n, *args) for n, *args in
                 zip(in_shape[1:], *(pair(v) for v in (self.kernel_size, self.stride,
                     self.padding, self.output_padding, self.dilation)), strict=True)]
        if min(sizes) < 1:
            raise ShapeError(_("ConvTranspose2d: padding {padding} crops the whole output").format(
                padding=self.padding),
                             "padding")
        return (self.out_channels, *sizes)

    def size_formula(self, *in_shapes):
        n = in_shapes[0][1]
        k, s, p, o, d = (pair(v)[0] for v in (self.kernel_size, self.stride, self.padding,
                                              self.output_padding, self.dilation))
        reach = f"{d} x ({k} - 1)" if d > 1 else f"({k} - 1)"
        return (f"({n} - 1) x {s} - 2*{p} + {reach} + {o} + 1 ="
                f" {conv_transpose_size(n, k, s, p, o, d)}")

    def params_formula(self, *in_shapes):
        kh, kw = pair(self.kernel_size)
        inner = f"{kh} x {kw} x {self.in_channels // self.groups}"
        inner += " + 1" if self.bias is not None else ""
        return f"{self.out_channels} x ({inner}) = {self.num_params:,}"

    def macs(self, *in_shapes):
        kh, kw = pair(self.kernel_size)
        c, h, w = in_shapes[0]
        return c * h * w * kh * kw * self.out_channels // self.groups
