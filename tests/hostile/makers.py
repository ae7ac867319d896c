"""Hostile files, made on the spot: image headers that lie, pipelines that nest or point away,
archives that inflate, and the special files (pipes, devices, sockets) a path may name."""

from __future__ import annotations

import json
import os
import socket
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

BIG = 20000  # a side that makes 400 megapixels: far over the 100-megapixel limit


def png(width: int = BIG, height: int = BIG, depth: int = 8, extra: bytes = b"") -> bytes:
    """A PNG signature and IHDR declaring ``width`` x ``height``, then ``extra`` and nothing."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra


def chunk(kind: bytes, body: bytes, crc: int | None = None) -> bytes:
    crc = zlib.crc32(kind + body) if crc is None else crc
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def jpeg(width: int = BIG, height: int = BIG, before: bytes = b"", fill: int = 0) -> bytes:
    """SOI, ``before`` (other segments), a baseline frame header (after ``fill`` 0xFF bytes)."""
    sof = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return (b"\xff\xd8" + before + b"\xff" * fill + b"\xff\xc0"
            + struct.pack(">H", len(sof) + 2) + sof + b"\xff\xd9")


def jpeg_segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def gif(width: int = BIG, height: int = BIG, frame: tuple[int, int] | None = None) -> bytes:
    """A GIF whose logical screen (and first image, unless ``frame`` is given) is the size."""
    fw, fh = frame or (width, height)
    screen = struct.pack("<HHBBB", width, height, 0, 0, 0)
    image = b"," + struct.pack("<HHHHB", 0, 0, fw, fh, 0) + b"\x02\x02\x4c\x01\x00"
    return b"GIF89a" + screen + image + b";"


def bmp(width: int = BIG, height: int = BIG) -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 54, 0, 0, 54) + info


def tiff(width: int = BIG, height: int = BIG, ifd_at: int = 8) -> bytes:
    """A little-endian TIFF whose first directory (at ``ifd_at``) gives the size."""
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (277, 3, 1, 1),
               (273, 4, 1, 8), (279, 4, 1, width * height)]
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHII", *e) for e in entries) + b"\0\0\0\0"
    return b"II*\x00" + struct.pack("<I", ifd_at) + bytes(ifd_at - 8) + ifd


def webp_vp8x(width: int = 16384, height: int = 16384) -> bytes:
    body = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(
        3, "little")
    return b"RIFF" + struct.pack("<I", 4 + 8 + len(body)) + b"WEBPVP8X" + struct.pack(
        "<I", len(body)) + body


def webp_vp8l(width: int = 16384, height: int = 16384) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    body = b"\x2f" + bits.to_bytes(4, "little") + b"\x00" * 8
    return b"RIFF" + struct.pack("<I", 4 + 8 + len(body)) + b"WEBPVP8L" + struct.pack(
        "<I", len(body)) + body


def pipeline(layers=None, **top) -> dict:
    """A valid pipeline file's content (one 3x3 conv and a ReLU), with ``top`` keys replaced."""
    data = {"format": "cnn-explorer-pipeline", "version": 1,
            "input": {"channels": 3, "color": "rgb"},
            "layers": layers if layers is not None else [
                {"type": "Conv2d", "in_channels": 3, "out_channels": 2, "kernel_size": 3},
                {"type": "ReLU"}]}
    data.update(top)
    return data


def conv_from_npz(npz: str, key: str = "w", **extra) -> dict:
    """A pipeline whose one conv (2 filters of 3x3x3) reads its weights from ``npz``."""
    return pipeline([{"type": "Conv2d", "in_channels": 3, "out_channels": 2, "kernel_size": 3,
                      "weights": {"npz": npz, "key": key}, **extra}])


def write_json(path: Path, data) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def npz(path: Path, **arrays) -> Path:
    """An .npz written the way numpy.savez does, object arrays included (with pickle)."""
    with zipfile.ZipFile(path, "w") as archive:
        for key, array in arrays.items():
            with archive.open(f"{key}.npy", "w") as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=True)
    return path


def npz_lying(path: Path, shape: tuple[int, ...], payload: bytes = b"") -> Path:
    """An .npz whose one member's header declares ``shape`` float32 but holds ``payload``."""
    header = {"descr": "<f4", "fortran_order": False, "shape": shape}
    with zipfile.ZipFile(path, "w") as archive, archive.open("w.npy", "w") as member:
        np.lib.format.write_array_header_1_0(member, header)
        member.write(payload)
    return path


def npz_inflating(path: Path, gib: int = 1) -> Path:
    """A few-MB .npz whose one float32 member inflates to ``gib`` GiB of zeros."""
    n = (gib << 30) // 4
    with (zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
          archive.open("w.npy", "w", force_zip64=True) as member):
        np.lib.format.write_array_header_1_0(
            member, {"descr": "<f4", "fortran_order": False, "shape": (n,)})
        zeros = bytes(1 << 22)
        for _ in range((gib << 30) // len(zeros)):
            member.write(zeros)
    return path


def npz_declaring(path: Path, declared: int) -> Path:
    """A small .npz whose zip directory claims its member inflates to ``declared`` bytes."""
    npz(path, w=np.zeros((2, 3, 3, 3), np.float32))
    data = bytearray(path.read_bytes())
    at = data.rindex(b"PK\x01\x02") + 24  # the central directory's uncompressed size
    data[at : at + 4] = struct.pack("<I", min(declared, 0xFFFFFFFE))
    path.write_bytes(bytes(data))
    return path


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def device(path: Path) -> Path:
    path.symlink_to("/dev/zero")
    return path


def unix_socket(path: Path) -> Path:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()
    return path


def sparse(path: Path, size: int) -> Path:
    """A file of ``size`` bytes that takes no disk space (a hole)."""
    with open(path, "wb") as file:
        file.truncate(size)
    return path
