"""The lecture panels fit the middle column at 1280 x 800 and use the room they get."""

from __future__ import annotations

import pytest

from gui.docks.channel_mixing import ChannelMixingDock
from gui.docks.parameters import ParametersDock
from gui.docks.receptive_field import ReceptiveFieldDock
from gui.docks.translation import TranslationDock
from tests.gui.conftest import make_result, show_dock
from tests.gui.lecture_support import (
    feed,
)

# -- fitting the middle column at 1280 x 800 ------------------------------------------------------

MAX_PANEL_WIDTH = 420  # a wider panel pushes the window's minimum width past ~1100 px


def big_result(session):
    """The pipeline on a 360 x 480 frame, the live path's working size (three-digit rows)."""
    from tests.gui.conftest import smooth_frame

    return make_result(session.pipeline, smooth_frame(360, 480))


def lecture_panels():
    from gui.docks.conv_player import ConvPlayerDock
    from gui.docks.pool_player import PoolPlayerDock

    return [ConvPlayerDock, PoolPlayerDock, ReceptiveFieldDock, ParametersDock,
            ChannelMixingDock, TranslationDock]


@pytest.mark.parametrize("cls", lecture_panels())
def test_every_lecture_panel_fits_the_middle_column(qtbot, idle_live, cls):
    session, live = idle_live()
    feed(live, big_result(session))
    dock = show_dock(qtbot, cls(session, live), 600, 450)
    assert dock.minimumSizeHint().width() <= MAX_PANEL_WIDTH
    if hasattr(dock, "crop"):
        # The widest case of a player: a 16 x 16 crop of the frame with a zero border (the
        # pooling player allows at most half its 2 x 2 window).
        dock.crop.size.setValue(16)
        dock.load_source("crop")
        dock.padding.setValue(dock.padding.maximum() if dock.kernel.inherits("QComboBox") else 1)
        assert dock.crop.isVisibleTo(dock) and dock.trace.padded.shape[-1] > 16
        qtbot.wait(1)
        assert dock.minimumSizeHint().width() <= MAX_PANEL_WIDTH
        dock.load_source("lecture_7x7")  # the crop row goes again with a lecture example
        assert not dock.crop.isVisibleTo(dock)


def test_parameters_example_texts_get_all_the_height_they_need(qtbot, env):
    session, live, _ = env
    dock = show_dock(qtbot, ParametersDock(session, live), 290, 500)
    dock.show_example("conv32")
    qtbot.wait(10)
    for label in dock.example_rows.values():
        # Every wrapped line is inside the label, so the last one ("... x 10 = 94,402,560")
        # is not cut off; the panel scrolls instead when it is short.
        assert label.height() >= label.heightForWidth(label.width())
    assert dock.minimumSizeHint().width() <= MAX_PANEL_WIDTH


def test_shift_images_fill_wide_and_tall_panels(qtbot, env):
    session, live, _ = env
    dock = show_dock(qtbot, TranslationDock(session, live), 560, 330)
    assert len(dock.changes) == 4
    # Short and wide: one row of four is larger than two rows of two.
    assert dock.best_columns(540, 200) == 4
    assert dock.best_columns(380, 420) == 2
    assert dock.best_columns(200, 900) == 1
    qtbot.wait(10)
    views = [view for _, view in dock._views]
    assert len({view.y() for view in views}) == 1  # laid out as one row at 560 x 330
    assert min(view.height() for view in views) >= 90


def test_mixing_grids_share_one_cell_size(qtbot, env):
    session, live, _ = env
    dock = show_dock(qtbot, ChannelMixingDock(session, live), 580, 460)
    qtbot.wait(10)
    # x (1 x C) and W (C' x C) stand over each other with cells of (nearly) one size, and
    # large enough for their numbers: W is not squeezed into a corner.
    cells = [grid._layout()[0] for grid in (dock.x_grid, dock.w_grid, dock.y_grid)]
    assert min(cells) >= 22
    assert max(cells) - min(cells) <= 0.25 * max(cells)


def test_receptive_views_stack_in_a_tall_panel(qtbot, env):
    session, live, _ = env
    dock = show_dock(qtbot, ReceptiveFieldDock(session, live), 900, 380)
    assert dock.input_view.y() == dock.map_view.y()  # wide: side by side
    dock.resize(330, 1000)
    qtbot.wait(10)
    assert dock.map_view.y() > dock.input_view.y() + dock.input_view.height() // 2
    assert dock.input_view.width() > 250  # each picture gets the panel's whole width
