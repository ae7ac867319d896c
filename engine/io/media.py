"""Images, video files and cameras in, numpy arrays out.

This is the only module of the project that imports OpenCV. Everything it returns is a
C-contiguous ``(H, W, 3)`` uint8 RGB array (or the engine's ``(C, H, W)`` float32 input), and
everything that can go wrong raises :class:`MediaError` with a message a user can act on.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import cv2
import numpy as np

from engine.io.color import LUMA
from engine.io.headers import format_name, header_size

MAX_PIXELS = 100_000_000
"""Images with more pixels than this are refused: at 100 megapixels one RGB frame already
needs 300 MB, and every layer's float32 maps need several times that."""

"""ITU-R BT.601 luma weights for R, G, B: the gray image the lecture and OpenCV use."""


class MediaError(ValueError):
    """An image, video or camera that cannot be used, with the reason in words."""


def _check_size(name: str, width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise MediaError(
            f"{name} is too large: {width} x {height} = {width * height / 1e6:.1f} megapixels; "
            f"the limit is {max_pixels / 1e6:g} megapixels. Scale it down first."
        )


def _to_rgb8(decoded: np.ndarray, name: str) -> np.ndarray:
    """Convert what OpenCV decoded (any depth; gray, BGR or BGRA) to (H, W, 3) uint8 RGB."""
    if decoded.dtype == np.uint8:
        img = decoded
    elif decoded.dtype == np.uint16:
        # 65535 / 257 = 255 exactly, so white stays white; + 128 rounds instead of truncating.
        img = ((decoded.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif decoded.dtype in (np.float32, np.float64):
        # Float images (TIFF, EXR, HDR) are taken as 0..1 and clipped, like most viewers do.
        img = np.rint(np.clip(np.nan_to_num(decoded), 0.0, 1.0) * 255.0).astype(np.uint8)
    else:
        raise MediaError(f"{name} uses {decoded.dtype} pixels, which this app cannot show")
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
        alpha = img[:, :, 3:4].astype(np.float32) / 255.0
        bgr = img[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
        return cv2.cvtColor(np.rint(bgr).astype(np.uint8), cv2.COLOR_BGR2RGB)
    raise MediaError(
        f"{name} has {channels} channels; only gray, RGB and RGBA images are supported"
    )


def read_image(path: str | os.PathLike, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read an image file as an (H, W, 3) uint8 RGB array.

    PNG, JPEG, BMP, TIFF and WebP are read (and whatever else OpenCV decodes). Gray images are
    repeated into three equal channels; RGBA images are composited on a white background (the
    alpha channel is not kept); 16-bit images are scaled to 8 bits (65535 -> 255); JPEG EXIF
    orientation is applied. Non-ASCII paths work.

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
        The file is missing, a folder, empty, not an image, truncated or damaged, or too large.

    Examples
    --------
    >>> from assets import asset_path
    >>> read_image(asset_path("samples", "shapes.png")).shape
    (480, 640, 3)
    """
    p = Path(path)
    name = f"'{p}'"
    if not p.exists():
        raise MediaError(f"cannot open image {name}: the file does not exist")
    if p.is_dir():
        raise MediaError(f"cannot open image {name}: it is a folder, not a file")
    try:
        buf = np.fromfile(p, dtype=np.uint8)  # then imdecode: cv2.imread fails on non-ASCII paths
    except OSError as exc:
        raise MediaError(f"cannot read image {name}: {exc.strerror or exc}") from None
    if buf.size == 0:
        raise MediaError(f"cannot read image {name}: the file is empty (0 bytes)")
    head = buf[: 1 << 20].tobytes()
    fmt = format_name(head)
    size = header_size(head)
    if size is not None:
        _check_size(f"Image {name}", size[0], size[1], max_pixels)
    # IMREAD_UNCHANGED keeps alpha and 16 bits but skips EXIF orientation, which matters for
    # phone photos (JPEG, which has neither alpha nor 16 bits in practice).
    flags = cv2.IMREAD_COLOR if fmt == "JPEG" else cv2.IMREAD_UNCHANGED
    try:
        decoded = cv2.imdecode(buf, flags)
    except cv2.error:
        decoded = None
    if decoded is None or decoded.size == 0:
        if fmt is not None:
            raise MediaError(
                f"cannot read image {name}: it looks like a {fmt} file but cannot be decoded; "
                "it is probably truncated or damaged"
            )
        raise MediaError(
            f"cannot read image {name}: it is not an image file "
            "(supported: PNG, JPEG, BMP, TIFF, WebP)"
        )
    _check_size(f"Image {name}", decoded.shape[1], decoded.shape[0], max_pixels)
    return _to_rgb8(decoded, f"Image {name}")


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
            f"cannot write {p.name}: expected an (H, W) or (H, W, 3) uint8 image, "
            f"got shape {image.shape} of {image.dtype}"
        )
    bgr = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    try:
        ok, encoded = cv2.imencode(p.suffix or ".png", bgr)
    except cv2.error:
        ok = False
    if not ok:
        raise MediaError(f"cannot write {p.name}: unknown image type '{p.suffix}'")
    try:
        encoded.tofile(p)  # tofile, not imwrite: works for non-ASCII paths
    except OSError as exc:
        raise MediaError(f"cannot write '{p}': {exc.strerror or exc}") from None


def to_input(image: np.ndarray, input_spec=None) -> np.ndarray:
    """Turn an (H, W, 3) uint8 RGB image into the engine's (C, H, W) float32 input in [0, 1].

    Parameters
    ----------
    image : numpy.ndarray
        (H, W, 3) uint8 RGB, or (H, W) uint8 gray.
    input_spec : InputSpec, optional
        Uses ``channels`` and ``color``. ``color == "gray"`` (or ``channels == 1``) gives the
        luma 0.299 R + 0.587 G + 0.114 B, repeated ``channels`` times; "rgb" with 3 channels
        gives R, G, B. None means RGB.

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
        raise MediaError(f"expected an (H, W, 3) RGB or (H, W) gray image, got shape {image.shape}")
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
    if channels != 3:
        raise MediaError(
            f"the pipeline expects {channels} input channels; an image has 3 (RGB) or 1 (gray)"
        )
    out = np.empty((3, h, w), dtype=np.float32)
    np.multiply(image.transpose(2, 0, 1), scale, out=out)  # (3, H, W), contiguous
    return out


def resize_longest(image: np.ndarray, side: int | None) -> np.ndarray:
    """Scale an image so that its longest side is ``side`` pixels, keeping its aspect ratio.

    ``side=None`` (or the image already that size) returns the image unchanged. Shrinking uses
    area averaging (no aliasing), enlarging bilinear interpolation.
    """
    if side is None:
        return image
    if int(side) < 1:
        raise MediaError(f"the working resolution must be at least 1 pixel, got {side}")
    h, w = image.shape[:2]
    if max(h, w) == side:
        return image
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # cv2 wants (width, height)
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, size, interpolation=interp)


def resize_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Center-crop an image to the aspect ratio ``width / height``, then resize it to that size.

    This is how classifiers are usually fed: nothing is stretched; the borders are cut.
    """
    h, w = image.shape[:2]
    if (h, w) == (height, width):
        return image
    if w * height > h * width:  # too wide: cut left and right
        cw = max(1, round(h * width / height))
        x0 = (w - cw) // 2
        image = image[:, x0 : x0 + cw]
    else:  # too tall: cut top and bottom
        ch = max(1, round(w * height / width))
        y0 = (h - ch) // 2
        image = image[y0 : y0 + ch]
    interp = cv2.INTER_AREA if image.shape[0] > height else cv2.INTER_LINEAR
    return cv2.resize(np.ascontiguousarray(image), (width, height), interpolation=interp)


class VideoReader:
    """Frames from a video file or a camera, as (H, W, 3) uint8 RGB arrays.

    Parameters
    ----------
    source : str, path-like or int
        A video file, or a camera index (0 is the first camera).
    loop : bool
        For files: start again from the first frame at the end (default True).

    Examples
    --------
    Read the first frame of a file (a camera works the same with its index)::

        with VideoReader("clip.mp4") as video:
            frame = video.read()   # (H, W, 3) uint8 RGB, or None when a camera stops
    """

    def __init__(self, source: str | os.PathLike | int, loop: bool = True) -> None:
        self.is_camera = isinstance(source, int | np.integer)
        self.loop = loop
        self.source = int(source) if self.is_camera else str(source)
        self._lock = threading.Lock()  # read() runs in a capture thread, close() in the GUI's
        if self.is_camera:
            if self.source < 0:
                raise MediaError(f"camera index must be 0 or more, got {self.source}")
        else:
            p = Path(self.source)
            if not p.exists():
                raise MediaError(f"cannot open video '{p}': the file does not exist")
            if p.is_dir():
                raise MediaError(f"cannot open video '{p}': it is a folder, not a file")
        self._cap = self._open()

    def _open(self) -> cv2.VideoCapture:
        cap = cv2.VideoCapture(self.source)
        if not cap.isOpened():
            cap.release()
            if self.is_camera:
                raise MediaError(
                    f"camera {self.source} cannot be opened: it is not connected, "
                    "or another program is using it"
                )
            raise MediaError(f"cannot open video '{self.source}': not a video file OpenCV can read")
        return cap

    @property
    def fps(self) -> float:
        """Frames per second the source declares; 30.0 when it does not say."""
        fps = self._cap.get(cv2.CAP_PROP_FPS) if self._cap is not None else 0.0
        return float(fps) if 0.0 < fps < 1000.0 else 30.0

    @property
    def frame_count(self) -> int:
        """Number of frames in a file; 0 for a camera or when the file does not say."""
        if self.is_camera or self._cap is None:
            return 0
        n = self._cap.get(cv2.CAP_PROP_FRAME_COUNT)
        return int(n) if 0 < n < 1e12 else 0  # some containers report garbage such as -2^63

    def read(self) -> np.ndarray | None:
        """Return the next frame, or None when a file ended (loop=False), a camera stopped
        delivering, or the reader is closed."""
        with self._lock:
            if self._cap is None:
                return None
            ok, frame = self._cap.read()
            if not ok and self.loop and not self.is_camera:
                # Seek back to the start; some containers cannot seek, then reopen the file.
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = self._cap.read()
                if not ok:
                    self._cap.release()
                    self._cap = None  # stays closed if the file vanished and _open raises
                    self._cap = self._open()
                    ok, frame = self._cap.read()
            if not ok or frame is None:
                return None
            if frame.ndim == 2:
                return cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
            return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        """Release the file or camera; later reads return None. Safe to call twice."""
        with self._lock:
            if self._cap is not None:
                self._cap.release()
                self._cap = None

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        kind = "camera" if self.is_camera else "file"
        return f"VideoReader({kind} {self.source!r}, loop={self.loop})"


def list_cameras(max_index: int = 4) -> list[int]:
    """Return the camera indices from 0 to ``max_index`` (inclusive) that open."""
    found = []
    for index in range(max_index + 1):
        cap = cv2.VideoCapture(index)
        if cap.isOpened():
            found.append(index)
        cap.release()
    return found


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
