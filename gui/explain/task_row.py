"""A row of buttons that start a long job, its Cancel button and its progress bar."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QWidget

from engine.i18n import _

__all__ = ["TaskRow", "button"]


def button(text: str, tip: str, slot) -> QPushButton:
    """A push button with its tooltip, connected to ``slot``."""
    b = QPushButton(text)
    b.setToolTip(tip)
    b.clicked.connect(slot)
    return b


class TaskRow(QWidget):
    """``[start buttons] [Cancel] [progress]`` for one :class:`~gui.explain.workers.TaskRunner`.

    While a job runs the start buttons are off, Cancel calls the runner's ``cancel`` (the job's
    ``stop()`` then says True) and the bar shows the newest progress.
    """

    def __init__(self, runner, starts: list[QPushButton], parent=None):
        super().__init__(parent)
        self.runner = runner
        self.starts = starts
        self.cancel = button(_("Cancel"), _("Stop the computation"), runner.cancel)
        self.progress = QProgressBar()
        self.progress.setToolTip(_("How much of the computation is done"))
        self.progress.setTextVisible(False)
        self.progress.setMinimumWidth(40)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for b in starts:
            row.addWidget(b)
        row.addWidget(self.cancel)
        row.addWidget(self.progress, 1)
        self.set_running(False)

    def set_running(self, running: bool) -> None:
        """Started (the bar goes busy until the first progress) or ended."""
        self.cancel.setEnabled(running)
        for b in self.starts:
            b.setEnabled(not running)
        self.progress.setRange(0, 0 if running else 1)
        self.progress.setValue(0)

    def set_progress(self, done: int, total: int) -> None:
        """``done`` of ``total``; a total of 0 keeps the bar busy (a length not known)."""
        self.progress.setRange(0, max(int(total), 0))
        self.progress.setValue(int(done))
