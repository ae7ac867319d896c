"""Opening files a user names: regular files only, and never more bytes than allowed.

A FIFO or a device named ``x.png`` would make a plain ``open().read()`` wait forever or read
without end. Every reader of the engine (images, videos, pipelines, ``.npz`` archives, ONNX
models, preprocessing sidecars) checks here first that its path is a regular file, and reads it
through a descriptor that is checked again after opening (the path may change in between).

Errors are :class:`FileProblem`, whose ``reason`` is a sentence without the path, so that each
reader can put it in its own message ("cannot open image 'x.png': it is a named pipe (FIFO),
not a regular file").

Writing goes the other way round: :func:`write_atomic` writes a temporary file beside the
target, flushes it to disk and renames it over the target, so that a crash or a full disk
leaves the previous file whole, never half of a new one, and no temporary file behind.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO

from engine.i18n import _

__all__ = ["TEMPORARY_SUFFIX", "FileProblem", "check_regular", "open_regular", "read_regular",
           "write_atomic"]

TEMPORARY_SUFFIX = ".tmp"
"""How the temporary files of :func:`write_atomic` end (``.<name>.<random>.tmp``)."""


class FileProblem(ValueError):
    """A path that is not a readable regular file (or a file too large); ``reason`` says why."""

    def __init__(self, path, reason: str):
        super().__init__(f"'{path}': {reason}")
        self.path, self.reason = path, reason


def _kind(mode: int) -> str | None:
    """Why a file of this mode cannot be read as a file; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return _("it is a folder, not a file")
    if stat.S_ISFIFO(mode):
        return _("it is a named pipe (FIFO), not a regular file")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return _("it is a device, not a regular file")
    if stat.S_ISSOCK(mode):
        return _("it is a socket, not a regular file")
    return _("it is not a regular file")


def _os_reason(error: OSError) -> str:
    if error.errno == errno.ENOENT:
        return _("the file does not exist")
    if error.errno in (errno.EACCES, errno.EPERM):
        return _("permission denied")
    return (error.strerror or str(error)).lower()


def check_regular(path: str | os.PathLike) -> os.stat_result:
    """Return the ``os.stat`` of ``path`` (symbolic links followed) if it is a regular file.

    Raises
    ------
    FileProblem
        It does not exist, cannot be reached, or is a folder, pipe, device or socket.
    """
    try:
        info = os.stat(path)
    except OSError as error:
        raise FileProblem(path, _os_reason(error)) from None
    except ValueError:  # an embedded NUL character
        raise FileProblem(path, _("the path contains a NUL character")) from None
    reason = _kind(info.st_mode)
    if reason is not None:
        raise FileProblem(path, reason)
    return info


def open_regular(path: str | os.PathLike, max_bytes: int | None = None) -> BinaryIO:
    """Open a regular file for reading in binary; :class:`FileProblem` for anything else.

    ``O_NONBLOCK`` keeps the open from waiting on a FIFO swapped in after the check; the
    descriptor's own ``fstat`` is what decides. ``max_bytes`` refuses larger files.
    """
    check_regular(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as error:
        raise FileProblem(path, _os_reason(error)) from None
    try:
        info = os.fstat(fd)
        reason = _kind(info.st_mode)
        if reason is not None:
            raise FileProblem(path, reason)
        if max_bytes is not None and info.st_size > max_bytes:
            raise FileProblem(path, _("the file is {size:,} bytes, more than the {limit:,} bytes"
                                      " allowed for it").format(size=info.st_size,
                                                                limit=max_bytes))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike, max_bytes: int | None = None) -> bytes:
    """All bytes of a regular file of at most ``max_bytes``; :class:`FileProblem` otherwise.

    Examples
    --------
    >>> read_regular(__file__).startswith(b'"')
    True
    """
    with open_regular(path, max_bytes) as file:
        limit = -1 if max_bytes is None else max_bytes + 1
        try:
            data = file.read(limit)
        except OSError as error:
            raise FileProblem(path, _os_reason(error)) from None
    if max_bytes is not None and len(data) > max_bytes:  # it grew after the check
        raise FileProblem(path, _("the file is more than the {limit:,} bytes allowed for"
                                  " it").format(limit=max_bytes))
    return data


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable; a file system that cannot sync folders is skipped."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path``: temporary file in the same folder, flush, fsync, rename.

    Readers see either the old file or the whole new one. On any failure (a full disk, a
    folder that cannot be written) the temporary file is removed and the error raised; the old
    file is left as it was.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_atomic(folder / "a.json", b"{}")
    >>> sorted(p.name for p in folder.iterdir())
    ['a.json']
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX,
                                dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
