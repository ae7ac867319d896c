"""The default layout on a laptop screen (1280 x 800) and a desktop one (1920 x 1080): every
panel at least its minimum size, nothing outside the window, the ledger's formula readable."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtGui import QTextDocument

from gui.layout import DOCKS
from gui.main_window import initial_size

EXPLORE = [spec.key for spec in DOCKS if spec.shown]
WORD_JOINER = "\u2060"


@pytest.mark.parametrize(("screen", "window"), [
    ((1280, 800), (1280, 800)),  # a laptop: all of it
    ((1366, 740), (1280, 740)),  # a short laptop screen: never taller than the screen
    ((1024, 600), (1024, 600)),
    ((1920, 1040), (1728, 936)),  # a desktop: most of it
])
def test_the_first_window_size_fits_the_screen(screen, window):
    assert initial_size(QSize(*screen)).toTuple() == window


def lay_out(qtbot, main_window, width: int, height: int):
    """The default layout of a window of ``width`` x ``height``, shown with a first frame."""
    main_window.resize(width, height)
    main_window.apply_default_layout()
    main_window.resize(width, height)  # the old layout's minimum may have held the size
    qtbot.waitUntil(lambda: main_window.live.latest is not None, timeout=10000)
    qtbot.wait(300)  # every dock paints the first result
    assert main_window.size().toTuple() == (width, height)
    return main_window


def in_front(window) -> list:
    """The default layout's docks that are on screen now (the front tab of each group)."""
    return [window.docks[k] for k in EXPLORE if not window.docks[k].visibleRegion().isEmpty()]


def assert_fits(window, dock) -> None:
    hint = dock.minimumSizeHint()
    assert dock.width() >= hint.width() and dock.height() >= hint.height(), (
        dock.objectName(), dock.size(), hint)
    assert window.rect().contains(QRect(dock.mapTo(window, QPoint(0, 0)), dock.size())), (
        dock.objectName())


def assert_every_dock_fits(qtbot, window) -> None:
    """Every dock of the default layout, each tab brought to the front in turn."""
    seen = set()
    for key in EXPLORE:
        dock = window.docks[key]
        dock.raise_()
        qtbot.wait(50)
        for shown in in_front(window):
            assert_fits(window, shown)
            seen.add(shown.objectName())
    assert seen == {f"dock_{k}" for k in EXPLORE}


def formula_parts(row) -> list[str]:
    return row.size_formula.split("; ") if row.size_formula else []


def assert_formula_readable(window, ledger, row) -> None:
    """The row's size formula is on screen in full: every part whole on one line, the label
    inside the window, not clipped, and tall enough for all its lines."""
    label = ledger.detail
    assert label.isVisible()
    assert window.rect().contains(QRect(label.mapTo(window, QPoint(0, 0)), label.size()))
    assert label.visibleRegion().boundingRect() == label.rect(), "the detail line is clipped"
    assert label.height() >= label.heightForWidth(label.width())
    doc = QTextDocument()
    doc.setDefaultFont(label.font())
    doc.setHtml(label.text())
    doc.setTextWidth(label.contentsRect().width())
    doc.setDocumentMargin(0)
    assert doc.size().width() <= label.contentsRect().width() + 1  # lays the text out
    text = doc.toPlainText()  # non-breaking spaces come back as plain ones
    assert row.name in text
    for part in formula_parts(row):
        shown = part
        start = text.replace(WORD_JOINER, "").find(shown)
        assert start >= 0, (part, text)
        # Positions in the document count the word joiners: find the part there.
        begin = _position(text, start)
        end = _position(text, start + len(shown) - 1)
        block = doc.findBlock(begin)
        assert block == doc.findBlock(end)
        layout = block.layout()
        first = layout.lineForTextPosition(begin - block.position()).lineNumber()
        last = layout.lineForTextPosition(end - block.position()).lineNumber()
        assert first >= 0 and first == last, f"{part!r} is broken across lines"


def _position(text: str, index_without_joiners: int) -> int:
    """The index in ``text`` of the character that is number ``index_without_joiners`` once the
    word joiners are taken out."""
    count = -1
    for i, char in enumerate(text):
        if char != WORD_JOINER:
            count += 1
            if count == index_without_joiners:
                return i
    raise IndexError(index_without_joiners)


def test_at_1280_by_800_every_dock_fits_and_the_selected_formula_is_readable(
    qtbot, main_window
):
    window = lay_out(qtbot, main_window, 1280, 800)
    assert_every_dock_fits(qtbot, window)
    # No room to stack the pipeline and the kernels: they share the right column as tabs,
    # the kernels (beside the maps they make) in front.
    pipeline, kernels = window.docks["pipeline"], window.docks["kernels"]
    assert kernels in window.tabifiedDockWidgets(pipeline)
    window.apply_default_layout()
    qtbot.wait(50)
    assert not kernels.visibleRegion().isEmpty() and pipeline.visibleRegion().isEmpty()
    grid = kernels.widget().grid_view
    rows = grid.grid.row_count()
    assert rows == 8 and grid.viewport().height() >= rows * grid.grid.cell_size()[0]
    ledger = window.docks["ledger"].widget()
    for index in range(len(window.session.pipeline.nodes)):
        window.session.set_selected_layer(index)
        qtbot.wait(20)
        assert_formula_readable(window, ledger, ledger.model.ledger.rows[index])
    assert formula_parts(ledger.model.ledger.rows[0])  # conv1 has a formula to read


def test_at_1920_by_1080_every_dock_shows_at_once(qtbot, main_window):
    window = lay_out(qtbot, main_window, 1920, 1080)
    shown = in_front(window)
    assert [d.objectName() for d in shown] == [f"dock_{k}" for k in EXPLORE]
    for dock in shown:
        assert_fits(window, dock)
    pipeline = window.docks["pipeline"].widget().layer_list
    assert pipeline.viewport().height() >= 5 * pipeline.sizeHintForRow(0)
    ledger = window.docks["ledger"].widget()
    window.session.set_selected_layer(3)
    qtbot.wait(20)
    assert_formula_readable(window, ledger, ledger.model.ledger.rows[3])


def test_reset_layout_fits_the_window_as_it_is_now(qtbot, main_window):
    """Stacked on a big window, tabs again once the window is laptop-sized and reset."""
    window = lay_out(qtbot, main_window, 1920, 1080)
    assert not window.tabifiedDockWidgets(window.docks["kernels"])
    window.resize(1280, 800)
    window.actions_by_name["reset_layout"].trigger()
    window.resize(1280, 800)
    qtbot.wait(50)
    assert window.size().toTuple() == (1280, 800)
    assert window.docks["pipeline"] in window.tabifiedDockWidgets(window.docks["kernels"])
    assert_every_dock_fits(qtbot, window)
