"""Help windows: every keyboard shortcut of the window (read from the live widgets) and About.

The list is never written by hand: the menus' actions, and every QAction, QShortcut and button
shortcut inside each dock, are collected when the window opens, with where each one works.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialog,
    QDockWidget,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import N_, _
from gui.ui_scale import scale_rows

ABOUT_TEXT = (
    N_("<h3>CNN Explorer</h3>"
    "<p>See what a convolutional network does to an image: its kernels, the size of every "
    "layer's output, its parameters and its activation maps, live on your own image, video or "
    "webcam.</p>"
    "<p>Every number is computed by a small numpy engine that you can read, layer by layer.</p>")
)
INTRO = (N_("Menu shortcuts work anywhere in the window, except while you type in a field. "
         "A panel's own shortcuts work where its heading says: click inside the panel first "
         "to give it the focus."))
ANYWHERE = N_("anywhere in the window")

_NAMES = {".": "Period (.)", ",": "Comma (,)"}  # a lone dot is easy to miss in a table
# QShortcut has no text of its own. Panels may say what one does with setWhatsThis(); these
# cover the panels that do not: per dock (its objectName), then keys every player shares.
_DOCK_KEY_TEXT = {
    "dock_stepper": {"Left": N_("Previous layer"), "Right": N_("Next layer")},
}
_KEY_TEXT = {"Home": N_("First step"), "End": N_("Last step"), "Left": N_("One step back"),
             "Right": N_("One step forward"), "P": N_("Play or pause")}


@dataclass(frozen=True)
class ShortcutEntry:
    """One shortcut: the menu or panel it belongs to, what it does, its keys, where it works.

    ``clash`` names a window-wide shortcut on the same keys: where both apply, Qt finds the
    keys ambiguous and runs neither. ``source`` is the QAction, QShortcut or button itself.
    """

    group: str
    action: str
    keys: str
    where: str
    clash: str = ""
    source: QObject | None = field(default=None, compare=False, repr=False)


def _key_text(sequences: list[QKeySequence]) -> str:
    keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in sequences
            if not k.isEmpty()]
    return ", ".join(_NAMES.get(k, k) for k in keys)


def _keys_of(obj: QObject) -> list[QKeySequence]:
    if isinstance(obj, QAction):
        return list(obj.shortcuts())
    if isinstance(obj, QShortcut):
        return [obj.key()]
    if isinstance(obj, QAbstractButton):
        return [obj.shortcut()]
    return []


def _without_keys(text: str, keys: str) -> str:
    """A tooltip without its trailing "(Ctrl+D)": the table has a column for the keys."""
    text = text.replace("&", "").strip()
    for suffix in (f" ({keys})", f"({keys})"):
        if text.endswith(suffix):
            return text[: -len(suffix)].rstrip()
    return text


def menu_entries(menus: list[QMenu]) -> list[ShortcutEntry]:
    """Every action with a shortcut in ``menus`` and their submenus; these work anywhere."""
    entries: list[ShortcutEntry] = []

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                walk(action.menu(), f"{path} > {action.menu().title().replace('&', '')}")
                continue
            keys = _key_text(action.shortcuts())
            if keys:
                entries.append(ShortcutEntry(_("{path} menu").format(path=path),
                                             action.text().replace("&", ""),
                                             keys, ANYWHERE, source=action))

    for menu in menus:
        walk(menu, menu.title().replace("&", ""))
    return entries


def shortcut_rows(menus: list[QMenu]) -> list[tuple[str, str, str]]:
    """(menu, action, keys) for every menu shortcut (see :func:`menu_entries`)."""
    return [(e.group.removesuffix(" menu"), e.action, e.keys) for e in menu_entries(menus)]


def _context(obj: QObject) -> Qt.ShortcutContext:
    if isinstance(obj, QAction):
        return obj.shortcutContext()
    if isinstance(obj, QShortcut):
        return obj.context()
    return Qt.ShortcutContext.WindowShortcut  # QAbstractButton.setShortcut grabs it so


def _where(obj: QObject, title: str) -> str:
    context = _context(obj)
    if context == Qt.ShortcutContext.ApplicationShortcut:
        return ANYWHERE
    if context == Qt.ShortcutContext.WidgetWithChildrenShortcut:
        return _("when the {title} panel has the focus").format(title=title)
    if context == Qt.ShortcutContext.WidgetShortcut:
        return _("when its field in the {title} panel has the focus").format(title=title)
    return _("while the {title} panel is shown").format(title=title)


def _describe(obj: QObject, keys: str, dock_name: str) -> str:
    if isinstance(obj, QShortcut):
        return (obj.whatsThis() or _DOCK_KEY_TEXT.get(dock_name, {}).get(keys)
                or _KEY_TEXT.get(keys) or _("Shortcut of this panel ({keys})").format(keys=keys))
    text = _without_keys(obj.toolTip(), keys) or obj.text().replace("&", "")
    return text[:1].upper() + text[1:]


def shortcut_objects(root: QObject) -> list[QObject]:
    """Every QAction, QShortcut and button with a key sequence under ``root``."""
    found: list[QObject] = []
    for kind in (QAction, QShortcut, QAbstractButton):
        found += [obj for obj in root.findChildren(kind) if any(
            not k.isEmpty() for k in _keys_of(obj))]
    return found


def panel_entries(window: QWidget, listed: set[int]) -> list[ShortcutEntry]:
    """The shortcuts inside each dock of ``window`` (and loose ones in the window itself)
    that are not among the already ``listed`` objects (their ids), grouped by dock title."""
    entries: list[ShortcutEntry] = []
    seen = set(listed)
    docks = list(getattr(window, "docks", {}).values())  # the registry's order, if any
    docks += [d for d in window.findChildren(QDockWidget) if d not in docks]
    for dock in docks:
        if hasattr(dock, "ensure_built"):  # a panel not opened yet: its shortcuts count too
            dock.ensure_built()
        title = dock.windowTitle().replace("&", "")
        for obj in shortcut_objects(dock):
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            keys = _key_text(_keys_of(obj))
            entries.append(ShortcutEntry(_("{title} panel").format(title=title),
                                         _describe(obj, keys, dock.objectName()),
                                         keys, _where(obj, title), source=obj))
    for obj in shortcut_objects(window):
        if id(obj) not in seen:  # outside every dock and menu: the window's own
            seen.add(id(obj))
            keys = _key_text(_keys_of(obj))
            entries.append(ShortcutEntry(_("Window"), _describe(obj, keys, ""), keys, ANYWHERE,
                                         source=obj))
    return entries


def shortcut_entries(menus: list[QMenu], window: QWidget | None) -> list[ShortcutEntry]:
    """Every shortcut of the window: the menus' first, then each panel's, with clashes marked.

    A panel shortcut on the same keys as a window-wide one is ambiguous for Qt wherever both
    apply, and Qt then runs neither; such an entry names the other in ``clash``.
    """
    entries = menu_entries(menus)
    if window is not None:
        entries += panel_entries(window, {id(e.source) for e in entries})
    anywhere = {e.keys: e for e in entries if e.where == ANYWHERE}
    marked = []
    for e in entries:
        other = anywhere.get(e.keys)
        if e.where != ANYWHERE and other is not None:
            e = ShortcutEntry(e.group, e.action, e.keys, e.where,
                              f"{other.group.removesuffix(' menu')} > {other.action}", e.source)
        marked.append(e)
    return marked


class ShortcutsWindow(QDialog):
    """A table of every keyboard shortcut, read from the window when shown, grouped by menu
    or panel with where the shortcuts work.

    Parameters
    ----------
    menus : list of QMenu
        The menu bar's menus.
    parent : QWidget, optional
        The main window; its docks' shortcuts are listed too.
    """

    def __init__(self, menus: list[QMenu], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Keyboard shortcuts"))
        self._menus = menus
        self._window = parent
        self.entries: list[ShortcutEntry] = []
        self.table = QTableWidget(0, 2, self)
        self.table.setHorizontalHeaderLabels([_("Action"), _("Keys")])
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setWordWrap(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setToolTip(_("Every keyboard shortcut, grouped by menu or panel, with where "
                              "it works"))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        intro = QLabel(_(INTRO))
        intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table)
        scale_rows(self.table)
        self.resize(620, 700)
        self.refresh()

    def refresh(self) -> None:
        """Read the shortcuts again (panels may have been added since the window was built)."""
        self.entries = shortcut_entries(self._menus, self._window)
        self.table.clearSpans()
        self.table.setRowCount(0)
        heading = None
        bold = QFont(self.font())
        bold.setBold(True)
        for entry in self.entries:
            if (entry.group, entry.where) != heading:
                heading = (entry.group, entry.where)
                row = self.table.rowCount()
                self.table.insertRow(row)
                item = QTableWidgetItem(f"{entry.group}: {_(entry.where)}")
                item.setFont(bold)
                self.table.setItem(row, 0, item)
                self.table.setSpan(row, 0, 1, 2)
            row = self.table.rowCount()
            self.table.insertRow(row)
            text = entry.action
            if entry.clash:
                text += (_(
                    "\nDoes nothing while the panel has the focus: {keys} is also {clash}, "
                    "and Qt runs neither."
                ).format(keys=entry.keys, clash=entry.clash))
            action = QTableWidgetItem(text)
            action.setToolTip(text)
            self.table.setItem(row, 0, action)
            self.table.setItem(row, 1, QTableWidgetItem(entry.keys))
        self.table.resizeRowsToContents()  # a clash note takes a second line

    def showEvent(self, event) -> None:
        self.refresh()
        super().showEvent(event)


def show_about(parent: QWidget) -> None:
    """The About box."""
    QMessageBox.about(parent, _("About CNN Explorer"), _(ABOUT_TEXT))
