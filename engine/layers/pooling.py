"""Pooling layers: max and average over sliding windows, and the global average."""

from __future__ import annotations

import math

from engine import ops as F
from engine.i18n import N_, _
from engine.layers.base import REQUIRED, Field, Layer, LayerError, _size_field
from engine.layers.windowed import _Windowed
from engine.ops.shapes import pair


class _Pool(_Windowed):
    _repr_always = ("kernel_size",)

    def _check_padding(self) -> None:
        k, p = pair(self.kernel_size), pair(self.padding)
        d = pair(getattr(self, "dilation", 1))
        for axis in (0, 1):
            eff = d[axis] * (k[axis] - 1) + 1
            if 2 * p[axis] > eff:
                raise LayerError(_("{type_name}: padding {p} is more than half the"
                                   " window {eff}").format(
                    type_name=self.type_name, p=p[axis], eff=eff), "padding")

    def _out_shape(self, in_shape, strict):
        return (in_shape[0], *self._out_hw(in_shape, strict))


class MaxPool2d(_Pool):
    """Max pooling; ``stride=None`` means stride = kernel size, like PyTorch.

    Examples
    --------
    >>> MaxPool2d(2).out_shape((8, 480, 640))
    (8, 240, 320)
    """

    type_name = "MaxPool2d"
    name_prefix = "pool"
    FIELDS = (
        _size_field("kernel_size", REQUIRED, 1, N_("window height and width")),
        _size_field("stride", None, 1, N_("step between windows (empty: the window size)"), True),
        _size_field("padding", 0, 0, N_("border of -infinity added on every side")),
        _size_field("dilation", 1, 1, N_("spacing between window taps")),
        Field("ceil_mode", "bool", False, help=N_("round the output size up instead of down")),
    )

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        self._store(kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation,
                    ceil_mode=ceil_mode)
        self._check_padding()

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode)

    differentiable = True

    def backward(self, grad, saved, params, need_input=True):
        (x,), _ = saved
        return (F.max_pool2d_backward(grad, x, self.kernel_size, self.stride, self.padding,
                                      self.dilation, self.ceil_mode),), {}


class AvgPool2d(_Pool):
    """Average pooling; ``stride=None`` means stride = kernel size.

    Examples
    --------
    >>> AvgPool2d(2, ceil_mode=True).out_shape((1, 5, 5))
    (1, 3, 3)
    """

    type_name = "AvgPool2d"
    name_prefix = "avgpool"
    FIELDS = (
        _size_field("kernel_size", REQUIRED, 1, N_("window height and width")),
        _size_field("stride", None, 1, N_("step between windows (empty: the window size)"), True),
        _size_field("padding", 0, 0, N_("zero border added on every side")),
        Field("ceil_mode", "bool", False, help=N_("round the output size up instead of down")),
        Field("count_include_pad", "bool", True, help=N_("divide by the full window, padding too")),
    )

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        self._store(kernel_size=kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode,
                    count_include_pad=count_include_pad)
        self._check_padding()

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    differentiable = True

    def backward(self, grad, saved, params, need_input=True):
        (x,), _ = saved
        return (F.avg_pool2d_backward(grad, x.shape, self.kernel_size, self.stride,
                                      self.padding, self.ceil_mode,
                                      self.count_include_pad),), {}

    def macs(self, *in_shapes):
        kh, kw = pair(self.kernel_size)
        return math.prod(self.out_shape(*in_shapes)) * kh * kw


class GlobalAvgPool2d(Layer):
    """Mean of every map: ``(C, H, W) -> (C, 1, 1)``."""

    type_name = "GlobalAvgPool2d"
    name_prefix = "gap"

    def forward(self, x):
        return F.global_avg_pool2d(x)

    differentiable = True

    def backward(self, grad, saved, params, need_input=True):
        (x,), _ = saved
        return (F.global_avg_pool2d_backward(grad, x.shape),), {}

    def _out_shape(self, in_shape, strict):
        self._need_map(in_shape)
        return (in_shape[0], 1, 1)

    def size_formula(self, *in_shapes):
        _, h, w = in_shapes[0]
        return f"mean over {h} x {w} = 1 x 1"

    def macs(self, *in_shapes):
        return math.prod(in_shapes[0])
