"""Process-wide settings the engine wants, made only when asked: :func:`configure`.

Importing the engine or calling an op changes nothing outside the engine: environment variables,
numpy's BLAS thread pool and the allocator stay as they were, and every op runs on the calling
thread. An application that wants the engine's full speed opts in once at start (the window and
the command line do)::

    import engine
    engine.configure(threads=2)

What it changes, and why (measured on 2-core VMs, see docs/benchmarks.md):

- the engine's own threads (``threads``): large convolutions and pools split their row bands
  between them;
- numpy's BLAS goes to one thread, through threadpoolctl: each engine thread calls BLAS on a
  small band, and BLAS starting threads of its own for those made them 10-70x slower;
- on Linux, glibc keeps freed blocks up to 64 MiB for reuse (``keep_freed_memory``) instead of
  mapping fresh pages for every activation map: 2,100 page faults a frame became 200;
- OpenCV's own log is silenced (``quiet_opencv``): every failure it would print is already
  turned into one clear message.
"""

from __future__ import annotations

import ctypes
import os
import sys
from dataclasses import dataclass

from engine.i18n import _
from engine.ops import _parallel

__all__ = ["Configuration", "background_thread", "configuration", "configure"]


@dataclass(frozen=True)
class Configuration:
    """What :func:`configure` set: the engine's threads and which process settings it made."""

    threads: int
    blas_single_thread: bool
    keep_freed_memory: bool
    quiet_opencv: bool


_current = Configuration(threads=1, blas_single_thread=False, keep_freed_memory=False,
                         quiet_opencv=False)


def configure(threads: int | None = None, *, keep_freed_memory: bool = True,
              quiet_opencv: bool = True) -> Configuration:
    """Give the engine its threads and make the process settings it runs best with.

    Parameters
    ----------
    threads : int, optional
        The engine's threads for large ops; default: the machine's cores, at most 2 (a third
        thread gained nothing on the frame sizes the app runs).
    keep_freed_memory : bool
        Ask glibc to keep freed blocks for reuse (Linux only; elsewhere nothing is done).
    quiet_opencv : bool
        Silence OpenCV's log (unless ``OPENCV_LOG_LEVEL`` is set).

    Returns
    -------
    Configuration
        What is now in force.

    Examples
    --------
    >>> import engine
    >>> engine.configure(threads=1, keep_freed_memory=False, quiet_opencv=False).threads
    1
    """
    global _current
    if threads is None:
        threads = max(1, min(2, os.cpu_count() or 1))
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(_("configure: threads must be a whole number 1 or more, got "
                           "{threads!r}").format(threads=threads))
    _parallel.set_thread_count(threads)
    # OpenCV first: loading it loads a BLAS of its own, which the limit below then covers too.
    quiet = _current.quiet_opencv or (quiet_opencv and _quiet_opencv())
    blas = _current.blas_single_thread or (threads > 1 and _blas_single_thread())
    freed = _current.keep_freed_memory or (keep_freed_memory and _keep_freed_memory())
    _current = Configuration(threads, blas, freed, quiet)
    return _current


def configuration() -> Configuration:
    """What :func:`configure` has set so far (threads 1 and nothing else when never called)."""
    return _current


def _blas_single_thread() -> bool:
    """Put every BLAS library numpy uses on one thread; True when threadpoolctl found one."""
    from threadpoolctl import threadpool_limits

    limiter = threadpool_limits(limits=1, user_api="blas")  # applies now, kept after return
    return limiter.get_original_num_threads().get("blas") is not None


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


def _quiet_opencv() -> bool:
    from engine.io.media import quiet_opencv

    return quiet_opencv()


def background_thread(steps: int = 5) -> bool:
    """Lower the calling thread's scheduling priority by ``steps`` (Linux; elsewhere nothing).

    For an app's worker threads (capture, engine): on two cores its GUI thread then gets a core
    as soon as it wakes instead of waiting behind them. The engine's pool threads follow: they
    never run work handed to them at a higher priority than the thread that handed it.
    Returns whether the priority is now lowered.

    Examples
    --------
    >>> import threading
    >>> done = []
    >>> t = threading.Thread(target=lambda: done.append(background_thread(3)))
    >>> t.start(); t.join()
    >>> done in ([True], [False])
    True
    """
    nice = _parallel.niceness()
    if nice is None:
        return False
    _parallel.follow_niceness(min(19, nice + steps))
    return _parallel.niceness() == min(19, nice + steps)

