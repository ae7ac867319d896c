"""The pipeline editor on graphs (branches and joins) and its short layer names."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QAbstractItemView

from engine.graph.pipeline import Pipeline
from engine.layers import Conv2d, ReLU
from gui.session import Session
from tests.gui.editor_support import (
    FakeLive,
    make_dock,
)


def test_a_graph_lists_inputs_marks_joins_and_turns_structure_edits_off(qtbot):
    from engine.onnx.importer import load_onnx_model
    from gui.docks.pipeline_editor import GRAPH_REASON
    from tests.engine.onnx_models import residual

    session = Session(load_onnx_model(residual()))
    dock = make_dock(qtbot, session, FakeLive((3, 12, 12)))
    dock.show()
    pipeline = session.pipeline
    for row, node in enumerate(pipeline.nodes):
        text = dock.layer_list.item(row).text()
        inputs_line = text.split("\n")[1]
        assert "← " in inputs_line
        for source in node.inputs:
            assert source in dock.layer_list.item(row).toolTip()
        joins = len(node.inputs) > 1
        assert ("[joins 2 branches]" in text) == joins
        assert dock.layer_list.item(row).font().bold() == joins
    add = next(i for i, n in enumerate(pipeline.nodes) if n.layer.type_name == "Add")
    assert "← batchnorm…ization_23, relu_8" in dock.layer_list.item(add).text()
    # Structure edits need a chain: off, and the reason is where the user looks.
    session.set_selected_layer(add)
    assert not any(action.isEnabled() for action in dock.edit_actions)
    for action in [*dock.edit_actions, *dock.add_actions.values()]:
        action.trigger()  # nothing happens: disabled, or (the Add menu's items) refused
        assert session.pipeline is pipeline
    assert not dock.add_button.isEnabled() and not dock.add_menu.isEnabled()
    assert GRAPH_REASON in dock.remove_action.toolTip()
    assert GRAPH_REASON in dock.add_button.toolTip()
    assert dock.graph_note.isVisible()
    assert dock.layer_list.dragDropMode() == QAbstractItemView.DragDropMode.NoDragDrop
    # A layer's own settings still work on a graph: the stem's padding, both sides of the
    # first Add follow its size.
    conv = next(i for i, n in enumerate(pipeline.nodes) if n.layer.type_name == "Conv2d")
    session.set_selected_layer(conv)
    dock.form.editors["padding"].widgets[0].setValue(2)
    assert session.pipeline is not pipeline
    assert session.pipeline.nodes[conv].layer.padding in (2, (2, 1))
    # Back to a chain: everything is on again.
    session.set_pipeline(Pipeline.chain([Conv2d(3, 4, 3), ReLU()]))
    assert dock.remove_action.isEnabled() and dock.add_button.isEnabled()
    assert dock.down_action.isEnabled() and dock.duplicate_action.isEnabled()
    assert GRAPH_REASON not in dock.remove_action.toolTip()
    assert not dock.graph_note.isVisible()
    assert dock.layer_list.dragDropMode() == QAbstractItemView.DragDropMode.InternalMove
    assert all("←" not in dock.layer_list.item(r).text() for r in range(2))


@pytest.mark.parametrize(
    ("name", "limit", "expected"),
    [("conv1", 16, "conv1"),
     ("batchnormalization_23", 16, "batchno…ation_23"),
     ("batchnormalization_23", 21, "batchnormalization_23"),
     ("/layer1/layer1.0/relu/Relu_output_0", 16, "…er1.0/relu/Relu"),
     ("/features/Conv_output_0", 16, "features/Conv")],
)
def test_short_names_keep_the_telling_part(name, limit, expected):
    from gui.pipeline_edits import short_name

    assert short_name(name, limit) == expected
    assert len(short_name(name, limit)) <= limit
