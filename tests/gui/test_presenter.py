"""Presenter mode and zoom: one interface scale, the layout it hides and restores, a panel
filling the screen, and the choice kept in the session."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QToolBar

from gui import ui_scale
from gui.presenter import SECONDARY
from gui.session import Session
from gui.widgets.diverging_colorbar import DivergingColorbar

from .test_main_window import press


@pytest.fixture(autouse=True)
def normal_scale():
    """Every test ends at the normal scale (the application font is process-wide)."""
    yield
    ui_scale.apply_scale(1.0)
    QApplication.processEvents()


def _font_points() -> float:
    return QApplication.font().pointSizeF()


def test_presenter_mode_scales_fonts_and_pixel_sizes(qtbot, main_window):
    base = _font_points()
    maps = main_window.docks["maps"].widget()
    player = main_window.docks["conv_player"]
    player.show()
    grid = player.widget().input_grid
    cell_hint = grid.sizeHint()
    colorbar = main_window.docks["kernels"].widget().findChild(DivergingColorbar)
    bar_height = colorbar.sizeHint().height()
    main_window.actions_by_name["presenter"].trigger()
    QApplication.processEvents()
    assert main_window.session.presenter.on
    assert _font_points() == pytest.approx(base * 1.5)
    assert ui_scale.factor() == 1.5 and ui_scale.presenting()
    assert main_window.docks["source"].widget().font().pointSizeF() == pytest.approx(base * 1.5)
    grown = grid.sizeHint()
    assert grown.width() > cell_hint.width() * 1.4 and grown.height() > cell_hint.height() * 1.4
    assert maps.font().pointSizeF() == pytest.approx(base * 1.5)
    assert colorbar.sizeHint().height() > bar_height * 1.3
    main_window.actions_by_name["presenter_scale_2"].trigger()
    QApplication.processEvents()
    assert _font_points() == pytest.approx(base * 2)
    assert ui_scale.px(30) == 60
    main_window.actions_by_name["presenter"].trigger()
    QApplication.processEvents()
    assert _font_points() == pytest.approx(base) and not ui_scale.presenting()
    assert grid.sizeHint() == cell_hint


def test_zoom_keys_work_with_and_without_presenter_mode(qtbot, main_window):
    main_window.activateWindow()
    qtbot.waitActive(main_window)
    base = _font_points()
    target = main_window.docks["ledger"].widget()
    steps = []
    for key in (Qt.Key.Key_Equal, Qt.Key.Key_Equal, Qt.Key.Key_Minus, Qt.Key.Key_0):
        press(target, key, Qt.KeyboardModifier.ControlModifier)
        QApplication.processEvents()
        steps.append(main_window.session.presenter.zoom)
    assert steps == [1.1, 1.25, 1.1, 1.0]
    assert _font_points() == pytest.approx(base)
    main_window.session.set_presenter(on=True, scale=2.0)
    press(target, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert ui_scale.factor() == pytest.approx(2.2)
    assert _font_points() == pytest.approx(base * 2.2)
    press(target, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert ui_scale.factor() == pytest.approx(2.0)  # Ctrl+0 undoes the zoom, not the mode
    for _ in range(12):  # the zoom stops at its ends
        main_window.presenter.zoom_out()
    assert main_window.session.presenter.zoom == 0.75


def test_entering_hides_toolbar_and_secondary_panels_and_leaving_restores(qtbot, main_window):
    bars = main_window.findChildren(QToolBar)
    shown = {k for k, d in main_window.docks.items() if d.isVisible()}
    assert {"ledger", "stepper", "maps"} <= shown and all(b.isVisible() for b in bars)
    main_window.session.set_presenter(on=True)
    assert not any(b.isVisible() for b in bars)
    assert not any(main_window.docks[k].isVisible() for k in SECONDARY)
    assert main_window.docks["maps"].isVisible() and main_window.docks["source"].isVisible()
    main_window.show_workspace("lecture")  # a workspace chosen while presenting
    main_window.session.set_presenter(on=False)
    assert all(b.isVisible() for b in bars)
    assert {k for k, d in main_window.docks.items() if d.isVisible()} == shown
    assert main_window.workspace == "explore"


def test_a_panel_fills_the_screen_and_esc_brings_the_layout_back(qtbot, main_window):
    main_window.activateWindow()
    qtbot.waitActive(main_window)
    shown = {k for k, d in main_window.docks.items() if d.isVisible()}
    maps = main_window.docks["maps"]
    main_window.presenter.fill(maps)
    assert main_window.presenter.filled is maps
    assert [k for k, d in main_window.docks.items() if d.isVisible()] == ["maps"]
    assert main_window.isFullScreen()
    QApplication.processEvents()
    assert maps.width() > main_window.width() * 0.9  # the whole window, not one column
    press(maps.widget(), Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier)
    assert main_window.presenter.filled is None and not main_window.isFullScreen()
    assert {k for k, d in main_window.docks.items() if d.isVisible()} == shown


def test_double_click_on_a_title_fills_the_screen_in_presenter_mode(qtbot, main_window):
    main_window.session.set_presenter(on=True)
    QApplication.processEvents()
    source = main_window.docks["source"]
    qtbot.mouseDClick(source, Qt.MouseButton.LeftButton, pos=QPoint(20, 4))  # the title
    assert main_window.presenter.filled is source
    main_window.presenter.unfill()
    assert main_window.presenter.filled is None and main_window.docks["maps"].isVisible()


def test_presenter_options_are_kept_in_the_session(tmp_path):
    session = Session()
    session.set_presenter(on=True, scale=2.0, zoom=1.25)
    session.save(tmp_path / "session.json")
    again = Session()
    assert again.load(tmp_path / "session.json")
    assert again.presenter == session.presenter and again.presenter.factor == 2.5
    data = session.to_dict()
    data["presenter"] = {"on": True, "scale": 7}
    assert Session().from_dict(data)  # a scale out of range is one clear message
    del data["presenter"]  # a session written before presenter mode
    restored = Session()
    assert restored.from_dict(data) == [] and not restored.presenter.on


def test_a_restart_in_presenter_mode_can_leave_it(qtbot, session, live, config_dir):
    from gui.main_window import MainWindow

    session.set_presenter(on=True)
    first = MainWindow(session, live)
    qtbot.addWidget(first)
    first.show()
    first.close()  # saves the layout from before presenter mode
    second = MainWindow(session, live)
    qtbot.addWidget(second)
    second.show()
    assert second.presenter.active and not second.docks["ledger"].isVisible()
    session.set_presenter(on=False)
    assert second.docks["ledger"].isVisible()
    assert all(b.isVisible() for b in second.findChildren(QToolBar))
    second.close()


def test_secondary_panels_stay_hidden_unless_the_user_opens_them(qtbot, main_window):
    from gui.tour import start_tour

    main_window.session.set_presenter(on=True)
    start_tour(main_window, 4)  # its layout shows the ledger
    qtbot.waitUntil(lambda: not main_window.docks["ledger"].isVisible(), timeout=3000)
    main_window.docks["ledger"].toggleViewAction().trigger()  # View > Ledger
    qtbot.wait(20)
    assert main_window.docks["ledger"].isVisible()


def test_fixed_pixel_sizes_of_the_panels_follow_the_scale(qtbot, main_window):
    from PySide6.QtCore import QSize

    docks = main_window.docks
    player = docks["conv_player"].widget()
    field = docks["receptive_field"].widget()
    gallery = docks["filters"].widget()
    sizes = [lambda: player.crop.view.size(), lambda: player.controls.first_button.iconSize(),
             lambda: QSize(0, field.strip_scroll.height()),
             lambda: gallery.detail_image.size()]
    before = [size() for size in sizes]
    main_window.session.set_presenter(on=True, scale=2.0)
    after = [size() for size in sizes]
    assert after == [QSize(2 * s.width(), 2 * s.height()) for s in before]
    main_window.session.set_presenter(on=False)
    assert [size() for size in sizes] == before


def test_pointer_highlights_are_thick_and_bright_in_presenter_mode(qtbot, main_window):
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QColor, QMouseEvent

    from gui.widgets.cell_grid import CellGrid
    from gui.widgets.mosaic_view import MosaicView

    mosaic = main_window.docks["maps"].widget().findChild(MosaicView)
    qtbot.waitUntil(lambda: mosaic._n_maps > 1 and not mosaic._rgb, timeout=20000)  # live maps
    main_window.session.set_selected_map(1)
    QApplication.processEvents()
    normal = mosaic._outline.pen()  # 2 px; presenter mode: twice as thick, times 1.5
    main_window.session.set_presenter(on=True)
    bright = mosaic._outline.pen()
    assert bright.widthF() == 3 * normal.widthF() and bright.color() == ui_scale.HIGHLIGHT
    assert mosaic._halo.isVisible()

    grid = CellGrid()
    qtbot.addWidget(grid)
    grid.set_values([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    grid.resize(grid.sizeHint())  # never shown: no Enter or Leave from the platform
    cell, left, top = grid._layout()
    center = QPoint(int(left + 1.5 * cell), int(top + 1.5 * cell))  # the middle cell
    move = QMouseEvent(QEvent.Type.MouseMove, QPointF(center), QPointF(grid.mapToGlobal(center)),
                       Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(grid, move)
    assert grid._hover == (1, 1)
    edge = grid.grab().toImage().pixelColor(int(left + cell + 1), center.y())
    assert edge == QColor(ui_scale.HIGHLIGHT)  # the hovered cell's outline


def test_table_rows_grow_with_the_text(qtbot, main_window):
    table = main_window.docks["ledger"].widget().table
    rows = table.verticalHeader().defaultSectionSize()
    main_window.session.set_presenter(zoom=2.0)
    assert table.verticalHeader().defaultSectionSize() == 2 * rows
    assert table.rowHeight(0) >= table.fontMetrics().height()
    main_window.session.set_presenter(zoom=1.0)
    assert table.verticalHeader().defaultSectionSize() == rows
