"""Image file headers: which format a file is, and its width and height, without decoding.

:func:`engine.io.media.read_image` uses this to refuse a huge image before OpenCV allocates its
pixels. Plain ``struct`` parsing only, so this module does not need OpenCV.
"""

from __future__ import annotations

import struct

# JPEG start-of-frame markers carry the size; C4 (Huffman table), C8 (reserved) and CC
# (arithmetic coding table) sit in the same range but are not frames.
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def format_name(head: bytes) -> str | None:
    """Name the image format from the file's first bytes.

    Parameters
    ----------
    head : bytes
        The start of the file (a few bytes are enough).

    Returns
    -------
    str or None
        "PNG", "JPEG", "BMP", "TIFF" or "WebP"; None when it is not one we know.
    """
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8"):
        return "JPEG"
    if head.startswith(b"BM"):
        return "BMP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WebP"
    return None


def header_size(head: bytes) -> tuple[int, int] | None:
    """Return (width, height) read from the header, without decoding; None when not found.

    This lets :func:`engine.io.media.read_image` refuse a huge image before it allocates the pixels.

    Parameters
    ----------
    head : bytes
        The start of the file; JPEG and TIFF may need more than the first kilobyte.

    Returns
    -------
    tuple of int or None
        (width, height), or None for an unknown format or a header cut short.
    """
    fmt = format_name(head)
    try:
        if fmt == "PNG":
            return struct.unpack(">II", head[16:24])
        if fmt == "BMP":
            w, h = struct.unpack("<ii", head[18:26])
            return abs(w), abs(h)  # a negative height means "stored top-down"
        if fmt == "WebP":
            chunk = head[12:16]
            if chunk == b"VP8 ":
                w, h = struct.unpack("<HH", head[26:30])
                return w & 0x3FFF, h & 0x3FFF
            if chunk == b"VP8L":
                bits = int.from_bytes(head[21:25], "little")
                return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
            if chunk == b"VP8X":
                w = int.from_bytes(head[24:27], "little") + 1
                return w, int.from_bytes(head[27:30], "little") + 1
        if fmt == "JPEG":
            i = 2
            while i + 9 < len(head) and head[i] == 0xFF:
                marker = head[i + 1]
                if marker in _SOF_MARKERS:
                    h, w = struct.unpack(">HH", head[i + 5 : i + 9])
                    return w, h
                i += 2 + struct.unpack(">H", head[i + 2 : i + 4])[0]
        if fmt == "TIFF":
            e = "<" if head[:2] == b"II" else ">"
            offset = struct.unpack(e + "I", head[4:8])[0]
            n_entries = struct.unpack(e + "H", head[offset : offset + 2])[0]
            found = {}
            for k in range(n_entries):
                entry = head[offset + 2 + 12 * k : offset + 14 + 12 * k]
                tag, kind = struct.unpack(e + "HH", entry[:4])
                if tag in (256, 257):  # ImageWidth, ImageLength: SHORT (3) or LONG
                    fmt_value = e + ("H" if kind == 3 else "I")
                    found[tag] = struct.unpack(
                        fmt_value, entry[8 : 8 + struct.calcsize(fmt_value)]
                    )[0]
            if len(found) == 2:
                return found[256], found[257]
    except struct.error:  # a header cut short: the decoder will say the file is damaged
        return None
    return None
