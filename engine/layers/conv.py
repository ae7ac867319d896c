"""The 2-D convolution layer."""

from __future__ import annotations

import numpy as np

from engine import ops as F
from engine.i18n import N_, _
from engine.layers.base import REQUIRED, Field, LayerError, _size_field
from engine.layers.kernels import build_weight
from engine.layers.weighted import _Weighted
from engine.layers.windowed import _Windowed
from engine.ops.shapes import ShapeError, conv_macs, pair


class Conv2d(_Weighted, _Windowed):
    """2-D convolution layer (cross-correlation like PyTorch; ``flip=True``: true convolution).

    ``weight=None`` draws the weights from ``weight_source`` when given (a preset, a list of
    presets, see :func:`engine.layers.kernels.build_weight`) or else from the seeded initializer
    ``init``. Changing a shape-defining argument with :meth:`replace` rebuilds the weights
    from the same source when it still fits, else draws them with ``init`` and ``seed``.

    Examples
    --------
    >>> Conv2d(3, 10, 5, padding=2)
    Conv2d(3, 10, kernel_size=5, stride=1, padding=2)
    >>> Conv2d(3, 10, 5, padding=2).out_shape((3, 32, 32))
    (10, 32, 32)
    """

    type_name = "Conv2d"
    name_prefix = "conv"
    _repr_always = ("kernel_size", "stride")
    FIELDS = (
        Field("in_channels", "int", REQUIRED, 1, 4096, N_("channels of the input volume")),
        Field("out_channels", "int", REQUIRED, 1, 4096, N_("number of filters (output maps)")),
        _size_field("kernel_size", REQUIRED, 1, N_("filter height and width")),
        _size_field("stride", 1, 1, N_("step between window positions")),
        _size_field("padding", 0, 0, N_("zero border added on every side")),
        _size_field("dilation", 1, 1, N_("spacing between kernel taps (1 = dense)")),
        Field("groups", "int", 1, 1, 4096,
              N_("split channels into groups (in_channels = depthwise)")),
        Field("bias", "bool", True, help=N_("add one learned offset per filter")),
        Field("init", "choice", "he", help=N_("random initializer for new weights"),
              choices=("he", "glorot"), in_repr=False),
        Field("seed", "int", 0, 0, 2**31 - 1, N_("seed of the random initializer"), in_repr=False),
        Field("flip", "bool", False, help=N_("true convolution: rotate the kernel by 180 degrees")),
    )
    _shape_args = ("in_channels", "out_channels", "kernel_size", "groups")

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, weight=None, bias_values=None, init="he", seed=0,
                 flip=False, weight_source: dict | None = None):
        self._store(in_channels=in_channels, out_channels=out_channels, kernel_size=kernel_size,
                    stride=stride, padding=padding, dilation=dilation, groups=groups, init=init,
                    seed=seed, flip=flip)
        use_bias = Field("bias", "bool").check(bias, self.type_name)
        if in_channels % groups or out_channels % groups:
            raise LayerError(
                _("Conv2d: groups {groups} must divide both in_channels {in_channels} and"
                  " out_channels {out_channels}").format(
                    groups=groups, in_channels=in_channels, out_channels=out_channels), "groups")
        shape = (out_channels, in_channels // groups, *pair(self.kernel_size))
        if weight is None:
            source = weight_source if weight_source is not None else {"init": init, "seed": seed}
            try:
                weight, self.kernel_source = build_weight(source, *shape[:2], shape[2:])
            except ValueError as error:
                raise LayerError(_("Conv2d: weights: {error}").format(
                    error=error), "weights") from None
            self.weight_source = source
        else:
            weight = np.array(weight, dtype=np.float32)
            if weight.shape != shape:
                raise LayerError(_("Conv2d: weight has shape {shape}, expected {expected}"
                                   " (out_channels, in_channels/groups, kh, kw)").format(
                    shape=weight.shape, expected=shape), "weights")
            self.weight_source = weight_source
            self.kernel_source = _("explicit values") if weight_source is None else build_weight(
                weight_source, *shape[:2], shape[2:])[1]
        self.weight = weight
        self.weight.setflags(write=False)
        self.bias = None
        if use_bias:
            values = np.zeros(out_channels) if bias_values is None else bias_values
            self.bias = np.array(values, dtype=np.float32)
            if self.bias.shape != (out_channels,):
                raise LayerError(_("Conv2d: bias has shape {shape}, expected"
                                   " ({out_channels},)").format(
                    shape=self.bias.shape, out_channels=str(out_channels)), "bias_values")
            self.bias.setflags(write=False)
        elif bias_values is not None:
            raise LayerError(_("Conv2d: bias values were given but bias is false"), "bias_values")
        # The op cross-correlates; a true convolution is that with the kernel rotated 180 deg.
        self._kernel = np.ascontiguousarray(weight[..., ::-1, ::-1]) if flip else weight

    def forward(self, x):
        return F.conv2d(x, self._kernel, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def _kernel_of(self, weight: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(weight[..., ::-1, ::-1]) if self.flip else weight

    def forward_train(self, xs, params, train, rng):
        (x,) = xs
        kernel = self._kernel_of(params["weight"])
        y = F.conv2d(x, kernel, params.get("bias"), self.stride, self.padding, self.dilation,
                     self.groups)
        return y, (x, kernel), {}

    def backward(self, grad, saved, params, need_input=True):
        x, kernel = saved
        gx, gw, gb = F.conv2d_backward(grad, x, kernel, self.stride, self.padding, self.dilation,
                                       self.groups, need_input=need_input,
                                       need_bias=self.bias is not None)
        grads = {"weight": self._kernel_of(gw)}  # a flipped kernel's gradient, flipped back
        if self.bias is not None:
            grads["bias"] = gb
        return (gx,), grads

    def _out_shape(self, in_shape, strict):
        self._need_map(in_shape)
        if in_shape[0] != self.in_channels:
            raise ShapeError(_("Conv2d: input has {in_shape} channels, the layer expects"
                               " {in_channels}").format(
                in_shape=in_shape[0], in_channels=self.in_channels), "in_channels")
        return (self.out_channels, *self._out_hw(in_shape, strict))

    def _kwargs(self):
        return {**super()._kwargs(), "weight_source": self.weight_source}

    def replace(self, **changes):
        base = self._kwargs()
        if set(changes) - set(base):
            return super().replace(**changes)
        kwargs = {**base, **changes}
        if "weight" in changes:
            kwargs["weight_source"] = changes.get("weight_source")
        elif {"init", "seed"} & set(changes):
            kwargs.update(weight=None, weight_source=None)
        elif set(self._shape_args) & set(changes) or "weight_source" in changes:
            kwargs["weight"] = None
            old = self.weight_source
            if "weight_source" not in changes and (old is None or "init" in old):
                kwargs["weight_source"] = None
        stale_bias = kwargs["bias_values"] is not None and (
            not kwargs["bias"] or len(kwargs["bias_values"]) != kwargs["out_channels"])
        if stale_bias and "bias_values" not in changes:
            kwargs["bias_values"] = None
        try:
            return Conv2d(**kwargs)
        except LayerError as error:
            if error.field != "weights" or kwargs["weight_source"] is None or "weight" in changes:
                raise
            # The preset no longer fits the new shape: fall back to seeded random weights.
            return Conv2d(**{**kwargs, "weight_source": None})

    def params_formula(self, *in_shapes):
        kh, kw = pair(self.kernel_size)
        per_group = self.in_channels // self.groups
        inner = f"{kh} x {kw} x {per_group}" + (" + 1" if self.bias is not None else "")
        return f"{self.out_channels} x ({inner}) = {self.num_params:,}"

    def macs(self, *in_shapes):
        return conv_macs(self.out_shape(*in_shapes), self.in_channels // self.groups,
                         self.kernel_size)
