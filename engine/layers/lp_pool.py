"""Lp pooling (ONNX LpPool, PyTorch's LPPool2d): the p-norm of each window,
``(sum |x|^p) ** (1/p)``; p = 2 is the Euclidean norm, a large p approaches max pooling."""

from __future__ import annotations

import math

import numpy as np

from engine import ops as F
from engine.i18n import N_
from engine.layers.base import REQUIRED, Field, _size_field
from engine.layers.pooling import _Pool
from engine.ops.shapes import pair

__all__ = ["LpPool2d"]


class LpPool2d(_Pool):
    """The p-norm of every window (zero padding adds nothing to the sum).

    Examples
    --------
    >>> x = np.full((1, 2, 2), 3.0, np.float32)
    >>> LpPool2d(2, kernel_size=2)(x).tolist()
    [[[6.0]]]
    """

    type_name = "LpPool2d"
    name_prefix = "lppool"
    differentiable = True
    FIELDS = (
        Field("norm_type", "float", 2.0, 0.01, 1e3, N_("the p of the p-norm")),
        _size_field("kernel_size", REQUIRED, 1, N_("window height and width")),
        _size_field("stride", None, 1, N_("step between windows (empty: the window size)"), True),
        _size_field("padding", 0, 0, N_("zero border added on every side")),
        Field("ceil_mode", "bool", False, help=N_("round the output size up instead of down")),
    )

    def __init__(self, norm_type=2.0, kernel_size=REQUIRED, stride=None, padding=0,
                 ceil_mode=False):
        self._store(norm_type=norm_type, kernel_size=kernel_size, stride=stride,
                    padding=padding, ceil_mode=ceil_mode)
        self._check_padding()

    def _window_sum(self, a):
        kh, kw = pair(self.kernel_size)
        mean = F.avg_pool2d(a, self.kernel_size, self.stride, self.padding, self.ceil_mode, True)
        return mean * np.float32(kh * kw)

    def forward(self, x):
        p = self.norm_type
        powered = np.abs(x) ** np.float32(p)
        with np.errstate(invalid="ignore"):
            return (np.maximum(self._window_sum(powered), 0) ** np.float32(1 / p)).astype(
                np.float32, copy=False)

    def backward(self, grad, saved, params, need_input=True):
        (x,), y = saved
        p = self.norm_type
        total = self._window_sum(np.abs(x) ** np.float32(p))
        kh, kw = pair(self.kernel_size)
        with np.errstate(divide="ignore", invalid="ignore"):
            inner = np.where(total > 0, grad * y / total, 0).astype(np.float32)
        spread = F.avg_pool2d_backward(inner * np.float32(kh * kw), x.shape, self.kernel_size,
                                       self.stride, self.padding, self.ceil_mode, True)
        return (spread * np.sign(x) * np.abs(x) ** np.float32(p - 1),), {}

    def macs(self, *in_shapes):
        kh, kw = pair(self.kernel_size)
        return math.prod(self.out_shape(*in_shapes)) * kh * kw
