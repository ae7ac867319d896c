"""The engine's thread count for large ops.
"""

from __future__ import annotations

import numpy as np

from engine.i18n import _
from engine.ops import _parallel

__all__ = ["get_num_threads", "set_num_threads"]

_F32 = np.float32


def get_num_threads() -> int:
    """Return how many threads the ops use for large convolutions and pools."""
    return _parallel.thread_count()


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
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(_("set_num_threads: the thread count must be a positive int, got "
                           "{n!r}").format(n=n))
    _parallel.set_thread_count(int(n))
