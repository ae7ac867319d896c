"""Images, video files and cameras in, numpy arrays out.

With :mod:`engine.io.decode` and :mod:`engine.io.video` (whose names it re-exports), this is the
part of the project that imports OpenCV. Everything it returns is a C-contiguous ``(H, W, 3)``
uint8 RGB array (or the engine's ``(C, H, W)`` float32 input), and everything that can go wrong
raises :class:`MediaError` with a message a user can act on.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from engine.i18n import _
from engine.io.budget import BudgetError, check_allocation
from engine.io.color import LUMA
from engine.io.decode import MAX_PIXELS, MediaError, check_header, decode, read_file
from engine.io.video import VideoReader, list_cameras

__all__ = ["LUMA", "MAX_PIXELS", "MediaError", "VideoReader", "check_resize", "list_cameras",
           "longest_side_size", "quiet_opencv", "read_image", "resize_longest", "resize_to",
           "to_input", "write_image"]

MAX_SIDE = 1 << 16
"""The longest side an image may be scaled to; a number this large never reaches OpenCV."""


def read_image(path: str | os.PathLike, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read an image file as an (H, W, 3) uint8 RGB array.

    PNG, JPEG, GIF (its first frame), BMP, TIFF and WebP are read: the formats whose size the
    header tells (:mod:`engine.io.headers`), so that a file declaring a huge image is refused
    before any pixel is allocated. Gray images are repeated into three equal channels; RGBA
    images are composited on a white background (the alpha channel is not kept); 16-bit images
    are scaled to 8 bits (65535 -> 255); JPEG EXIF orientation is applied. Non-ASCII paths work.
    Only regular files are opened (not pipes or devices).

    Parameters
    ----------
    path : str or path-like
        The image file.
    max_pixels : int
        Refuse images with more pixels than this (default 100 megapixels).

    Returns
    -------
    numpy.ndarray
        (H, W, 3) uint8, C-contiguous, RGB order.

    Raises
    ------
    MediaError
        The file is missing, not a regular file, empty, not an image, truncated or damaged, too
        large, or would need more memory than the budget (:mod:`engine.io.budget`).

    Examples
    --------
    >>> from assets import asset_path
    >>> read_image(asset_path("samples", "shapes.png")).shape
    (480, 640, 3)
    """
    p = Path(path)
    name = f"'{p}'"
    data = read_file(p, name)
    fmt = check_header(data, name, max_pixels)
    return decode(data, fmt, name, max_pixels)


def write_image(path: str | os.PathLike, image: np.ndarray) -> None:
    """Write an (H, W, 3) RGB or (H, W) gray uint8 image; the format follows the extension.

    Raises
    ------
    MediaError
        The array is not uint8 gray/RGB, the extension is unknown, or the file cannot be written.
    """
    p = Path(path)
    image = np.asarray(image)
    if image.dtype != np.uint8 or not (
        image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)
    ):
        raise MediaError(
            _("cannot write {name}: expected an (H, W) or (H, W, 3) uint8 image, "
              "got shape {shape} of {dtype}").format(
                name=p.name, shape=image.shape, dtype=image.dtype)
        )
    bgr = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    try:
        ok, encoded = cv2.imencode(p.suffix or ".png", bgr)
    except cv2.error:
        ok = False
    if not ok:
        raise MediaError(_("cannot write {name}: unknown image type '{suffix}'").format(
            name=p.name, suffix=p.suffix))
    try:
        encoded.tofile(p)  # tofile, not imwrite: works for non-ASCII paths
    except OSError as exc:
        raise MediaError(_("cannot write '{p}': {reason}").format(
            p=p, reason=exc.strerror or exc)) from None


def to_input(image: np.ndarray, input_spec=None) -> np.ndarray:
    """Turn an (H, W, 3) uint8 RGB image into the engine's (C, H, W) float32 input in [0, 1].

    Parameters
    ----------
    image : numpy.ndarray
        (H, W, 3) uint8 RGB, or (H, W) uint8 gray.
    input_spec : InputSpec, optional
        Uses ``channels`` and ``color``. ``color == "gray"`` (or ``channels == 1``) gives the
        luma 0.299 R + 0.587 G + 0.114 B, repeated ``channels`` times; "rgb" with 3 channels
        gives R, G, B; "none" (any other channel count) gives R, G, B, R, G, ... None means
        RGB.

    Examples
    --------
    >>> img = np.full((2, 4, 3), 255, np.uint8)
    >>> to_input(img).shape
    (3, 2, 4)
    """
    channels = int(getattr(input_spec, "channels", 3))
    color = getattr(input_spec, "color", "rgb")
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3):
        raise MediaError(_("expected an (H, W, 3) RGB or (H, W) gray image, got shape "
                           "{shape}").format(shape=image.shape))
    h, w = image.shape[:2]
    scale = np.float32(1.0 / 255.0)
    if color == "gray" or channels == 1 or image.shape[2] == 1:
        if image.shape[2] == 3:
            gray = image.reshape(-1, 3).astype(np.float32) @ (LUMA * scale)  # (H*W,)
        else:
            gray = image.reshape(-1).astype(np.float32) * scale
        out = np.empty((channels, h, w), dtype=np.float32)
        out[:] = gray.reshape(1, h, w)
        return out
    if color == "none":  # a network of C planes (not a picture): R, G, B, R, ... as a stand-in
        planes = image.transpose(2, 0, 1)[np.arange(channels) % 3]  # (C, H, W)
        return np.multiply(planes, scale, dtype=np.float32)
    if channels != 3:
        raise MediaError(
            _("the pipeline expects {channels} input channels; an image has 3 (RGB) or 1 "
              "(gray)").format(channels=channels)
        )
    out = np.empty((3, h, w), dtype=np.float32)
    np.multiply(image.transpose(2, 0, 1), scale, out=out)  # (3, H, W), contiguous
    return out


def longest_side_size(height: int, width: int, side: int) -> tuple[int, int]:
    """The (height, width) :func:`resize_longest` gives a ``height`` x ``width`` image.

    >>> longest_side_size(480, 640, 64)
    (48, 64)
    """
    if int(side) < 1:
        raise MediaError(_("the working resolution must be at least 1 pixel, got {side}").format(
            side=side))
    if int(side) > MAX_SIDE:
        text = str(side) if len(str(side)) <= 12 else str(side)[:9] + "..."
        raise MediaError(_("the working resolution must be at most {limit} pixels, got {side}"
                           ).format(limit=MAX_SIDE, side=text))
    scale = side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def check_resize(height: int, width: int, channels: int = 3, max_pixels: int = MAX_PIXELS,
                 ) -> None:
    """Refuse a resize target that is too large or over the memory budget, before OpenCV tries.

    Raises
    ------
    MediaError
        More than ``max_pixels`` pixels, or more bytes than :func:`engine.io.budget.memory_budget`.
    """
    if height * width > max_pixels:
        raise MediaError(_(
            "scaling the image to {width} x {height} = {mp:.1f} megapixels is too large; the"
            " limit is {limit:g} megapixels").format(width=width, height=height,
                                                     mp=width * height / 1e6,
                                                     limit=max_pixels / 1e6))
    try:
        check_allocation(_("scaling the image to {width} x {height}").format(
            width=width, height=height), height * width * channels)
    except BudgetError as error:
        raise MediaError(str(error)) from None


def _resize(image: np.ndarray, height: int, width: int, interp: int) -> np.ndarray:
    check_resize(height, width, image.shape[2] if image.ndim == 3 else 1)
    try:
        return cv2.resize(np.ascontiguousarray(image), (width, height), interpolation=interp)
    except cv2.error as error:  # "Insufficient memory" and the like: a message, no traceback
        lines = [line for line in str(error).splitlines() if line.strip()]
        raise MediaError(_("cannot scale the image to {width} x {height}: {reason}").format(
            width=width, height=height, reason=lines[-1].strip() if lines else "")) from None


def resize_longest(image: np.ndarray, side: int | None) -> np.ndarray:
    """Scale an image so that its longest side is ``side`` pixels, keeping its aspect ratio.

    ``side=None`` (or the image already that size) returns the image unchanged. Shrinking uses
    area averaging (no aliasing), enlarging bilinear interpolation. A target over
    :data:`MAX_PIXELS` or the memory budget raises :class:`MediaError` before anything is
    allocated.
    """
    if side is None:
        return image
    h, w = image.shape[:2]
    height, width = longest_side_size(h, w, int(side))
    if max(h, w) == side:
        return image
    interp = cv2.INTER_AREA if side < max(h, w) else cv2.INTER_LINEAR
    return _resize(image, height, width, interp)


def resize_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Center-crop an image to the aspect ratio ``width / height``, then resize it to that size.

    This is how classifiers are usually fed: nothing is stretched; the borders are cut. A target
    over :data:`MAX_PIXELS` or the memory budget raises :class:`MediaError` first.
    """
    h, w = image.shape[:2]
    if (h, w) == (height, width):
        return image
    check_resize(height, width, image.shape[2] if image.ndim == 3 else 1)
    if w * height > h * width:  # too wide: cut left and right
        cw = max(1, round(h * width / height))
        x0 = (w - cw) // 2
        image = image[:, x0 : x0 + cw]
    else:  # too tall: cut top and bottom
        ch = max(1, round(w * height / width))
        y0 = (h - ch) // 2
        image = image[y0 : y0 + ch]
    interp = cv2.INTER_AREA if image.shape[0] > height else cv2.INTER_LINEAR
    return _resize(image, height, width, interp)


def quiet_opencv() -> bool:
    """Silence OpenCV's own log (process-wide); True when it was done.

    OpenCV prints a warning for every file or camera it cannot open; the app turns those cases
    into :class:`MediaError` messages, so its log would only repeat them. Called by
    :func:`engine.configure`, never at import. ``OPENCV_LOG_LEVEL``, when set, wins.
    """
    if "OPENCV_LOG_LEVEL" in os.environ:
        return False
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    return True
