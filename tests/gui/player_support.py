"""What the player tests share: a fake live loop, a frame, the players as fixtures."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QObject, Signal

from engine.lecture.text import format_value
from gui.docks.conv_player import ConvPlayerDock
from gui.docks.pool_player import PoolPlayerDock


class FakeLive(QObject):
    """Stands in for LiveResults: a fixed frame input, no threads."""

    resultUpdated = Signal(object)

    def __init__(self, image=None):
        super().__init__()
        self.latest = None if image is None else SimpleNamespace(input=image)


FRAME = np.random.default_rng(0).random((3, 40, 50)).astype(np.float32)


def make_player(qtbot, cls, session):
    """A player dock of class ``cls`` over the fake frame FRAME, sized like a docked panel."""
    dock = cls(session, FakeLive(FRAME))
    qtbot.addWidget(dock)
    dock.resize(900, 600)
    return dock


@pytest.fixture
def conv(qtbot, session):
    return make_player(qtbot, ConvPlayerDock, session)


@pytest.fixture
def pool(qtbot, session):
    return make_player(qtbot, PoolPlayerDock, session)


def shown_value(dock) -> str:
    """The value the dock prints for the current step ("output[r, c] = v")."""
    return dock.value_label.text().split("= ")[-1].removesuffix("</b>")


def check_conv_step(dock, engine_out):
    trace, k = dock.trace, dock.controls.step
    row, col = divmod(k, trace.out_shape[1])
    expected = format_value(engine_out[row, col])
    assert dock.output_grid.marks == [(row, col)]
    assert dock.output_grid.text_at(row, col) == expected
    assert shown_value(dock) == expected
    # The highlighted input cells are the taps under the kernel.
    s, d = trace.stride, trace.dilation
    kh, kw = trace.weight.shape[1:]
    rows, cols = np.nonzero(dock.input_grid.highlight)
    assert set(zip(rows.tolist(), cols.tolist(), strict=True)) == {
        (row * s[0] + u * d[0], col * s[1] + v * d[1]) for u in range(kh) for v in range(kw)}
