"""The shared libraries an ELF file asks the loader for (DT_NEEDED), read without ``ldd``.

Qt-free and dependency-free, for :mod:`gui.platform_check`. It reads what the dynamic loader
reads: the program headers, the PT_DYNAMIC segment, and the string table it points to.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

PT_LOAD, PT_DYNAMIC = 1, 2
DT_NULL, DT_NEEDED, DT_STRTAB, DT_RPATH, DT_RUNPATH = 0, 1, 5, 15, 29


class ElfError(ValueError):
    """A file that is not an ELF shared object this reader understands."""


@dataclass(frozen=True)
class DynamicInfo:
    """What a shared object needs: sonames in order, and where it looks for them first."""

    needed: tuple[str, ...]
    search_dirs: tuple[str, ...]  # RUNPATH (or RPATH) entries, ``$ORIGIN`` expanded


def read_dynamic(path: str | Path) -> DynamicInfo:
    """Read the DT_NEEDED and RUNPATH entries of the ELF file at ``path``.

    Raises :class:`ElfError` for files that are not ELF, and OSError when unreadable.
    """
    path = Path(path)
    # Map the file instead of reading it: Qt's libraries are tens of megabytes and only the
    # headers and the dynamic section are looked at.
    with path.open("rb") as file:
        if path.stat().st_size < 64:
            raise ElfError(f"{path.name} is not an ELF file")
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _read(data, path)


def _read(data: mmap.mmap, path: Path) -> DynamicInfo:
    if data[:4] != b"\x7fELF":
        raise ElfError(f"{path.name} is not an ELF file")
    wide = {1: False, 2: True}.get(data[4])
    order = {1: "<", 2: ">"}.get(data[5])
    if wide is None or order is None:
        raise ElfError(f"{path.name}: unknown ELF class or byte order")
    if wide:
        phoff, = struct.unpack_from(order + "Q", data, 0x20)
        phentsize, phnum = struct.unpack_from(order + "HH", data, 0x36)
        ph_format, dyn_format = order + "IIQQQQQQ", order + "qQ"
    else:
        phoff, = struct.unpack_from(order + "I", data, 0x1C)
        phentsize, phnum = struct.unpack_from(order + "HH", data, 0x2A)
        ph_format, dyn_format = order + "IIIIIIII", order + "iI"
    loads: list[tuple[int, int, int]] = []  # (vaddr, offset, filesz) of each PT_LOAD
    dynamic: tuple[int, int] | None = None  # (offset, size) of PT_DYNAMIC
    for i in range(phnum):
        fields = struct.unpack_from(ph_format, data, phoff + i * phentsize)
        if wide:
            p_type, _flags, offset, vaddr, _paddr, filesz = fields[:6]
        else:
            p_type, offset, vaddr, _paddr, filesz = fields[:5]
        if p_type == PT_LOAD:
            loads.append((vaddr, offset, filesz))
        elif p_type == PT_DYNAMIC:
            dynamic = (offset, filesz)
    if dynamic is None:
        return DynamicInfo((), ())  # statically linked: needs nothing
    entries: list[tuple[int, int]] = []
    step = struct.calcsize(dyn_format)
    for at in range(dynamic[0], dynamic[0] + dynamic[1] - step + 1, step):
        tag, value = struct.unpack_from(dyn_format, data, at)
        if tag == DT_NULL:
            break
        entries.append((tag, value))
    strtab = next((v for t, v in entries if t == DT_STRTAB), None)
    if strtab is None:
        raise ElfError(f"{path.name}: dynamic section without a string table")
    base = _file_offset(strtab, loads, path.name)

    def string(index: int) -> str:
        start = base + index
        return data[start : data.find(b"\0", start)].decode("utf-8", "replace")

    needed = tuple(string(v) for t, v in entries if t == DT_NEEDED)
    runpath = [string(v) for t, v in entries if t == DT_RUNPATH]
    paths = runpath or [string(v) for t, v in entries if t == DT_RPATH]
    origin = str(path.resolve().parent)
    dirs = tuple(
        d.replace("$ORIGIN", origin).replace("${ORIGIN}", origin)
        for entry in paths
        for d in entry.split(":")
        if d
    )
    return DynamicInfo(needed, dirs)


def _file_offset(vaddr: int, loads: list[tuple[int, int, int]], name: str) -> int:
    """Where the byte the loader maps at ``vaddr`` sits in the file."""
    for start, offset, size in loads:
        if start <= vaddr < start + size:
            return vaddr - start + offset
    raise ElfError(f"{name}: the string table lies outside every loaded segment")
