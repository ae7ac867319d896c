"""The ledger dock: rows from Pipeline.summary, floored warnings, live ms, row selection."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from engine.graph.pipeline import InputSpec, Pipeline
from engine.layers import Conv2d, ReLU
from engine.onnx.importer import load_onnx_model
from engine.resolve import resolve_pipeline
from gui.docks.ledger import COL, COLUMNS, MS_COLUMN, LedgerDock
from tests.engine.onnx_models import residual
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
    # On the formula and on the layer's name (the first column, always in view).
    for col in (COL["Output size"], COL["Layer"]):
        icon = cell(dock, 0, col, Qt.ItemDataRole.DecorationRole)
        assert icon is not None and not icon.isNull()
        assert "rounded down" in cell(dock, 0, col, Qt.ItemDataRole.ToolTipRole)
        assert cell(dock, 1, col, Qt.ItemDataRole.DecorationRole) is None
    assert "1 layer drop" in dock.info.text()
    # A stride that fits: no warning anywhere.
    session.set_pipeline(Pipeline.chain([Conv2d(3, 4, 2, stride=2), ReLU()]))
    publish(live, make_result(session.pipeline, noise_frame(), seq=2))
    assert cell(dock, 0, COL["Output size"], Qt.ItemDataRole.DecorationRole) is None


def test_ms_column_updates_without_rebuilding(make_dock, qtbot):
    session, live, dock = make_dock(resolve_pipeline("default"))
    dock.show()  # a hidden ledger does no per-frame work
    publish(live, make_result(session.pipeline, noise_frame(), seq=1))
    resets, changes = [], []
    dock.model.modelReset.connect(lambda: resets.append(1))
    dock.model.dataChanged.connect(lambda a, b, *_: changes.append((a.column(), b.column())))
    second = make_result(session.pipeline, noise_frame(seed=1), seq=2)
    publish(live, second)
    # The times are refreshed a few times a second, not for every frame: the newest then.
    qtbot.waitUntil(lambda: changes == [(MS_COLUMN, MS_COLUMN)], timeout=2000)
    assert resets == []
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


def visible_right_edge(table, col):
    header = table.horizontalHeader()
    return header.sectionViewportPosition(col) + header.sectionSize(col)


@pytest.mark.parametrize("model", ["default", "residual"])
def test_first_columns_fit_the_dock_in_the_main_window(main_window, session, live, qtbot,
                                                       model):
    """At 1280 x 800 the ledger sits in the middle column: name, type, output, ms and params
    are in view without scrolling, also for an imported model's long names."""
    if model == "residual":
        session.set_pipeline(load_onnx_model(residual()))
    qtbot.waitExposed(main_window)
    dock = main_window.docks["ledger"].widget()
    qtbot.waitUntil(lambda: live.latest is not None
                    and live.latest.pipeline is session.pipeline, timeout=15000)
    qtbot.waitUntil(lambda: dock.model.ledger is not None
                    and dock.model.ledger.input_shape == tuple(live.latest.input.shape),
                    timeout=5000)
    assert main_window.width() == 1280
    table = dock.table
    header = table.horizontalHeader()
    assert table.horizontalScrollBar().value() == 0
    first = [COL[t] for t in ("Layer", "Type", "Output", "ms", "Params")]
    assert [header.visualIndex(c) for c in first] == [0, 1, 2, 3, 4]
    for col in first:
        assert not table.isColumnHidden(col)
        assert visible_right_edge(table, col) <= table.viewport().width(), COLUMNS[col][0]
    # The measured time is on screen, with a number in it.
    assert cell(dock, 0, MS_COLUMN).replace(".", "").replace(",", "").isdigit()
    assert header.sectionSize(COL["Param formula"]) <= 220
    assert table.isColumnHidden(COL["Inputs"]) == (model == "default")
    # Cut-off names and formulas keep their full text in the tooltip.
    for i, r in enumerate(dock.model.ledger.rows):
        assert r.name in cell(dock, i, COL["Layer"], Qt.ItemDataRole.ToolTipRole)
        if r.size_formula:
            assert r.size_formula in cell(dock, i, COL["Output size"],
                                          Qt.ItemDataRole.ToolTipRole)


def test_a_graph_shows_each_layers_inputs(make_dock):
    session, live, dock = make_dock(load_onnx_model(residual()))
    publish(live, make_result(session.pipeline, noise_frame()))
    assert not dock.table.isColumnHidden(COL["Inputs"])
    rows = dock.model.ledger.rows
    joins = [i for i, r in enumerate(rows) if r.type_name == "Add"]
    assert len(joins) == 2
    # The first Add of the block sums the last batch norm and the stem's ReLU.
    first = session.pipeline.nodes[joins[0]]
    assert first.inputs == ("batchnormalization_23", "relu_8")
    shown = cell(dock, joins[0], COL["Inputs"]).split(", ")
    assert len(shown) == 2 and shown[1] == "relu_8"
    assert shown[0].startswith("batchn") and shown[0].endswith("_23") and "…" in shown[0]
    tip = cell(dock, joins[0], COL["Inputs"], Qt.ItemDataRole.ToolTipRole)
    assert "batchnormalization_23" in tip and "relu_8" in tip and "2 branches" in tip
    layer_tip = cell(dock, joins[0], COL["Layer"], Qt.ItemDataRole.ToolTipRole)
    assert "batchnormalization_23, relu_8" in layer_tip
    # A plain layer names its one input; the downsampling shortcut reads from relu_25.
    for i, node in enumerate(session.pipeline.nodes):
        if len(node.inputs) == 1 and len(node.inputs[0]) <= 14:
            assert cell(dock, i, COL["Inputs"]) == node.inputs[0]
    shortcut = next(i for i, n in enumerate(session.pipeline.nodes)
                    if n.layer.type_name == "Conv2d" and n.layer.kernel_size in (1, (1, 1)))
    assert cell(dock, shortcut, COL["Inputs"]) == "relu_25"
    # Back to a chain: the column goes away again.
    session.set_pipeline(resolve_pipeline("default"))
    assert dock.table.isColumnHidden(COL["Inputs"])
