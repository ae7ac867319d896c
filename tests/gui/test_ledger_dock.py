"""The ledger dock: rows from Pipeline.summary, floored warnings, live ms, row selection."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from engine.layers import Conv2d, ReLU
from engine.pipeline import InputSpec, Pipeline
from engine.spec import resolve_pipeline
from gui.docks.ledger import COL, COLUMNS, MS_COLUMN, LedgerDock
from tests.gui.conftest import make_result, noise_frame, publish

DISPLAY = Qt.ItemDataRole.DisplayRole


@pytest.fixture
def make_dock(qtbot, idle_live):
    def make(pipeline):
        session, live = idle_live(pipeline)
        dock = LedgerDock(session, live)
        qtbot.addWidget(dock)
        dock.resize(1260, 320)
        return session, live, dock

    return make


def cell(dock, row, col, role=DISPLAY):
    return dock.model.data(dock.model.index(row, col), role)


def test_rows_equal_summary_for_the_live_input_size(make_dock):
    session, live, dock = make_dock(resolve_pipeline("default"))
    publish(live, make_result(session.pipeline, noise_frame()))
    ledger = session.pipeline.summary((3, 60, 80))
    assert dock.model.rowCount() == len(ledger.rows) + 1
    assert dock.model.columnCount() == len(COLUMNS)
    for i, r in enumerate(ledger.rows):
        assert cell(dock, i, COL["Layer"]) == r.name
        assert cell(dock, i, COL["Type"]) == r.type_name
        assert cell(dock, i, COL["Output"]) == "×".join(map(str, r.out_shape))
        assert cell(dock, i, COL["Params"]).replace(",", "") == str(r.params)
        assert cell(dock, i, COL["MACs"]).replace(",", "") == str(r.macs)
        fc = cell(dock, i, COL["FC equivalent"])
        assert fc == ("—" if r.fc_equivalent is None else f"{r.fc_equivalent:,}")
        if r.size_formula:
            assert cell(dock, i, COL["Output size"]) == r.size_formula
            assert r.size_formula in cell(dock, i, COL["Output size"], Qt.ItemDataRole.ToolTipRole)
        if r.params_formula:
            assert cell(dock, i, COL["Param formula"]) == r.params_formula
        assert cell(dock, i, COL["Memory"], Qt.ItemDataRole.ToolTipRole) == (
            f"{r.memory_bytes:,} bytes")
    total = len(ledger.rows)
    assert cell(dock, total, COL["Layer"]) == "Total"
    assert cell(dock, total, COL["Params"]) == f"{ledger.total_params:,}"
    assert cell(dock, total, COL["MACs"]) == f"{ledger.total_macs:,}"
    assert "3×60×80" in dock.info.text()
    # Thousands separators on big numbers: conv1's MACs are over a million.
    assert "," in cell(dock, 0, COL["MACs"])
    for col in range(len(COLUMNS)):
        assert dock.model.headerData(col, Qt.Orientation.Horizontal,
                                     Qt.ItemDataRole.ToolTipRole)


def test_declared_input_is_used_before_the_first_frame(make_dock):
    pipeline = Pipeline.chain([Conv2d(3, 4, 3), ReLU()], input_spec=InputSpec(height=20, width=30))
    _session, _live, dock = make_dock(pipeline)
    assert dock.model.ledger.input_shape == (3, 20, 30)
    assert cell(dock, 0, COL["Output"]) == "4×18×28"
    assert "no frame yet" in dock.info.text()


def test_floored_output_gets_a_warning_icon_and_tooltip(make_dock):
    # (60 - 3)/2 + 1 = 29.5: the floor drops a border row.
    pipeline = Pipeline.chain([Conv2d(3, 4, 3, stride=2), ReLU()])
    session, live, dock = make_dock(pipeline)
    publish(live, make_result(pipeline, noise_frame()))
    assert dock.model.ledger.rows[0].floored
    icon = cell(dock, 0, COL["Output size"], Qt.ItemDataRole.DecorationRole)
    assert icon is not None and not icon.isNull()
    assert "rounded down" in cell(dock, 0, COL["Output size"], Qt.ItemDataRole.ToolTipRole)
    assert cell(dock, 1, COL["Output size"], Qt.ItemDataRole.DecorationRole) is None
    assert "1 layer drop" in dock.info.text()
    # A stride that fits: no warning anywhere.
    session.set_pipeline(Pipeline.chain([Conv2d(3, 4, 2, stride=2), ReLU()]))
    publish(live, make_result(session.pipeline, noise_frame(), seq=2))
    assert cell(dock, 0, COL["Output size"], Qt.ItemDataRole.DecorationRole) is None


def test_ms_column_updates_without_rebuilding(make_dock, qtbot):
    session, live, dock = make_dock(resolve_pipeline("default"))
    publish(live, make_result(session.pipeline, noise_frame(), seq=1))
    resets, changes = [], []
    dock.model.modelReset.connect(lambda: resets.append(1))
    dock.model.dataChanged.connect(lambda a, b, *_: changes.append((a.column(), b.column())))
    second = make_result(session.pipeline, noise_frame(seed=1), seq=2)
    publish(live, second)
    assert resets == []
    assert changes == [(MS_COLUMN, MS_COLUMN)]
    for i, node in enumerate(session.pipeline.nodes):
        assert cell(dock, i, MS_COLUMN) == f"{second.timings_ms[node.name]:,.2f}"
    total_row = len(session.pipeline.nodes)
    assert cell(dock, total_row, MS_COLUMN) == f"{second.total_ms:,.2f}"
    # A new input size rebuilds the table for that size.
    publish(live, make_result(session.pipeline, noise_frame(40, 48), seq=3))
    assert resets == [1]
    assert dock.model.ledger.input_shape == (3, 40, 48)


def test_row_selection_and_session_stay_in_step(make_dock):
    session, live, dock = make_dock(resolve_pipeline("default"))
    publish(live, make_result(session.pipeline, noise_frame()))
    dock.table.selectRow(3)
    assert session.selected_layer == 3
    session.set_selected_layer(5)
    assert dock.table.currentIndex().row() == 5
    assert session.selected_layer == 5
    dock.table.selectRow(len(session.pipeline.nodes))  # the totals row selects nothing
    assert session.selected_layer == 5


def test_pipeline_that_does_not_fit_shows_a_message(make_dock):
    pipeline = Pipeline.chain([Conv2d(3, 4, 11)], input_spec=InputSpec(height=8, width=8))
    _session, _live, dock = make_dock(pipeline)
    assert dock.model.rowCount() == 0
    assert "does not fit" in dock.info.text()


def test_formula_columns_fit_at_1280(make_dock):
    session, live, dock = make_dock(resolve_pipeline("default"))
    publish(live, make_result(session.pipeline, noise_frame()))
    dock.show()
    header = dock.table.horizontalHeader()
    widths = [header.sectionSize(c) for c in range(len(COLUMNS))]
    assert sum(widths) <= dock.table.viewport().width()  # nothing needs a horizontal scroll
    assert header.sectionSize(COL["Param formula"]) <= 220
    # Cut-off formulas keep their full text in the tooltip.
    formula = dock.model.ledger.rows[0].size_formula
    assert formula in cell(dock, 0, COL["Output size"], Qt.ItemDataRole.ToolTipRole)
