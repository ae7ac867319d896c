"""Image file headers: which format a file is, and its width and height, without decoding.

:func:`engine.io.media.read_image` uses this to refuse a huge image before OpenCV allocates its
pixels: a 35-byte GIF or JPEG can declare 20000 x 20000 pixels, and the decoder allocates
gigabytes for them before it finds that the data is missing. Only the formats whose size this
module reads (:data:`SUPPORTED`) are ever handed to the decoder. Plain ``struct`` parsing only,
so this module does not need OpenCV.
"""

from __future__ import annotations

import struct

__all__ = ["SUPPORTED", "decoded_bytes_per_pixel", "format_name", "header_size"]

SUPPORTED = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WebP")
"""The formats the app reads: those whose size is known before decoding."""

# JPEG start-of-frame markers carry the size; C4 (Huffman table), C8 (reserved) and CC
# (arithmetic coding table) sit in the same range but are not frames.
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers without a length: TEM, RST0-7 and SOI.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})

# Formats OpenCV could decode but the app does not read, named so that the message can say so.
_OTHERS = (
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000"), (b"\xff\x4f\xff\x51", "JPEG 2000"),
    (b"v/1\x01", "OpenEXR"), (b"#?RADIANCE", "Radiance HDR"), (b"#?RGBE", "Radiance HDR"),
    (b"\x59\xa6\x6a\x95", "Sun raster"), (b"II+\x00", "BigTIFF"), (b"MM\x00+", "BigTIFF"),
    (b"PF\n", "PFM"), (b"Pf\n", "PFM"), (b"8BPS", "Photoshop"),
)

# The most bytes per pixel a decoder may hold for a format (its output and its own buffers);
# PNG is read from the header. TIFF allows 64-bit samples and whole-image strips.
_BYTES_PER_PIXEL = {"JPEG": 6, "GIF": 12, "BMP": 8, "WebP": 8, "TIFF": 64}


def format_name(head: bytes) -> str | None:
    """Name the image format from the file's first bytes.

    Parameters
    ----------
    head : bytes
        The start of the file (a few bytes are enough).

    Returns
    -------
    str or None
        One of :data:`SUPPORTED`, the name of another image format (which the app does not
        read: "JPEG 2000", "AVIF", "PNM", ...), or None when it is not an image format we know.
    """
    head = bytes(head[:16])
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8"):
        return "JPEG"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head.startswith(b"BM"):
        return "BMP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WebP"
    for magic, name in _OTHERS:
        if head.startswith(magic):
            return name
    if head[4:8] == b"ftyp":
        return "AVIF" if head[8:12] in (b"avif", b"avis") else "HEIF"
    if len(head) > 2 and head[0:1] == b"P" and head[1:2] in b"1234567" and head[2:3].isspace():
        return "PNM"
    return None


def decoded_bytes_per_pixel(head: bytes) -> int:
    """The most memory per pixel decoding this file may take (output and decoder buffers)."""
    fmt = format_name(head)
    if fmt == "PNG":
        return 16 if len(head) > 24 and head[24] == 16 else 8  # IHDR bit depth 16: two bytes
    return _BYTES_PER_PIXEL.get(fmt, 64)


def header_size(head: bytes) -> tuple[int, int] | None:
    """Return (width, height) read from the header, without decoding; None when not found.

    This lets :func:`engine.io.media.read_image` refuse a huge image before it allocates the pixels.

    Parameters
    ----------
    head : bytes
        The file's bytes; a JPEG's frame header and a TIFF's directory can be far from the start,
        so pass the whole file.

    Returns
    -------
    tuple of int or None
        (width, height), or None for an unsupported format or a header that is cut short or
        damaged.
    """
    fmt = format_name(head)
    try:
        if fmt == "PNG":
            if head[12:16] != b"IHDR":  # IHDR must come first
                return None
            return struct.unpack(">II", head[16:24])
        if fmt == "BMP":
            if struct.unpack("<I", head[14:18])[0] == 12:  # BITMAPCOREHEADER: 16-bit sizes
                return struct.unpack("<HH", head[18:22])
            w, h = struct.unpack("<ii", head[18:26])
            return abs(w), abs(h)  # a negative height means "stored top-down"
        if fmt == "WebP":
            return _webp(head)
        if fmt == "JPEG":
            return _jpeg(head)
        if fmt == "GIF":
            return _gif(head)
        if fmt == "TIFF":
            return _tiff(head)
    except (struct.error, IndexError):  # a header cut short: the caller says it is damaged
        return None
    return None


def _webp(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8 ":
        if head[23:26] != b"\x9d\x01\x2a":  # the key frame's start code
            return None
        w, h = struct.unpack("<HH", head[26:30])
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L":
        if head[20] != 0x2F:  # the lossless signature
            return None
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":  # the canvas, which holds every frame of an animation
        if len(head) < 30:
            return None
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    return None


def _jpeg(head: bytes) -> tuple[int, int] | None:
    """The first frame header, found the way libjpeg finds it: segment by segment."""
    i, n = 2, len(head)
    while i < n:
        while i < n and head[i] != 0xFF:  # libjpeg skips stray bytes between segments too
            i += 1
        while i < n and head[i] == 0xFF:  # fill bytes
            i += 1
        if i >= n:
            return None
        marker = head[i]
        i += 1
        if marker in _STANDALONE:
            continue
        if marker in (0xD9, 0xDA):  # the image ends or its data starts before any frame header
            return None
        if marker in _SOF_MARKERS:
            h, w = struct.unpack(">HH", head[i + 3 : i + 7])
            return w, h
        length = struct.unpack(">H", head[i : i + 2])[0]
        if length < 2:
            return None
        i += length
    return None


def _gif(head: bytes) -> tuple[int, int] | None:
    """The logical screen, enlarged to hold the first image if that image reaches past it."""
    width, height, packed = struct.unpack("<HHB", head[6:11])
    i = 13 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0)  # after the global colour table
    while i < len(head):
        block = head[i]
        if block == 0x2C:  # image descriptor: left, top, width, height
            left, top, w, h = struct.unpack("<HHHH", head[i + 1 : i + 9])
            return max(width, left + w), max(height, top + h)
        if block != 0x21:  # the trailer (0x3B) or garbage: no image
            return None
        i += 2  # extension introducer and label, then data sub-blocks up to an empty one
        while head[i] != 0:
            i += head[i] + 1
        i += 1
    return None


def _tiff(head: bytes) -> tuple[int, int] | None:
    e = "<" if head[:2] == b"II" else ">"
    offset = struct.unpack(e + "I", head[4:8])[0]
    n_entries = struct.unpack(e + "H", head[offset : offset + 2])[0]
    found = {}
    for k in range(n_entries):
        entry = head[offset + 2 + 12 * k : offset + 14 + 12 * k]
        tag, kind = struct.unpack(e + "HH", entry[:4])
        if tag in (256, 257):  # ImageWidth, ImageLength: SHORT (3) or LONG
            fmt_value = e + ("H" if kind == 3 else "I")
            found[tag] = struct.unpack(fmt_value, entry[8 : 8 + struct.calcsize(fmt_value)])[0]
    return (found[256], found[257]) if len(found) == 2 else None
