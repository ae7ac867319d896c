"""Presenter mode at 1.5x on a 1280 x 720 projector: the window fits, no text is cut off."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from gui import ui_scale
from gui.tour import start_tour

from .presenter_fit_support import cut_off

SCREEN = (1280, 720)


@pytest.fixture
def projector(qtbot, main_window):
    """The main window on a 1280 x 720 screen, in presenter mode at 1.5x."""
    main_window.setMaximumSize(*SCREEN)
    main_window.resize(*SCREEN)
    main_window.session.set_presenter(on=True, scale=1.5)
    yield main_window
    ui_scale.apply_scale(1.0)
    QApplication.processEvents()


def settle(qtbot, window) -> None:
    for _ in range(3):
        qtbot.wait(20)
        QApplication.processEvents()


def check_fits(window) -> None:
    hint = window.minimumSizeHint()
    assert hint.width() <= SCREEN[0] and hint.height() <= SCREEN[1], hint
    assert window.height() <= SCREEN[1]
    assert cut_off(window) == []


def test_explore_fits_at_one_and_a_half(qtbot, projector):
    settle(qtbot, projector)
    assert ui_scale.factor() == 1.5
    check_fits(projector)


@pytest.mark.parametrize("stop", [1, 4, 9])
def test_tour_stops_with_the_players_fit(qtbot, projector, stop):
    start_tour(projector, stop)
    settle(qtbot, projector)
    check_fits(projector)


def test_lecture_workspace_fits_and_the_player_text_is_whole(qtbot, projector):
    projector.show_workspace("lecture")
    player = projector.docks["conv_player"]
    player.raise_()
    settle(qtbot, projector)
    check_fits(projector)
    dock = player.widget()
    for label in dock.findChildren(QLabel):
        if label.isVisible() and label.wordWrap() and label.text():
            assert label.height() >= label.heightForWidth(label.width()), label.text()
    # The cells hold their numbers at the presenter size.
    assert dock.input_grid.width() >= dock.input_grid.minimumSizeHint().width()


def test_the_check_finds_a_label_that_is_cut_off(qtbot, main_window):
    from PySide6.QtWidgets import QDockWidget

    box = QWidget()
    layout = QVBoxLayout(box)
    label = QLabel("A sentence far too long for the width it is given here")
    label.setFixedWidth(60)
    layout.addWidget(label)
    dock = QDockWidget("Toy", main_window)
    dock.setWidget(box)
    main_window.addDockWidget(main_window.dockWidgetArea(main_window.docks["source"]), dock)
    dock.show()
    settle(qtbot, main_window)
    assert any("A sentence far too long" in p for p in cut_off(main_window))
