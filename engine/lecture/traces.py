"""Step-by-step traces of one convolution filter and of one pooling window, for the players.

A trace holds everything a teaching view needs to replay an operation one output position at a
time: the zero-padded input and which of its cells are padding, the output size with its
formula, whether the stride fits (and which rows and columns the floor drops), and for every
output position (row-major) the window under the kernel with its numbers. The arithmetic is the
same as :func:`engine.ops.conv2d` / ``max_pool2d`` / ``avg_pool2d``; the tests check that
at every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.i18n import N_, _
from engine.ops.shapes import ShapeError, conv_output_size, pair, size_formula

__all__ = [
    "MAX_SIDE",
    "AxisFit",
    "ConvStep",
    "ConvTrace",
    "PoolStep",
    "PoolTrace",
    "TraceError",
    "trace_conv",
    "trace_pool",
]

#: The players show every number, so inputs stay small.
MAX_SIDE = 16


class TraceError(ValueError):
    """An input or setting the players cannot trace, with the numbers in the message."""


@dataclass(frozen=True)
class AxisFit:
    """How the windows tile one axis (rows or columns) of the padded input."""

    axis: str                 # "height" or "width"
    size: int                 # input size along the axis (before padding)
    out: int                  # number of window positions
    formula: str              # "(7 - 3 + 2*0)/3 + 1 = floor(2.33) = 2"
    fits: bool                # True when the windows end exactly at the padded border
    dropped: tuple[int, ...]  # padded-input indices no window reaches (empty when it fits)


@dataclass(frozen=True)
class ConvStep:
    """One output position of a single-filter convolution."""

    index: int                # k, row-major over the output
    row: int                  # output row
    col: int                  # output column
    rows: np.ndarray          # (kh,) padded-input rows under the kernel (dilation included)
    cols: np.ndarray          # (kw,) padded-input columns under the kernel
    window: np.ndarray        # (C, kh, kw) padded-input values under the kernel
    products: np.ndarray      # (C, kh, kw) window * weight, element by element
    channel_sums: np.ndarray  # (C,) one sum per input channel
    total: float              # sum of the channel sums
    bias: float
    value: float              # total + bias: the output cell's value


class _WindowGrid:
    """What a conv and a pool trace share: the grid of window positions, from their AxisFits.

    Subclasses are dataclasses with ``fit_rows`` and ``fit_cols`` fields.
    """

    fit_rows: AxisFit
    fit_cols: AxisFit

    @property
    def out_shape(self) -> tuple[int, int]:
        return self.fit_rows.out, self.fit_cols.out

    @property
    def fits(self) -> bool:
        return self.fit_rows.fits and self.fit_cols.fits

    def __len__(self) -> int:
        return self.fit_rows.out * self.fit_cols.out


@dataclass(frozen=True)
class ConvTrace(_WindowGrid):
    """A single filter (C, kh, kw) sliding over an input (C, H, W); see :func:`trace_conv`."""

    input: np.ndarray         # (C, H, W)
    weight: np.ndarray        # (C, kh, kw)
    bias: float
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    padded: np.ndarray        # (C, H + 2ph, W + 2pw)
    pad_mask: np.ndarray      # (H + 2ph, W + 2pw) bool, True on the zero border
    fit_rows: AxisFit
    fit_cols: AxisFit
    output: np.ndarray = field(repr=False)  # (H_out, W_out), the whole result

    def step(self, k: int) -> ConvStep:
        """The arithmetic of output position ``k`` (row-major)."""
        row, col = _position(k, self.out_shape)
        rows, cols = _window_indices(row, col, self.weight.shape[1:], self.stride, self.dilation)
        window = self.padded[:, rows[:, None], cols[None, :]]  # (C, kh, kw)
        products = window * self.weight
        channel_sums = products.sum(axis=(1, 2))
        total = float(channel_sums.sum())
        return ConvStep(k, row, col, rows, cols, window, products, channel_sums, total,
                        self.bias, total + self.bias)


@dataclass(frozen=True)
class PoolStep:
    """One output position of a pooling window over a single map."""

    index: int
    row: int
    col: int
    rows: np.ndarray          # (kh,) padded-map rows of the window
    cols: np.ndarray          # (kw,)
    window: np.ndarray        # (kh, kw) values; padding is -inf for max and 0 for avg
    winner: tuple[int, int] | None  # padded-map (row, col) of the maximum; None for avg
    value: float


@dataclass(frozen=True)
class PoolTrace(_WindowGrid):
    """Max or average pooling over one map (H, W); see :func:`trace_pool`."""

    mode: str                 # "max" or "avg"
    input: np.ndarray         # (H, W)
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    padded: np.ndarray        # (H + 2ph, W + 2pw); the border holds the pad value
    pad_mask: np.ndarray      # (H + 2ph, W + 2pw) bool
    fit_rows: AxisFit
    fit_cols: AxisFit
    output: np.ndarray = field(repr=False)  # (H_out, W_out)

    def step(self, k: int) -> PoolStep:
        """The window, the winning cell (max) and the value of output position ``k``."""
        row, col = _position(k, self.out_shape)
        rows, cols = _window_indices(row, col, self.kernel_size, self.stride, (1, 1))
        window = self.padded[rows[:, None], cols[None, :]]  # (kh, kw)
        if self.mode == "max":
            # np.argmax returns the first maximum in row-major order, as PyTorch does.
            i, j = np.unravel_index(int(np.argmax(window)), window.shape)
            winner = (int(rows[i]), int(cols[j]))
            value = float(window[i, j])
        else:
            winner = None
            # count_include_pad=True: the zeros of the border count in the mean.
            value = float(window.sum() / window.size)
        return PoolStep(k, row, col, rows, cols, window, winner, value)


def _position(k: int, out_shape: tuple[int, int]) -> tuple[int, int]:
    n = out_shape[0] * out_shape[1]
    if not 0 <= k < n:
        raise TraceError(_("step {k} is outside the {n} output positions (0 to {last})").format(
            k=k, n=n, last=n - 1))
    return divmod(k, out_shape[1])


def _window_indices(row, col, kernel, stride, dilation) -> tuple[np.ndarray, np.ndarray]:
    rows = row * stride[0] + dilation[0] * np.arange(kernel[0])
    cols = col * stride[1] + dilation[1] * np.arange(kernel[1])
    return rows, cols


def _axis_fit(axis: str, n: int, k: int, s: int, p: int, d: int) -> AxisFit:
    try:
        out = conv_output_size(n, k, s, p, d)
    except ShapeError as exc:
        raise TraceError(_("{axis}: {exc}").format(axis=_(axis), exc=exc)) from None
    last = (out - 1) * s + d * (k - 1)  # last padded index any window reaches
    dropped = tuple(range(last + 1, n + 2 * p))
    return AxisFit(axis, n, out, size_formula(n, k, s, p, d), not dropped, dropped)


def _check_map(x: np.ndarray, ndim: int, what: str, max_side: int = MAX_SIDE) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != ndim:
        want = "(C, H, W)" if ndim == 3 else "(H, W)"
        raise TraceError(_("{what} must have shape {want}, not {shape}").format(
            what=what, want=want, shape=x.shape))
    if max(x.shape[-2:]) > max_side:
        raise TraceError(
            _("{what} is {h}x{w}; the players show at most "
              "{max_side}x{max_side} cells").format(
                what=what, h=x.shape[-2], w=x.shape[-1], max_side=max_side)
        )
    return x


def trace_conv(x, weight, bias=0.0, stride=1, padding=0, dilation=1,
               max_side: int = MAX_SIDE) -> ConvTrace:
    """Trace one filter sliding over an input, as one output channel of ``conv2d`` computes it.

    Parameters
    ----------
    x : array (C, H, W)
        Input, at most ``max_side`` pixels on a side, any number of channels.
    weight : array (C, kh, kw)
        One filter; a 2-D ``(kh, kw)`` kernel is used for a single-channel input.
    bias : float
    stride, padding, dilation : int or (h, w)
    max_side : int
        The largest side accepted: ``MAX_SIDE`` (every number readable) unless the caller
        shows a bigger worked example, such as the lecture's 32x32x3 volume.

    Returns
    -------
    ConvTrace

    Examples
    --------
    >>> t = trace_conv(np.ones((1, 7, 7)), np.ones((3, 3)), stride=2)
    >>> t.out_shape, t.step(0).value
    ((3, 3), 9.0)
    """
    x = _check_map(x, 3, _("input"), max_side)
    weight = np.asarray(weight, dtype=np.float32)
    if weight.ndim == 2:
        weight = weight[None]
    if weight.ndim != 3 or weight.shape[0] != x.shape[0]:
        raise TraceError(
            _("the filter has shape {shape}; the input has {channels} channel(s), "
              "so the filter needs shape ({channels}, kh, kw)").format(
                shape=weight.shape, channels=x.shape[0])
        )
    stride, padding, dilation = pair(stride, "stride"), pair(padding, "padding"), \
        pair(dilation, "dilation")
    (c, h, w), (kh, kw) = x.shape, weight.shape[1:]
    fit_rows = _axis_fit(N_("height"), h, kh, stride[0], padding[0], dilation[0])
    fit_cols = _axis_fit(N_("width"), w, kw, stride[1], padding[1], dilation[1])
    ph, pw = padding
    padded = np.zeros((c, h + 2 * ph, w + 2 * pw), np.float32)
    padded[:, ph:ph + h, pw:pw + w] = x
    pad_mask = np.ones(padded.shape[1:], bool)
    pad_mask[ph:ph + h, pw:pw + w] = False
    trace = ConvTrace(x, weight, float(bias), stride, padding, dilation, padded, pad_mask,
                      fit_rows, fit_cols, np.zeros((fit_rows.out, fit_cols.out), np.float32))
    # The whole output, from the same per-step arithmetic the player shows.
    for k in range(len(trace)):
        s = trace.step(k)
        trace.output[s.row, s.col] = s.value
    return trace


def trace_pool(x, mode="max", kernel_size=2, stride=None, padding=0) -> PoolTrace:
    """Trace max or average pooling over one map, one window at a time.

    Parameters
    ----------
    x : array (H, W)
    mode : "max" or "avg"
    kernel_size, stride, padding : int or (h, w)
        ``stride=None`` means the kernel size, as in PyTorch. Padding may be at most half
        the kernel (PyTorch's rule); max pooling pads with -inf, average with zeros that count.

    Examples
    --------
    >>> x = [[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]
    >>> trace_pool(x, "max", 2).output.tolist()
    [[6.0, 8.0], [3.0, 4.0]]
    """
    if mode not in ("max", "avg"):
        raise TraceError(_("pooling mode must be 'max' or 'avg', not {mode!r}").format(mode=mode))
    x = _check_map(x, 2, _("map"))
    kernel = pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else pair(stride, "stride")
    padding = pair(padding, "padding")
    for p, k in zip(padding, kernel, strict=True):
        if p > k // 2:
            raise TraceError(_("padding {p} is more than half the kernel size {k}").format(
                p=p, k=k))
    (h, w), (ph, pw) = x.shape, padding
    fit_rows = _axis_fit(N_("height"), h, kernel[0], stride[0], ph, 1)
    fit_cols = _axis_fit(N_("width"), w, kernel[1], stride[1], pw, 1)
    fill = -np.inf if mode == "max" else 0.0
    padded = np.full((h + 2 * ph, w + 2 * pw), fill, np.float32)
    padded[ph:ph + h, pw:pw + w] = x
    pad_mask = np.ones(padded.shape, bool)
    pad_mask[ph:ph + h, pw:pw + w] = False
    trace = PoolTrace(mode, x, kernel, stride, padding, padded, pad_mask, fit_rows, fit_cols,
                      np.zeros((fit_rows.out, fit_cols.out), np.float32))
    for k in range(len(trace)):
        s = trace.step(k)
        trace.output[s.row, s.col] = s.value
    return trace
