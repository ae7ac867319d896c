"""Page Down / Page Up for the lesson panel, as a presentation clicker sends them."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication, QWidget

__all__ = ["PageKeys"]

_PAGE_KEYS = (Qt.Key.Key_PageDown, Qt.Key.Key_PageUp)


class PageKeys(QObject):
    """Page Down / Page Up go to the next / previous step while a lesson is on show, wherever
    the focus is in the main window (a clicker sends them; they beat the layer shortcuts and
    the widgets that would scroll with them). Dialogs keep their own keys."""

    def __init__(self, panel) -> None:
        super().__init__(panel)
        self.panel = panel

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            return False
        if event.key() not in _PAGE_KEYS or event.modifiers() not in (
                Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier):
            return False
        if not self.panel.active or not self._in_main_window(obj):
            return False
        if kind == QEvent.Type.ShortcutOverride:
            event.accept()  # no shortcut takes the key: it comes back as a key press
            return True
        if event.key() == Qt.Key.Key_PageDown:
            self.panel.next()
        else:
            self.panel.previous()
        return True

    def _in_main_window(self, obj: QObject) -> bool:
        window = self.panel.main_window() or self.panel.window()
        if QApplication.activeModalWidget() is not None:
            return False
        if isinstance(obj, QWidget):
            return obj.window() is window
        return obj is window.windowHandle()
