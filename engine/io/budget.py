"""The memory budget: how many bytes one operation may allocate, checked before it allocates.

Every size that comes from a file or a command line (an image header, an array in an ``.npz``,
a layer's declared weights, a pipeline's activations for an input, a resize target) is checked
here before anything is allocated, so that a tiny file declaring a huge size is refused with a
message instead of a MemoryError, a traceback from OpenCV or the kernel's OOM killer.

The budget is half the physical memory, at most 4 GiB; a process whose address space is capped
(``ulimit -v``) gets at most what is left under that cap. The environment variable
``CNN_EXPLORER_MEMORY_BUDGET`` (bytes, or a number with K, M or G) sets it instead; it is only
read, never written.

Examples
--------
>>> check_allocation("a small array", 1024)
>>> parse_size("1.5G")
1610612736
"""

from __future__ import annotations

import os
import re

from engine.i18n import _

__all__ = ["CAP", "ENV", "FRACTION", "BudgetError", "check_allocation", "format_size",
           "memory_budget", "parse_size"]

ENV = "CNN_EXPLORER_MEMORY_BUDGET"
FRACTION = 0.5
"""Share of the physical memory one operation may use."""
CAP = 4 << 30
"""The default budget never exceeds 4 GiB, however much memory the machine has."""
UNKNOWN_MEMORY = 2 << 30
"""The budget where the physical memory cannot be read."""
_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


class BudgetError(ValueError):
    """An operation would allocate more memory than the budget allows."""


def parse_size(text: str) -> int:
    """Bytes from "1073741824", "512M", "1.5G" or "2 GiB"; ValueError when it is none of them."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*", str(text), re.IGNORECASE)
    if match is None:
        raise ValueError(_("{text!r} is not a size such as 2G, 512M or 1073741824").format(
            text=text))
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def format_size(n: int) -> str:
    """Bytes in B, KiB, MiB, GiB or TiB with one decimal: ``format_size(3 << 20)`` is "3.0 MiB"."""
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            return f"{value:.1f} {unit}"
    return f"{value:.1f} TiB"  # pragma: no cover (the loop always returns)


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):  # not POSIX, or the value is not known
        return None


def _address_space_left() -> int | None:
    """What ``ulimit -v`` still allows this process to map; None without a cap (or off Linux)."""
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY:
            return None
        with open("/proc/self/statm", encoding="ascii") as statm:
            mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (ImportError, OSError, ValueError, IndexError):
        return None
    return max(0, soft - mapped)


def memory_budget() -> int:
    """The number of bytes one operation may allocate (see the module's description).

    Raises
    ------
    BudgetError
        ``CNN_EXPLORER_MEMORY_BUDGET`` is set to something that is not a size.
    """
    setting = os.environ.get(ENV)
    if setting:
        try:
            budget = parse_size(setting)
        except ValueError as error:
            raise BudgetError(_("the environment variable {name} is not valid: {reason}").format(
                name=ENV, reason=error)) from None
    else:
        physical = _physical_memory()
        budget = UNKNOWN_MEMORY if physical is None else min(int(physical * FRACTION), CAP)
    left = _address_space_left()
    if left is not None:
        budget = min(budget, int(left * 0.9))  # the rest is the interpreter's own slack
    return budget


def check_allocation(what: str, nbytes: int, budget: int | None = None) -> None:
    """Raise :class:`BudgetError` when ``what`` would need more than the memory budget.

    Parameters
    ----------
    what : str
        What would be allocated, in words, starting lower case: "decoding image 'a.png'".
    nbytes : int
        How many bytes it would need (a Python int: it may be larger than any array can be).
    budget : int, optional
        The limit; default :func:`memory_budget`.
    """
    limit = memory_budget() if budget is None else budget
    if nbytes > limit:
        raise BudgetError(_(
            "{what} would need {need} of memory, more than the budget of {budget} (set {env}"
            " to change the budget)").format(what=what, need=format_size(nbytes),
                                             budget=format_size(limit), env=ENV))
