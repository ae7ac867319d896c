"""The layer base class and what every layer type shares: Field, REQUIRED, LayerError.

A layer is immutable: ``replace(**changes)`` builds a new one. Shapes given to and returned by
``out_shape`` are unbatched: ``(C, H, W)`` for maps, ``(F,)`` for vectors. ``__call__`` takes
unbatched or batched arrays; an array is batched when it has an even number of dimensions
(``(N, F)`` or ``(N, C, H, W)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from engine.i18n import _
from engine.ops.shapes import ShapeError, activation_bytes


class LayerError(ValueError):
    """A hyperparameter a layer cannot take; ``field`` names it."""

    def __init__(self, message: str, field: str | None = None, reason: str | None = None):
        super().__init__(message)
        self.field = field
        self.reason = message if reason is None else reason


class NotDifferentiable(LayerError):
    """A layer type that has no backward pass (yet): gradients cannot flow through it."""

    def __init__(self, type_name: str):
        super().__init__(_("{type_name} cannot be differentiated: it has no backward pass"
                           " yet").format(type_name=type_name))
        self.type_name = type_name


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
                self._fail(owner, _("must be true or false, not {value!r}").format(value=value))
            return bool(value)
        if self.kind == "choice":
            if value not in self.choices:
                self._fail(owner, _("must be one of {choices}, not {value!r}").format(
                    choices=", ".join(self.choices), value=value))
            return value
        if self.pair and isinstance(value, list | tuple):
            if len(value) != 2:
                self._fail(owner, _("must be a whole number or a pair of them, not"
                                    " {value!r}").format(value=value))
            return self.check(value[0], owner), self.check(value[1], owner)
        numeric = (int,) if self.kind == "int" else (int, float)
        if isinstance(value, bool) or not isinstance(value, (*numeric, np.integer)):
            messages = {
                (True, True): _("must be a whole number or a pair of them, not {value!r}"),
                (True, False): _("must be a whole number, not {value!r}"),
                (False, True): _("must be a number or a pair of them, not {value!r}"),
                (False, False): _("must be a number, not {value!r}"),
            }
            self._fail(owner, messages[self.kind == "int", self.pair].format(value=value))
        try:
            value = int(value) if self.kind == "int" else float(value)
        except OverflowError:  # a whole number too large for a float: 10**400
            self._fail(owner, _("must be a finite number, not one this large"))
        if self.kind == "float" and not math.isfinite(value):
            self._fail(owner, _("must be finite, not {value}").format(value=str(value)))
        if self.min is not None and value < self.min:
            self._fail(owner, _("must be at least {limit}, not {value}").format(
                limit=_num(self.min), value=_num(value)))
        if self.max is not None and value > self.max:
            self._fail(owner, _("must be at most {limit}, not {value}").format(
                limit=_num(self.max), value=_num(value)))
        return value

    def _fail(self, owner: str, reason: str):
        raise LayerError(_("{owner}: {name} {reason}").format(
            owner=owner, name=self.name, reason=reason), self.name, reason)


def _num(x: float) -> str:
    if isinstance(x, int):  # may be far beyond a float: 10**400 from a file
        if abs(x) < 10**15:
            return str(x)
        return _("about 10^{exponent}").format(exponent=str(int(abs(x).bit_length() * 0.30103)))
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _size_field(name: str, default: Any, low: int, text: str, optional: bool = False) -> Field:
    return Field(name, "int", default, low, 256, text, pair=True, optional=optional)


def _batched(x: np.ndarray) -> bool:
    return x.ndim % 2 == 0


def _vector_arg(layer: str, name: str, values, default: float, length: int) -> np.ndarray:
    array = np.full(length, default, np.float32) if values is None else np.array(
        values, dtype=np.float32)
    if array.shape != (length,):
        raise LayerError(_("{layer}: {name} has shape {shape}, expected ({length},)").format(
            layer=layer, name=name, shape=array.shape, length=str(length)), name)
    array.setflags(write=False)
    return array


class Layer:
    """Base class: validation, repr, replace and the ledger's defaults for a layer type."""

    type_name: ClassVar[str] = "Layer"
    name_prefix: ClassVar[str] = "layer"
    n_inputs: ClassVar[int | None] = 1
    FIELDS: ClassVar[tuple[Field, ...]] = ()
    # Gradients: parameters that training changes, and whether backward() is defined.
    trainable: ClassVar[tuple[str, ...]] = ()
    differentiable: ClassVar[bool] = False
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
        if len(xs) == 1 == self.n_inputs:
            x = xs[0]
            if type(x) is np.ndarray and x.dtype == np.float32:  # most calls: nothing to convert
                return self.forward(x)
        self._check_count(len(xs))
        arrays = [np.asarray(x, dtype=np.float32) for x in xs]
        return self.forward(*arrays)

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        raise TypeError(f"{self.type_name} does not define forward")

    # -- gradients -----------------------------------------------------------------------------
    # The graph (engine.graph.autograd) calls forward_train on every node in order, keeping what
    # each returns, then backward in reverse order. Inputs are batched float32 arrays.

    def trainable_parameters(self) -> dict[str, np.ndarray]:
        """The parameters training changes (``weight``, ``bias``; not running statistics)."""
        own = self.parameters()
        return {name: own[name] for name in self.trainable if name in own}

    def forward_train(self, xs: tuple[np.ndarray, ...], params: dict[str, np.ndarray],
                      train: bool, rng: np.random.Generator) -> tuple[np.ndarray, Any, dict]:
        """Forward for gradients: ``(output, saved, buffers)``.

        ``params`` holds the arrays to use for :attr:`trainable` (a trainer's current values);
        ``train`` selects training behaviour (batch statistics, dropout); ``saved`` is whatever
        :meth:`backward` needs; ``buffers`` the new values of non-trained state (running
        statistics) that training mode updates, else empty.
        """
        y = self.forward(*xs)
        return y, (xs, y), {}

    def backward(self, grad: np.ndarray, saved: Any, params: dict[str, np.ndarray],
                 need_input: bool = True) -> tuple[tuple[np.ndarray | None, ...], dict]:
        """Gradients ``((d inputs...), {parameter: d parameter})`` from the output's ``grad``.

        ``need_input=False``: the inputs' gradients may be None (the first layer in training).
        """
        raise NotDifferentiable(self.type_name)

    def with_parameters(self, **arrays: np.ndarray) -> Layer:
        """A new layer like this one with some parameter arrays replaced (same shapes)."""
        own = self.parameters()
        for name, value in arrays.items():
            if name not in own:
                raise LayerError(_("{type_name} has no parameter {name!r}").format(
                    type_name=self.type_name, name=name), name)
            if np.shape(value) != own[name].shape:
                raise LayerError(_("{type_name}: {name} has shape {shape},"
                                   " expected {expected}").format(
                    type_name=self.type_name,
                    name=name,
                    shape=np.shape(value),
                    expected=own[name].shape,
                ), name)
        return self.replace(**{self._parameter_kwargs.get(k, k): v for k, v in arrays.items()})

    _parameter_kwargs: ClassVar[dict[str, str]] = {}  # parameter name -> constructor argument

    def _check_count(self, count: int) -> None:
        if self.n_inputs is None and count < 2:
            raise ShapeError(_("{type_name} needs at least 2 inputs, got {count}").format(
                type_name=self.type_name, count=count))
        if self.n_inputs is not None and count != self.n_inputs:
            raise ShapeError(_("{type_name} takes {n_inputs} input, got {count}").format(
                type_name=self.type_name, n_inputs=self.n_inputs, count=count))

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
            raise ShapeError(_("{type_name} needs a (C, H, W) map, got shape {shape}").format(
                type_name=self.type_name, shape=shape))

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
                _("{type_name} has no argument {values}").format(
                    type_name=self.type_name, values=', '.join(sorted(unknown))),
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
