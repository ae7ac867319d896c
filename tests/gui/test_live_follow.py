"""gui/live_follow.py: a panel follows the live frames at a readable rate."""

from __future__ import annotations

import gc

from PySide6.QtWidgets import QWidget

from gui.live_follow import LiveFollow


class Panel(QWidget):
    def __init__(self, every_s: float):
        super().__init__()
        self.drawn = 0
        self.follow = LiveFollow(self, self.redraw, every_s)

    def redraw(self) -> None:
        self.drawn += 1


def test_a_burst_of_frames_draws_the_first_at_once_and_the_newest_later(qtbot):
    panel = Panel(every_s=0.05)
    qtbot.addWidget(panel)
    panel.show()
    panel.follow.frame()
    assert panel.drawn == 1  # the first frame at once
    panel.follow.every_s = 3600.0  # from now on nothing is due: frames must wait
    panel.follow.frame()
    panel.follow.frame()
    assert panel.drawn == 1
    panel.follow.every_s = 0.05
    panel.follow._timer.start(1)  # the interval is over: the waiting frame is drawn once
    qtbot.waitUntil(lambda: panel.drawn == 2, timeout=2000)
    qtbot.wait(50)
    assert panel.drawn == 2


def test_a_hidden_panel_draws_nothing(qtbot):
    panel = Panel(every_s=0.0)
    qtbot.addWidget(panel)
    panel.follow.frame()
    assert panel.drawn == 0
    panel.show()
    panel.follow.frame()
    assert panel.drawn == 1


def test_the_follow_keeps_its_panel_out_of_reference_cycles(qtbot):
    panel = Panel(every_s=0.1)
    follow = panel.follow
    gc.disable()  # only reference counting may free the panel
    try:
        del panel
        assert follow._owner() is None
    finally:
        gc.enable()
    follow.frame()  # the panel is gone: nothing to draw, no error
