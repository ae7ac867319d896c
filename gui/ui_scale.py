"""One scale for the whole interface: the application font, and a factor for pixel sizes.

Presenter mode and View > Zoom (Ctrl+= / Ctrl+- / Ctrl+0) change one number, the interface
scale. :func:`apply_scale` first stores it (:func:`factor`, :func:`px` read it), then sets the
application font to the start-up font times the factor. Qt sends every widget a FontChange
and lays it out again, so text, table rows, headers, buttons, and every size a widget computes
from its font metrics or from :func:`px` in ``sizeHint`` follow by themselves. The few sizes
that are set once in pixels (``setFixedSize``, a minimum width, a pyqtgraph label's font or a
pen) are set in a function registered with :func:`follow`, which runs again after each change.

Presenter mode also asks for a pointer highlight: :func:`presenting` tells the views to draw
the sliding window, the hovered cell and the selected map with :func:`outline_pen` (thicker,
high contrast).
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QPen
from PySide6.QtWidgets import QApplication, QTableView, QWidget

__all__ = ["HIGHLIGHT", "MAX_FACTOR", "MIN_FACTOR", "apply_scale", "factor", "follow",
           "outline_pen", "presenting", "px", "scale_rows", "scaled", "scaled_font", "set_font"]

MIN_FACTOR, MAX_FACTOR = 0.75, 3.0
HIGHLIGHT = QColor(255, 0, 170)  # presenter outlines: magenta reads on maps, cells and photos
HALO = QColor(0, 0, 0)  # drawn under the outline, so it stands out on light and dark alike

_factor = 1.0
_presenting = False
_base_font: QFont | None = None  # the application font before any scaling


# (widget, refresh) pairs held weakly: a closed panel drops out by itself.
_followers: list[tuple[weakref.ref, weakref.ref]] = []


def factor() -> float:
    """The interface scale now: 1.0 at normal size, 1.5 or 2.0 in presenter mode."""
    return _factor


def presenting() -> bool:
    """True in presenter mode: views draw their pointer highlights thick and bright."""
    return _presenting


def px(size: float) -> int:
    """A size given in pixels at normal scale, in pixels at the current scale."""
    return round(size * _factor)


def scaled_font(base: QFont, point_size: float) -> QFont:
    """``base`` at ``point_size`` points times the current scale (labels drawn by pyqtgraph,
    which do not follow the application font)."""
    font = QFont(base)
    font.setPointSizeF(point_size * _factor)
    return font


def scaled(setter: Callable[..., None], *sizes: float) -> None:
    """Call a widget's size setter (``setFixedSize``, ``setMinimumWidth``...) with ``sizes``
    given in pixels at normal scale, now and after every change of scale.

    Example: ``scaled(view.setFixedSize, 96, 72)`` instead of ``view.setFixedSize(96, 72)``.
    """
    widget_ref, name = weakref.ref(setter.__self__), setter.__name__

    def apply() -> None:
        target = widget_ref()
        if target is None:
            return
        values = [px(size) for size in sizes]
        if name == "setIconSize":  # takes a QSize
            values = [QSize(*values)]
        getattr(target, name)(*values)

    apply()
    _followers.append((widget_ref, lambda: apply))


def set_font(widget: QWidget, relative: float = 1.0, *, bold: bool = False,
             fixed_pitch: bool = False) -> None:
    """Give ``widget`` a font ``relative`` times the interface's text size (bold, or the
    system's fixed-pitch font), kept at that ratio when the scale changes.

    A font set with an explicit size stops following the application font; this one follows.
    """
    widget_ref = weakref.ref(widget)

    def apply() -> None:
        target = widget_ref()
        if target is None:
            return
        if fixed_pitch:
            font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
            points = font.pointSizeF() * _factor
        else:
            font = QFont(QApplication.font())
            points = font.pointSizeF()
        if points > 0:
            font.setPointSizeF(points * relative)
        font.setBold(bold)
        target.setFont(font)

    apply()
    _followers.append((widget_ref, lambda: apply))


def outline_pen(color: QColor, width: float, *, cosmetic: bool = False) -> QPen:
    """The pen of a pointer highlight: ``color`` at ``width`` normally; in presenter mode the
    high-contrast colour, twice as thick, times the scale."""
    if _presenting:
        color, width = HIGHLIGHT, width * 2
    pen = QPen(color, max(width * _factor, 1.0))
    pen.setCosmetic(cosmetic)
    pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
    return pen


def halo_pen(width: float, *, cosmetic: bool = False) -> QPen | None:
    """The dark pen drawn under a presenter outline of ``width``; None outside presenter mode."""
    if not _presenting:
        return None
    pen = QPen(HALO, (width * 2 + 4) * _factor)
    pen.setCosmetic(cosmetic)
    pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
    return pen


def apply_scale(new_factor: float, presenter: bool = False) -> float:
    """Scale the whole interface by ``new_factor`` (clamped to 0.75 .. 3); return it.

    The first call remembers the application font as the normal size.
    """
    global _factor, _presenting, _base_font
    app = QApplication.instance()
    new_factor = min(max(float(new_factor), MIN_FACTOR), MAX_FACTOR)
    if _base_font is None and app is not None:
        _base_font = QFont(app.font())
    changed = (new_factor, bool(presenter)) != (_factor, _presenting)
    _factor, _presenting = new_factor, bool(presenter)
    if app is not None and _base_font is not None:
        font = QFont(_base_font)
        if _base_font.pointSizeF() > 0:
            font.setPointSizeF(_base_font.pointSizeF() * new_factor)
        else:  # a font given in pixels
            font.setPixelSize(max(round(_base_font.pixelSize() * new_factor), 1))
        if font != app.font():
            app.setFont(font)
            # Qt posts the change to the windows; deliver it now, so that every widget has its
            # new font before the followers below measure text with it.
            QApplication.sendPostedEvents()
    if changed:
        _notify()
    return new_factor


def _notify() -> None:
    alive = []
    for widget_ref, refresh_ref in _followers:
        widget, refresh = widget_ref(), refresh_ref()
        if widget is None or refresh is None or not shiboken6.isValid(widget):
            continue
        alive.append((widget_ref, refresh_ref))
        refresh()
    _followers[:] = alive


def scale_rows(table: QTableView) -> None:
    """Keep ``table``'s rows as tall, relative to the text, as when it was built.

    Each table registers itself: walking every widget of the application instead would touch
    Qt's internal widgets, whose Python wrappers can outlive them (a crash).
    """
    header = table.verticalHeader()
    default = header.defaultSectionSize() / _factor
    minimum = header.minimumSectionSize() / _factor

    def refresh() -> None:
        header.setMinimumSectionSize(max(round(minimum * _factor), 1))
        header.setDefaultSectionSize(max(round(default * _factor), 1))

    follow(table, refresh)


def follow(widget: QWidget, refresh: Callable[[], None]) -> None:
    """Call ``refresh`` after every change of scale or presenter mode, while ``widget`` lives.

    ``refresh`` sets the sizes, fonts and pens ``widget`` holds in pixels from :func:`px`;
    call it once yourself when building the widget.
    """
    # A method is held weakly, or it would keep the widget alive; a plain function is kept.
    refresh_ref = weakref.WeakMethod(refresh) if inspect.ismethod(refresh) else lambda: refresh
    _followers.append((weakref.ref(widget), refresh_ref))
