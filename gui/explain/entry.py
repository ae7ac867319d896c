"""Ways into the Explain panel from other panels, without importing the panel itself.

The activation maps panel calls these when a map is right-clicked or its enlarged view asks
"What drives this map?": the map is selected in the session and the window's ``explain`` dock
(found by the ``docks`` of the window holding the widget) shows its "What drives this channel?"
tab.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMenu, QWidget

from engine.i18n import N_, _

__all__ = ["EXPLAIN_KEY", "explain_channel", "show_channel_menu"]

EXPLAIN_KEY = "explain"  # the panel's key in gui.layout.DOCKS
TIP = N_("Open the Explain panel on this map: the input that excites it most, its top 9 patches"
       " and its weight for the top class")


def explain_channel(widget: QWidget, session, index: int) -> bool:
    """Select map ``index`` and bring the Explain panel's channel tab to the front.

    Returns False when ``widget`` is not in a window with an Explain panel (the map is still
    selected).
    """
    if index < 0:
        return False
    session.set_selected_map(index)
    window = widget.parentWidget()
    while window is not None and not hasattr(window, "docks"):
        window = window.parentWidget()
    dock = window.docks.get(EXPLAIN_KEY) if window is not None else None
    if dock is None:
        return False
    dock.show()
    dock.raise_()
    dock.widget().show_channel()
    return True


def show_channel_menu(widget: QWidget, session, index: int, pos: QPoint) -> QMenu:
    """Pop up the context menu of map ``index`` at screen position ``pos``."""
    menu = QMenu(widget)
    menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    action = menu.addAction(_("What drives map {index}?").format(index=index))
    action.setToolTip(_(TIP))
    action.triggered.connect(lambda: explain_channel(widget, session, index))
    menu.popup(pos)
    return menu
