"""Every control of the main window says what it does: buttons, fields, sliders, actions, and
the tabs of docks that share a place."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction, QHelpEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDockWidget,
    QLineEdit,
    QMenu,
    QMenuBar,
    QSlider,
    QTabBar,
    QWidget,
)

from gui import tooltips

CONTROLS = (QAbstractButton, QComboBox, QAbstractSpinBox, QLineEdit, QSlider)


def is_qt_internal(widget: QWidget) -> bool:
    """Parts Qt builds inside its own widgets, which carry no tooltip of their own:

    - anything Qt names "qt_..." (the spin boxes' line edits, toolbar extension buttons,
      scroll-area containers, the docks' float and close buttons);
    - buttons on a QDockWidget itself: its title-bar buttons;
    - the corner button of a table (class QTableCornerButton) and the scroll arrows of a tab
      bar (tool buttons whose parent is a QTabBar);
    - the line edit of a combo box or spin box: the box has the tooltip.
    """
    parent = widget.parent()
    return (
        widget.objectName().startswith("qt_")
        or (isinstance(widget, QAbstractButton) and isinstance(parent, QDockWidget))
        or widget.metaObject().className() == "QTableCornerButton"
        or (isinstance(widget, QAbstractButton) and isinstance(parent, QTabBar))
        or (isinstance(widget, QLineEdit) and isinstance(parent, (QComboBox, QAbstractSpinBox)))
    )


def stripped(text: str) -> str:
    """QAction's own fallback tooltip: its text without "&" and "..." (not a description)."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").replace("...", "").strip()


def is_exempt_action(action: QAction) -> bool:
    """Actions with text that the user never sees as an entry to hover:

    - the title of a menu-bar menu ("File") or of a menu popped up by a button ("Add layer"):
      the action of a QMenu placed in no other QMenu (the menu bar's own overflow popup, a
      QMenu whose parent is the QMenuBar, does not count); the button carries the tooltip;
    - pyqtgraph's own right-click "Export..." entry (a QAction of its GraphicsScene): no view
      shows it, since every ViewBox here has its menu off (checked in the test).
    """
    if action.menu() is not None:
        return not any(isinstance(o, QMenu) and not isinstance(o.parent(), QMenuBar)
                       for o in action.associatedObjects())
    return isinstance(action.parent(), pg.GraphicsScene)


def missing_tooltips(window) -> set[str]:
    missing = set()
    for kind in CONTROLS:
        for widget in window.findChildren(kind):
            if is_qt_internal(widget) or widget.toolTip().strip():
                continue
            text = getattr(widget, "text", lambda: "")()
            missing.add(f"{type(widget).__name__} {text!r} in "
                        f"{type(widget.parent()).__name__}")
    for action in window.findChildren(QAction):
        if action.isSeparator() or not action.text().strip() or is_exempt_action(action):
            continue
        if action.toolTip().strip() in ("", stripped(action.text())):
            missing.add(f"QAction {action.text()!r} in {type(action.parent()).__name__}")
    return missing


def test_every_control_and_action_has_a_tooltip(qtbot, main_window):
    tooltips.install(main_window)
    for dock in main_window.docks.values():
        dock.show()
        dock.raise_()
    qtbot.wait(50)
    missing = missing_tooltips(main_window)
    session = main_window.session
    for layer in range(len(session.pipeline.nodes)):  # each layer builds its own editors
        session.set_selected_layer(layer)
        qtbot.wait(20)
        missing |= missing_tooltips(main_window)
    assert not missing, "\n".join(sorted(missing))
    # What makes pyqtgraph's "Export..." entry unreachable, and so exempt.
    boxes = [item for view in main_window.findChildren(pg.GraphicsView)
             for item in view.scene().items() if isinstance(item, pg.ViewBox)]
    assert boxes and not any(box.menuEnabled() for box in boxes)


def test_the_check_finds_a_button_without_a_tooltip(qtbot, main_window):
    from PySide6.QtWidgets import QPushButton

    tooltips.install(main_window)
    bare = QPushButton("Bare", main_window.docks["ledger"].widget())
    action = QAction("&Frobnicate...", main_window.docks["ledger"].widget())
    found = missing_tooltips(main_window)
    assert "QPushButton 'Bare' in LedgerDock" in found
    assert "QAction '&Frobnicate...' in LedgerDock" in found
    bare.setToolTip("Does a thing")
    action.setToolTip("Frobnicates the ledger")
    assert not {f for f in missing_tooltips(main_window) if "Bare" in f or "Frob" in f}


def hover_tabs(window):
    """(tab text, tooltip) of every visible dock tab, read as the user sees it: after the
    tab bar got the tooltip event a resting mouse sends."""
    shown = []
    for bar in tooltips.dock_tab_bars(window):
        if not bar.isVisible():
            continue
        for i in range(bar.count()):
            center = bar.tabRect(i).center()
            event = QHelpEvent(QEvent.Type.ToolTip, center, bar.mapToGlobal(center))
            QApplication.sendEvent(bar, event)
            shown.append((bar.tabText(i), bar.tabToolTip(i)))
    return shown


def test_dock_tabs_carry_their_docks_tooltips_after_layout_changes(qtbot, main_window):
    tooltips.install(main_window)
    tooltips.install(main_window)  # a second call adds nothing
    assert len(main_window.findChildren(QObject, "tooltips_tab_filter")) == 1
    by_title = {d.windowTitle(): d.toolTip() for d in main_window.docks.values()}
    for key in ("conv_player", "tour", "predictions"):  # new tabs, made after install
        main_window.docks[key].toggleViewAction().trigger()
    qtbot.waitUntil(lambda: len(hover_tabs(main_window)) >= 6, timeout=2000)
    tabs = hover_tabs(main_window)
    assert {"Predictions", "Guided tour", "Convolution player"} <= {t for t, _ in tabs}
    for text, tip in tabs:
        assert tip == by_title[text], text
    # A tab group made by hand (a new tab bar) gets the tips too.
    main_window.tabifyDockWidget(main_window.docks["ledger"], main_window.docks["kernels"])
    qtbot.waitUntil(lambda: ("Kernels", by_title["Kernels"]) in hover_tabs(main_window),
                    timeout=2000)
    assert ("Ledger", by_title["Ledger"]) in hover_tabs(main_window)


def test_submenus_are_described(qtbot, main_window):
    tooltips.install(main_window)
    titles = {}
    for menu in main_window.menuBar().findChildren(type(main_window.menus[0])):
        titles[menu.title().replace("&", "")] = menu.menuAction().toolTip()
    for title, tip in tooltips.SUBMENU_TIPS.items():
        assert titles[title] == tip
