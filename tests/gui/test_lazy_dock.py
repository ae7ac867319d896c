"""Hidden panels are built when first shown or asked for, and then behave as any other."""

from __future__ import annotations

from gui.layout import DOCKS
from gui.lazy_dock import LazyDock


def test_hidden_panels_wait_until_they_are_shown(qtbot, main_window):
    hidden = [spec.key for spec in DOCKS if not spec.shown]
    assert hidden and all(not main_window.docks[k].is_built for k in hidden)
    assert all(not isinstance(main_window.docks[s.key], LazyDock) for s in DOCKS if s.shown)
    player = main_window.docks["pool_player"]
    player.toggleViewAction().trigger()  # View menu: a tab beside the stepper
    assert not player.isHidden()
    player.raise_()  # its tab comes to the front: now it is on screen, and built
    qtbot.waitUntil(lambda: player.is_built, timeout=2000)
    assert player.isVisible()
    assert type(player.widget()).__name__ == "PoolPlayerDock"
    assert player.widget().parent() is player


def test_asking_for_the_panel_builds_it(qtbot, main_window):
    dock = main_window.docks["translation"]
    assert not dock.is_built
    panel = dock.widget()
    assert dock.is_built and panel is dock.widget()
    assert dock.isHidden()  # built, not shown
