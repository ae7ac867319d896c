"""Help windows: the keyboard shortcuts (read from the window's own actions) and About."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

ABOUT_TEXT = (
    "<h3>CNN Explorer</h3>"
    "<p>See what a convolutional network does to an image: its kernels, the size of every "
    "layer's output, its parameters and its activation maps, live on your own image, video or "
    "webcam.</p>"
    "<p>Every number is computed by a small numpy engine that you can read, layer by layer.</p>"
)


_NAMES = {".": "Period (.)", ",": "Comma (,)"}  # a lone dot is easy to miss in a table


def shortcut_rows(menus: list[QMenu]) -> list[tuple[str, str, str]]:
    """Every action with a shortcut in ``menus`` (and their submenus): (menu, action, keys)."""
    rows: list[tuple[str, str, str]] = []

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                walk(action.menu(), f"{path} > {action.menu().title().replace('&', '')}")
                continue
            keys = [
                k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()
            ]
            if keys:
                shown = ", ".join(_NAMES.get(k, k) for k in keys)
                rows.append((path, action.text().replace("&", ""), shown))

    for menu in menus:
        walk(menu, menu.title().replace("&", ""))
    return rows


class ShortcutsWindow(QDialog):
    """A table of every keyboard shortcut, built from the menus so it is never out of date."""

    def __init__(self, menus: list[QMenu], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(menus)
        self.table = QTableWidget(len(rows), 3, self)
        self.table.setHorizontalHeaderLabels(["Menu", "Action", "Keys"])
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Shortcuts work anywhere in the window, except while typing."))
        layout.addWidget(self.table)
        self.resize(520, 660)


def show_about(parent: QWidget) -> None:
    """The About box."""
    QMessageBox.about(parent, "About CNN Explorer", ABOUT_TEXT)
