"""Python's cyclic garbage collector kept off the window's large, long-lived heap.

A full collection (generation 2) walks every container object the process holds: the window's
widgets, pyqtgraph's items, the pipeline and the panels' state, several hundred thousand
objects. In a 5-minute soak one such collection ran 132 ms in the GUI thread, in the middle of
a paint: a stall of its own (docs/benchmarks.md). After start-up, :func:`settle_heap` collects
once and freezes what is left (``gc.freeze``): later collections walk only what was made since.

A frozen object that is later dropped inside a reference cycle is never collected; the one
large thing the user replaces is the pipeline (and what was built for it), so a new pipeline
settles the heap again, after its first frame: unfreeze, one collection, freeze.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

__all__ = ["HeapSettler", "settle_heap"]


def settle_heap() -> None:
    """Collect everything once, then freeze the survivors out of later collections."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class HeapSettler(QObject):
    """Settles the heap after the first frame shown, and again after the first frame of every
    new pipeline (the panels have built and drawn for it by then)."""

    def __init__(self, session, live, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._live = live
        self._waiting = True
        self.settled = 0  # how many times the heap was settled
        live.resultUpdated.connect(self._on_result)
        session.pipeline_changed.connect(self._on_pipeline)

    def _on_pipeline(self, _pipeline) -> None:
        self._waiting = True

    def _on_result(self, _result) -> None:
        if self._waiting:
            self._waiting = False
            QTimer.singleShot(0, self._settle)  # after every panel has drawn the frame

    def _settle(self) -> None:
        settle_heap()
        self.settled += 1
