"""The Pipeline dock: list and form follow the Session; edits are checked before they apply."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtGui import QKeySequence

from engine.graph.pipeline import InputSpec, Pipeline
from engine.layers import Conv2d, MaxPool2d, ReLU
from gui.docks.pipeline_editor import ADDABLE, EditRefused, fit_and_check
from gui.session import Session
from tests.gui.editor_support import (
    FakeLive,
    make_dock,
    types,
)


def out_size(n, k, s=1, p=0):
    """The lecture's output size, written out independently of the engine."""
    return (n + 2 * p - k) // s + 1


@pytest.fixture
def small():
    """conv(3->4, 3x3, pad 1) -> ReLU -> maxpool 2 -> conv(4->6, 3x3) on a 3 x 20 x 24 input."""
    pipeline = Pipeline.chain([Conv2d(3, 4, 3, padding=1), ReLU(), MaxPool2d(2), Conv2d(4, 6, 3)],
                              input_spec=InputSpec(channels=3))
    session = Session(pipeline)
    return session, FakeLive((3, 20, 24))




def test_builds_on_default_and_follows_selection(qtbot, session):
    dock = make_dock(qtbot, session, None)
    assert dock.layer_list.count() == len(session.pipeline.nodes)
    assert dock.layer_list.currentRow() == session.selected_layer == 0
    last = len(session.pipeline.nodes) - 1
    session.set_selected_layer(last)
    assert dock.layer_list.currentRow() == last
    assert session.pipeline.nodes[last].name in dock.form.title.text()
    dock.layer_list.setCurrentRow(0)
    assert session.selected_layer == 0
    assert session.pipeline.nodes[0].name in dock.form.title.text()


def test_list_shows_shapes_for_the_live_input(qtbot, small):
    session, live = small
    dock = make_dock(qtbot, session, live)
    h, w = 20, 24
    h2, w2 = out_size(h, 2, 2), out_size(w, 2, 2)
    expected = [(4, h, w), (4, h, w), (4, h2, w2), (6, out_size(h2, 3), out_size(w2, 3))]
    for row, shape in enumerate(expected):
        assert " × ".join(map(str, shape)) in dock.layer_list.item(row).text()
    live.push((3, 40, 40))  # a new source size: the shapes follow
    assert "4 × 20 × 20" in dock.layer_list.item(2).text()
    assert "3 × 40 × 40" in dock.caption.text()


@pytest.mark.parametrize("label", [label for label, _, _ in ADDABLE])
def test_add_each_type_after_selection(qtbot, small, label):
    session, live = small
    dock = make_dock(qtbot, session, live)
    session.set_selected_layer(1)
    before = session.pipeline
    dock.add_actions[label].trigger()
    after = session.pipeline
    expected_type = {"Conv 3x3": "Conv2d", "Conv 1x1": "Conv2d", "ReLU": "ReLU",
                     "Leaky ReLU": "LeakyReLU", "Sigmoid": "Sigmoid", "Tanh": "Tanh",
                     "Max pool 2x2": "MaxPool2d", "Avg pool 2x2": "AvgPool2d",
                     "Global avg pool": "GlobalAvgPool2d", "Batch norm": "BatchNorm2d"}[label]
    if label == "Global avg pool":
        # 1 x 1 maps cannot feed the last 3x3 conv: refused, with the reason.
        assert after is before
        assert "larger than" in dock.status.text()
        return
    assert types(after) == [*types(before)[:2], expected_type, *types(before)[2:]]
    assert session.selected_layer == 2
    assert dock.layer_list.count() == 5 and dock.layer_list.currentRow() == 2
    new = after.nodes[2].layer
    if expected_type in ("Conv2d", "BatchNorm2d"):
        channels = new.in_channels if expected_type == "Conv2d" else new.num_features
        assert channels == 4  # what relu1 delivers
    after.forward(np.zeros((3, 20, 24), np.float32))  # the new pipeline runs


def test_remove_duplicate_and_move(qtbot, small):
    session, live = small
    dock = make_dock(qtbot, session, live)
    session.set_selected_layer(1)
    dock.duplicate_action.trigger()
    assert types(session.pipeline) == ["Conv2d", "ReLU", "ReLU", "MaxPool2d", "Conv2d"]
    assert session.selected_layer == 2
    dock.remove_action.trigger()
    assert types(session.pipeline) == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d"]
    session.set_selected_layer(2)
    dock.up_action.trigger()
    assert types(session.pipeline) == ["Conv2d", "MaxPool2d", "ReLU", "Conv2d"]
    assert session.selected_layer == 1
    dock.down_action.trigger()
    assert types(session.pipeline) == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d"]
    assert session.selected_layer == 2


def test_duplicating_a_conv_fits_its_channels(qtbot, small):
    session, live = small
    dock = make_dock(qtbot, session, live)
    dock.duplicate_action.trigger()  # conv 3->4 copied after itself must take 4 channels
    copy = session.pipeline.nodes[1].layer
    assert (copy.in_channels, copy.out_channels) == (4, 4)
    assert "4 input channels" in dock.status.text()


def test_remove_refuses_the_last_layer(qtbot):
    session = Session(Pipeline.chain([ReLU()]))
    dock = make_dock(qtbot, session, FakeLive((3, 8, 8)))
    before = session.pipeline
    assert not dock.remove_action.isEnabled()
    assert dock.remove_layer() is False
    assert session.pipeline is before
    assert "at least one layer" in dock.status.text()


def test_out_channels_edit_flows_to_the_next_conv(qtbot, small):
    session, live = small
    dock = make_dock(qtbot, session, live)
    next_seed_weight = session.pipeline.nodes[3].layer.weight
    dock.form.editors["out_channels"].widgets[0].setValue(7)
    first, second = session.pipeline.nodes[0].layer, session.pipeline.nodes[3].layer
    assert first.out_channels == 7
    assert second.in_channels == 7 and second.weight.shape == (6, 7, 3, 3)
    assert not np.array_equal(second.weight[:, :4], next_seed_weight)
    assert "conv2" in dock.status.text() and "7 input channels" in dock.status.text()
    out = session.pipeline.forward(np.ones((3, 20, 24), np.float32))
    assert out[session.pipeline.nodes[3].name].shape == (6, 8, 10)


def test_growing_a_hand_edited_conv_keeps_its_filters(qtbot, small):
    session, live = small
    dock = make_dock(qtbot, session, live)
    conv = session.pipeline.nodes[0].layer
    weight = np.array(conv.weight)
    weight[0, 0, 0, 0] = 5.0
    session.set_pipeline(session.pipeline.replace_layer(0, conv.replace(weight=weight)))
    dock.form.editors["out_channels"].widgets[0].setValue(6)
    grown = session.pipeline.nodes[0].layer.weight
    assert grown.shape == (6, 3, 3, 3)
    np.testing.assert_array_equal(grown[:4], weight)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [("kernel_size", 30, "larger than the padded input"),  # input is 20 x 24
     ("out_channels", 0, "at least 1")],
)
def test_invalid_edit_shows_error_and_changes_nothing(qtbot, small, field, value, words):
    session, live = small
    dock = make_dock(qtbot, session, live)
    before = session.pipeline
    dock.form.editors[field].widgets[0].setValue(value)
    assert session.pipeline is before
    text = dock.form.errors[field].text()
    assert words in text and not dock.form.errors[field].isHidden()
    assert str(value) in text
    assert not session.can_undo


def test_strict_fitting_refuses_a_stride_that_floors(qtbot, small):
    session, live = small
    dock = make_dock(qtbot, session, live)  # conv1: 3x3, padding 1, on 20 x 24
    dock.strict.setChecked(True)
    before = session.pipeline
    dock.form.editors["stride"].widgets[0].setValue(2)  # (20 - 3 + 2*1)/2 + 1 = 10.5
    assert session.pipeline is before
    text = dock.form.errors["stride"].text()
    assert "does not fit" in text and "10.50" in text
    dock.strict.setChecked(False)  # without strict the floor is taken, and marked
    dock.form.editors["stride"].widgets[0].setValue(2)
    conv = session.pipeline.nodes[0].layer
    assert conv.stride == (2, 1)
    assert f"4 × {out_size(20, 3, 2, 1)} × 24" in dock.layer_list.item(0).text()
    assert "floored" in dock.layer_list.item(0).text()


def test_undo_restores_the_pipeline(qtbot, small):
    session, live = small
    dock = make_dock(qtbot, session, live)
    original = session.pipeline
    dock.form.editors["padding"].widgets[0].setValue(0)
    assert session.pipeline is not original
    assert session.pipeline.nodes[0].layer.padding in (0, (0, 1))
    session.undo()
    assert session.pipeline is original
    assert dock.form.editors["padding"].widgets[0].value() == 1


def test_drag_reorder_moves_the_layer(qtbot, small):
    session, live = small
    dock = make_dock(qtbot, session, live)
    model = dock.layer_list.model()
    model.moveRow(model.index(0, 0).parent(), 2, model.index(0, 0).parent(), 1)
    qtbot.waitUntil(lambda: types(session.pipeline)[1] == "MaxPool2d", timeout=2000)
    assert types(session.pipeline) == ["Conv2d", "MaxPool2d", "ReLU", "Conv2d"]


def test_actions_have_shortcuts_and_tooltips(qtbot, small):
    session, live = small
    dock = make_dock(qtbot, session, live)
    shortcuts = {dock.remove_action: "Del", dock.duplicate_action: "Ctrl+D",
                 dock.up_action: "Alt+Up", dock.down_action: "Alt+Down"}
    for action, keys in shortcuts.items():
        assert action.shortcut() == QKeySequence(keys)
        assert action.toolTip()
    assert all(action.toolTip() for action in dock.add_actions.values())
    assert all(editor.toolTip() for editor in dock.form.editors.values())


def test_fit_and_check_matches_the_hand_formula(small):
    session, _ = small
    fitted, shapes, notes = fit_and_check(session.pipeline, (3, 31, 17), strict=False)
    assert fitted is session.pipeline and notes == []
    h, w = out_size(31, 2, 2), out_size(17, 2, 2)
    assert shapes["conv2"] == (6, out_size(h, 3), out_size(w, 3))


def test_branching_pipeline_is_listed_and_refuses_chain_edits(qtbot):
    from engine.graph.pipeline import Node
    from engine.layers import Add

    nodes = [Node("a", ReLU(), ("input",)), Node("b", Conv2d(3, 3, 1), ("input",)),
             Node("sum", Add(), ("a", "b"))]
    session = Session(Pipeline(nodes))
    dock = make_dock(qtbot, session, FakeLive((3, 10, 12)))
    assert dock.layer_list.count() == 3
    assert "3 × 10 × 12" in dock.layer_list.item(2).text()
    before = session.pipeline
    assert dock.remove_layer() is False
    assert session.pipeline is before
    assert "chains only" in dock.status.text()
    session.set_selected_layer(1)
    dock.form.editors["out_channels"].widgets[0].setValue(4)  # Add then gets 3 and 4 channels
    assert session.pipeline is before
    assert dock.form.errors["out_channels"].text().startswith("Not applied: sum")


def test_follows_the_running_live_loop(qtbot, session, live):
    dock = make_dock(qtbot, session, live)
    qtbot.waitUntil(lambda: live.latest is not None, timeout=15000)
    qtbot.waitUntil(lambda: "live frame" in dock.caption.text(), timeout=5000)
    assert " × ".join(map(str, live.latest.input.shape)) in dock.caption.text()


def test_kernel_size_edit_redraws_weights_and_says_so(qtbot, small):
    session, live = small
    dock = make_dock(qtbot, session, live)
    dock.form.editors["kernel_size"].widgets[0].setValue(5)
    dock.form.editors["kernel_size"].widgets[1].setValue(5)
    conv = session.pipeline.nodes[0].layer
    assert conv.weight.shape == (4, 3, 5, 5)
    assert "weights are now he seed 0" in dock.status.text()
    shape = f"4 × {out_size(20, 5, 1, 1)} × {out_size(24, 5, 1, 1)}"
    assert shape in dock.layer_list.item(0).text()


def test_channels_come_from_the_pipeline_not_a_stale_frame(qtbot):
    from engine.resolve import resolve_pipeline

    session = Session(resolve_pipeline("edges"))  # gray input, conv1 takes 1 channel
    dock = make_dock(qtbot, session, FakeLive((3, 30, 40)))  # a frame of the previous RGB one
    assert "1 × 30 × 40" in dock.caption.text()
    dock.form.editors["out_channels"].widgets[0].setValue(3)
    assert session.pipeline.nodes[0].layer.in_channels == 1
    assert session.pipeline.nodes[0].layer.out_channels == 3


def test_batch_norm_eps_is_shown_and_kept(qtbot, small):
    session, live = small
    dock = make_dock(qtbot, session, live)
    dock.add_actions["Batch norm"].trigger()
    editor = dock.form.editors["eps"]
    assert editor.value() == pytest.approx(1e-5)
    assert not dock.form.editors["num_features"].widgets[0].isEnabled()
    editor.widgets[0].setValue(1e-3)
    assert session.pipeline.nodes[1].layer.eps == pytest.approx(1e-3)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(4, 40), k=st.integers(1, 7), s=st.integers(1, 4), p=st.integers(0, 3),
       strict=st.booleans())
def test_fit_and_check_agrees_with_the_lecture_formula(n, k, s, p, strict):
    pipeline = Pipeline.chain([Conv2d(3, 2, k, stride=s, padding=p), ReLU()])
    span = n + 2 * p - k
    if span < 0 or (strict and span % s):
        with pytest.raises(EditRefused) as info:
            fit_and_check(pipeline, (3, n, n), strict)
        assert info.value.index == 0 and info.value.field in ("kernel_size", "stride")
        return
    _, shapes, _ = fit_and_check(pipeline, (3, n, n), strict)
    assert shapes["conv1"] == shapes["relu1"] == (2, span // s + 1, span // s + 1)


def test_shapes_keep_the_last_frame_size_while_the_new_pipeline_runs(qtbot, small):
    session, live = small
    dock = make_dock(qtbot, session, live)
    live.push((3, 40, 44))
    live.latest = None  # what LiveResults reports between an edit and its first result
    dock.form.editors["out_channels"].widgets[0].setValue(5)
    assert "3 × 40 × 44" in dock.caption.text() and "live frame" in dock.caption.text()
    assert "5 × 40 × 44" in dock.layer_list.item(0).text()
