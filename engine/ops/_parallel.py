"""The engine's threads, its per-thread workspaces and its one-time process set-up.

Large ops split their output into bands of rows and call :func:`run`, which shares the bands
between the calling thread and a small pool (numpy's BLAS and its loops release the GIL, so the
threads really run at once). Workspaces (im2col matrices, padded inputs) are cached per shape in
thread-local storage, so the GUI's worker thread and a test calling from the main thread never
share one.

The first large op changes two process-wide settings, once: numpy's OpenBLAS goes to one thread
(the engine's own threads share the work; :func:`_single_thread_blas`), and on Linux glibc keeps
large freed blocks for reuse instead of mapping fresh, page-faulting memory for every activation
map (:func:`_keep_freed_memory`).
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

# Below this many multiply-accumulates a second thread costs more than it saves.
_THREAD_MIN_WORK = 1 << 21
_num_threads = max(1, min(2, os.cpu_count() or 1))
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_local = threading.local()
_tuned = False


def thread_count() -> int:
    """How many threads :func:`run` shares its items among."""
    return _num_threads


def set_thread_count(n: int) -> None:
    """Use ``n`` threads from now on (``n`` already checked), replacing the pool if it changes."""
    global _num_threads, _pool
    with _pool_lock:
        if _pool is not None and n != _num_threads:
            _pool.shutdown(wait=True)
            _pool = None
        _num_threads = n


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


def run(items: Sequence, fn: Callable, work: float) -> None:
    """Call ``fn`` on every item, sharing the items among the threads when it pays.

    ``work`` is the op's size in multiply-accumulates (or a comparable count), weighed against
    ``_THREAD_MIN_WORK``.
    """
    prepare()
    _share(items, fn, work)


def prepare() -> None:
    """Set up the process once (see the module docstring); ops that skip :func:`run` call it."""
    global _tuned
    if not _tuned:
        _tuned = True
        _single_thread_blas()
        _keep_freed_memory()


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


def bands(n: int, rows: int, band: int) -> list[tuple[int, int, int]]:
    """(image, first row, end row) for every band of ``band`` output rows of ``n`` images."""
    return [(i, r, min(r + band, rows)) for i in range(n) for r in range(0, rows, band)]


def workspace(key: tuple, shape: tuple[int, ...], fill: float | None = None) -> np.ndarray:
    """A float32 array cached per thread and key; ``fill`` is written only when it is created."""
    cache = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    buf = cache.pop(key, None)
    if buf is None or buf.shape != shape:
        buf = np.empty(shape, np.float32) if fill is None else np.full(shape, fill, np.float32)
        if len(cache) >= 24:  # forget the least recently used shape
            del cache[next(iter(cache))]
    cache[key] = buf  # re-insert: most recently used last
    return buf


def padded(x4: np.ndarray, pads: tuple[int, int, int, int], fill: float) -> np.ndarray:
    """``x4`` (N, C, H, W) inside a reused border of ``fill``; pads = (top, bottom, left, right)."""
    if not any(pads):
        return x4
    top, bottom, left, right = pads
    n, c, h, w = x4.shape
    shape = (n, c, h + top + bottom, w + left + right)
    buf = workspace(("pad", x4.shape, pads, fill), shape, fill)
    buf[:, :, top : top + h, left : left + w] = x4  # the border is never written, so stays `fill`
    return buf


def quietly(fn: Callable) -> Callable:
    """``fn`` with numpy's floating-point warnings off, on whichever thread calls it.

    A NaN or infinity in an input gives NaN or infinity in the result, quietly, as in PyTorch
    (``inf * 0``, ``inf - inf``, or a float32 sum that overflows). ``np.errstate`` lives in a
    context variable, which the pool's threads do not inherit, so each call sets its own.
    """

    def call(*args):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return fn(*args)

    return call
