"""A panel as a picture for slides: "Copy as image" and "Save as image..." on every dock.

The panel's content (without its title bar) is painted into a QImage twice its size with a
device pixel ratio of 2, so text, cell numbers and outlines are drawn at twice the resolution
(not enlarged pixels); pyqtgraph views paint their scenes the same way. :func:`install_menu` adds
the actions to a dock's context menu; the window's Edit menu and Ctrl+Shift+C act on
:func:`active_dock`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QCursor, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QDockWidget, QFileDialog, QMainWindow, QMenu

from engine.i18n import _

__all__ = ["RATIO", "active_dock", "ask_save_dock_image", "copy_dock_image", "dock_image",
           "install_menu", "save_dock_image"]

RATIO = 2.0  # pictures for slides: twice the panel's size on screen


def dock_image(dock: QDockWidget, ratio: float = RATIO) -> QImage:
    """The content of ``dock`` painted at ``ratio`` times its size (a LazyDock is built)."""
    widget = dock.widget()
    size = widget.size()
    if size.isEmpty():  # never shown: lay it out at its preferred size first
        widget.resize(widget.sizeHint().expandedTo(widget.minimumSizeHint()))
        size = widget.size()
    image = QImage(round(size.width() * ratio), round(size.height() * ratio),
                   QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(ratio)
    image.fill(widget.palette().window().color())
    widget.render(image)
    return image


def copy_dock_image(dock: QDockWidget) -> QImage:
    """Put :func:`dock_image` of ``dock`` on the clipboard; return it."""
    image = dock_image(dock)
    QGuiApplication.clipboard().setImage(image)
    return image


def save_dock_image(dock: QDockWidget, path: str | Path) -> bool:
    """Write :func:`dock_image` of ``dock`` to ``path`` as PNG; False when it cannot be written."""
    return dock_image(dock).save(str(path), "PNG")


def ask_save_dock_image(window: QMainWindow, dock: QDockWidget) -> None:
    """Ask for a PNG file name and save the panel there; the status bar says how it went."""
    title = dock.windowTitle()
    name = "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-") or "panel"
    path, _filter = QFileDialog.getSaveFileName(
        window, _("Save the {panel} panel as an image").format(panel=title), f"{name}.png",
        _("PNG images (*.png)"))
    if not path:
        return
    if save_dock_image(dock, path):
        window.session.message.emit("info", _("Saved the {panel} panel to {path}.").format(
            panel=title, path=path))
    else:
        window.session.message.emit("error", _("Could not write the picture to {path}.").format(
            path=path))


def active_dock(window: QMainWindow) -> QDockWidget | None:
    """The visible dock holding the keyboard focus, else the one under the mouse pointer,
    else the first visible one."""
    docks = [d for d in window.findChildren(QDockWidget)
             if d.isVisible() and not d.visibleRegion().isEmpty()]
    focus = QApplication.focusWidget()
    for dock in docks:
        if focus is not None and (focus is dock or dock.isAncestorOf(focus)):
            return dock
    pointer = QCursor.pos()
    for dock in docks:
        if dock.rect().contains(dock.mapFromGlobal(pointer)):
            return dock
    return docks[0] if docks else None


def install_menu(dock: QDockWidget, window: QMainWindow) -> None:
    """Give ``dock`` a context menu (its title bar, and places in it with no menu of their
    own) with Copy as image, Save as image... and Fill the screen."""
    dock.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def show_menu(pos: QPoint) -> None:
        menu = QMenu(dock)
        menu.addAction(_("Copy as image"), lambda: copy_dock_image(dock))
        menu.addAction(_("Save as image..."), lambda: ask_save_dock_image(window, dock))
        presenter = getattr(window, "presenter", None)
        if presenter is not None:
            menu.addSeparator()
            if presenter.filled is dock:
                menu.addAction(_("Back to all panels (Esc)"), presenter.unfill)
            else:
                menu.addAction(_("Fill the screen"), lambda: presenter.fill(dock))
        menu.popup(dock.mapToGlobal(pos))

    dock.customContextMenuRequested.connect(show_menu)
