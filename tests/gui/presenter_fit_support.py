"""Finding text cut off in a window: labels and buttons smaller than their text needs."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractButton, QComboBox, QDockWidget, QLabel, QWidget


def cut_off(window: QWidget) -> list[str]:
    """Labels and buttons in the visible panels of ``window`` whose text does not fit."""
    problems = []
    for dock in window.findChildren(QDockWidget):
        if not dock.isVisible() or dock.visibleRegion().isEmpty():
            continue
        for widget in dock.widget().findChildren(QWidget):
            if not widget.isVisible() or widget.visibleRegion().isEmpty():
                continue
            problem = _problem(widget)
            if problem:
                name = f"{dock.objectName()}/{type(widget).__name__}"
                problems.append(f"{name} {problem}")
    return problems


def _problem(widget: QWidget) -> str:
    size = widget.size()
    if isinstance(widget, QLabel) and widget.text():
        if widget.wordWrap():
            need = widget.heightForWidth(widget.width())
            if need > size.height() + 1:
                return f"{widget.text()[:40]!r}: {size.height()} px high, needs {need}"
            return ""
        hint = widget.minimumSizeHint()
        if hint.width() > size.width() + 1 or hint.height() > size.height() + 1:
            return (f"{widget.text()[:40]!r}: {size.width()}x{size.height()}, needs "
                    f"{hint.width()}x{hint.height()}")
    elif isinstance(widget, QAbstractButton) and widget.text():
        hint = widget.sizeHint()
        if hint.width() > size.width() + 1 or hint.height() > size.height() + 1:
            return (f"{widget.text()[:40]!r}: {size.width()}x{size.height()}, needs "
                    f"{hint.width()}x{hint.height()}")
    elif isinstance(widget, QComboBox) and widget.minimumSizeHint().height() > size.height() + 1:
        return f"combo box {size.height()} px high, needs {widget.minimumSizeHint().height()}"
    return ""
