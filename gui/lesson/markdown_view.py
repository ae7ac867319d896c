"""The view of a step's Markdown text, closed to the outside world."""

from __future__ import annotations

from PySide6.QtWidgets import QTextBrowser, QWidget

__all__ = ["ClosedTextBrowser"]


class ClosedTextBrowser(QTextBrowser):
    """A text browser that follows no link and loads no picture or file: a lesson's text
    cannot make the window read anything (only files a step names, inside its folder)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)

    def loadResource(self, _kind, _url):  # Qt asks here for every picture and file
        return None
