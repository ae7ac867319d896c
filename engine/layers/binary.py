"""ONNX-only element-wise layers of two or more values: Mul, Sub, Div, Pow, Sum, Max, Min and
AddConstant, with numpy's (and ONNX's) broadcasting, each with its backward pass.

A layer takes either two (Sum, Max, Min: two or more) computed inputs, or one input and a
constant. ``constant`` is unbatched (the importer drops ONNX's leading batch axis of 1), so that
broadcasting from the right gives the same result for batched and unbatched inputs; computed
inputs all carry the batch axis, so they broadcast alike too. A squeeze-and-excitation gate is
``Mul`` of a ``(C, H, W)`` map by a ``(C, 1, 1)`` one.
"""

from __future__ import annotations

import math

import numpy as np

from engine.i18n import _
from engine.layers.base import Layer, LayerError
from engine.ops.pointwise import unbroadcast
from engine.ops.shapes import ShapeError

__all__ = ["AddConstant", "Div", "Max", "Min", "Mul", "Pow", "Sub", "Sum"]


def frozen(values, name: str, owner: str) -> np.ndarray:
    """A read-only float32 copy of ``values``; non-finite values are refused."""
    array = np.array(values, dtype=np.float32)
    if not np.all(np.isfinite(array)):
        raise LayerError(_("{owner}: {name} holds values that are not finite").format(
            owner=owner, name=name), name)
    array.setflags(write=False)
    return array


class _Binary(Layer):
    """An element-wise op with broadcasting: of computed inputs, or of one input and a constant.

    ``constant_first``: the constant is the left operand (``c - x``, ``c / x``).
    ``_variadic``: takes any number of computed inputs (Sum, Max, Min).
    """

    _ufunc = staticmethod(np.add)
    _variadic = False
    differentiable = True

    def __init__(self, constant=None, constant_first: bool = False):
        self.constant = None if constant is None else frozen(constant, "constant",
                                                              self.type_name)
        self.constant_first = bool(constant_first)
        # shadows the class default
        self.n_inputs = (None if self._variadic else 2) if self.constant is None else 1

    def _operands(self, xs):
        ops = list(xs) if self.constant is None else [xs[0], self.constant]
        return ops[::-1] if self.constant_first else ops

    def forward(self, *xs):
        a, *rest = self._operands(xs)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for b in rest:
                a = self._ufunc(a, b)
        return np.asarray(a).astype(np.float32, copy=False)

    def backward(self, grad, saved, params, need_input=True):
        xs, y = saved
        ops = self._operands(xs)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            grads = self._grads(grad, ops, y)
        if self.constant_first:
            grads = grads[::-1]
        shapes = [x.shape for x in xs]
        return tuple(unbroadcast(g, s).astype(np.float32, copy=False)
                     for g, s in zip(grads, shapes, strict=False)), {}

    def _grads(self, grad, ops, y) -> list[np.ndarray]:
        raise TypeError(f"{self.type_name} does not define _grads")  # each subclass does

    def _out_shape(self, *in_shapes, strict):
        shapes = list(in_shapes) if self.constant is None else [in_shapes[0],
                                                                self.constant.shape]
        try:
            out = np.broadcast_shapes(*shapes)
        except ValueError:
            raise ShapeError(_("{type_name}: shapes {values} do not"
                               " broadcast together").format(
                type_name=self.type_name, values=' and '.join(map(str, shapes)))) from None
        if self.constant is not None and out != in_shapes[0]:
            raise ShapeError(_("{type_name}: the constant of shape {shape}"
                               " would grow the input {in_shapes} to {out}").format(
                type_name=self.type_name,
                shape=self.constant.shape,
                in_shapes=in_shapes[0],
                out=out,
            ))
        if len({len(s) for s in in_shapes}) > 1:
            raise ShapeError(_("{type_name}: inputs of different ranks"
                               " {values}").format(
                type_name=self.type_name, values=', '.join(map(str, in_shapes))))
        return tuple(out)

    def size_formula(self, *in_shapes):
        if self.constant is None and len(set(in_shapes)) > 1:
            return f"broadcast {' and '.join(map(str, in_shapes))}"
        return ""

    def parameters(self):
        return {} if self.constant is None else {"constant": self.constant}

    def macs(self, *in_shapes):
        return math.prod(self.out_shape(*in_shapes)) * max(1, len(in_shapes) - 1)

    def config(self):
        return {"constant_first": self.constant_first}

    def _kwargs(self):
        return {"constant": self.constant, "constant_first": self.constant_first}

    def __repr__(self):
        if self.constant is None:
            return f"{self.type_name}()"
        c = self.constant
        text = f"{c.item():g}" if c.size == 1 else f"constant{c.shape}"
        return f"{self.type_name}({text}{', constant_first=True' if self.constant_first else ''})"


class Sum(_Binary):
    """Element-wise sum of two or more inputs that broadcast (``Add`` needs equal shapes)."""

    type_name = "Sum"
    name_prefix = "sum"
    _variadic = True

    def _grads(self, grad, ops, y):
        return [grad] * len(ops)


class AddConstant(_Binary):
    """``x + c`` for a constant ``c`` (a bias after MatMul, a mean to add back)."""

    type_name = "AddConstant"
    name_prefix = "addc"

    def __init__(self, constant):
        super().__init__(constant, False)

    def _grads(self, grad, ops, y):
        return [grad, None]

    def config(self):
        return {}

    def _kwargs(self):
        return {"constant": self.constant}


class Mul(_Binary):
    """``x * y`` (a gate, as in squeeze-and-excite) or ``x * c`` (a scale)."""

    type_name = "Mul"
    name_prefix = "mul"
    _ufunc = staticmethod(np.multiply)

    def _grads(self, grad, ops, y):
        a, b = ops
        return [grad * b, grad * a]


class Sub(_Binary):
    """``x - y``, ``x - c`` or ``c - x`` (e.g. subtracting a mean image)."""

    type_name = "Sub"
    name_prefix = "sub"
    _ufunc = staticmethod(np.subtract)

    def _grads(self, grad, ops, y):
        return [grad, -grad]


class Div(_Binary):
    """``x / y``, ``x / c`` or ``c / x`` (e.g. dividing by a standard deviation)."""

    type_name = "Div"
    name_prefix = "div"
    _ufunc = staticmethod(np.divide)

    def _grads(self, grad, ops, y):
        b = ops[1]
        return [grad / b, -grad * y / b]


class Pow(_Binary):
    """``x ** y``, ``x ** c`` (a square in a decomposed norm) or ``c ** x``."""

    type_name = "Pow"
    name_prefix = "pow"
    _ufunc = staticmethod(np.power)

    def _grads(self, grad, ops, y):
        a, b = ops
        da = grad * b * np.power(a, b - 1)
        db = grad * y * np.log(np.where(a > 0, a, 1))  # 0 where log a does not exist
        return [da, db]


class _Extreme(_Binary):
    """Max or Min: the gradient goes to the inputs that hold the result, shared on ties."""

    _variadic = True

    def _grads(self, grad, ops, y):
        hits = [np.asarray(a == y, np.float32) for a in ops]
        share = grad / sum(np.broadcast_to(h, y.shape) for h in hits)
        return [share * h for h in hits]


class Max(_Extreme):
    """Element-wise maximum of two or more inputs, or of an input and a constant."""

    type_name = "Max"
    name_prefix = "max"
    _ufunc = staticmethod(np.maximum)


class Min(_Extreme):
    """Element-wise minimum of two or more inputs, or of an input and a constant."""

    type_name = "Min"
    name_prefix = "min"
    _ufunc = staticmethod(np.minimum)
