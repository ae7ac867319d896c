""".npz archives read with every size checked before anything is allocated, and no pickle.

``numpy.load`` trusts what an archive declares: a 1 MB ``.npz`` can inflate to a gigabyte, and a
100-byte ``.npy`` header can declare an array of 2^40 values, which numpy allocates before it
finds the data missing. :class:`NpzArchive` reads the zip's directory first (the inflated size
of every member), then each member's ``.npy`` header (dtype and shape), and refuses an archive
whose arrays exceed the memory budget, a member whose header declares more bytes than the member
holds, object arrays (which only pickle can read) and anything that is not a number.

Examples
--------
>>> import io
>>> buffer = io.BytesIO()
>>> np.savez(buffer, w=np.ones((2, 3), np.float32))
>>> with NpzArchive(buffer, "w.npz") as archive:
...     archive.keys(), archive.read("w").shape
(['w'], (2, 3))
"""

from __future__ import annotations

import contextlib
import math
import os
import zipfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

from engine.i18n import _
from engine.io.budget import check_allocation
from engine.io.files import FileProblem, open_regular

__all__ = ["NUMBERS", "NpzArchive", "NpzError"]

NUMBERS = "biuf"  # bool, signed and unsigned integers, floats: the arrays of a network
_MAX_HEADER = 10_000  # numpy's own limit for a trusted header


class NpzError(ValueError):
    """An ``.npz`` that cannot be used; ``reason`` says why without the file's name."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source, self.reason = source, reason


class NpzArchive:
    """The arrays of one ``.npz`` file (or binary file object), read one by one, checked.

    Parameters
    ----------
    file : path-like or binary file object
        A path is opened only if it is a regular file.
    source : str
        How messages name it.
    kinds : str
        The dtype kinds accepted (numpy's ``dtype.kind`` letters); default numbers. ``"U"``
        (text) is safe too; object arrays never are.
    """

    def __init__(self, file: str | os.PathLike | BinaryIO, source: str, kinds: str = NUMBERS):
        self.source, self.kinds = source, kinds
        try:
            self._file = file if hasattr(file, "read") else open_regular(file)
        except FileProblem as problem:
            raise NpzError(source, problem.reason) from None
        try:
            self._zip = zipfile.ZipFile(self._file)
            members = self._zip.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
            self._file.seek(0)
            single = self._file.read(6) == b"\x93NUMPY"
            self.close()
            reason = _("it is a single .npy array, not an .npz archive; save the arrays with"
                       " numpy.savez") if single else _("it is not an .npz archive (a zip of"
                                                        " .npy arrays)")
            raise NpzError(source, reason) from None
        self._members = {m.filename.removesuffix(".npy"): m for m in members
                         if not m.is_dir()}
        total = sum(m.file_size for m in self._members.values())
        try:
            check_allocation(_("the arrays in {source}").format(source=source), total)
        except BaseException:
            self.close()
            raise

    def keys(self) -> list[str]:
        """The names of the arrays, as ``numpy.savez`` gave them."""
        return list(self._members)

    def __contains__(self, key: object) -> bool:
        return key in self._members

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def read(self, key: str) -> np.ndarray:
        """The array ``key``, after its header has been checked.

        Raises
        ------
        NpzError
            Missing key, damaged member, object or non-numeric dtype, a header that declares
            more than the member holds, or more memory than the budget.
        """
        info = self._members.get(key)
        if info is None:
            raise NpzError(self.source, _("has no array {key!r}").format(key=key))
        with self._damaged(key), self._zip.open(info) as member:
            shape, dtype, header = _header(member)
        self._check(key, info, shape, dtype, header)
        with self._damaged(key), self._zip.open(info) as member:
            return np.lib.format.read_array(member, allow_pickle=False,
                                            max_header_size=_MAX_HEADER)

    @contextlib.contextmanager
    def _damaged(self, key: str) -> Iterator[None]:
        """Turn what a damaged member raises into one :class:`NpzError`."""
        try:
            yield
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError,
                ValueError) as error:
            raise NpzError(self.source, _("array {key!r} cannot be read; the file is probably"
                                          " damaged ({reason})").format(
                                              key=key, reason=_first_line(error))) from None

    def _check(self, key, info, shape, dtype, header) -> None:
        if dtype.hasobject:
            raise NpzError(self.source, _("array {key!r} holds Python objects, which are never"
                                          " loaded (they could run code)").format(key=key))
        if dtype.fields is not None:
            raise NpzError(self.source, _("array {key!r} holds structured records, not"
                                          " numbers").format(key=key))
        if dtype.kind not in self.kinds:
            raise NpzError(self.source, _("array {key!r} holds {dtype} values, not numbers"
                                          ).format(key=key, dtype=dtype))
        nbytes = math.prod(shape) * dtype.itemsize
        if nbytes > info.file_size - header:
            raise NpzError(self.source, _(
                "array {key!r} declares {shape} values of {dtype} ({need:,} bytes) but the"
                " archive holds {have:,} bytes for it; the file is damaged").format(
                    key=key, shape="x".join(map(str, shape)) or "1", dtype=dtype, need=nbytes,
                    have=max(0, info.file_size - header)))
        check_allocation(_("array {key!r} of {source}").format(key=key, source=self.source),
                         nbytes + math.prod(shape) * 4)  # and its float32 copy

    def close(self) -> None:
        """Close the archive (and the file, when this object opened it)."""
        zip_file = getattr(self, "_zip", None)
        if zip_file is not None:
            zip_file.close()
        self._file.close()

    def __enter__(self) -> NpzArchive:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _header(member: BinaryIO) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, header length) of an ``.npy`` stream, read without its data."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, _fortran, dtype = np.lib.format.read_array_header_1_0(
            member, max_header_size=_MAX_HEADER)
    elif version == (2, 0):
        shape, _fortran, dtype = np.lib.format.read_array_header_2_0(
            member, max_header_size=_MAX_HEADER)
    else:
        raise ValueError(_(".npy format version {version} is not supported").format(
            version=version))
    if any(n < 0 for n in shape):
        raise ValueError(_("the header declares a negative size {shape}").format(shape=shape))
    return tuple(int(n) for n in shape), dtype, member.tell()


def _first_line(error: BaseException) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[0].strip() if lines else type(error).__name__
