"""Keep a scaled window on its screen: panels stacked taller than the screen become tabs.

At 1.5x on a 1280 x 720 projector a column such as the convolution player above the activation
maps needs more height than the screen has; Qt would then make the window taller than the
screen, cutting off its bottom. :func:`fit_to_screen` finds the stacked column that needs the
most height and puts its lower panels behind the top one as tabs, until the window fits.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDockWidget, QMainWindow

__all__ = ["fit_to_screen", "room"]


def room(window: QMainWindow) -> int:
    """The height the window may take: its screen's free height, or less when the window has
    a maximum height (tests emulate a 720-pixel screen so)."""
    screen = window.screen()
    height = screen.availableGeometry().height() if screen is not None else 720
    return min(height, window.maximumHeight())


def _columns(window: QMainWindow) -> list[list[QDockWidget]]:
    """The docked, shown panels grouped by the column they are stacked in, top to bottom."""
    groups: dict[tuple[int, int], list[QDockWidget]] = {}
    for dock in window.findChildren(QDockWidget):
        if dock.isFloating() or not dock.isVisible() or dock.visibleRegion().isEmpty():
            continue
        geometry = dock.geometry()
        groups.setdefault((geometry.left(), geometry.width()), []).append(dock)
    return [sorted(group, key=lambda d: d.y()) for group in groups.values() if len(group) > 1]


def fit_to_screen(window: QMainWindow, height: int | None = None) -> list[QDockWidget]:
    """Tabify stacked panels until the window's minimum height fits ``height`` (default:
    :func:`room`); return the panels that became tabs."""
    height = room(window) if height is None else height
    tabbed: list[QDockWidget] = []
    for _ in range(8):  # a few columns at most; each pass removes one stack
        if window.minimumSizeHint().height() <= height:
            break
        columns = _columns(window)
        if not columns:
            break
        column = max(columns, key=lambda c: sum(d.minimumSizeHint().height() for d in c))
        top = column[0]
        for dock in column[1:]:
            window.tabifyDockWidget(top, dock)
            tabbed.append(dock)
        top.raise_()
        window.layout().activate()
    return tabbed
