"""Frames from video files and cameras, as (H, W, 3) uint8 RGB arrays.

Only regular files are opened (a FIFO named ``clip.mp4`` would block the capture thread), and a
video whose frames would be larger than :data:`engine.io.decode.MAX_PIXELS` or the memory budget
is refused when it is opened, before its first frame is decoded.
"""

from __future__ import annotations

import os
import threading

import cv2
import numpy as np

from engine.i18n import _
from engine.io.budget import BudgetError, check_allocation
from engine.io.decode import MAX_PIXELS, MediaError, check_pixels
from engine.io.files import FileProblem, check_regular

__all__ = ["VideoReader", "list_cameras"]


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
                raise MediaError(_("camera index must be 0 or more, got {index}").format(
                    index=self.source))
        else:
            try:
                check_regular(self.source)
            except FileProblem as problem:
                raise MediaError(_("cannot open video '{path}': {reason}").format(
                    path=self.source, reason=problem.reason)) from None
        self._cap = self._open()

    def _open(self) -> cv2.VideoCapture:
        cap = cv2.VideoCapture(self.source)
        if not cap.isOpened():
            cap.release()
            if self.is_camera:
                raise MediaError(_("camera {index} cannot be opened: it is not connected, or"
                                   " another program is using it").format(index=self.source))
            raise MediaError(_("cannot open video '{path}': not a video file OpenCV can"
                               " read").format(path=self.source))
        try:
            self._check_frame_size(cap)
        except MediaError:
            cap.release()
            raise
        return cap

    def _check_frame_size(self, cap: cv2.VideoCapture) -> None:
        """Refuse frames over the pixel limit or the budget before the first is decoded."""
        width = int(max(0.0, min(cap.get(cv2.CAP_PROP_FRAME_WIDTH), 1e9)))
        height = int(max(0.0, min(cap.get(cv2.CAP_PROP_FRAME_HEIGHT), 1e9)))
        what = _("camera {index}").format(index=self.source) if self.is_camera else _(
            "Video '{path}'").format(path=self.source)
        check_pixels(what, width, height, MAX_PIXELS)
        try:  # the decoder's frame, its BGR copy and the RGB frame handed out
            check_allocation(_("reading frames of {what}").format(what=what), width * height * 9)
        except BudgetError as error:
            raise MediaError(str(error)) from None

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
