"""The engine's threads and its per-thread workspaces.

Large ops split their output into bands of rows and call :func:`run`, which shares the bands
between the calling thread and a small pool (numpy's BLAS and its loops release the GIL, so the
threads really run at once). Workspaces (im2col matrices, padded inputs) are cached per shape in
thread-local storage, so the GUI's worker thread and a test calling from the main thread never
share one.

Nothing here changes a process-wide setting. Until :func:`engine.configure` is called the engine
runs every op on the calling thread and leaves numpy's BLAS as it found it; ``configure`` is the
one place that puts BLAS on one thread per engine thread, starts the second thread and asks
glibc to keep freed blocks (see :mod:`engine.config`).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

# Below this many multiply-accumulates a second thread costs more than it saves.
_THREAD_MIN_WORK = 1 << 21
_num_threads = 1  # engine.configure() raises it
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_local = threading.local()


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


def run(items: Sequence, fn: Callable, work: float) -> None:
    """Call ``fn`` on every item, sharing the items among the threads when it pays.

    ``work`` is the op's size in multiply-accumulates (or a comparable count), weighed against
    ``_THREAD_MIN_WORK``.
    """
    _share(items, fn, work)


def _share(items: Sequence, fn: Callable, work: float) -> None:
    if _num_threads == 1 or len(items) < 2 or work < _THREAD_MIN_WORK:
        for item in items:
            fn(item)
        return
    shared = iter(items)  # next() on a list iterator is atomic under the GIL
    # numpy's error settings live in a context variable that pool threads do not inherit: the
    # items on other threads run under the caller's (a trainer that expects overflow and checks
    # its loss instead must not get warnings from the pool's threads).
    errors = np.geterr()
    nice = niceness()

    def drain() -> None:
        follow_niceness(nice)
        with np.errstate(**errors):
            for item in shared:
                fn(item)

    futures = [_executor().submit(drain) for _ in range(min(_num_threads, len(items)) - 1)]
    drain()
    for future in futures:
        future.result()


def map_chunks(x: np.ndarray, fn: Callable, chunk: int, work_per_value: float) -> np.ndarray:
    """``fn(src, out, chunk)`` over pieces of at most ``chunk`` values of float32 ``x``, shared by
    the threads; a new float32 array of ``x``'s shape.

    For element-wise maths of several passes: each piece's passes run while it is in cache, and
    numpy's loops release the GIL, so two threads run two pieces at once. ``src`` is only read.
    """
    src = np.ascontiguousarray(x, np.float32).reshape(-1)
    out = np.empty(src.shape, np.float32)
    size = max(1, min(chunk, -(-src.size // _num_threads)))  # a piece for each thread

    def work(start):
        stop = min(start + size, src.size)
        fn(src[start:stop], out[start:stop], size)

    run(range(0, src.size, size), work, src.size * work_per_value)
    return out.reshape(np.shape(x))


def niceness() -> int | None:
    """The calling thread's scheduling niceness (Linux, where it is per thread), else None."""
    if not _PER_THREAD_NICE:
        return None
    try:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    except OSError:
        return None


def follow_niceness(nice: int | None) -> None:
    """Run the calling (pool) thread no higher than ``nice``: a pool thread never does a
    background thread's work at a higher priority than that thread has.

    The window runs its engine and capture threads a few steps nicer than its GUI thread, so
    that on two cores the GUI thread finds a core at once when it wakes (stalls over 100 ms in
    a long soak were the GUI thread waiting for a core). Linux lets a thread raise its own
    niceness but not lower it again, so a pool thread keeps the highest it was given.
    """
    if nice is None or getattr(_local, "nice", 0) >= nice:
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
        _local.nice = nice
    except OSError:
        _local.nice = nice  # not allowed here: do not try on every call


# Only Linux keeps a niceness per thread (elsewhere PRIO_PROCESS with a thread id would name a
# process); setpriority on a thread's native id then changes that thread alone.
_PER_THREAD_NICE = sys.platform.startswith("linux") and hasattr(os, "setpriority")


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
