"""Argument checks for the ops in :mod:`engine.ops`, and the messages they raise.

Every check takes the op's name first, so each message starts with it and gives the numbers,
e.g. ``"conv2d: input has 4 channels, weight expects 3"``. Checks return the argument in the
form the ops compute with: float32 arrays, ``(h, w)`` pairs of ints, padding as
``(top, bottom, left, right)``.
"""

from __future__ import annotations

import math

import numpy as np

from engine.i18n import N_, _

# The most values an op allocates for one padded input or output: 2**31 float32 values are
# 8 GiB, hundreds of times the largest map of any network the app runs (VGG's first block:
# 64 x 226 x 226, 3.3 million). An absurd padding (10**9) then gets a message, not numpy's
# "array is too big" or a MemoryError.
MAX_VALUES = 2**31
_PADDED_TOO_LARGE = N_("{op}: padding {padding} makes the padded input {shape}, {total:,} values;"
                       " the engine allows at most {limit:,}")


def array_arg(op: str, x, what: str = "input") -> np.ndarray:
    """``x`` as a float32 array (no copy when it already is one)."""
    arr = x if isinstance(x, np.ndarray) else np.asarray(x) if _is_numeric(x) else None
    if arr is None or arr.dtype.kind not in "biuf":
        raise ValueError(_("{op}: {what} must be an array of real numbers, got {type_name}").format(
            op=op, what=what, type_name=type(x).__name__))
    return arr.astype(np.float32, copy=False)


def _is_numeric(x) -> bool:
    try:
        return np.asarray(x).dtype.kind in "biuf"
    except (TypeError, ValueError):
        return False


def image_arg(op: str, x) -> tuple[np.ndarray, bool]:
    """Return (x as (N, C, H, W), whether the input was batched)."""
    arr = array_arg(op, x)
    if arr.ndim not in (3, 4):
        raise ValueError(
            _("{op}: input must be 3-D (C, H, W) or 4-D (N, C, H, W), "
              "got {ndim}-D with shape {shape}").format(
                op=op, ndim=arr.ndim, shape=tuple(arr.shape))
        )
    if 0 in arr.shape:
        raise ValueError(_("{op}: input shape {shape} has an empty dimension").format(
            op=op, shape=tuple(arr.shape)))
    return (arr if arr.ndim == 4 else arr[None]), arr.ndim == 4


def is_int(v) -> bool:
    """An int or numpy integer, but not a bool."""
    return isinstance(v, int | np.integer) and not isinstance(v, bool)


def pair_arg(op: str, name: str, v, minimum: int) -> tuple[int, int]:
    """An int or an (h, w) pair of ints, each at least ``minimum``, as a pair."""
    if is_int(v):
        hw = (int(v), int(v))
    elif isinstance(v, tuple | list) and len(v) == 2 and all(is_int(e) for e in v):
        hw = (int(v[0]), int(v[1]))
    else:
        raise ValueError(_("{op}: {name} must be an int or a pair (h, w) of ints, got "
                           "{v!r}").format(op=op, name=name, v=v))
    if min(hw) < minimum:
        message = (_("{op}: {name} must be positive, got {value}") if minimum == 1
                   else _("{op}: {name} must be zero or more, got {value}"))
        raise ValueError(message.format(op=op, name=name, value=pair_text(hw)))
    return hw


def pair_text(hw: tuple[int, int], sep: str = "x") -> str:
    """(3, 3) -> "3", (3, 2) -> "3x2": the short form used in messages."""
    return str(hw[0]) if hw[0] == hw[1] else f"{hw[0]}{sep}{hw[1]}"


def int_arg(op: str, name: str, v, minimum: int) -> int:
    """An int of at least ``minimum``."""
    if not is_int(v) or v < minimum:
        message = (_("{op}: {name} must be a positive int, got {value!r}") if minimum == 1
                   else _("{op}: {name} must be an int of at least {minimum}, got {value!r}"))
        raise ValueError(message.format(op=op, name=name, minimum=minimum, value=v))
    return int(v)


def real_arg(op: str, name: str, v) -> float:
    """A real number (not a bool) as a float."""
    if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
        raise ValueError(_("{op}: {name} must be a real number, got {v!r}").format(
            op=op, name=name, v=v))
    return float(v)


def dim_arg(op: str, name: str, d, ndim: int) -> int:
    """A dimension index of an ``ndim``-D array, negative ones counted from the end."""
    if not is_int(d) or not -ndim <= d < ndim:
        raise ValueError(
            _("{op}: {name} {d!r} is out of range for a {ndim}-D input "
              "(allowed: {low} to {high})").format(
                op=op, name=name, d=d, ndim=ndim, low=-ndim, high=ndim - 1)
        )
    return int(d) % ndim


def vector_arg(op: str, name: str, v, length: int, counted: str) -> np.ndarray:
    """A 1-D float32 array of ``length`` values, one per ``counted`` (an N_-marked noun)."""
    arr = array_arg(op, v, name)
    if arr.ndim != 1 or arr.shape[0] != length:
        raise ValueError(
            _("{op}: {name} has shape {shape}, expected {length} values "
              "(one per {counted})").format(
                op=op, name=name, shape=tuple(arr.shape), length=length, counted=_(counted))
        )
    return arr


def size_limit(message: str, shape: tuple[int, ...], **fields) -> None:
    """Refuse to allocate an array of ``shape`` with more than :data:`MAX_VALUES` values.

    ``message`` is the whole translated sentence that says how it came about, with the
    placeholders ``{shape}``, ``{total}`` and ``{limit}`` besides the ``fields`` given.
    """
    total = math.prod(shape)
    if total > MAX_VALUES:
        raise ValueError(message.format(shape="x".join(str(d) for d in shape), total=total,
                                        limit=MAX_VALUES, **fields))


def _pads_text(pads: tuple[int, int, int, int]) -> str:
    """(1, 1, 2, 2) -> "1x2"; uneven pads in full, with their order."""
    top, bottom, left, right = pads
    if (top, left) == (bottom, right):
        return pair_text((top, left))
    return _("{pads} (top, bottom, left, right)").format(pads=pads)


def channel_axis(op: str, x: np.ndarray) -> int:
    """0 for 1-D and 3-D (unbatched) inputs, 1 for 2-D and 4-D (batched) ones."""
    if x.ndim not in (1, 2, 3, 4):
        raise ValueError(
            _("{op}: input must be 1-D to 4-D, got {ndim}-D with shape {shape}").format(
                op=op, ndim=x.ndim, shape=tuple(x.shape))
        )
    return 0 if x.ndim in (1, 3) else 1


# ---------------------------------------------------------------- convolution and pooling


def conv_args(x, weight, bias, stride, padding, dilation, groups, op="conv2d"):
    """conv2d's arguments, checked against each other; messages start with ``op``.

    Returns ``(x4, batched, w, b, stride, pads, dilation, groups, (H_out, W_out))`` with ``x4``
    shaped (N, C, H, W) and ``pads`` = (top, bottom, left, right).
    """
    x4, batched = image_arg(op, x)
    w = array_arg(op, weight, "weight")
    if w.ndim != 4 or 0 in w.shape:
        raise ValueError(
            _("{op}: weight must be 4-D (C_out, C_in/groups, kh, kw) with no empty dimension, "
              "got shape {shape}").format(op=op, shape=tuple(w.shape))
        )
    groups = int_arg(op, "groups", groups, 1)
    c, h, wd = x4.shape[1:]
    c_out, c_in_g, kh, kw = w.shape
    if c % groups:
        raise ValueError(_("{op}: groups {groups} does not divide the {c} input channels").format(
            op=op, groups=groups, c=c))
    if c_out % groups:
        raise ValueError(
            _("{op}: groups {groups} does not divide the {c_out} output channels (filters)").format(
                op=op, groups=groups, c_out=c_out)
        )
    if c_in_g * groups != c:
        message = (_("{op}: input has {c} channels, weight expects {expected} ({per_group} per"
                     " group x {groups} groups)") if groups > 1
                   else _("{op}: input has {c} channels, weight expects {expected}"))
        raise ValueError(message.format(op=op, c=c, expected=c_in_g * groups,
                                        per_group=c_in_g, groups=groups))
    stride2 = pair_arg(op, "stride", stride, 1)
    dil = pair_arg(op, "dilation", dilation, 1)
    pads = _conv_padding(op, padding, (kh, kw), dil, stride2)
    b = None if bias is None else vector_arg(op, "bias", bias, c_out, N_("filter"))
    hp, wp = h + pads[0] + pads[1], wd + pads[2] + pads[3]
    ekh, ekw = dil[0] * (kh - 1) + 1, dil[1] * (kw - 1) + 1
    if ekh > hp or ekw > wp:
        _kernel_too_large(op, (kh, kw), (ekh, ekw), dil, (hp, wp))
    out_hw = ((hp - ekh) // stride2[0] + 1, (wp - ekw) // stride2[1] + 1)
    n = x4.shape[0]
    if any(pads):
        size_limit(_(_PADDED_TOO_LARGE), (n, c, hp, wp), op=op, padding=_pads_text(pads))
    size_limit(_("{op}: the output would be {shape}, {total:,} values; the engine allows at"
                 " most {limit:,}"), (n, c_out, *out_hw), op=op)
    return x4, batched, w, b, stride2, pads, dil, groups, out_hw


def _kernel_too_large(op, kernel, spanned, dilation, padded) -> None:
    """Raise the message for a kernel (spanning ``spanned`` when dilated) over a smaller input."""
    fields = dict(op=op, kh=kernel[0], kw=kernel[1], sh=spanned[0], sw=spanned[1],
                  dilation=pair_text(dilation), hp=padded[0], wp=padded[1])
    if tuple(spanned) != tuple(kernel):
        raise ValueError(_("{op}: kernel {kh}x{kw} with dilation {dilation} spans {sh}x{sw}, so it"
                           " is larger than the padded input {hp}x{wp}").format(**fields))
    raise ValueError(_("{op}: kernel {kh}x{kw} is larger than the padded input {hp}x{wp}").format(
        **fields))


def _conv_padding(op, padding, kernel, dil, stride) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) from an int, a pair, "valid" or "same" (PyTorch's rules)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(_("{op}: padding 'same' needs stride 1, got {stride}").format(
                    op=op, stride=pair_text(stride)))
            th, tw = dil[0] * (kernel[0] - 1), dil[1] * (kernel[1] - 1)
            return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
        raise ValueError(_("{op}: padding {padding!r} is not 'valid', 'same' or a number").format(
            op=op, padding=padding))
    ph, pw = pair_arg(op, "padding", padding, 0)
    return (ph, ph, pw, pw)


def pool_args(op, x, kernel_size, stride, padding, dilation, ceil_mode):
    """A pooling op's arguments: ``(x4, batched, k, s, p, d, (H_out, W_out))``, all pairs."""
    x4, batched = image_arg(op, x)
    k = pair_arg(op, "kernel_size", kernel_size, 1)
    s = k if stride is None else pair_arg(op, "stride", stride, 1)
    p = pair_arg(op, "padding", padding, 0)
    d = pair_arg(op, "dilation", dilation, 1)
    if not isinstance(ceil_mode, bool | np.bool_):
        raise ValueError(_("{op}: ceil_mode must be True or False, got {ceil_mode!r}").format(
            op=op, ceil_mode=ceil_mode))
    for pi, ki in zip(p, k, strict=True):
        if pi > ki // 2:  # PyTorch's rule: padding at most half the kernel
            raise ValueError(_("{op}: padding {pi} is more than half the kernel {ki}").format(
                op=op, pi=pi, ki=ki))
    h, w = x4.shape[2:]
    out = tuple(
        _pool_size(n, ki, si, pi, di, bool(ceil_mode))
        for n, ki, si, pi, di in zip((h, w), k, s, p, d, strict=True)
    )
    if min(out) < 1:  # ceil_mode's rounding can still fit a window a little wider than the input
        ek = (d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1)
        _kernel_too_large(op, k, ek, d, (h + 2 * p[0], w + 2 * p[1]))
    if any(p):  # the padded copy, with ceil_mode's room for a last window (see engine.ops._pool)
        rows, cols = (
            max(n + 2 * pi, (o - 1) * si + di * (ki - 1) + 1)
            for n, o, ki, si, pi, di in zip((h, w), out, k, s, p, d, strict=True)
        )
        shape = (*x4.shape[:2], rows, cols)
        size_limit(_(_PADDED_TOO_LARGE), shape, op=op, padding=pair_text(p))
    return x4, batched, k, s, p, d, out


def grad_arg(op: str, grad, expected: tuple[int, ...], batched: bool, forward: str) -> np.ndarray:
    """A backward op's ``grad_out``: float32 (N, C, H_out, W_out), C-contiguous.

    It must have exactly the shape the forward op gives for the same input and arguments
    (``expected``, batched), without the batch axis when the input had none.
    """
    g = array_arg(op, grad, "grad_out")
    want = tuple(expected) if batched else tuple(expected[1:])
    if g.shape != want:
        raise ValueError(
            _("{op}: grad_out has shape {shape}, expected {want} "
              "(the shape of {forward}'s output for this input and these arguments)").format(
                op=op, shape=tuple(g.shape), want=want, forward=forward)
        )
    return np.ascontiguousarray(g if batched else g[None])


def shape_arg(op: str, shape) -> np.ndarray:
    """An input shape (C, H, W) or (N, C, H, W) as a read-only zero-stride float32 array.

    Backward ops that need only the input's shape take it as ``x_shape``; the stand-in array
    (no memory) lets them reuse the forward's checks unchanged.
    """
    if (
        not isinstance(shape, tuple | list)
        or len(shape) not in (3, 4)
        or not all(is_int(v) and v >= 1 for v in shape)
    ):
        raise ValueError(
            _("{op}: x_shape must be 3 or 4 positive ints, (C, H, W) or (N, C, H, W), got "
              "{shape!r}").format(op=op, shape=shape)
        )
    return np.broadcast_to(np.zeros((), np.float32), tuple(int(v) for v in shape))


def _pool_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size; with ceil_mode the last window must start inside."""
    span = n + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def pad_args(arr: np.ndarray, padding) -> tuple[int, int, int, int]:
    """``pad``'s amounts as (left, right, top, bottom), checked against the input's size.

    Crops may not take all of a dimension (PyTorch refuses taking more than there is; an input
    cropped to nothing is no image either), and the result must stay within MAX_VALUES.
    """
    if arr.ndim < 2:
        raise ValueError(_("pad: input must have at least 2 dimensions, got shape {shape}").format(
            shape=arr.shape))
    if is_int(padding):
        amounts = (int(padding),) * 4
    elif (
        isinstance(padding, tuple | list)
        and len(padding) in (2, 4)
        and all(is_int(v) for v in padding)
    ):
        amounts = tuple(int(v) for v in padding) + (0, 0)[: 4 - len(padding)]
    else:
        raise ValueError(
            _("pad: padding must be an int or (left, right[, top, bottom]) ints, got "
              "{padding!r}").format(padding=padding)
        )
    left, right, top, bottom = amounts
    h, w = arr.shape[-2:]
    crops = (
        (h, top, bottom, N_("pad: padding {amounts} crops {crop} of the {size} rows, "
                            "which leaves nothing of the {h}x{w} input")),
        (w, left, right, N_("pad: padding {amounts} crops {crop} of the {size} columns, "
                            "which leaves nothing of the {h}x{w} input")),
    )
    for size, before, after, message in crops:
        crop = -min(before, 0) - min(after, 0)
        if crop >= size:
            raise ValueError(_(message).format(amounts=amounts, crop=crop, size=size, h=h, w=w))
    if max(amounts) > 0:
        size_limit(_("pad: padding {padding} makes the output {shape}, {total:,} values; the"
                     " engine allows at most {limit:,}"),
                   (*arr.shape[:-2], h + top + bottom, w + left + right), padding=amounts)
    return amounts


# Checked arguments by their shapes and settings: on a tiny network (64x64) the checks took
# a tenth of each op's time, and a pipeline calls every op with the same ones, frame after frame.
_checked: dict[tuple, tuple] = {}


def recall(x, weight, bias, *settings) -> tuple[tuple | None, tuple | None]:
    """(key, what the checks returned for these shapes and settings before, or None).

    The key is None (nothing is remembered) unless the arrays are float32 ndarrays and the
    settings hashable. Each setting goes in with its type: stride=True or 1.0 must not pass as
    a checked stride=1.
    """
    if (
        not all(
            a is None or (type(a) is np.ndarray and a.dtype == np.float32) for a in (weight, bias)
        )
        or type(x) is not np.ndarray
        or x.dtype != np.float32
    ):
        return None, None
    typed = tuple(
        (tuple, *((type(e), e) for e in v)) if isinstance(v, tuple) else (type(v), v)
        for v in settings
    )
    key = (x.shape, None if weight is None else weight.shape,
           None if bias is None else bias.shape, *typed)  # fmt: skip
    try:
        return key, _checked.get(key)
    except TypeError:  # unhashable: a list of sizes, say
        return None, None


def remember(key: tuple | None, checked: tuple) -> None:
    """Keep what the checks returned under ``key`` (from :func:`recall`)."""
    if key is None:
        return
    if len(_checked) >= 256:
        _checked.clear()
    _checked[key] = checked


def batched_out(y: np.ndarray, batched: bool) -> np.ndarray:
    """``y`` (N, ...) as the caller gave its input: with the batch axis, or without (N = 1)."""
    return y if batched else y[0]
