"""Layer classes: hyperparameters and parameters around one pure op each.

A layer is immutable: ``replace(**changes)`` builds a new one. Shapes given to and returned by
``out_shape`` are unbatched: ``(C, H, W)`` for maps, ``(F,)`` for vectors. ``__call__`` takes
unbatched or batched arrays; an array is batched when it has an even number of dimensions
(``(N, F)`` or ``(N, C, H, W)``).

Every type describes its editable hyperparameters with :class:`Field` objects (``fields()``),
from which the pipeline-file reader validates and the GUI builds its parameter forms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from engine import functional as F
from engine.kernels import build_weight, initialize
from engine.shapes import (
    ShapeError,
    activation_bytes,
    conv_macs,
    conv_output_size,
    dropped_pixels,
    pair,
    size_formula,
)

__all__ = [
    "LAYER_TYPES",
    "REQUIRED",
    "Add",
    "AvgPool2d",
    "BatchNorm2d",
    "Concat",
    "Conv2d",
    "Field",
    "Flatten",
    "GlobalAvgPool2d",
    "Hardtanh",
    "Layer",
    "LayerError",
    "LeakyReLU",
    "Linear",
    "MaxPool2d",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
]


class LayerError(ValueError):
    """A hyperparameter a layer cannot take; ``field`` names it."""

    def __init__(self, message: str, field: str | None = None, reason: str | None = None):
        super().__init__(message)
        self.field = field
        self.reason = message if reason is None else reason


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Field:
    """One editable hyperparameter: what the file reader checks and a GUI form shows.

    ``kind`` is "int", "float", "bool" or "choice". ``pair``: an int or an ``(h, w)`` pair.
    ``optional``: ``None`` is allowed (it means what ``help`` says, e.g. stride = kernel size).
    """

    name: str
    kind: str
    default: Any = REQUIRED
    min: float | None = None
    max: float | None = None
    help: str = ""
    choices: tuple[str, ...] = ()
    pair: bool = False
    optional: bool = False
    in_repr: bool = True

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def check(self, value: Any, owner: str) -> Any:
        """Return ``value`` (pairs as tuples) or raise :class:`LayerError` saying what is wrong."""
        if value is None and self.optional:
            return None
        if self.kind == "bool":
            if not isinstance(value, bool | np.bool_):
                self._fail(owner, f"must be true or false, not {value!r}")
            return bool(value)
        if self.kind == "choice":
            if value not in self.choices:
                self._fail(owner, f"must be one of {', '.join(self.choices)}, not {value!r}")
            return value
        if self.pair and isinstance(value, list | tuple):
            if len(value) != 2:
                self._fail(owner, f"must be a whole number or a pair of them, not {value!r}")
            return self.check(value[0], owner), self.check(value[1], owner)
        numeric = (int,) if self.kind == "int" else (int, float)
        if isinstance(value, bool) or not isinstance(value, (*numeric, np.integer)):
            what = "a whole number" if self.kind == "int" else "a number"
            extra = " or a pair of them" if self.pair else ""
            self._fail(owner, f"must be {what}{extra}, not {value!r}")
        value = int(value) if self.kind == "int" else float(value)
        if not math.isfinite(value):
            self._fail(owner, f"must be finite, not {value}")
        if self.min is not None and value < self.min:
            self._fail(owner, f"must be at least {_num(self.min)}, not {_num(value)}")
        if self.max is not None and value > self.max:
            self._fail(owner, f"must be at most {_num(self.max)}, not {_num(value)}")
        return value

    def _fail(self, owner: str, reason: str):
        raise LayerError(f"{owner}: {self.name} {reason}", self.name, reason)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _size_field(name: str, default: Any, low: int, text: str, optional: bool = False) -> Field:
    return Field(name, "int", default, low, 256, text, pair=True, optional=optional)


def _batched(x: np.ndarray) -> bool:
    return x.ndim % 2 == 0


class Layer:
    """Base class: validation, repr, replace and the ledger's defaults for a layer type."""

    type_name: ClassVar[str] = "Layer"
    name_prefix: ClassVar[str] = "layer"
    n_inputs: ClassVar[int | None] = 1
    FIELDS: ClassVar[tuple[Field, ...]] = ()
    _repr_always: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def fields(cls) -> tuple[Field, ...]:
        """The editable hyperparameters of this type, in constructor order."""
        return cls.FIELDS

    def _store(self, **values: Any) -> None:
        for field in self.FIELDS:
            if field.name in values:
                setattr(self, field.name, field.check(values[field.name], self.type_name))

    def __call__(self, *xs) -> np.ndarray:
        self._check_count(len(xs))
        arrays = [np.asarray(x, dtype=np.float32) for x in xs]
        return self.forward(*arrays)

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        raise TypeError(f"{self.type_name} does not define forward")

    def _check_count(self, count: int) -> None:
        if self.n_inputs is None and count < 2:
            raise ShapeError(f"{self.type_name} needs at least 2 inputs, got {count}")
        if self.n_inputs is not None and count != self.n_inputs:
            raise ShapeError(f"{self.type_name} takes {self.n_inputs} input, got {count}")

    def out_shape(self, *in_shapes, strict: bool = False) -> tuple[int, ...]:
        """The unbatched output shape; :class:`ShapeError` with the numbers if it cannot fit.

        ``strict``: also refuse a stride that does not tile the input exactly.
        """
        self._check_count(len(in_shapes))
        return self._out_shape(*[tuple(int(s) for s in shape) for shape in in_shapes],
                               strict=strict)

    def _out_shape(self, *in_shapes, strict: bool) -> tuple[int, ...]:
        return in_shapes[0]

    def _need_map(self, shape: tuple[int, ...]) -> None:
        if len(shape) != 3:
            raise ShapeError(f"{self.type_name} needs a (C, H, W) map, got shape {shape}")

    def size_formula(self, *in_shapes) -> str:
        """The output-size formula with numbers; "" where the size does not change."""
        return ""

    def floor_note(self, *in_shapes) -> str:
        """A warning when flooring drops border pixels, else ""."""
        return ""

    @property
    def num_params(self) -> int:
        return int(sum(p.size for p in self.parameters().values()))

    def params_formula(self, *in_shapes) -> str:
        return "" if self.num_params == 0 else f"{self.num_params:,}"

    def macs(self, *in_shapes) -> int:
        return 0

    def memory_bytes(self, *in_shapes) -> int:
        return activation_bytes(self.out_shape(*in_shapes))

    def config(self) -> dict:
        """The hyperparameters as JSON-able values (pairs as lists, no arrays)."""
        out = {}
        for field in self.FIELDS:
            value = self._value(field.name)
            out[field.name] = list(value) if isinstance(value, tuple) else value
        return out

    def _value(self, name: str) -> Any:
        """The current value of the hyperparameter ``name``."""
        return getattr(self, name)

    def parameters(self) -> dict[str, np.ndarray]:
        return {}

    def _kwargs(self) -> dict:
        """Constructor arguments that rebuild this very layer."""
        return {field.name: self._value(field.name) for field in self.FIELDS}

    def replace(self, **changes) -> Layer:
        """A new layer with some arguments changed; this one is left as it is."""
        unknown = set(changes) - set(self._kwargs())
        if unknown:
            raise LayerError(
                f"{self.type_name} has no argument {', '.join(sorted(unknown))}",
                sorted(unknown)[0],
            )
        return type(self)(**{**self._kwargs(), **changes})

    def __repr__(self) -> str:
        parts = []
        for field in self.FIELDS:
            value = self._value(field.name)
            if field.required and field.name not in self._repr_always:
                parts.append(repr(value))
            elif field.in_repr and (field.name in self._repr_always or value != field.default):
                parts.append(f"{field.name}={value!r}")
        return f"{self.type_name}({', '.join(parts)})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        mine, theirs = self.parameters(), other.parameters()
        return self.config() == other.config() and mine.keys() == theirs.keys() and all(
            np.array_equal(mine[k], theirs[k]) for k in mine
        )

    __hash__ = None  # type: ignore[assignment]


class _Windowed(Layer):
    """Shared arithmetic of layers that slide a window: Conv2d and the pools."""

    ceil_mode: bool = False

    def _axes(self, in_shape):
        """Per axis (name, n, kernel, stride, padding, dilation) for height and width."""
        self._need_map(in_shape)
        k = pair(self.kernel_size, "kernel_size")
        s = pair(self.stride if self.stride is not None else self.kernel_size, "stride")
        p = pair(self.padding, "padding")
        d = pair(getattr(self, "dilation", 1), "dilation")
        return [(axis, in_shape[1 + i], k[i], s[i], p[i], d[i])
                for i, axis in enumerate(("height", "width"))]

    def _out_hw(self, in_shape, strict: bool) -> tuple[int, int]:
        sizes = []
        for axis, n, k, s, p, d in self._axes(in_shape):
            try:
                sizes.append(conv_output_size(n, k, s, p, d, strict=strict and not self.ceil_mode,
                                              ceil_mode=self.ceil_mode))
            except ShapeError as error:
                raise ShapeError(f"{self.type_name}: {axis}: {error}", error.field) from None
        return sizes[0], sizes[1]

    def size_formula(self, *in_shapes) -> str:
        axes = self._axes(in_shapes[0])
        texts = [size_formula(n, k, s, p, d, self.ceil_mode) for _, n, k, s, p, d in axes]
        if axes[0][1:] == axes[1][1:]:
            return texts[0]
        return f"H: {texts[0]}; W: {texts[1]}"

    def floor_note(self, *in_shapes) -> str:
        if self.ceil_mode:
            return ""
        drops = [(axis, dropped_pixels(n, k, s, p, d)) for axis, n, k, s, p, d in
                 self._axes(in_shapes[0])]
        parts = [(count, axis) for axis, count in drops if count]
        if not parts:
            return ""
        count, axis = parts[0]
        text = f"{count} border pixel{'s' if count > 1 else ''} in {axis}"
        if len(parts) == 2:
            text += f" and {parts[1][0]} in {parts[1][1]}"
        return f"the floor drops {text}: no window reaches them"


class Conv2d(_Windowed):
    """2-D convolution layer (cross-correlation like PyTorch; ``flip=True``: true convolution).

    ``weight=None`` draws the weights from ``weight_source`` when given (a preset, a list of
    presets, see :func:`engine.kernels.build_weight`) or else from the seeded initializer
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
        Field("in_channels", "int", REQUIRED, 1, 4096, "channels of the input volume"),
        Field("out_channels", "int", REQUIRED, 1, 4096, "number of filters (output maps)"),
        _size_field("kernel_size", REQUIRED, 1, "filter height and width"),
        _size_field("stride", 1, 1, "step between window positions"),
        _size_field("padding", 0, 0, "zero border added on every side"),
        _size_field("dilation", 1, 1, "spacing between kernel taps (1 = dense)"),
        Field("groups", "int", 1, 1, 4096, "split channels into groups (in_channels = depthwise)"),
        Field("bias", "bool", True, help="add one learned offset per filter"),
        Field("init", "choice", "he", help="random initializer for new weights",
              choices=("he", "glorot"), in_repr=False),
        Field("seed", "int", 0, 0, 2**31 - 1, "seed of the random initializer", in_repr=False),
        Field("flip", "bool", False, help="true convolution: rotate the kernel by 180 degrees"),
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
                f"Conv2d: groups {groups} must divide both in_channels {in_channels} and"
                f" out_channels {out_channels}", "groups")
        shape = (out_channels, in_channels // groups, *pair(self.kernel_size))
        if weight is None:
            source = weight_source if weight_source is not None else {"init": init, "seed": seed}
            try:
                weight, self.kernel_source = build_weight(source, *shape[:2], shape[2:])
            except ValueError as error:
                raise LayerError(f"Conv2d: weights: {error}", "weights") from None
            self.weight_source = source
        else:
            weight = np.array(weight, dtype=np.float32)
            if weight.shape != shape:
                raise LayerError(f"Conv2d: weight has shape {weight.shape}, expected {shape}"
                                 " (out_channels, in_channels/groups, kh, kw)", "weights")
            self.weight_source = weight_source
            self.kernel_source = "explicit values" if weight_source is None else build_weight(
                weight_source, *shape[:2], shape[2:])[1]
        self.weight = weight
        self.weight.setflags(write=False)
        self.bias = None
        if use_bias:
            values = np.zeros(out_channels) if bias_values is None else bias_values
            self.bias = np.array(values, dtype=np.float32)
            if self.bias.shape != (out_channels,):
                raise LayerError(f"Conv2d: bias has shape {self.bias.shape}, expected"
                                 f" ({out_channels},)", "bias_values")
            self.bias.setflags(write=False)
        elif bias_values is not None:
            raise LayerError("Conv2d: bias values were given but bias is false", "bias_values")
        # The op cross-correlates; a true convolution is that with the kernel rotated 180 deg.
        self._kernel = np.ascontiguousarray(weight[..., ::-1, ::-1]) if flip else weight

    def forward(self, x):
        return F.conv2d(x, self._kernel, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def _out_shape(self, in_shape, strict):
        self._need_map(in_shape)
        if in_shape[0] != self.in_channels:
            raise ShapeError(f"Conv2d: input has {in_shape[0]} channels, the layer expects"
                             f" {self.in_channels}", "in_channels")
        return (self.out_channels, *self._out_hw(in_shape, strict))

    def _value(self, name):
        return self.bias is not None if name == "bias" else getattr(self, name)

    def parameters(self):
        out = {"weight": self.weight}
        if self.bias is not None:
            out["bias"] = self.bias
        return out

    def _kwargs(self):
        return {**super()._kwargs(), "weight": self.weight,
                "bias_values": self.bias, "weight_source": self.weight_source}

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


class _Pool(_Windowed):
    _repr_always = ("kernel_size",)

    def _check_padding(self) -> None:
        k, p = pair(self.kernel_size), pair(self.padding)
        d = pair(getattr(self, "dilation", 1))
        for axis in (0, 1):
            eff = d[axis] * (k[axis] - 1) + 1
            if 2 * p[axis] > eff:
                raise LayerError(f"{self.type_name}: padding {p[axis]} is more than half the"
                                 f" window {eff}", "padding")

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
        _size_field("kernel_size", REQUIRED, 1, "window height and width"),
        _size_field("stride", None, 1, "step between windows (empty: the window size)", True),
        _size_field("padding", 0, 0, "border of -infinity added on every side"),
        _size_field("dilation", 1, 1, "spacing between window taps"),
        Field("ceil_mode", "bool", False, help="round the output size up instead of down"),
    )

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        self._store(kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation,
                    ceil_mode=ceil_mode)
        self._check_padding()

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode)


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
        _size_field("kernel_size", REQUIRED, 1, "window height and width"),
        _size_field("stride", None, 1, "step between windows (empty: the window size)", True),
        _size_field("padding", 0, 0, "zero border added on every side"),
        Field("ceil_mode", "bool", False, help="round the output size up instead of down"),
        Field("count_include_pad", "bool", True, help="divide by the full window, padding too"),
    )

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        self._store(kernel_size=kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode,
                    count_include_pad=count_include_pad)
        self._check_padding()

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def macs(self, *in_shapes):
        kh, kw = pair(self.kernel_size)
        return math.prod(self.out_shape(*in_shapes)) * kh * kw


class GlobalAvgPool2d(Layer):
    """Mean of every map: ``(C, H, W) -> (C, 1, 1)``."""

    type_name = "GlobalAvgPool2d"
    name_prefix = "gap"

    def forward(self, x):
        return F.global_avg_pool2d(x)

    def _out_shape(self, in_shape, strict):
        self._need_map(in_shape)
        return (in_shape[0], 1, 1)

    def size_formula(self, *in_shapes):
        _, h, w = in_shapes[0]
        return f"mean over {h} x {w} = 1 x 1"

    def macs(self, *in_shapes):
        return math.prod(in_shapes[0])


class ReLU(Layer):
    """``max(0, x)``."""

    type_name = "ReLU"
    name_prefix = "relu"

    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Layer):
    """``x`` where positive, else ``negative_slope * x``."""

    type_name = "LeakyReLU"
    name_prefix = "lrelu"
    FIELDS = (Field("negative_slope", "float", 0.01, 0.0, 1.0, "slope for negative inputs"),)

    def __init__(self, negative_slope=0.01):
        self._store(negative_slope=negative_slope)

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)


class Sigmoid(Layer):
    """``1 / (1 + exp(-x))``: squashes to (0, 1)."""

    type_name = "Sigmoid"
    name_prefix = "sigmoid"

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Layer):
    """Hyperbolic tangent: squashes to (-1, 1)."""

    type_name = "Tanh"
    name_prefix = "tanh"

    def forward(self, x):
        return F.tanh(x)


class Hardtanh(Layer):
    """Clip to ``[min_val, max_val]`` (ReLU6 is ``Hardtanh(0, 6)``)."""

    type_name = "Hardtanh"
    name_prefix = "hardtanh"
    FIELDS = (
        Field("min_val", "float", -1.0, -1e6, 1e6, "values below are raised to this"),
        Field("max_val", "float", 1.0, -1e6, 1e6, "values above are lowered to this"),
    )

    def __init__(self, min_val=-1.0, max_val=1.0):
        self._store(min_val=min_val, max_val=max_val)
        if self.min_val >= self.max_val:
            raise LayerError(f"Hardtanh: min_val {self.min_val} must be below max_val"
                             f" {self.max_val}", "max_val")

    def forward(self, x):
        return F.hardtanh(x, self.min_val, self.max_val)


def _vector_arg(layer: str, name: str, values, default: float, length: int) -> np.ndarray:
    array = np.full(length, default, np.float32) if values is None else np.array(
        values, dtype=np.float32)
    if array.shape != (length,):
        raise LayerError(f"{layer}: {name} has shape {array.shape}, expected ({length},)", name)
    array.setflags(write=False)
    return array


class BatchNorm2d(Layer):
    """Batch normalization at inference: ``(x - mean) / sqrt(var + eps) * weight + bias``.

    The parameter count is PyTorch's (weight and bias); the running statistics are buffers.
    """

    type_name = "BatchNorm2d"
    name_prefix = "bn"
    FIELDS = (
        Field("num_features", "int", REQUIRED, 1, 4096, "channels of the input"),
        Field("eps", "float", 1e-5, 0.0, 1.0, "added to the variance for stability"),
    )

    def __init__(self, num_features, running_mean=None, running_var=None, weight=None,
                 bias=None, eps=1e-5):
        self._store(num_features=num_features, eps=eps)
        n = self.num_features
        self.running_mean = _vector_arg("BatchNorm2d", "running_mean", running_mean, 0.0, n)
        self.running_var = _vector_arg("BatchNorm2d", "running_var", running_var, 1.0, n)
        self.weight = _vector_arg("BatchNorm2d", "weight", weight, 1.0, n)
        self.bias = _vector_arg("BatchNorm2d", "bias", bias, 0.0, n)
        if (self.running_var < 0).any():
            raise LayerError("BatchNorm2d: running_var must not be negative", "running_var")

    def forward(self, x):
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.eps)

    def _out_shape(self, in_shape, strict):
        if len(in_shape) != 3 or in_shape[0] != self.num_features:
            raise ShapeError(f"BatchNorm2d: input has shape {in_shape}, the layer expects"
                             f" ({self.num_features}, H, W)", "num_features")
        return in_shape

    @property
    def num_params(self):
        return 2 * self.num_features

    def params_formula(self, *in_shapes):
        return f"2 x {self.num_features} = {self.num_params:,}"

    def parameters(self):
        return {"weight": self.weight, "bias": self.bias, "running_mean": self.running_mean,
                "running_var": self.running_var}

    def _kwargs(self):
        return {**super()._kwargs(), **self.parameters()}

    def replace(self, **changes):
        if "num_features" in changes and changes["num_features"] != self.num_features:
            kept = {k: v for k, v in changes.items() if k not in self.parameters()}
            changes = {**kept, **{k: changes.get(k) for k in self.parameters()}}
        return super().replace(**changes)

    def macs(self, *in_shapes):
        return math.prod(in_shapes[0])


class Flatten(Layer):
    """Join the dimensions ``start_dim..end_dim`` into one (torch.flatten on unbatched shapes)."""

    type_name = "Flatten"
    name_prefix = "flatten"
    FIELDS = (
        Field("start_dim", "int", 0, -8, 8, "first dimension to join"),
        Field("end_dim", "int", -1, -8, 8, "last dimension to join"),
    )

    def __init__(self, start_dim=0, end_dim=-1):
        self._store(start_dim=start_dim, end_dim=end_dim)

    def _dims(self, ndim: int) -> tuple[int, int]:
        start, end = (d + ndim if d < 0 else d for d in (self.start_dim, self.end_dim))
        if not (0 <= start <= end < ndim):
            raise ShapeError(f"Flatten: dims {self.start_dim}..{self.end_dim} do not fit a"
                             f" shape of {ndim} dimensions", "start_dim")
        return start, end

    def forward(self, x):
        shift = int(_batched(x))
        start, end = self._dims(x.ndim - shift)
        return x.reshape(*x.shape[:start + shift], -1, *x.shape[end + shift + 1:])

    def _out_shape(self, in_shape, strict):
        start, end = self._dims(len(in_shape))
        return (*in_shape[:start], math.prod(in_shape[start:end + 1]), *in_shape[end + 1:])

    def size_formula(self, *in_shapes):
        start, end = self._dims(len(in_shapes[0]))
        joined = in_shapes[0][start:end + 1]
        return f"{' x '.join(map(str, joined))} = {math.prod(joined):,}"


class Linear(Layer):
    """Fully connected layer on the last dimension: ``x @ weight.T + bias``.

    Examples
    --------
    >>> Linear(512, 10).params_formula((512,))
    '(512 + 1) x 10 = 5,130'
    """

    type_name = "Linear"
    name_prefix = "fc"
    FIELDS = (
        Field("in_features", "int", REQUIRED, 1, 2**24, "length of the input vector"),
        Field("out_features", "int", REQUIRED, 1, 2**24, "length of the output vector"),
        Field("bias", "bool", True, help="add one learned offset per output"),
        Field("init", "choice", "glorot", help="random initializer for new weights",
              choices=("he", "glorot"), in_repr=False),
        Field("seed", "int", 0, 0, 2**31 - 1, "seed of the random initializer", in_repr=False),
    )

    def __init__(self, in_features, out_features, bias=True, weight=None, bias_values=None,
                 init="glorot", seed=0):
        self._store(in_features=in_features, out_features=out_features, init=init, seed=seed)
        use_bias = Field("bias", "bool").check(bias, self.type_name)
        shape = (self.out_features, self.in_features)
        self.weight_source = None if weight is not None else {"init": init, "seed": seed}
        if weight is None:
            weight = initialize(init, shape, seed)
        self.weight = np.array(weight, dtype=np.float32)
        if self.weight.shape != shape:
            raise LayerError(f"Linear: weight has shape {self.weight.shape}, expected {shape}"
                             " (out_features, in_features)", "weights")
        self.weight.setflags(write=False)
        self.bias = None
        if use_bias:
            self.bias = _vector_arg("Linear", "bias_values", bias_values, 0.0, out_features)
        elif bias_values is not None:
            raise LayerError("Linear: bias values were given but bias is false", "bias_values")

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def _out_shape(self, in_shape, strict):
        if not in_shape or in_shape[-1] != self.in_features:
            raise ShapeError(f"Linear: input has shape {in_shape}, the layer expects"
                             f" {self.in_features} features in the last dimension"
                             " (add a Flatten before it)", "in_features")
        return (*in_shape[:-1], self.out_features)

    def _value(self, name):
        return self.bias is not None if name == "bias" else getattr(self, name)

    def parameters(self):
        out = {"weight": self.weight}
        if self.bias is not None:
            out["bias"] = self.bias
        return out

    def _kwargs(self):
        return {**super()._kwargs(), "weight": self.weight,
                "bias_values": self.bias}

    def replace(self, **changes):
        if "weight" not in changes and {"in_features", "out_features", "init", "seed"} & set(
                changes):
            changes = {"weight": None, **changes}
        if "bias_values" not in changes and ("out_features" in changes or "bias" in changes):
            changes = {"bias_values": None, **changes}
        return super().replace(**changes)

    def params_formula(self, *in_shapes):
        plus = " + 1" if self.bias is not None else ""
        return f"({self.in_features}{plus}) x {self.out_features} = {self.num_params:,}"

    def macs(self, *in_shapes):
        return math.prod(self.out_shape(*in_shapes)) * self.in_features


class Softmax(Layer):
    """``exp(x) / sum(exp(x))`` along ``dim`` (counted in unbatched shapes)."""

    type_name = "Softmax"
    name_prefix = "softmax"
    FIELDS = (Field("dim", "int", -1, -8, 8, "dimension that sums to 1"),)

    def __init__(self, dim=-1):
        self._store(dim=dim)

    def forward(self, x):
        dim = self.dim + int(_batched(x)) if self.dim >= 0 else self.dim
        return F.softmax(x, dim)

    def _out_shape(self, in_shape, strict):
        if not -len(in_shape) <= self.dim < len(in_shape):
            raise ShapeError(f"Softmax: dim {self.dim} does not exist in shape {in_shape}", "dim")
        return in_shape


class Add(Layer):
    """Element-wise sum of two or more inputs of the same shape (a residual connection)."""

    type_name = "Add"
    name_prefix = "add"
    n_inputs = None

    def forward(self, *xs):
        out = xs[0] + xs[1]
        for x in xs[2:]:
            out += x
        return out

    def _out_shape(self, *in_shapes, strict):
        if any(shape != in_shapes[0] for shape in in_shapes):
            raise ShapeError(f"Add: inputs must have the same shape, got"
                             f" {', '.join(map(str, in_shapes))}")
        return in_shapes[0]

    def macs(self, *in_shapes):
        return math.prod(in_shapes[0]) * (len(in_shapes) - 1)


class Concat(Layer):
    """Join two or more inputs along ``dim`` (counted in unbatched shapes; 0 = channels)."""

    type_name = "Concat"
    name_prefix = "concat"
    n_inputs = None
    FIELDS = (Field("dim", "int", 0, -8, 8, "dimension to join along (0: channels)"),)

    def __init__(self, dim=0):
        self._store(dim=dim)

    def forward(self, *xs):
        dim = self.dim + int(_batched(xs[0])) if self.dim >= 0 else self.dim
        return np.concatenate(xs, axis=dim)

    def _out_shape(self, *in_shapes, strict):
        ndim = len(in_shapes[0])
        if not -ndim <= self.dim < ndim:
            raise ShapeError(f"Concat: dim {self.dim} does not exist in shape {in_shapes[0]}",
                             "dim")
        dim = self.dim % ndim
        rest = [shape[:dim] + shape[dim + 1:] for shape in in_shapes]
        if any(len(shape) != ndim for shape in in_shapes) or any(r != rest[0] for r in rest):
            raise ShapeError(f"Concat: inputs must match except in dim {self.dim}, got"
                             f" {', '.join(map(str, in_shapes))}", "dim")
        joined = sum(shape[dim] for shape in in_shapes)
        return (*in_shapes[0][:dim], joined, *in_shapes[0][dim + 1:])

    def size_formula(self, *in_shapes):
        dim = self.dim % len(in_shapes[0])
        sizes = [shape[dim] for shape in in_shapes]
        return f"{' + '.join(map(str, sizes))} = {sum(sizes)}"


LAYER_TYPES: dict[str, type[Layer]] = {
    cls.type_name: cls
    for cls in (Conv2d, ReLU, LeakyReLU, Sigmoid, Tanh, Hardtanh, MaxPool2d, AvgPool2d,
                GlobalAvgPool2d, BatchNorm2d, Flatten, Linear, Softmax, Add, Concat)
}
