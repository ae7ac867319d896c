"""Image bytes to pixels: everything checked from the header before decoding, converted after.

:func:`engine.io.media.read_image` reads a file through here: the bytes of a regular file within
the memory budget, a header that names a supported format and a size within the limits, then
OpenCV's decoder, then a conversion of whatever it decoded (any depth; gray, BGR or BGRA) to
``(H, W, 3)`` uint8 RGB done in bands of rows, so that no full-size float copy is made.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from engine.i18n import _
from engine.io.budget import BudgetError, check_allocation
from engine.io.files import FileProblem, check_regular, read_regular
from engine.io.headers import SUPPORTED, decoded_bytes_per_pixel, format_name, header_size

__all__ = ["MAX_PIXELS", "MediaError", "check_header", "check_pixels", "decode", "read_file"]

MAX_PIXELS = 100_000_000
"""Images with more pixels than this are refused: at 100 megapixels one RGB frame already
needs 300 MB, and every layer's float32 maps need several times that."""


class MediaError(ValueError):
    """An image, video or camera that cannot be used, with the reason in words."""


_BAND = 1 << 20
"""Pixels converted at a time: keeps the conversions' float copies small for any image size."""


def check_pixels(name: str, width: int, height: int, max_pixels: int) -> None:
    """Refuse more than ``max_pixels`` pixels; ``name`` starts the message ("Image 'a.png'")."""
    if width * height > max_pixels:
        raise MediaError(_(
            "{name} is too large: {width} x {height} = {mp:.1f} megapixels; the limit is"
            " {limit:g} megapixels. Scale it down first.").format(
                name=name, width=width, height=height, mp=width * height / 1e6,
                limit=max_pixels / 1e6))


def _composite_on_white(bgra: np.ndarray) -> np.ndarray:
    """(H, W, 4) uint8 BGRA over white -> (H, W, 3) uint8 RGB, a band of rows at a time."""
    h, w = bgra.shape[:2]
    out = np.empty((h, w, 3), np.uint8)
    rows = max(1, _BAND // max(w, 1))
    for y in range(0, h, rows):
        part = bgra[y : y + rows]
        alpha = part[:, :, 3:4].astype(np.float32) / 255.0
        bgr = part[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
        out[y : y + rows] = np.rint(bgr[:, :, ::-1])
    return out


def _to_rgb8(decoded: np.ndarray, name: str) -> np.ndarray:
    """Convert what OpenCV decoded (any depth; gray, BGR or BGRA) to (H, W, 3) uint8 RGB."""
    if decoded.dtype == np.uint8:
        img = decoded
    elif decoded.dtype == np.uint16:
        # round(x / 257), so that 65535 -> 255 exactly; no wider copy of the image is made.
        img = cv2.convertScaleAbs(decoded, alpha=1 / 257)
    elif decoded.dtype in (np.float32, np.float64):
        # Float images (TIFF, EXR, HDR) are taken as 0..1 and clipped, like most viewers do.
        img = np.empty(decoded.shape, np.uint8)
        rows = max(1, _BAND // max(decoded.shape[1], 1))
        for y in range(0, decoded.shape[0], rows):
            part = np.clip(np.nan_to_num(decoded[y : y + rows]), 0.0, 1.0)
            img[y : y + rows] = np.rint(part * 255.0)
    else:
        raise MediaError(_("{name} uses {dtype} pixels, which this app cannot show").format(
            name=name, dtype=decoded.dtype))
    if img.ndim == 2:
        return np.ascontiguousarray(np.repeat(img[:, :, None], 3, axis=2))
    channels = img.shape[2]
    if channels == 1:
        return np.ascontiguousarray(np.repeat(img, 3, axis=2))
    if channels == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    if channels == 4:
        # Composite on white: transparent areas become white, as image viewers and browsers show
        # them, instead of whatever colour happens to be stored under alpha = 0.
        return _composite_on_white(img)
    raise MediaError(_("{name} has {n} channels; only gray, RGB and RGBA images are"
                       " supported").format(name=name, n=channels))


def read_file(p: Path, name: str) -> bytes:
    """The bytes of an image file: a regular file, not empty, within the memory budget."""
    try:
        size = check_regular(p).st_size
        check_allocation(_("reading image {name}").format(name=name), size)
        data = read_regular(p)
    except FileProblem as problem:
        raise MediaError(_("cannot open image {name}: {reason}").format(
            name=name, reason=problem.reason)) from None
    except BudgetError as error:
        raise MediaError(str(error)) from None
    if not data:
        raise MediaError(_("cannot read image {name}: the file is empty (0 bytes)").format(
            name=name))
    return data


def check_header(data: bytes, name: str, max_pixels: int) -> str:
    """Refuse, from the header alone, what is no image, damaged, too large or over budget."""
    supported = ", ".join(SUPPORTED)
    fmt = format_name(data)
    if fmt is None:
        raise MediaError(_("cannot read image {name}: it is not an image file (supported:"
                           " {formats})").format(name=name, formats=supported))
    if fmt not in SUPPORTED:
        raise MediaError(_("cannot read image {name}: it is a {fmt} image, which this app does"
                           " not read (supported: {formats})").format(
                               name=name, fmt=fmt, formats=supported))
    size = header_size(data)
    if size is None:
        raise MediaError(_("cannot read image {name}: it looks like a {fmt} file but its size"
                           " cannot be read from its header; it is probably truncated or"
                           " damaged").format(name=name, fmt=fmt))
    width, height = size
    check_pixels(_("Image {name}").format(name=name), width, height, max_pixels)
    try:
        need = width * height * (decoded_bytes_per_pixel(data) + 3)
        check_allocation(_("decoding image {name} ({width} x {height})").format(
            name=name, width=width, height=height), need)
    except BudgetError as error:
        raise MediaError(str(error)) from None
    return fmt


def decode(data: bytes, fmt: str, name: str, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode checked image bytes (see :func:`check_header`) to (H, W, 3) uint8 RGB."""
    # IMREAD_UNCHANGED keeps alpha and 16 bits but skips EXIF orientation, which matters for
    # phone photos (JPEG, which has neither alpha nor 16 bits in practice).
    flags = cv2.IMREAD_COLOR if fmt == "JPEG" else cv2.IMREAD_UNCHANGED
    try:
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error:
        decoded = None
    if decoded is None or decoded.size == 0:
        raise MediaError(_("cannot read image {name}: it looks like a {fmt} file but cannot be"
                           " decoded; it is probably truncated or damaged").format(
                               name=name, fmt=fmt))
    label = _("Image {name}").format(name=name)
    check_pixels(label, decoded.shape[1], decoded.shape[0], max_pixels)
    return _to_rgb8(decoded, label)
