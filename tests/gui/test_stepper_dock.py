"""The layer stepper: a card per layer, Previous / Next, input beside output with captions."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from engine.graph.pipeline import InputSpec, Node, Pipeline
from engine.io.mosaic import tile_maps
from engine.layers import Concat, Conv2d, Flatten, GlobalAvgPool2d, ReLU
from engine.onnx.importer import load_onnx_model
from engine.resolve import resolve_pipeline
from gui.colormaps import indexed_lookup_table
from gui.docks.stepper import StepperDock
from gui.widgets.step_view import MAX_INPUTS, MAX_MAPS
from tests.engine.onnx_models import residual
from tests.gui.conftest import make_result, publish, show_dock, smooth_frame


@pytest.fixture
def make_dock(qtbot, idle_live):
    def make(pipeline):
        session, live = idle_live(pipeline)
        dock = show_dock(qtbot, StepperDock(session, live), 700, 500)
        result = make_result(pipeline, smooth_frame())
        publish(live, result)
        return session, live, dock, result

    return make


def shape_text(shape):
    return "×".join(str(s) for s in shape)


def test_a_card_per_layer_with_type_and_shape(make_dock):
    session, _live, dock, _result = make_dock(resolve_pipeline("default"))
    pipeline = session.pipeline
    shapes = pipeline.shapes((3, 60, 80))
    assert len(dock.cards) == len(pipeline.nodes)
    for node, card in zip(pipeline.nodes, dock.cards, strict=True):
        lines = card.text().split("\n")
        assert lines == [node.name, node.layer.type_name, shape_text(shapes[node.name])]
        assert card.toolTip()
    assert [c.isChecked() for c in dock.cards] == [i == 0 for i in range(len(dock.cards))]
    dock.cards[4].click()
    assert session.selected_layer == 4
    assert dock.cards[4].isChecked() and not dock.cards[0].isChecked()


def test_next_and_previous_walk_the_pipeline_with_captions(make_dock):
    session, _live, dock, _result = make_dock(resolve_pipeline("default"))
    pipeline = session.pipeline
    shapes = {pipeline.input_name: (3, 60, 80), **pipeline.shapes((3, 60, 80))}
    assert not dock.prev_button.isEnabled()
    for i in range(1, len(pipeline.nodes)):
        dock.next_button.click()
        assert session.selected_layer == i
        node = pipeline.nodes[i]
        before = shapes[node.inputs[0]]
        assert dock.caption.text() == (
            f"{node.name}: {shape_text(before)} → {shape_text(shapes[node.name])}")
    assert not dock.next_button.isEnabled()
    dock.prev_button.click()
    assert session.selected_layer == len(pipeline.nodes) - 2
    for widget in (dock.prev_button, dock.next_button, dock.caption):
        assert widget.toolTip()


def test_keyboard_steps_when_the_dock_has_focus(make_dock, qtbot):
    session, _live, dock, _result = make_dock(resolve_pipeline("default"))
    dock.activateWindow()
    dock.next_button.setFocus()
    qtbot.waitUntil(dock.next_button.hasFocus, timeout=2000)
    qtbot.keyClick(dock.next_button, Qt.Key.Key_Right)
    assert session.selected_layer == 1
    qtbot.keyClick(dock.next_button, Qt.Key.Key_Right)
    assert session.selected_layer == 2
    qtbot.keyClick(dock.next_button, Qt.Key.Key_Left)
    assert session.selected_layer == 1
    # Page Up / Down reach the dock as key presses (the main window has them as shortcuts).
    dock.setFocus()
    qtbot.waitUntil(dock.hasFocus, timeout=2000)
    qtbot.keyClick(dock, Qt.Key.Key_PageDown)
    assert session.selected_layer == 2
    qtbot.keyClick(dock, Qt.Key.Key_PageUp)
    qtbot.keyClick(dock, Qt.Key.Key_PageUp)
    assert session.selected_layer == 0


def test_input_and_output_side_by_side(make_dock):
    session, _live, dock, result = make_dock(resolve_pipeline("default"))
    session.set_display(normalization="layer")
    # First layer: the input side is the RGB image itself.
    np.testing.assert_array_equal(dock.input_panel.mosaic._image.image, result.frame)
    assert "input image" in dock.input_panel.caption.text()
    # conv2: pool1's maps go in, conv2's come out (at most MAX_MAPS drawn per side).
    index = next(i for i, n in enumerate(session.pipeline.nodes) if n.name == "conv2")
    session.set_selected_layer(index)
    node = session.pipeline.nodes[index]
    inp = result.activations[node.inputs[0]]
    out = result.activations[node.name]
    for panel, a in ((dock.input_panel, inp), (dock.output_panel, out)):
        shown = a[:MAX_MAPS]
        cols = panel.mosaic.grid[1]
        # Signed values get the diverging colormap with levels symmetric around zero.
        lo, hi = float(shown.min()), float(shown.max())
        expected = [-max(-lo, hi), max(-lo, hi)] if lo < 0 else [lo, hi]
        np.testing.assert_allclose(panel.mosaic.levels, expected, rtol=1e-6)
        tiled = tile_maps(shown, columns=cols)
        reference = np.zeros(tiled.shape, dtype=np.uint8)
        ok = ~np.isnan(tiled)
        reference[ok] = 1 + np.rint((tiled[ok] - expected[0]) / (expected[1] - expected[0]) * 253)
        assert np.abs(panel.mosaic.tiled.astype(int) - reference).max() <= 1
        np.testing.assert_array_equal(panel.mosaic.tiled == 0, reference == 0)
        lut = indexed_lookup_table("coolwarm" if lo < 0 else session.display.colormap)
        np.testing.assert_array_equal(panel.mosaic._image.lut, lut)
    assert inp.min() >= 0 > out.min()  # pool1 (after a ReLU) is unsigned, conv2 is signed
    assert dock.input_panel.caption.text() == f"input ({node.inputs[0]} output): 8 maps"
    assert dock.output_panel.caption.text() == "output of conv2: 16 maps"
    # conv3 has 32 maps: only the first MAX_MAPS are drawn, and the caption says so.
    session.set_selected_layer(index + 3)
    assert session.pipeline.nodes[index + 3].name == "conv3"
    assert dock.output_panel.mosaic.n_maps == MAX_MAPS
    assert dock.output_panel.caption.text() == f"output of conv3: first {MAX_MAPS} of 32 maps"


def test_vector_output_and_pipeline_edit_rebuild_cards(make_dock):
    base = resolve_pipeline("default")
    pipeline = Pipeline.chain([*base.layers, GlobalAvgPool2d(), Flatten()])
    session, live, dock, result = make_dock(pipeline)
    session.set_selected_layer(len(pipeline.nodes) - 1)
    assert dock.output_panel.stack.currentWidget() is dock.output_panel.bars
    np.testing.assert_array_equal(dock.output_panel.bars.values,
                                  result.activations[pipeline.nodes[-1].name])
    session.set_pipeline(base)
    publish(live, make_result(base, smooth_frame(), seq=2))
    assert len(dock.cards) == len(base.nodes)
    assert session.selected_layer == len(base.nodes) - 1
    assert dock.cards[-1].isChecked()


def test_pipeline_that_does_not_fit_says_so(qtbot, idle_live):
    pipeline = Pipeline.chain([Conv2d(3, 4, 11)], input_spec=InputSpec(height=8, width=8))
    session, live = idle_live(pipeline)
    dock = StepperDock(session, live)
    qtbot.addWidget(dock)
    dock.show()
    assert "does not fit" in dock.caption.text()
    assert dock.cards[0].text().endswith("does not fit")


def test_gray_pipeline_shows_its_gray_input(make_dock):
    session, _live, dock, result = make_dock(resolve_pipeline("edges"))
    assert session.pipeline.input_spec.channels == 1
    shown = dock.input_panel.mosaic._image.image
    expected = np.rint(np.clip(result.input[0], 0, 1) * 255).astype(np.uint8)
    assert shown.shape == expected.shape
    assert np.abs(shown.astype(int) - expected).max() <= 1
    assert dock.input_panel.caption.text() == "input image: gray"


# -- networks with branches ------------------------------------------------------------------

def test_graph_cards_say_where_branches_come_from(make_dock):
    session, _live, dock, result = make_dock(load_onnx_model(residual()))
    pipeline = session.pipeline
    assert len(dock.cards) == len(pipeline.nodes)
    previous = pipeline.input_name
    breaks = 0
    for node, card in zip(pipeline.nodes, dock.cards, strict=True):
        lines = card.text().split("\n")
        assert len(lines) == 4  # every card of a graph has the same four lines
        assert lines[1:3] == [node.layer.type_name,
                              shape_text(result.activations[node.name].shape)]
        for source in node.inputs:
            assert source in card.toolTip()
        if len(node.inputs) == 2:
            assert lines[3].startswith("⤷ ") and " + " in lines[3]
            assert lines[3].endswith(node.inputs[1])  # relu_8, conv_35: short enough
            assert "joins 2 branches" in card.toolTip()
        elif node.inputs[0] != previous:
            assert lines[3] == f"⤷ from {node.inputs[0]}"
        else:
            assert lines[3].strip() == ""
        breaks += previous not in node.inputs
        previous = node.name
    # The strip's arrows: "›" where a card feeds the next, "┆" where the next reads elsewhere.
    arrows = [dock.strip_layout.itemAt(i).widget().text()
              for i in range(dock.strip_layout.count())
              if isinstance(dock.strip_layout.itemAt(i).widget(), QLabel)]
    assert arrows.count("┆") == breaks == 1  # only the shortcut conv reads from further back
    assert arrows.count("›") == len(pipeline.nodes) - 1


def test_a_join_shows_every_input_and_names_them_in_the_caption(make_dock):
    session, _live, dock, result = make_dock(load_onnx_model(residual()))
    session.set_display(normalization="layer")
    nodes = session.pipeline.nodes
    index = next(i for i, n in enumerate(nodes) if n.layer.type_name == "Add")
    session.set_selected_layer(index)
    node = nodes[index]
    a, b = node.inputs
    acts = result.activations
    assert dock.caption.text() == (
        f"{node.name}: {a} {shape_text(acts[a].shape)}, {b} {shape_text(acts[b].shape)} → "
        f"{shape_text(acts[node.name].shape)}")
    visible = [p for p in dock.input_panels if p.isVisibleTo(dock)]
    assert len(visible) == 2 and not dock.more_inputs.isVisibleTo(dock)
    for j, (panel, source) in enumerate(zip(visible, node.inputs, strict=True)):
        assert panel.caption.text() == f"input {j + 1}: {source}: 8 maps"
        # Each panel draws its own input: its levels come from that array's values.
        lo, hi = float(acts[source].min()), float(acts[source].max())
        expected = [-max(-lo, hi), max(-lo, hi)] if lo < 0 else [lo, hi]
        np.testing.assert_allclose(panel.mosaic.levels, expected, rtol=1e-6)
    assert acts[a].min() < 0 <= acts[b].min()  # a batch norm and a ReLU: the panels differ
    # Next layer (a ReLU after the Add): one input panel again, named in the chain style.
    dock.next_button.click()
    assert [p.isVisibleTo(dock) for p in dock.input_panels] == [True, False]
    assert dock.input_panel.caption.text() == f"input ({node.name} output): 8 maps"


def test_more_inputs_than_panels_are_counted(qtbot, idle_live):
    names = [f"r{i}" for i in range(MAX_INPUTS + 2)]
    nodes = [Node(n, ReLU(), ("input",)) for n in names]
    pipeline = Pipeline([*nodes, Node("cat", Concat(), tuple(names))])
    session, live = idle_live(pipeline)
    dock = show_dock(qtbot, StepperDock(session, live), 700, 500)
    result = make_result(pipeline, smooth_frame())
    publish(live, result)
    session.set_selected_layer(len(names))
    assert sum(p.isVisibleTo(dock) for p in dock.input_panels) == MAX_INPUTS
    assert dock.more_inputs.isVisibleTo(dock)
    assert dock.more_inputs.text() == "… and 2 more inputs"
    for name in names:
        assert f"{name} 3×60×80" in dock.caption.text()
    assert dock.caption.text().endswith(f"→ {3 * len(names)}×60×80")
    assert dock.cards[-1].text().split("\n")[3] == f"⤷ {len(names)} inputs"
