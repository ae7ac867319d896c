"""Autosave: the session is written a moment after every change, so a crash loses nothing.

Before, the session was saved only when the window closed; a ``kill -9``, a power cut or a
crash lost everything since the last normal close. :class:`Autosaver` restarts a single-shot
timer on every Session signal (debounce: a burst of edits is one save), then builds the file's
bytes in the GUI thread (a few kilobytes: large arrays are encoded once per network) and hands
the writing, fsync included, to a short-lived thread, so a slow disk never freezes the window.
At most one write runs at a time; the file is marked ``running`` until the final save at close,
which is how the next start tells a crash from a normal end.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

from engine.i18n import _
from gui.session import Session
from gui.session_file import StateWriter

__all__ = ["DELAY_MS", "Autosaver"]

DELAY_MS = 2000  # after the last change
RETRY_MS = 250  # the previous write is still running: look again this much later
JOIN_TIMEOUT_S = 10.0


class Autosaver(QObject):
    """Saves ``session`` to ``path`` (its default file) ``delay_ms`` after the last change.

    A first save is scheduled at once: the state the window starts with (restored, then
    changed by command-line arguments) is on disk a moment later, marked as running.
    """

    def __init__(self, session: Session, path: str | Path | None = None,
                 delay_ms: int = DELAY_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.path = Path(path) if path is not None else session.default_state_path()
        self.saves = 0  # writes finished, for tests and the soak benchmark
        self._writer = StateWriter()
        self._thread: threading.Thread | None = None
        self._failures: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._last_failure = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._delay_ms = delay_ms
        self._timer.timeout.connect(self._on_timer)
        self._signals = (session.pipeline_changed, session.source_changed,
                         session.selected_layer_changed, session.selected_map_changed,
                         session.display_changed, session.presenter_changed)
        for signal in self._signals:
            signal.connect(self.schedule)
        self.schedule()

    @property
    def pending(self) -> bool:
        """A change is waiting for its save, or a write is running."""
        return self._timer.isActive() or self._writing

    @property
    def _writing(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def schedule(self, *_args) -> None:
        """Save ``delay_ms`` from now (a change restarts the wait)."""
        self._timer.start(self._delay_ms)

    def _on_timer(self) -> None:
        self._report()
        if self._writing:  # never two writers: the newer state is written after this one
            self._timer.start(RETRY_MS)
            return
        job = self._writer.job(self.session, self.path, running=True)
        self._thread = threading.Thread(target=self._write, args=(job,),
                                        name="cnn-explorer-autosave", daemon=True)
        self._thread.start()

    def _write(self, job) -> None:
        try:
            job.write()
        except (OSError, ValueError) as error:
            self._failures.put(getattr(error, "strerror", None) or str(error))
        else:
            self.saves += 1

    def _report(self) -> None:
        while not self._failures.empty():
            reason = self._failures.get()
            if reason != self._last_failure:  # a full disk is said once, not at every change
                self._last_failure = reason
                self.session.message.emit("warning", _(
                    "The session could not be autosaved to {path}: {reason}. The window keeps"
                    " working; the next change tries again.").format(path=self.path,
                                                                     reason=reason))

    def wait(self, timeout_s: float = JOIN_TIMEOUT_S) -> None:
        """Wait for a running write to finish (tests, closing)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout_s)
        self._report()

    def close(self) -> None:
        """Stop following the session and write its final state (not marked running).

        Raises OSError or ValueError when the final save fails.
        """
        self._timer.stop()
        for signal in self._signals:
            signal.disconnect(self.schedule, missing_ok=True)
        self.wait()
        self._writer.job(self.session, self.path, running=False).write()
