"""A panel that follows the live frames at a readable rate instead of at every frame.

The lecture panels (receptive field, channel mixing) and the predictions panel's output-map
page redraw several pictures, grids and sentences per frame: tens of milliseconds of the
window's thread at 30 frames a second, for figures nobody reads 30 times a second. A
:class:`LiveFollow` lets such a panel redraw at most every ``every_s`` seconds while frames keep
coming, and always draws the newest frame in the end (a single-shot timer catches the last one
when the stream pauses). A hidden panel does nothing; its ``showEvent`` catches up.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

__all__ = ["FOLLOW_EVERY_S", "LiveFollow"]

FOLLOW_EVERY_S = 0.1
"""Ten redraws a second: the values still move with the picture, at a third of the work."""


class LiveFollow:
    """Calls ``redraw()`` (a method of ``owner``) for new frames, at most once every
    ``every_s`` seconds, while ``owner`` is visible.

    Both are held weakly: the owner keeps its LiveFollow, and a cycle back to the owner would
    leave the panel to Python's cyclic collector, which may then delete it in the middle of a
    paint (a crash seen in the tests).
    """

    def __init__(self, owner: QWidget, redraw: Callable[[], None],
                 every_s: float = FOLLOW_EVERY_S) -> None:
        self._owner, self._redraw = weakref.ref(owner), weakref.WeakMethod(redraw)
        self.every_s = every_s
        self._last = -every_s  # time.monotonic() of the last redraw
        self._timer = QTimer(owner)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._due)

    def frame(self) -> None:
        """A new frame arrived: redraw now, or when the interval is over."""
        owner = self._owner()
        if owner is None or not owner.isVisible():
            return
        wait = self._last + self.every_s - time.monotonic()
        if wait <= 0:
            self._due()
        elif not self._timer.isActive():
            self._timer.start(int(wait * 1000) + 1)

    def _due(self) -> None:
        owner, redraw = self._owner(), self._redraw()
        if owner is not None and redraw is not None and owner.isVisible():
            self._last = time.monotonic()
            redraw()
