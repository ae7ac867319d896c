"""Tooltips the main window's own machinery cannot carry: dock tabs, submenus, toolbars.

When docks share a place, QMainWindow shows them as tabs of a QTabBar it makes and remakes
itself whenever the layout changes, so a tooltip set once can be lost. :func:`install`
gives every such tab its dock's tooltip now and again whenever a tab's tooltip is asked
for, and gives the menus' submenu entries and the toolbars' show/hide entries a sentence
each.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QTabBar, QToolBar

from engine.i18n import N_, _

#: Submenu entries of the main window's menus, by title without "&".
SUBMENU_TIPS = {
    N_("Samples"): N_("The sample images that come with CNN Explorer"),
    N_("Bundled pipelines"): N_("Ready-made pipelines and trained networks that come with "
                                "CNN Explorer"),
    N_("Working resolution"): N_("The longest side of the frame the network sees: smaller is "
                                 "faster"),
    N_("Workspaces"): N_("Show the panels for one job: explore a network, follow the lecture, "
                         "or train a network"),
}
_FILTER_NAME = "tooltips_tab_filter"


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def dock_tab_bars(window: QMainWindow) -> list[QTabBar]:
    """The tab bars QMainWindow made for docks sharing a place (not the docks' own tabs)."""
    return [bar for bar in window.findChildren(QTabBar) if bar.parent() is window]


def apply_tab_tooltips(window: QMainWindow) -> int:
    """Give every dock tab the tooltip of its dock; returns how many tabs were set.

    A tab is matched to its dock by the dock's title, the text QMainWindow puts on it.
    """
    tips = {_plain(d.windowTitle()): d.toolTip() for d in window.findChildren(QDockWidget)}
    count = 0
    for bar in dock_tab_bars(window):
        for i in range(bar.count()):
            tip = tips.get(_plain(bar.tabText(i)))
            if tip:
                bar.setTabToolTip(i, tip)
                count += 1
    return count


def apply_submenu_tooltips(window: QMainWindow) -> None:
    """Describe the menus' submenu entries that have no tooltip of their own."""
    tips = {_plain(_(title)): _(tip) for title, tip in SUBMENU_TIPS.items()}
    for menu in window.menuBar().findChildren(QMenu):
        action = menu.menuAction()
        title = _plain(menu.title()).strip()
        # QAction's tooltip falls back to its text: that is not a description.
        if title in tips and action.toolTip() in ("", title):
            action.setToolTip(tips[title])


def apply_toolbar_tooltips(window: QMainWindow) -> None:
    """Describe the entries that show or hide each toolbar (the toolbars' right-click menu)."""
    for bar in window.findChildren(QToolBar):
        action = bar.toggleViewAction()
        if action.toolTip() in ("", _plain(action.text())):
            action.setToolTip(_("Show or hide the {plain} toolbar")
                                .format(plain=_plain(bar.windowTitle())))


class _TabTips(QObject):
    """Sets the dock tabs' tooltips just before one is shown, on every dock tab bar.

    QMainWindow writes the dock's title into a tab's tooltip whenever it adds the tab, at
    layout time, so tooltips set in advance can be overwritten; set at hover time they cannot.
    """

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.setObjectName(_FILTER_NAME)
        self._window = window
        window.installEventFilter(self)  # to hear of the tab bars it makes later
        for bar in dock_tab_bars(window):
            bar.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.ChildPolished and watched is self._window:
            child = event.child()
            if isinstance(child, QTabBar):
                child.installEventFilter(self)  # installing twice keeps one filter
        elif kind == QEvent.Type.ToolTip and isinstance(watched, QTabBar):
            apply_tab_tooltips(self._window)
        return False  # the tab bar shows the tooltip as usual


def install(window: QMainWindow) -> None:
    """Set the dock tabs', submenus' and toolbars' tooltips, and keep the tabs' right.

    Call once, after the layout is applied; calling again does no harm.
    """
    apply_submenu_tooltips(window)
    apply_toolbar_tooltips(window)
    apply_tab_tooltips(window)
    if window.findChild(QObject, _FILTER_NAME) is None:
        _TabTips(window)
