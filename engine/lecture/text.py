"""Plain-English text for the players: numbers, sums, size formulas and fit messages.

Qt-free so that the wording can be tested without a window and reused in notebooks.
"""

from __future__ import annotations

import numpy as np

from engine.i18n import _, ngettext
from engine.lecture.traces import AxisFit, ConvStep, ConvTrace, PoolStep, PoolTrace

__all__ = [
    "channel_name",
    "conv_sum_text",
    "fit_text",
    "format_value",
    "formula_text",
    "parse_kernel",
    "pool_text",
]

#: Sums with at most this many products are written out term by term.
MAX_TERMS = 9


def format_value(value: float) -> str:
    """Short text for a number: whole numbers without decimals, others with 2 or fewer.

    Examples
    --------
    >>> format_value(6.0), format_value(0.12345), format_value(-float("inf"))
    ('6', '0.12', '-∞')
    """
    value = float(value)
    if not np.isfinite(value):
        return "-∞" if value < 0 else ("∞" if value > 0 else "")
    if value.is_integer() and abs(value) < 1e5:
        return str(int(value))
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def channel_name(channel: int, channels: int) -> str:
    """"R", "G", "B" for a 3-channel input, else the channel number."""
    return "RGB"[channel] if channels == 3 else str(channel)


def _term(x: float, w: float) -> str:
    text = f"{format_value(w)}×{format_value(x)}"
    return f"({text})" if w < 0 or x < 0 else text


def conv_sum_text(trace: ConvTrace, step: ConvStep, channel: int) -> str:
    """How one step's value is made: the shown channel's products, the channel sums, the bias.

    Examples
    --------
    The lecture's 7x7 example, first step: ``(-1×0) + 0×0 + 1×1 + ... = 5 -> output 5``.
    """
    c = step.products.shape[0]
    name = channel_name(channel, c)
    n = step.products[channel].size
    if n <= MAX_TERMS:
        x = step.window[channel].ravel()
        weights = trace.weight[channel].ravel()
        terms = " + ".join(_term(xi, wi) for xi, wi in zip(x, weights, strict=True))
        own = f"{terms} = {format_value(step.channel_sums[channel])}"
    else:
        own = _("sum of the {n} products = {value}").format(
            n=n, value=format_value(step.channel_sums[channel]))
    lines = [_("Channel {name}: {sum}").format(name=name, sum=own) if c > 1
             else _("Sum of products: {sum}").format(sum=own)]
    if c > 1:
        sums = " + ".join(format_value(v) for v in step.channel_sums)
        lines.append(_("Channel sums ({channels}): {sums} = {total}").format(
            channels=", ".join(channel_name(i, c) for i in range(c)), sums=sums,
            total=format_value(step.total)))
    lines.append(_("Total {total} + bias {bias} = {value}").format(
        total=format_value(step.total), bias=format_value(step.bias),
        value=format_value(step.value)))
    return "<br>".join(lines)


def pool_text(trace: PoolTrace, step: PoolStep) -> str:
    """The window's values and what pooling makes of them.

    Examples
    --------
    ``max(1, 1, 5, 6) = 6`` or ``(1 + 1 + 5 + 6) / 4 = 3.25``.
    """
    values = [format_value(v) for v in step.window.ravel()]
    if trace.mode == "max":
        return f"max({', '.join(values)}) = {format_value(step.value)}"
    return f"({' + '.join(values)}) / {step.window.size} = {format_value(step.value)}"


def _same_axes(a: AxisFit, b: AxisFit) -> bool:
    return a.formula == b.formula and a.dropped == b.dropped


def formula_text(trace: ConvTrace | PoolTrace) -> str:
    """The output-size formula (N - F + 2P)/S + 1 with the numbers, for height and width."""
    rows, cols = trace.fit_rows, trace.fit_cols
    if _same_axes(rows, cols):
        return _("Output size (N - F + 2P)/S + 1: {formula}, so {h}x{w}").format(
            formula=rows.formula, h=rows.out, w=cols.out)
    return _("Output height: {rows}; width: {cols}; so {h}x{w}").format(
        rows=rows.formula, cols=cols.formula, h=rows.out, w=cols.out)


def fit_text(trace: ConvTrace | PoolTrace, what: str = "stride") -> str:
    """"The stride fits" or which padded rows and columns the floor drops (``what``: the
    setting named, "stride" is the one the players use)."""
    del what  # the sentences below name the stride, the one setting the players ask about
    if trace.fits:
        return _("The stride fits: the windows end exactly at the border.")
    parts = []
    for fit, axis in ((trace.fit_rows, 0), (trace.fit_cols, 1)):
        if fit.dropped:
            offset = trace.padding[axis]
            numbers = ", ".join(str(i - offset) for i in fit.dropped)
            count = len(fit.dropped)
            parts.append((ngettext("row {numbers}", "rows {numbers}", count) if axis == 0 else
                          ngettext("column {numbers}", "columns {numbers}", count)
                          ).format(numbers=numbers))
    return _("The stride does not fit: no window reaches {parts} (hatched red); the floor in "
             "the formula drops them.").format(parts=_(" and ").join(parts))


def parse_kernel(text: str) -> np.ndarray:
    """Read kernel values written as rows separated by ';' and numbers by spaces or commas.

    Examples
    --------
    >>> parse_kernel("-1 0 1; -2 0 2; -1 0 1").shape
    (3, 3)
    """
    rows = [r.replace(",", " ").split() for r in text.split(";") if r.strip()]
    if not rows:
        raise ValueError(_("write the kernel as rows of numbers separated by ';', e.g. 1 0; 0 1"))
    if len({len(r) for r in rows}) != 1:
        lengths = ", ".join(str(len(r)) for r in rows)
        raise ValueError(_("every kernel row needs the same number of values (got {lengths})")
                         .format(lengths=lengths))
    if len(rows) > 7 or len(rows[0]) > 7:
        raise ValueError(_("the kernel is {h}x{w}; at most 7x7 fits the player").format(
            h=len(rows), w=len(rows[0])))
    try:
        return np.array([[float(v) for v in r] for r in rows], np.float32)
    except ValueError:
        raise ValueError(_("the kernel values must be numbers: {text!r}").format(
            text=text)) from None
