"""Output-size arithmetic, fit checks and the counts of the ledger (parameters, MACs, memory).

Everything here is integer arithmetic on shapes: nothing runs a network. The formulas follow
the lecture and PyTorch: a window of effective size ``D(F-1)+1`` slides over ``n + 2P`` pixels
in steps of ``S``, giving ``floor((n + 2P - D(F-1) - 1)/S) + 1`` positions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from engine.i18n import N_, _, ngettext

__all__ = [
    "ShapeError",
    "activation_bytes",
    "conv_macs",
    "conv_output_size",
    "conv_params",
    "dense_params",
    "dropped_pixels",
    "fc_equivalent_params",
    "pair",
    "same_padding",
    "size_formula",
]


class ShapeError(ValueError):
    """A shape that does not fit, with the numbers in the message.

    ``field`` names the hyperparameter at fault when one is clear ("stride", "kernel_size",
    "in_channels", ...), so that a pipeline file or an editor form can point at it.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def pair(value: int | Sequence[int], name: str = "value") -> tuple[int, int]:
    """Return ``value`` as an ``(h, w)`` pair of ints (an int is used for both).

    Examples
    --------
    >>> pair(3), pair((3, 5))
    ((3, 3), (3, 5))
    """
    if isinstance(value, bool):
        raise ValueError(_("{name} must be a whole number or a pair of them, not {value!r}").format(
            name=name, value=value))
    if isinstance(value, int):
        return value, value
    try:
        h, w = value
    except (TypeError, ValueError):
        raise ValueError(
            _("{name} must be a whole number or a pair of them, not {value!r}").format(
                name=name, value=value)
        ) from None
    if isinstance(h, bool) or isinstance(w, bool) or not isinstance(h, int) or not isinstance(
        w, int
    ):
        raise ValueError(_("{name} must be a whole number or a pair of them, not {value!r}").format(
            name=name, value=value))
    return h, w


def _check_args(n, kernel_size, stride, padding, dilation) -> None:
    for label, value, low in (
        (N_("input size"), n, 1),
        (N_("kernel size"), kernel_size, 1),
        (N_("stride"), stride, 1),
        (N_("padding"), padding, 0),
        (N_("dilation"), dilation, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ShapeError(_("{label} must be a whole number, not {value!r}").format(
                label=_(label), value=value))
        if value < low:
            raise ShapeError(_("{label} must be at least {low}, not {value}").format(
                label=_(label), low=low, value=value), _FIELDS[label])


_FIELDS = {
    "input size": None,
    "kernel size": "kernel_size",
    "stride": "stride",
    "padding": "padding",
    "dilation": "dilation",
}


def _effective(kernel_size: int, dilation: int) -> int:
    return dilation * (kernel_size - 1) + 1


def conv_output_size(
    n: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    strict: bool = False,
    ceil_mode: bool = False,
) -> int:
    """Number of window positions along one axis, like PyTorch's Conv2d and MaxPool2d.

    Parameters
    ----------
    n : int
        Input size along the axis (height or width).
    kernel_size, stride, padding, dilation : int
        The window's hyperparameters along the same axis.
    strict : bool
        Raise :class:`ShapeError` when the windows do not tile the padded input exactly
        (the floor would silently drop border pixels). Ignored with ``ceil_mode``, which
        covers the border with a partial window instead.
    ceil_mode : bool
        Round up instead of down, as pooling layers may (a last window may hang over the
        border, but never starts in the right padding).

    Examples
    --------
    >>> conv_output_size(7, 3), conv_output_size(7, 3, stride=2), conv_output_size(7, 3, padding=1)
    (5, 3, 7)
    >>> conv_output_size(7, 3, stride=3, strict=True)
    Traceback (most recent call last):
    ...
    engine.ops.shapes.ShapeError: stride 3 does not fit: (7 - 3 + 2*0)/3 + 1 = 7/3 = 2.33; ...
    """
    _check_args(n, kernel_size, stride, padding, dilation)
    eff = _effective(kernel_size, dilation)
    padded = n + 2 * padding
    if eff > padded:
        message = (_("dilated kernel {eff} ({kernel_size} at dilation {dilation}) is larger than"
                     " the padded input {padded} ({n} + 2*{padding})") if dilation > 1
                   else _("kernel {eff} is larger than the padded input {padded} ({n} +"
                          " 2*{padding})"))
        raise ShapeError(message.format(eff=eff, kernel_size=kernel_size, dilation=dilation,
                                        padded=padded, n=n, padding=padding), "kernel_size")
    span = padded - eff
    positions, rest = divmod(span, stride)
    if rest and strict and not ceil_mode:
        value = (span + stride) / stride
        # The formula stays in the lecture's notation in every language (docs/i18n.md).
        formula = (f"({n} - {eff} + 2*{padding})/{stride} + 1 = {span + stride}/{stride}"
                   f" = {value:.2f}")
        raise ShapeError(ngettext("stride {stride} does not fit: {formula}; the floor drops"
                                  " {rest} border pixel",
                                  "stride {stride} does not fit: {formula}; the floor drops"
                                  " {rest} border pixels", rest).format(
            stride=stride, formula=formula, rest=rest), "stride")
    out = positions + 1
    if ceil_mode and rest:
        out += 1
        # PyTorch: the last window must start inside the input or the left padding.
        if (out - 1) * stride >= n + padding:
            out -= 1
    return out


def dropped_pixels(n: int, kernel_size: int, stride: int = 1, padding: int = 0,
                   dilation: int = 1) -> int:
    """How many border pixels (of the padded input) no window reaches when the size is floored.

    Examples
    --------
    >>> dropped_pixels(7, 3, stride=3), dropped_pixels(7, 3, stride=2)
    (1, 0)
    """
    conv_output_size(n, kernel_size, stride, padding, dilation)
    return (n + 2 * padding - _effective(kernel_size, dilation)) % stride


def size_formula(n: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 dilation: int = 1, ceil_mode: bool = False) -> str:
    """The output-size formula with the numbers substituted.

    A dilated kernel is shown as its effective size ``D(F-1)+1``.

    Examples
    --------
    >>> size_formula(7, 3, padding=1)
    '(7 - 3 + 2*1)/1 + 1 = 7'
    >>> size_formula(7, 3, stride=3)
    '(7 - 3 + 2*0)/3 + 1 = floor(2.33) = 2'
    """
    out = conv_output_size(n, kernel_size, stride, padding, dilation, ceil_mode=ceil_mode)
    eff = _effective(kernel_size, dilation)
    text = f"({n} - {eff} + 2*{padding})/{stride} + 1"
    span = n + 2 * padding - eff
    if span % stride == 0:
        return f"{text} = {out}"
    rounding = "ceil" if ceil_mode else "floor"
    exact = (span + stride) / stride
    if ceil_mode and out != math.ceil(exact):
        # The formula keeps the lecture's notation; only the remark is translated.
        return _("{formula} = ceil({exact}) - 1 = {out} (last window would start in the"
                 " padding)").format(formula=text, exact=f"{exact:.2f}", out=str(out))
    return f"{text} = {rounding}({exact:.2f}) = {out}"


def same_padding(kernel_size: int, dilation: int = 1) -> int:
    """Zero padding that keeps the size at stride 1: ``(F-1)/2`` for an odd (effective) kernel.

    Examples
    --------
    >>> same_padding(3), same_padding(5), same_padding(7)
    (1, 2, 3)
    """
    _check_args(1, kernel_size, 1, 0, dilation)
    eff = _effective(kernel_size, dilation)
    if eff % 2 == 0:
        raise ShapeError(
            _("an even kernel ({eff}) has no symmetric same padding: (F-1)/2 = {value}").format(
                eff=eff, value=(eff - 1) / 2),
            "kernel_size",
        )
    return (eff - 1) // 2


def conv_params(in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
                groups: int = 1, bias: bool = True) -> int:
    """Parameters of a conv layer: ``n x (k x k x C/g + 1)``.

    Examples
    --------
    >>> conv_params(3, 10, 5)
    760
    """
    kh, kw = pair(kernel_size, "kernel_size")
    if in_channels % groups or out_channels % groups:
        raise ShapeError(
            _("groups {groups} must divide both in_channels {in_channels} and out_channels"
              " {out_channels}").format(
                groups=groups, in_channels=in_channels, out_channels=out_channels),
            "groups",
        )
    return out_channels * (kh * kw * (in_channels // groups) + int(bool(bias)))


def dense_params(in_features: int, out_features: int, bias: bool = True) -> int:
    """Parameters of a fully connected layer: ``(in + 1) x out``.

    Examples
    --------
    >>> dense_params(512, 10)
    5130
    """
    return (in_features + int(bool(bias))) * out_features


def fc_equivalent_params(in_shape: Sequence[int], n_filters: int) -> int:
    """The lecture's count: each filter replaced by a fully connected layer to a same-size volume.

    ``(C*H*W + 1) * (C*H*W) * n``.

    Examples
    --------
    >>> fc_equivalent_params((3, 32, 32), 10)
    94402560
    >>> fc_equivalent_params((3, 200, 200), 1)
    14400120000
    """
    volume = math.prod(in_shape)
    return (volume + 1) * volume * n_filters


def conv_macs(out_shape: Sequence[int], in_channels_per_group: int,
              kernel_size: int | Sequence[int]) -> int:
    """Multiply-accumulates of a conv layer: one per output value and kernel tap.

    Examples
    --------
    >>> conv_macs((10, 32, 32), 3, 5)
    768000
    """
    kh, kw = pair(kernel_size, "kernel_size")
    return math.prod(out_shape) * in_channels_per_group * kh * kw


def activation_bytes(shape: Sequence[int], itemsize: int = 4) -> int:
    """Bytes an activation of this shape takes (float32 by default).

    Examples
    --------
    >>> activation_bytes((10, 32, 32))
    40960
    """
    return math.prod(shape) * itemsize
