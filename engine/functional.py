"""Pure CNN ops in numpy, with PyTorch's names, arguments and results.

Image ops take float32 arrays shaped ``(C, H, W)`` or ``(N, C, H, W)`` and return float32 arrays
of the same batchedness. Convolution is cross-correlation, as in PyTorch and the lecture:
``g(x, y) = sum_s sum_t w(s, t) f(x + s, y + t)``. Every bad argument raises ``ValueError`` whose
message starts with the op's name and gives the numbers, e.g.
``"conv2d: input has 4 channels, weight expects 3"``.

Speed matters because the GUI runs these ops on live video. The choices, measured on a 2-core
AVX-512 machine against PyTorch's CPU kernels (see docs/benchmarks.md, "Engine"):

- a zero-padded copy of the input lives in a buffer reused from call to call (no ``np.pad``);
- a general convolution copies the k x k taps of a band of output rows into an im2col
  workspace with one ``np.copyto`` from a strided window view (0.5-2 MiB a band, so it stays in
  cache) and runs one ``np.matmul(..., out=...)`` per band straight into the output, the bias
  riding in the matmul; two Python threads share the bands (BLAS and numpy's loops release the
  GIL);
- a 1x1 convolution is a matmul per band with no copy; a depthwise or single-filter
  convolution (Sobel) is a sum of shifted slices, separable kernels in two 1-D passes;
- pooling is separable: a running ``np.maximum`` / ``np.add`` down the rows, then across;
- ReLU compares with a vector of zeros, not the scalar 0 (numpy's loop for that is 3x slower).

Workspaces are cached per shape in thread-local storage, so the GUI's worker thread and a test
calling from the main thread never share one.

The first large op changes two process-wide settings, once: numpy's OpenBLAS goes to one thread
(the engine's own threads share the work; ``_single_thread_blas``), and on Linux glibc keeps
large freed blocks for reuse instead of mapping fresh, page-faulting memory for every activation
map (``_keep_freed_memory``).
"""

from __future__ import annotations

import ctypes
import math
import os
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

__all__ = [
    "avg_pool2d",
    "batch_norm",
    "conv2d",
    "flatten",
    "get_num_threads",
    "global_avg_pool2d",
    "hardtanh",
    "leaky_relu",
    "linear",
    "local_response_norm",
    "max_pool2d",
    "pad",
    "relu",
    "set_num_threads",
    "sigmoid",
    "softmax",
    "tanh",
]

_F32 = np.float32
# im2col band size (workspace + output band). A matmul as shallow as 3 x 3 taps of 3 channels
# is memory-bound and wants its band in L2 (1 MiB a core here); deeper ones run best at 2 MiB.
_BAND_BYTES = 1 << 21
_SHALLOW_BAND_BYTES = 1 << 19
# 1x1 convolutions read each input value once: small bands, so both threads get several.
_POINTWISE_BAND_BYTES = 1 << 18
# Bands for element-wise work, in output values. Pooling: 256 KiB, so they stay in L2.
# Depthwise and single filters spend more on Python per band than on memory: 1 MiB.
_SMALL_BAND = 1 << 16
_DEPTHWISE_BAND = 1 << 18
# Below this many multiply-accumulates a second thread costs more than it saves.
_THREAD_MIN_WORK = 1 << 21
_num_threads = max(1, min(2, os.cpu_count() or 1))
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_local = threading.local()


# ---------------------------------------------------------------- threads and workspaces


def get_num_threads() -> int:
    """Return how many threads the ops use for large convolutions and pools."""
    return _num_threads


def set_num_threads(n: int) -> None:
    """Set how many threads the ops use (1 = everything on the calling thread).

    Each thread runs numpy's BLAS on one thread of its own.

    Examples
    --------
    >>> before = get_num_threads()
    >>> set_num_threads(1); get_num_threads()
    1
    >>> set_num_threads(before)
    """
    global _num_threads, _pool
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"set_num_threads: the thread count must be a positive int, got {n!r}")
    with _pool_lock:
        if _pool is not None and int(n) != _num_threads:
            _pool.shutdown(wait=True)
            _pool = None
        _num_threads = int(n)


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(_num_threads - 1, thread_name_prefix="engine-ops")
        return _pool


def _single_thread_blas() -> bool:
    """Put numpy's OpenBLAS on one thread, once; True when it could be done.

    The engine splits its work over its own threads, each calling BLAS on a band. Letting
    OpenBLAS also start threads for those small matmuls made them 10-70x slower here (its
    threads wait for cores that are busy). OpenBLAS's thread count is global to the process, so
    it is set once and left so: restoring it per call would race with other threads.
    """
    root = Path(np.__file__).parent
    names = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
             "openblas_set_num_threads")  # fmt: skip
    for path in [*root.parent.glob("numpy.libs/*openblas*"), *root.glob(".dylibs/*openblas*")]:
        try:
            lib = ctypes.CDLL(str(path))
        except OSError:
            continue
        for name in names:
            setter = getattr(lib, name, None)
            if setter is not None:
                setter.argtypes, setter.restype = [ctypes.c_int], None
                setter(1)
                return True
    return False


def _keep_freed_memory() -> bool:
    """Let glibc reuse freed activation maps instead of mapping fresh pages for each.

    By default every block above 128 KiB-32 MiB is a fresh ``mmap`` and its first write
    page-faults: the ``default`` pipeline took 2,100 faults and 4-5 ms of kernel time per frame
    (a third of its time). With large blocks kept on the heap (up to 64 MiB, and up to 256 MiB
    of freed memory kept rather than returned to the system) it takes 200 faults and under 1 ms.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    return bool(mallopt(m_mmap_threshold, 64 << 20) and mallopt(m_trim_threshold, 256 << 20))


_tuned = False


def _run(items: Sequence, fn: Callable, work: float) -> None:
    """Call ``fn`` on every item, sharing the items among the threads when it pays."""
    global _tuned
    if not _tuned:  # the first large op sets up the process once (see the module docstring)
        _tuned = True
        _single_thread_blas()
        _keep_freed_memory()
    _share(items, fn, work)


def _share(items: Sequence, fn: Callable, work: float) -> None:
    if _num_threads == 1 or len(items) < 2 or work < _THREAD_MIN_WORK:
        for item in items:
            fn(item)
        return
    shared = iter(items)  # next() on a list iterator is atomic under the GIL

    def drain() -> None:
        for item in shared:
            fn(item)

    futures = [_executor().submit(drain) for _ in range(min(_num_threads, len(items)) - 1)]
    drain()
    for future in futures:
        future.result()


def _workspace(key: tuple, shape: tuple[int, ...], fill: float | None = None) -> np.ndarray:
    """A float32 array cached per thread and key; ``fill`` is written only when it is created."""
    cache = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    buf = cache.pop(key, None)
    if buf is None or buf.shape != shape:
        buf = np.empty(shape, _F32) if fill is None else np.full(shape, fill, _F32)
        if len(cache) >= 24:  # forget the least recently used shape
            del cache[next(iter(cache))]
    cache[key] = buf  # re-insert: most recently used last
    return buf


def _padded(x4: np.ndarray, pads: tuple[int, int, int, int], fill: float) -> np.ndarray:
    """``x4`` (N, C, H, W) inside a reused border of ``fill``; pads = (top, bottom, left, right)."""
    if not any(pads):
        return x4
    top, bottom, left, right = pads
    n, c, h, w = x4.shape
    shape = (n, c, h + top + bottom, w + left + right)
    buf = _workspace(("pad", x4.shape, pads, fill), shape, fill)
    buf[:, :, top : top + h, left : left + w] = x4  # the border is never written, so stays `fill`
    return buf


# ---------------------------------------------------------------- argument checks


def _array(op: str, x, what: str = "input") -> np.ndarray:
    arr = x if isinstance(x, np.ndarray) else np.asarray(x) if _is_numeric(x) else None
    if arr is None or arr.dtype.kind not in "biuf":
        raise ValueError(f"{op}: {what} must be an array of real numbers, got {type(x).__name__}")
    return arr.astype(_F32, copy=False)


def _is_numeric(x) -> bool:
    try:
        return np.asarray(x).dtype.kind in "biuf"
    except (TypeError, ValueError):
        return False


def _image(op: str, x) -> tuple[np.ndarray, bool]:
    """Return (x as (N, C, H, W), whether the input was batched)."""
    arr = _array(op, x)
    if arr.ndim not in (3, 4):
        raise ValueError(
            f"{op}: input must be 3-D (C, H, W) or 4-D (N, C, H, W), "
            f"got {arr.ndim}-D with shape {tuple(arr.shape)}"
        )
    if 0 in arr.shape:
        raise ValueError(f"{op}: input shape {tuple(arr.shape)} has an empty dimension")
    return (arr if arr.ndim == 4 else arr[None]), arr.ndim == 4


def _is_int(v) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool)


def _pair(op: str, name: str, v, minimum: int) -> tuple[int, int]:
    if _is_int(v):
        pair = (int(v), int(v))
    elif isinstance(v, tuple | list) and len(v) == 2 and all(_is_int(e) for e in v):
        pair = (int(v[0]), int(v[1]))
    else:
        raise ValueError(f"{op}: {name} must be an int or a pair (h, w) of ints, got {v!r}")
    if min(pair) < minimum:
        rule = "positive" if minimum == 1 else "zero or more"
        raise ValueError(f"{op}: {name} must be {rule}, got {_text(pair)}")
    return pair


def _text(pair: tuple[int, int], sep: str = "x") -> str:
    """(3, 3) -> "3", (3, 2) -> "3x2": the short form used in messages."""
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}{sep}{pair[1]}"


def _int_arg(op: str, name: str, v, minimum: int) -> int:
    if not _is_int(v) or v < minimum:
        rule = "a positive int" if minimum == 1 else f"an int of at least {minimum}"
        raise ValueError(f"{op}: {name} must be {rule}, got {v!r}")
    return int(v)


def _real(op: str, name: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
        raise ValueError(f"{op}: {name} must be a real number, got {v!r}")
    return float(v)


def _dim(op: str, name: str, d, ndim: int) -> int:
    if not _is_int(d) or not -ndim <= d < ndim:
        raise ValueError(
            f"{op}: {name} {d!r} is out of range for a {ndim}-D input "
            f"(allowed: {-ndim} to {ndim - 1})"
        )
    return int(d) % ndim


def _vector(op: str, name: str, v, length: int, counted: str) -> np.ndarray:
    arr = _array(op, v, name)
    if arr.ndim != 1 or arr.shape[0] != length:
        raise ValueError(
            f"{op}: {name} has shape {tuple(arr.shape)}, expected {length} values "
            f"(one per {counted})"
        )
    return arr


def _channel_axis(op: str, x: np.ndarray) -> int:
    if x.ndim not in (1, 2, 3, 4):
        raise ValueError(
            f"{op}: input must be 1-D to 4-D, got {x.ndim}-D with shape {tuple(x.shape)}"
        )
    return 0 if x.ndim in (1, 3) else 1


def _out(y: np.ndarray, batched: bool) -> np.ndarray:
    return y if batched else y[0]


# ---------------------------------------------------------------- convolution


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> np.ndarray:
    """2-D cross-correlation, like ``torch.nn.functional.conv2d``.

    Parameters
    ----------
    x : array (C_in, H, W) or (N, C_in, H, W)
    weight : array (C_out, C_in / groups, kh, kw)
    bias : array (C_out,) or None
    stride, dilation : int or (h, w), positive
    padding : int or (h, w), zero or more; or ``"valid"`` (none) or ``"same"`` (output size
        equals input size; stride 1 only; an odd total puts the extra pixel at the bottom/right)
    groups : int dividing both C_in and C_out

    Returns
    -------
    array (C_out, H_out, W_out) or (N, C_out, H_out, W_out), float32, with
    ``H_out = floor((H + 2 padding - dilation (kh - 1) - 1) / stride) + 1``.

    Examples
    --------
    >>> x = np.arange(49, dtype=np.float32).reshape(1, 7, 7)
    >>> conv2d(x, np.ones((1, 1, 3, 3), np.float32), stride=2).shape
    (1, 3, 3)
    """
    x4, batched = _image("conv2d", x)
    w = _array("conv2d", weight, "weight")
    if w.ndim != 4 or 0 in w.shape:
        raise ValueError(
            "conv2d: weight must be 4-D (C_out, C_in/groups, kh, kw) with no empty dimension, "
            f"got shape {tuple(w.shape)}"
        )
    groups = _int_arg("conv2d", "groups", groups, 1)
    _, c, h, wd = x4.shape
    c_out, c_in_g, kh, kw = w.shape
    if c % groups:
        raise ValueError(f"conv2d: groups {groups} does not divide the {c} input channels")
    if c_out % groups:
        raise ValueError(
            f"conv2d: groups {groups} does not divide the {c_out} output channels (filters)"
        )
    if c_in_g * groups != c:
        per_group = f" ({c_in_g} per group x {groups} groups)" if groups > 1 else ""
        raise ValueError(
            f"conv2d: input has {c} channels, weight expects {c_in_g * groups}{per_group}"
        )
    stride2 = _pair("conv2d", "stride", stride, 1)
    dil = _pair("conv2d", "dilation", dilation, 1)
    pads = _conv_padding(padding, (kh, kw), dil, stride2)
    b = None if bias is None else _vector("conv2d", "bias", bias, c_out, "filter")
    hp, wp = h + pads[0] + pads[1], wd + pads[2] + pads[3]
    ekh, ekw = dil[0] * (kh - 1) + 1, dil[1] * (kw - 1) + 1
    if ekh > hp or ekw > wp:
        spans = (
            f" with dilation {_text(dil)} spans {ekh}x{ekw}, so it is"
            if (ekh, ekw) != (kh, kw)
            else " is"
        )
        raise ValueError(f"conv2d: kernel {kh}x{kw}{spans} larger than the padded input {hp}x{wp}")
    ho, wo = (hp - ekh) // stride2[0] + 1, (wp - ekw) // stride2[1] + 1
    y = _conv(x4, w, b, stride2, pads, dil, groups, (ho, wo))
    return _out(y, batched)


def _conv_padding(padding, kernel, dil, stride) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) from an int, a pair, "valid" or "same" (PyTorch's rules)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(f"conv2d: padding 'same' needs stride 1, got {_text(stride)}")
            th, tw = dil[0] * (kernel[0] - 1), dil[1] * (kernel[1] - 1)
            return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
        raise ValueError(f"conv2d: padding {padding!r} is not 'valid', 'same' or a number")
    ph, pw = _pair("conv2d", "padding", padding, 0)
    return (ph, ph, pw, pw)


def _conv(x4, w, b, stride, pads, dil, groups, out_hw) -> np.ndarray:
    """Choose the fastest of the equivalent ways for this shape; (N, C_out, H_out, W_out)."""
    c_out, c_in_g, kh, kw = w.shape
    c = x4.shape[1]
    if kh == kw == 1 and groups == 1 and not any(pads):
        return _conv_1x1(x4, w, b, stride, out_hw)
    if c_in_g == 1 and c_out == c:  # depthwise (each channel its own filter), incl. 1 -> 1
        return _conv_depthwise(x4, w, b, stride, pads, dil, out_hw)
    return _conv_im2col(x4, w, b, stride, pads, dil, groups, out_hw)


def _conv_1x1(x4, w, b, stride, out_hw) -> np.ndarray:
    """A 1x1 convolution is a matmul over channels, band by band, straight into the output."""
    n, c = x4.shape[:2]
    c_out = w.shape[0]
    (ho, wo), (sh, sw) = out_hw, stride
    w2 = w.reshape(c_out, c)  # (C_out, C_in)
    y = np.empty((n, c_out, ho, wo), _F32)
    band = max(1, min(ho, _POINTWISE_BAND_BYTES // (4 * max(c, c_out) * wo)))
    key = ("1x1", c, band, wo)

    def work(item):
        i, r0, r1 = item
        rows = r1 - r0
        src = x4[i, :, r0 * sh : (r1 - 1) * sh + 1 : sh, : (wo - 1) * sw + 1 : sw]
        if src.strides[2] != 4 or src.strides[1] != 4 * wo:  # rows not back to back: copy
            buf = _workspace(key, (c * band * wo,))[: c * rows * wo].reshape(c, rows, wo)
            buf[...] = src
            src = buf
        dst = y[i, :, r0:r1].reshape(c_out, rows * wo, copy=False)
        np.matmul(w2, src.reshape(c, rows * wo, copy=False), out=dst)
        if b is not None:
            dst += b[:, None]

    _run(_bands(n, ho, band), work, n * c_out * ho * wo * c)
    return y


def _bands(n: int, rows: int, band: int) -> list[tuple[int, int, int]]:
    return [(i, r, min(r + band, rows)) for i in range(n) for r in range(0, rows, band)]


def _conv_im2col(x4, w, b, stride, pads, dil, groups, out_hw) -> np.ndarray:
    n, c = x4.shape[:2]
    c_out, c_in_g, kh, kw = w.shape
    (ho, wo), (sh, sw), (dh, dw) = out_hw, stride, dil
    xp = _padded(x4, pads, 0.0)
    k = c_in_g * kh * kw
    w_g = w.reshape(groups, c_out // groups, k)  # (G, C_out/G, C_in/G*kh*kw)
    # Without groups the bias rides in the matmul: a column of W against a row of ones in
    # cols. Adding it afterwards was another pass over the output (+35% on a 1x1-sized layer).
    fold = b is not None and groups == 1
    if fold:
        w_g = np.concatenate([w_g, b.reshape(1, c_out, 1)], axis=2)  # (1, C_out, K + 1)
    k_rows = k * groups + fold  # rows of the im2col matrix
    y = np.empty((n, c_out, ho, wo), _F32)
    budget = _SHALLOW_BAND_BYTES if k <= 32 else _BAND_BYTES
    band = max(1, min(ho, budget // (4 * (k_rows + c_out) * wo)))
    cols_key = ("cols", k_rows, band, wo)
    # every window of every output position as a read-only view, no copy:
    # (N, C_in, kh, kw, H_out, W_out); one copyto per band then fills the im2col workspace
    s_n, s_c, s_h, s_w = xp.strides
    windows = np.lib.stride_tricks.as_strided(
        xp, (n, c, kh, kw, ho, wo), (s_n, s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw),
        writeable=False,
    )  # fmt: skip

    def work(item):
        i, r0, r1 = item
        rows = r1 - r0
        buf = _workspace(cols_key, (k_rows * band * wo,))
        cols = buf[: k_rows * rows * wo].reshape(k_rows, rows * wo)  # (K [+ 1], rows*W_out)
        np.copyto(cols[: k * groups].reshape(c, kh, kw, rows, wo), windows[i, :, :, :, r0:r1])
        if fold:
            cols[-1] = 1.0
        # (G, C_out/G, rows*W_out): a view into y, so the matmul writes the output in place
        dst = y[i, :, r0:r1].reshape(groups, c_out // groups, rows * wo, copy=False)
        np.matmul(w_g, cols.reshape(groups, -1, rows * wo), out=dst)
        if b is not None and not fold:
            dst += b.reshape(groups, c_out // groups, 1)

    _run(_bands(n, ho, band), work, n * c_out * ho * wo * k)
    return y


def _separable(kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(column, row) factors when the 2-D kernel is an outer product, like Sobel or Gaussian.

    The factors are a column and a scaled row of the kernel itself (not an SVD), so integer
    kernels such as Sobel keep integer factors and give exact results.
    """
    if min(kernel.shape) < 2:
        return None
    k = kernel.astype(np.float64)
    i, j = np.unravel_index(np.argmax(np.abs(k)), k.shape)
    if k[i, j] == 0:
        return None
    col, row = k[:, j], k[i, :] / k[i, j]
    if not np.allclose(np.outer(col, row), k, rtol=0, atol=1e-7 * abs(k[i, j])):
        return None
    lead = col[np.flatnonzero(col)[0]]  # move the column's scale into the row: [1, 2, 1]
    return col / lead, row * lead


def _weighted_sum(dst: np.ndarray, terms: list) -> None:
    """dst = sum of weight * source over (source, weight) terms.

    Zero weights are skipped and weights of +-1 become plain additions and subtractions: a
    Sobel pass is then one ``np.subtract`` instead of two multiplies and an add.
    """
    terms = [(src, wt) for src, wt in terms if np.any(wt)]
    unit = [(src, float(wt)) for src, wt in terms if np.ndim(wt) == 0 and abs(wt) == 1]
    other = [(src, wt) for src, wt in terms if np.ndim(wt) != 0 or abs(wt) != 1]
    if not terms:
        dst[...] = 0.0
        return
    if len(unit) >= 2:
        (first, w1), (second, w2) = unit[:2]
        if w1 == w2:
            np.add(first, second, out=dst)
            if w1 < 0:
                np.negative(dst, out=dst)
        else:
            np.subtract(first, second, out=dst) if w1 > 0 else np.subtract(second, first, out=dst)
        unit = unit[2:]
    elif other:
        src, wt = other.pop(0)
        np.multiply(src, np.asarray(wt, _F32), out=dst)
    else:
        src, wt = unit.pop(0)
        np.copyto(dst, src) if wt > 0 else np.negative(src, out=dst)
    for src, wt in unit:
        np.add(dst, src, out=dst) if wt > 0 else np.subtract(dst, src, out=dst)
    tmp = None
    for src, wt in other:
        tmp = np.multiply(src, np.asarray(wt, _F32), out=tmp)
        dst += tmp


def _conv_depthwise(x4, w, b, stride, pads, dil, out_hw) -> np.ndarray:
    """Each channel with its own k x k filter: a sum of shifted slices, no im2col.

    A single separable filter (Sobel, Gaussian) runs as a horizontal then a vertical 1-D pass.
    """
    n, c = x4.shape[:2]
    kh, kw = w.shape[2:]
    (ho, wo), (sh, sw), (dh, dw) = out_hw, stride, dil
    xp = _padded(x4, pads, 0.0)
    y = np.empty((n, c, ho, wo), _F32)
    factors = _separable(w[0, 0]) if c == 1 else None
    wk = w[:, 0].astype(np.float64)  # (C, kh, kw)
    band = max(1, min(ho, _DEPTHWISE_BAND // (c * wo)))

    def cols(a, t):  # the t-th horizontal tap of every row of a
        return a[..., t * dw : t * dw + (wo - 1) * sw + 1 : sw]

    def work(item):
        i, r0, r1 = item
        rows = r1 - r0
        dst = y[i, :, r0:r1]
        top = r0 * sh
        if factors is not None:
            col, row = factors
            h_rows = (rows - 1) * sh + (kh - 1) * dh + 1  # input rows the band needs
            most = (band - 1) * sh + (kh - 1) * dh + 1
            mid = _workspace(("sep", c, most, wo), (c, most, wo))[:, :h_rows]
            _weighted_sum(mid, [(cols(xp[i, :, top : top + h_rows], t), row[t]) for t in range(kw)])
            _weighted_sum(
                dst,
                [(mid[:, t * dh : t * dh + (rows - 1) * sh + 1 : sh], col[t]) for t in range(kh)],
            )
        else:
            terms = []
            for a in range(kh):
                src = xp[i, :, top + a * dh : top + a * dh + (rows - 1) * sh + 1 : sh]
                terms += [(cols(src, t), wk[:, a, t, None, None] if c > 1 else wk[0, a, t])
                          for t in range(kw)]  # fmt: skip
            _weighted_sum(dst, terms)
        if b is not None:
            dst += b[:, None, None]

    _run(_bands(n, ho, band), work, n * c * ho * wo * kh * kw * 8)
    return y


# ---------------------------------------------------------------- pooling


def _pool_args(op, x, kernel_size, stride, padding, dilation, ceil_mode):
    x4, batched = _image(op, x)
    k = _pair(op, "kernel_size", kernel_size, 1)
    s = k if stride is None else _pair(op, "stride", stride, 1)
    p = _pair(op, "padding", padding, 0)
    d = _pair(op, "dilation", dilation, 1)
    if not isinstance(ceil_mode, bool | np.bool_):
        raise ValueError(f"{op}: ceil_mode must be True or False, got {ceil_mode!r}")
    for pi, ki in zip(p, k, strict=True):
        if pi > ki // 2:  # PyTorch's rule: padding at most half the kernel
            raise ValueError(f"{op}: padding {pi} is more than half the kernel {ki}")
    h, w = x4.shape[2:]
    out = tuple(
        _pool_size(n, ki, si, pi, di, bool(ceil_mode))
        for n, ki, si, pi, di in zip((h, w), k, s, p, d, strict=True)
    )
    if min(out) < 1:  # ceil_mode's rounding can still fit a window a little wider than the input
        ek = (d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1)
        spans = f" with dilation {_text(d)} spans {ek[0]}x{ek[1]}, so it is" if ek != k else " is"
        raise ValueError(
            f"{op}: kernel {k[0]}x{k[1]}{spans} larger than the padded input "
            f"{h + 2 * p[0]}x{w + 2 * p[1]}"
        )
    return x4, batched, k, s, p, d, out


def _pool_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size; with ceil_mode the last window must start inside."""
    span = n + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _pool_source(x4, k, s, p, d, out_hw, fill) -> np.ndarray:
    """The input padded with ``fill``, plus room on the bottom/right for ceil_mode's last window."""
    need = [(o - 1) * si + di * (ki - 1) + 1 for o, si, di, ki in zip(out_hw, s, d, k, strict=True)]
    extra = [max(0, nd - (n + 2 * pi)) for nd, n, pi in zip(need, x4.shape[2:], p, strict=True)]
    return _padded(x4, (p[0], p[0] + extra[0], p[1], p[1] + extra[1]), fill)


def _fold(combine, views: list[np.ndarray], dst: np.ndarray) -> None:
    """dst = combine(combine(views[0], views[1]), views[2]) ..., in place."""
    if len(views) == 1:
        np.copyto(dst, views[0])
        return
    combine(views[0], views[1], out=dst)
    for v in views[2:]:
        combine(dst, v, out=dst)


def _pool_taps(xp, k, s, d, out_hw, combine) -> np.ndarray:
    """Fold ``combine`` over each k x k window of ``xp``; (N, C, H_out, W_out).

    Max and sum are separable: first down the rows, whose slices are contiguous so numpy's SIMD
    loops run, into a small per-thread buffer; then across the columns of that buffer.
    """
    (ho, wo), (sh, sw), (dh, dw) = out_hw, s, d
    n, c = xp.shape[:2]
    width = (wo - 1) * sw + (k[1] - 1) * dw + 1  # input columns the windows touch
    y = np.empty((n, c, ho, wo), _F32)
    band = max(1, min(ho, _SMALL_BAND // (c * width)))

    def work(item):
        i, r0, r1 = item
        rows = r1 - r0
        top = r0 * sh
        down = [
            xp[i, :, top + a * dh : top + a * dh + (rows - 1) * sh + 1 : sh, :width]
            for a in range(k[0])
        ]
        if len(down) > 1:
            tmp = _workspace(("pool", c, band, width), (c, band, width))[:, :rows]
            _fold(combine, down, tmp)
        else:
            tmp = down[0]
        across = [tmp[:, :, bb * dw : bb * dw + (wo - 1) * sw + 1 : sw] for bb in range(k[1])]
        _fold(combine, across, y[i, :, r0:r1])

    _run(_bands(n, ho, band), work, n * c * ho * wo * k[0] * k[1] * 8)
    return y


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False) -> np.ndarray:
    """Max over k x k windows, like ``torch.nn.functional.max_pool2d``.

    Parameters
    ----------
    x : array (C, H, W) or (N, C, H, W)
    kernel_size, stride, dilation : int or (h, w); stride defaults to kernel_size
    padding : int or (h, w), at most half the kernel; padded cells never win
    ceil_mode : round the output size up (a last, partial window), as long as that window
        starts inside the input or the left/top padding

    Examples
    --------
    >>> x = np.array([[[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]], np.float32)
    >>> max_pool2d(x, 2)[0].tolist()
    [[6.0, 8.0], [3.0, 4.0]]
    """
    x4, batched, k, s, p, d, out_hw = _pool_args(
        "max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode
    )
    xp = _pool_source(x4, k, s, p, d, out_hw, -np.inf)
    return _out(_pool_taps(xp, k, s, d, out_hw, np.maximum), batched)


def avg_pool2d(
    x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True
) -> np.ndarray:
    """Mean over k x k windows, like ``torch.nn.functional.avg_pool2d``.

    With ``count_include_pad`` (the default) a window is divided by its size counting the zero
    padding (but not the part beyond it that ``ceil_mode`` adds); without, by the number of real
    input cells it covers.

    Examples
    --------
    >>> avg_pool2d(np.arange(16, dtype=np.float32).reshape(1, 4, 4), 2)[0].tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """
    x4, batched, k, s, p, d, out_hw = _pool_args(
        "avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode
    )
    if not isinstance(count_include_pad, bool | np.bool_):
        raise ValueError(
            f"avg_pool2d: count_include_pad must be True or False, got {count_include_pad!r}"
        )
    xp = _pool_source(x4, k, s, p, d, out_hw, 0.0)
    y = _pool_taps(xp, k, s, d, out_hw, np.add)
    divisors = []
    for n, o, ki, si, pi in zip(x4.shape[2:], out_hw, k, s, p, strict=True):
        start = np.arange(o) * si - pi
        end = np.minimum(start + ki, n + pi)  # windows never count cells past the padding
        inside = np.minimum(end, n) - np.maximum(start, 0)
        divisors.append(end - start if count_include_pad else inside)
    div = divisors[0][:, None] * divisors[1][None, :]  # (H_out, W_out)
    y *= (1.0 / np.maximum(div, 1)).astype(_F32)  # empty windows sum to 0 and stay 0
    return _out(y, batched)


def global_avg_pool2d(x) -> np.ndarray:
    """Mean of each map: (C, H, W) -> (C, 1, 1), (N, C, H, W) -> (N, C, 1, 1).

    Examples
    --------
    >>> global_avg_pool2d(np.ones((2, 3, 3), np.float32)).shape
    (2, 1, 1)
    """
    x4, batched = _image("global_avg_pool2d", x)
    y = x4.mean(axis=(2, 3), keepdims=True, dtype=np.float64).astype(_F32)
    return _out(y, batched)


# ---------------------------------------------------------------- element-wise


_CHUNK = 1 << 15
_constants: dict[float, np.ndarray] = {}


def _constant(value: float) -> np.ndarray:
    """A read-only vector of _CHUNK copies of ``value``."""
    vec = _constants.get(value)
    if vec is None:
        vec = np.full(_CHUNK, value, _F32)
        vec.flags.writeable = False
        if len(_constants) > 16:
            _constants.clear()
        _constants[value] = vec
    return vec


def _clamp(arr: np.ndarray, lo: float | None, hi: float | None) -> np.ndarray:
    """min(max(arr, lo), hi) into a new array.

    numpy's maximum of an array and a scalar runs 3x slower than of two arrays (no SIMD loop for
    the scalar case here), so the bounds are read from constant vectors, chunk by chunk.
    """
    src = np.ascontiguousarray(arr).reshape(-1)
    out = np.empty(arr.shape, _F32)
    dst = out.reshape(-1)
    whole = src.size // _CHUNK * _CHUNK
    parts = [(src[:whole].reshape(-1, _CHUNK), dst[:whole].reshape(-1, _CHUNK))]
    parts.append((src[whole:], dst[whole:]))
    for a, d in parts:
        n = a.shape[-1]
        if lo is not None:
            np.maximum(a, _constant(lo)[:n], out=d)
            a = d
        if hi is not None:
            np.minimum(a, _constant(hi)[:n], out=d)
        if lo is None and hi is None:
            np.copyto(d, a)
    return out


def relu(x) -> np.ndarray:
    """max(x, 0), element-wise, any shape.

    Examples
    --------
    >>> relu(np.array([-1.0, 2.0], np.float32)).tolist()
    [0.0, 2.0]
    """
    return _clamp(_array("relu", x), 0.0, None)


def leaky_relu(x, negative_slope=0.01) -> np.ndarray:
    """x where x > 0, else negative_slope * x.

    Examples
    --------
    >>> leaky_relu(np.array([-2.0, 3.0], np.float32), 0.5).tolist()
    [-1.0, 3.0]
    """
    arr = _array("leaky_relu", x)
    slope = _F32(_real("leaky_relu", "negative_slope", negative_slope))
    if 0 <= slope <= 1:  # then max(x, slope * x) is the same, in two fast passes
        scaled = arr * slope
        return np.maximum(arr, scaled, out=scaled)
    return np.where(arr > 0, arr, arr * slope)


def sigmoid(x) -> np.ndarray:
    """1 / (1 + exp(-x)), computed without overflow for large |x|.

    Examples
    --------
    >>> sigmoid(np.array([0.0], np.float32)).tolist()
    [0.5]
    """
    arr = _array("sigmoid", x)
    e = np.exp(-np.abs(arr))  # in (0, 1]: never overflows
    return np.where(arr >= 0, 1 / (1 + e), e / (1 + e)).astype(_F32, copy=False)


def tanh(x) -> np.ndarray:
    """Hyperbolic tangent, element-wise.

    Examples
    --------
    >>> tanh(np.array([0.0], np.float32)).tolist()
    [0.0]
    """
    return np.tanh(_array("tanh", x))


def hardtanh(x, min_val=-1.0, max_val=1.0) -> np.ndarray:
    """Clip to [min_val, max_val]; ``hardtanh(x, 0, 6)`` is ReLU6.

    Examples
    --------
    >>> hardtanh(np.array([-3.0, 0.5, 9.0], np.float32), 0, 6).tolist()
    [0.0, 0.5, 6.0]
    """
    arr = _array("hardtanh", x)
    lo, hi = _real("hardtanh", "min_val", min_val), _real("hardtanh", "max_val", max_val)
    if lo > hi:
        raise ValueError(f"hardtanh: min_val {lo:g} is greater than max_val {hi:g}")
    return _clamp(arr, float(_F32(lo)), float(_F32(hi)))


def softmax(x, dim=-1) -> np.ndarray:
    """exp(x) / sum(exp(x)) along ``dim``, shifted by the maximum so it never overflows.

    Examples
    --------
    >>> softmax(np.array([0.0, 0.0], np.float32)).tolist()
    [0.5, 0.5]
    """
    arr = _array("softmax", x)
    if arr.ndim == 0:
        raise ValueError("softmax: input must have at least 1 dimension, got a scalar")
    axis = _dim("softmax", "dim", dim, arr.ndim)
    e = np.exp(arr - arr.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------- normalization and dense


def batch_norm(x, running_mean, running_var, weight=None, bias=None, eps=1e-5) -> np.ndarray:
    """Inference batch norm: (x - mean) / sqrt(var + eps) * weight + bias, per channel.

    The channel axis is 0 for 1-D and 3-D (unbatched) inputs, 1 for 2-D and 4-D (batched) ones.

    Examples
    --------
    >>> x = np.full((2, 1, 1), 3.0, np.float32)
    >>> batch_norm(x, np.array([1.0, 3.0]), np.array([4.0, 1.0]), eps=0.0).ravel().tolist()
    [1.0, 0.0]
    """
    arr = _array("batch_norm", x)
    axis = _channel_axis("batch_norm", arr)
    c = arr.shape[axis]
    mean = _vector("batch_norm", "running_mean", running_mean, c, "channel").astype(np.float64)
    var = _vector("batch_norm", "running_var", running_var, c, "channel").astype(np.float64)
    gamma = np.ones(c) if weight is None else _vector("batch_norm", "weight", weight, c, "channel")
    beta = np.zeros(c) if bias is None else _vector("batch_norm", "bias", bias, c, "channel")
    eps = _real("batch_norm", "eps", eps)
    if np.any(var + eps <= 0):
        raise ValueError(
            f"batch_norm: running_var + eps must be positive, the smallest is {np.min(var) + eps:g}"
        )
    scale = gamma / np.sqrt(var + eps)
    shift = beta - mean * scale
    shape = [1] * arr.ndim
    shape[axis] = c
    return arr * scale.astype(_F32).reshape(shape) + shift.astype(_F32).reshape(shape)


def linear(x, weight, bias=None) -> np.ndarray:
    """x @ weight.T + bias over the last axis of x: (..., in) -> (..., out).

    Examples
    --------
    >>> linear(np.ones(3, np.float32), np.ones((2, 3), np.float32), np.array([0.0, 1.0])).tolist()
    [3.0, 4.0]
    """
    arr = _array("linear", x)
    w = _array("linear", weight, "weight")
    if w.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out, in), got shape {tuple(w.shape)}")
    if arr.ndim == 0:
        raise ValueError("linear: input must have at least 1 dimension, got a scalar")
    if arr.shape[-1] != w.shape[1]:
        raise ValueError(f"linear: input has {arr.shape[-1]} features, weight expects {w.shape[1]}")
    b = None if bias is None else _vector("linear", "bias", bias, w.shape[0], "output feature")
    rows = arr.reshape(-1, w.shape[1])  # (M, in)
    y = np.empty((rows.shape[0], w.shape[0]), _F32)  # (M, out)
    # large layers (AlexNet's and VGG's classifiers) split their output features over the threads
    step = max(1, -(-w.shape[0] // _num_threads))
    parts = [(o, min(o + step, w.shape[0])) for o in range(0, w.shape[0], step)]

    def work(part):
        o0, o1 = part
        np.matmul(rows, w[o0:o1].T, out=y[:, o0:o1])
        if b is not None:
            y[:, o0:o1] += b[o0:o1]

    _run(parts, work, y.size * w.shape[1])
    return y.reshape(*arr.shape[:-1], w.shape[0])


def flatten(x, start_dim=0, end_dim=-1) -> np.ndarray:
    """Merge dims start_dim..end_dim into one, like ``torch.flatten``.

    Examples
    --------
    >>> flatten(np.zeros((2, 3, 4), np.float32), 1).shape
    (2, 12)
    """
    arr = _array("flatten", x)
    if arr.ndim == 0:
        return arr.reshape(1)
    s = _dim("flatten", "start_dim", start_dim, arr.ndim)
    e = _dim("flatten", "end_dim", end_dim, arr.ndim)
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    return arr.reshape((*arr.shape[:s], math.prod(arr.shape[s : e + 1]), *arr.shape[e + 1 :]))


def pad(x, padding, value=0.0) -> np.ndarray:
    """Pad the last two dims: padding = (left, right, top, bottom), or (left, right), or an int.

    Negative amounts crop, as in ``torch.nn.functional.pad``.

    Examples
    --------
    >>> pad(np.ones((1, 1, 1), np.float32), (1, 0, 0, 1)).tolist()
    [[[0.0, 1.0], [0.0, 0.0]]]
    """
    arr = _array("pad", x)
    if arr.ndim < 2:
        raise ValueError(f"pad: input must have at least 2 dimensions, got shape {arr.shape}")
    if _is_int(padding):
        amounts = (int(padding),) * 4
    elif (
        isinstance(padding, tuple | list)
        and len(padding) in (2, 4)
        and all(_is_int(v) for v in padding)
    ):
        amounts = tuple(int(v) for v in padding) + (0, 0)[: 4 - len(padding)]
    else:
        raise ValueError(
            f"pad: padding must be an int or (left, right[, top, bottom]) ints, got {padding!r}"
        )
    fill = _real("pad", "value", value)
    left, right, top, bottom = amounts
    h, w = arr.shape[-2:]
    new_h, new_w = h + top + bottom, w + left + right
    if new_h < 1 or new_w < 1:
        raise ValueError(f"pad: padding {amounts} leaves nothing of the {h}x{w} input")
    y = np.full((*arr.shape[:-2], new_h, new_w), fill, _F32)
    # crop where an amount is negative, place where it is positive
    src = arr[..., max(0, -top) : h - max(0, -bottom), max(0, -left) : w - max(0, -right)]
    y[..., max(0, top) : new_h - max(0, bottom), max(0, left) : new_w - max(0, right)] = src
    return y


def local_response_norm(x, size, alpha=1e-4, beta=0.75, k=1.0) -> np.ndarray:
    """x / (k + alpha / size * sum of x^2 over ``size`` neighbouring channels) ** beta.

    Like ``torch.nn.functional.local_response_norm`` (AlexNet's LRN): the window runs from
    ``size // 2`` channels before to ``(size - 1) // 2`` after, zeros beyond the ends. The channel
    axis is 0 for 1-D and 3-D inputs, 1 for 2-D and 4-D inputs.

    Examples
    --------
    >>> local_response_norm(np.ones((1, 1, 1), np.float32), 1, alpha=1.0, beta=1.0).item()
    0.5
    """
    arr = _array("local_response_norm", x)
    axis = _channel_axis("local_response_norm", arr)
    size = _int_arg("local_response_norm", "size", size, 1)
    alpha, beta, k = (
        _real("local_response_norm", n, v) for n, v in (("alpha", alpha), ("beta", beta), ("k", k))
    )
    sq = np.moveaxis(arr * arr, axis, 0)  # channels first
    c = sq.shape[0]
    padded = np.zeros((c + size - 1, *sq.shape[1:]), _F32)
    padded[size // 2 : size // 2 + c] = sq
    total = padded[:c].copy()
    for t in range(1, size):
        total += padded[t : t + c]
    div = np.power(_F32(k) + _F32(alpha / size) * total, _F32(beta))
    return arr / np.moveaxis(div, 0, axis)
