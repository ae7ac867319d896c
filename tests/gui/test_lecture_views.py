"""The lecture docks: receptive fields, parameter counts, 1x1 channel mixing, translations."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine import ops as F
from engine.io.media import resize_longest, to_input
from engine.lecture.receptive import receptive_field
from engine.lecture.translation import ShiftChange
from gui.docks.channel_mixing import ChannelMixingDock, demo_layer
from gui.docks.parameters import ParametersDock
from gui.docks.receptive_field import ReceptiveFieldDock
from gui.docks.translation import TranslationDock, conclusion
from gui.widgets.bar_compare import power_of_ten, thousands
from tests.gui.conftest import make_result, street_frame
from tests.gui.lecture_support import (
    build,
    feed,
    index_of,
)

# -- receptive fields ---------------------------------------------------------------------------

def conv3_field_rows(y, size):
    """Default pipeline, by hand: conv3 (k3 p1) <- pool2 (2x2) <- conv2 <- pool1 <- conv1.

    Going back, a 3x3 pad-1 conv widens a span [a, b] to [a-1, b+1] and a 2x2 stride-2 pool
    maps [a, b] to [2a, 2b+1]; so conv3 row y sees input rows 4y-7 to 4y+10 (18 rows).
    """
    a, b = y - 1, y + 1          # pool2
    a, b = 2 * a, 2 * b + 1      # relu2 / conv2
    a, b = a - 1, b + 1          # pool1
    a, b = 2 * a, 2 * b + 1      # relu1 / conv1
    a, b = a - 1, b + 1          # input
    return max(a, 0), min(b, size - 1), b - a + 1


@pytest.mark.parametrize("unit", [(7, 10), (0, 0), (14, 19)])
def test_clicking_a_unit_draws_the_engines_receptive_field(qtbot, env, unit):
    session, live, _ = env
    session.set_selected_layer(index_of(session.pipeline, "conv3"))
    session.set_selected_map(5)
    dock = build(qtbot, ReceptiveFieldDock, session, live)
    y, x = unit
    qtbot.mouseClick(dock.map_view, Qt.MouseButton.LeftButton,
                     pos=dock.map_view.position_of(y, x).toPoint())
    expected = receptive_field(session.pipeline, (3, 60, 80), "conv3", 5, y, x)
    assert dock.field == expected
    y0, y1, full = conv3_field_rows(y, 60)
    x0, x1, _ = conv3_field_rows(x, 80)
    assert dock.input_view.boxes == [(y0, y1, x0, x1)]
    assert expected.size == (full, full) == (18, 18)
    text = dock.info.text()
    assert f"Unit ({y}, {x}) of conv3, map 5," in text
    assert f"sees a {y1 - y0 + 1} x {x1 - x0 + 1} pixel region of the input" in text
    assert f"rows {y0}-{y1}, columns {x0}-{x1}" in text
    clipped = (y1 - y0 + 1, x1 - x0 + 1) != (18, 18)
    assert ("would be 18 x 18" in text) == clipped
    # The strip shows every earlier conv / pool layer with the engine's box on it.
    assert set(dock._strip_views) == {"conv1", "pool1", "conv2", "pool2"}
    for name, view in dock._strip_views.items():
        r = expected.regions[name]
        assert view.boxes == [(r.y0, r.y1, r.x0, r.x1)]
    assert dock.map_view.image_shape == (15, 20)


def test_row_and_column_spin_boxes_pick_the_unit(qtbot, env):
    session, live, _ = env
    session.set_selected_layer(index_of(session.pipeline, "pool1"))
    dock = build(qtbot, ReceptiveFieldDock, session, live)
    dock.row.setValue(3)
    dock.col.setValue(39)
    # pool1 unit (3, 39): conv1 rows 6-7, columns 78-79, then the 3x3 conv adds one each side.
    assert dock.input_view.boxes == [(5, 8, 77, 79)]
    assert "4 x 3 pixel region" in dock.info.text()
    assert dock.field.size == (4, 4)


def test_receptive_box_lands_on_the_input_of_a_fixed_size_network(qtbot, idle_live):
    """The bundled shapes model takes a 64 x 64 crop: the box is drawn on that, not the frame."""
    import time

    from engine.io.preprocess import frame_to_input
    from engine.resolve import resolve_pipeline
    from gui.capture import Result
    from tests.gui.conftest import smooth_frame

    session, live = idle_live(resolve_pipeline("shapes"))
    frame = smooth_frame(360, 480)
    x = frame_to_input(frame, session.pipeline)  # what the engine worker feeds the pipeline
    result = Result(1, frame, x, session.pipeline, session.pipeline.forward(x), {}, 0.0,
                    time.perf_counter())
    assert result.input.shape == (3, 64, 64) and result.frame.shape[:2] == (360, 480)
    feed(live, result)
    session.set_selected_layer(index_of(session.pipeline, "conv2"))
    dock = build(qtbot, ReceptiveFieldDock, session, live)
    qtbot.mouseClick(dock.map_view, Qt.MouseButton.LeftButton,
                     pos=dock.map_view.position_of(3, 20).toPoint())
    assert dock.input_view.image_shape == (64, 64)
    expected_rgb = np.round(result.input.transpose(1, 2, 0) * 255)  # (64, 64, 3)
    np.testing.assert_array_equal(dock.input_view._rgb, expected_rgb)
    region = dock.field.regions[session.pipeline.input_name]
    assert region == receptive_field(session.pipeline, (3, 64, 64), "conv2", 0, 3,
                                     20).input_region
    assert dock.input_view.boxes == [(region.y0, region.y1, region.x0, region.x1)]
    assert 0 <= region.y0 <= region.y1 < 64 and 0 <= region.x0 <= region.x1 < 64


def test_receptive_dock_waits_for_a_frame(qtbot, idle_live):
    dock = build(qtbot, ReceptiveFieldDock, *idle_live())
    assert "Waiting" in dock.info.text()


# -- parameters ---------------------------------------------------------------------------------

def test_lecture_rows_show_the_lectures_numbers(qtbot, env):
    session, live, _ = env
    dock = build(qtbot, ParametersDock, session, live)
    mlp = dock.example_rows["mlp200"].text()
    assert "14,400,120,000" in mlp and "14.4 × 10<sup>9</sup>" in mlp
    conv = dock.example_rows["conv32"].text()
    assert "<b>760</b>" in conv and "94,402,560" in conv and "10<sup>8</sup>" in conv

    qtbot.mouseClick(dock.example_buttons["conv32"], Qt.MouseButton.LeftButton)
    cmp = dock.comparison
    assert cmp.conv == 10 * (5 * 5 * 3 + 1) == 760
    assert cmp.lecture == (32 * 32 * 3 + 1) * (32 * 32 * 3) * 10 == 94_402_560
    assert cmp.dense == (32 * 32 * 3 + 1) * (10 * 32 * 32)
    assert dict(dock.bars.bars) == {"conv": 760, "fully connected": cmp.dense,
                                    "lecture's count": 94_402_560}
    assert "75 input values" in dock.local.text()

    qtbot.mouseClick(dock.example_buttons["mlp200"], Qt.MouseButton.LeftButton)
    assert dock.comparison.dense == (200 * 200 * 3 + 1) * (200 * 200 * 3) == 14_400_120_000
    assert "14.4 × 10<sup>9</sup>" in dock.counts.text()


def test_current_layer_is_the_nearest_conv_with_the_live_input(qtbot, env):
    session, live, _ = env
    dock = build(qtbot, ParametersDock, session, live)
    session.set_selected_layer(index_of(session.pipeline, "relu2"))  # nearest conv: conv2
    cmp = dock.comparison
    assert cmp.title.startswith("conv2")
    assert cmp.in_shape == (8, 30, 40) and cmp.out_shape == (16, 30, 40)
    assert cmp.conv == 16 * (3 * 3 * 8 + 1)
    assert cmp.dense == (8 * 30 * 40 + 1) * (16 * 30 * 40)
    assert cmp.fan_in == 72
    assert cmp.connections == 16 * 30 * 40 * 72
    assert f"{16 * 30 * 40 * 72:,}" in dock.sharing.text()
    assert "1,168" in dock.counts.text()
    qtbot.mouseClick(dock.example_buttons["conv32"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dock.layer_button, Qt.MouseButton.LeftButton)
    assert dock.comparison.title.startswith("conv2")


def test_number_formats():
    assert thousands(94402560) == "94,402,560"
    assert power_of_ten(14_400_120_000, 9) == "14.4 × 10⁹"
    assert power_of_ten(94_402_560) == "9.4 × 10⁷"
    assert power_of_ten(99_960_000) == "1.0 × 10⁸"
    assert power_of_ten(760) == "760"


def test_number_formats_follow_the_language():
    from engine import i18n
    from engine.lecture.comparisons import lecture_comparison

    i18n.set_language("pt_BR")
    try:
        assert thousands(94402560) == "94.402.560"
        assert power_of_ten(14_400_120_000, 9) == "14,4 × 10⁹"  # the issue's own example
        assert lecture_comparison((3, 32, 32), 10, 5, padding=2).lecture_formula.endswith(
            "= 94.402.560")
    finally:
        i18n.set_language("en")


# -- 1x1 convolutions ---------------------------------------------------------------------------

def test_demo_mixing_equals_conv2d_at_the_pixel(qtbot, env):
    session, live, result = env
    dock = build(qtbot, ChannelMixingDock, session, live)
    assert dock.node_index is None and "demo layer" in dock.status.text()
    layer = dock.layer
    assert (layer.in_channels, layer.out_channels) == (8, 3)
    np.testing.assert_array_equal(layer.weight, demo_layer(8).weight)
    qtbot.mouseClick(dock.map_view, Qt.MouseButton.LeftButton,
                     pos=dock.map_view.position_of(20, 33).toPoint())
    assert dock.pixel == (20, 33)
    maps = result.activations["conv1"]
    full = F.conv2d(maps, layer.weight, layer.bias)
    np.testing.assert_allclose(dock.outputs, full[:, 20, 33], rtol=1e-5, atol=1e-6)
    # And by hand: one weighted sum per output channel.
    for k in range(3):
        total = sum(float(layer.weight[k, c, 0, 0]) * float(maps[c, 20, 33]) for c in range(8))
        assert dock.outputs[k] == pytest.approx(total + float(layer.bias[k]), abs=1e-5)
    np.testing.assert_array_equal(dock.x_grid.values[0], maps[:, 20, 33])
    np.testing.assert_array_equal(dock.w_grid.values, layer.weight[:, :, 0, 0])
    assert "y[0] = " in dock.sum.text()
    assert "16 x (3 x 3 x 8 + 1) = 1,168" in dock.savings.text()
    assert "16 x (3 x 3 x 3 + 1) = 448" in dock.savings.text()


def test_clicking_the_frame_picks_the_matching_pixel(qtbot, env):
    session, live, _ = env
    session.set_selected_layer(index_of(session.pipeline, "pool1"))  # maps of 30 x 40
    dock = build(qtbot, ChannelMixingDock, session, live)
    qtbot.mouseClick(dock.frame_view, Qt.MouseButton.LeftButton,
                     pos=dock.frame_view.position_of(41, 79).toPoint())
    assert dock.pixel == (20, 39)


def test_insert_button_adds_a_1x1_layer_and_undo_removes_it(qtbot, env):
    session, live, _ = env
    original = session.pipeline
    dock = build(qtbot, ChannelMixingDock, session, live)
    demo = dock.layer
    qtbot.mouseClick(dock.insert, Qt.MouseButton.LeftButton)
    new = session.pipeline
    assert len(new.nodes) == len(original.nodes) + 1
    inserted = new.nodes[1].layer
    assert inserted.kernel_size == 1 and inserted.out_channels == 3
    np.testing.assert_array_equal(inserted.weight, demo.weight)
    assert new.shapes((3, 60, 80))  # the next conv now takes 3 channels: it still runs
    assert session.selected_layer == 1
    result = make_result(new, seq=2)
    feed(live, result)
    assert dock.node_index == 1 and "1x1 convolution in the pipeline" in dock.status.text()
    dock.select_pixel(10, 12)
    np.testing.assert_allclose(dock.outputs, result.activations[new.nodes[1].name][:, 10, 12],
                               rtol=1e-5, atol=1e-6)
    session.undo()
    assert session.pipeline == original


# -- translations -------------------------------------------------------------------------------

def shifted_by_hand(x, dy, dx):
    """Move the content by (dy, dx); vacated rows/columns repeat the edge."""
    _, h, w = x.shape
    out = np.empty_like(x)
    for i in range(h):
        for j in range(w):
            out[:, i, j] = x[:, min(max(i - dy, 0), h - 1), min(max(j - dx, 0), w - 1)]
    return out


@pytest.mark.parametrize(("layer", "shift", "direction", "offset"), [
    ("conv1", 2, "right", (0, 2)), ("relu2", 1, "down", (1, 0)),
    ("conv3", 3, "down and right", (3, 3)),
])
def test_translation_numbers_equal_a_direct_computation(qtbot, env, layer, shift, direction,
                                                        offset):
    session, live, result = env
    session.set_selected_layer(index_of(session.pipeline, layer))
    dock = build(qtbot, TranslationDock, session, live)
    dock.shift.setValue(shift)
    dock.direction.setCurrentText(direction)
    assert dock.offset == offset
    x = result.input
    a = session.pipeline.forward(x)
    b = session.pipeline.forward(shifted_by_hand(x, *offset))
    conv = {"conv1": "conv1", "relu2": "conv2", "conv3": "conv3"}[layer]
    block = conv[-1]
    names = [f"conv{block}", f"relu{block}", f"pool{block}"]
    assert [c.name for c in dock.changes] == ["input", *names]
    for change in dock.changes[1:]:
        before, after = a[change.name], b[change.name]
        expected = np.abs(after - before).mean() / np.abs(before).mean()
        assert change.change == pytest.approx(expected, rel=1e-4)
        np.testing.assert_allclose(change.diff, np.abs(after - before).mean(axis=0), atol=1e-6)
    conv_change, pool_change = dock.changes[1].change, dock.changes[-1].change
    claims_less = "changed less" in dock.verdict.text()
    assert claims_less == (pool_change < 0.9 * conv_change)


def test_translation_shrinks_a_large_frame_to_stay_quick(qtbot, env):
    session, live, _ = env
    result = make_result(session.pipeline, street_frame(240), seq=2)  # 180 x 240
    feed(live, result)
    dock = build(qtbot, TranslationDock, session, live)
    assert dock.x.shape == (3, 120, 160)
    x = to_input(resize_longest(result.frame, 160), session.pipeline.input_spec)
    np.testing.assert_array_equal(dock.x, x)
    a = session.pipeline.forward(x)["pool1"]
    b = session.pipeline.forward(shifted_by_hand(x, 0, 1))["pool1"]
    assert dock.changes[-1].change == pytest.approx(
        np.abs(b - a).mean() / np.abs(a).mean(), rel=1e-4)


def test_conclusion_never_claims_what_the_numbers_do_not_show():
    diff = np.zeros((2, 2), np.float32)
    conv = ShiftChange("conv1", 0.20, diff)
    assert "changed less" in conclusion(conv, ShiftChange("pool1", 0.10, diff))
    more = conclusion(conv, ShiftChange("pool1", 0.30, diff))
    assert "changed more" in more and "less" not in more
    assert "about as much" in conclusion(conv, ShiftChange("pool1", 0.21, diff))
    assert "No pooling layer" in conclusion(conv, None)


# -- every dock on a classifier-like pipeline ---------------------------------------------------

@pytest.mark.parametrize("cls", [ReceptiveFieldDock, ParametersDock, ChannelMixingDock,
                                 TranslationDock])
def test_docks_handle_vector_layers_and_missing_frames(qtbot, idle_live, cls):
    from engine.graph.pipeline import Pipeline
    from engine.layers import Conv2d, Flatten, GlobalAvgPool2d, Linear, MaxPool2d, ReLU

    pipeline = Pipeline.chain([Conv2d(3, 4, 3, padding=1), ReLU(), MaxPool2d(2),
                               GlobalAvgPool2d(), Flatten(), Linear(4, 2)])
    session, live = idle_live(pipeline)
    dock = build(qtbot, cls, session, live)  # no frame yet: the dock waits
    feed(live, make_result(pipeline))
    for index in range(len(pipeline.nodes)):
        session.set_selected_layer(index)
        qtbot.wait(1)
    # The last layer gives a vector: the map-based docks say so instead of failing.
    if cls is ReceptiveFieldDock:
        assert "vector" in dock.info.text() and dock.field is None
    if cls is ChannelMixingDock:
        assert "vector" in dock.status.text() and not dock.insert.isEnabled()
    if cls is ParametersDock:
        assert dock.comparison.title.startswith("conv1")
    if cls is TranslationDock:
        assert [c.name for c in dock.changes] == ["input", "conv1", "relu1", "pool1"]


def test_parameters_dock_without_a_conv_layer(qtbot, idle_live):
    from engine.graph.pipeline import Pipeline
    from engine.layers import MaxPool2d

    dock = build(qtbot, ParametersDock, *idle_live(Pipeline.chain([MaxPool2d(2)])))
    assert dock.comparison is None and "no convolution" in dock.title.text()
    qtbot.mouseClick(dock.example_buttons["conv32"], Qt.MouseButton.LeftButton)
    assert dock.comparison.conv == 760


def test_translation_follows_live_frames_on_the_engine_thread(qtbot, env):
    """While following live and visible, the engine thread compares (a preparer); the GUI thread
    only shows the product. Hidden or not following: no preparer."""
    from gui.docks.translation import PREPARER, compare

    session, live, _ = env
    dock = build(qtbot, TranslationDock, session, live)
    preparer = live.engine._preparers.get(PREPARER)
    assert preparer is not None
    assert preparer(make_result(session.pipeline, seq=5)) is None  # just shown: not due yet
    dock._follower.shown_at = 0.0
    result = make_result(session.pipeline, street_frame(120), seq=6)
    product = preparer(result)
    expected = compare(result, session.selected_layer, dock.offset)
    assert [c.change for c in product.changes] == [c.change for c in expected.changes]
    result.prepared[PREPARER] = product
    feed(live, result)
    assert dock.changes is product.changes and dock.x is product.x
    dock.follow.setChecked(False)
    assert not live.engine.has_preparer(PREPARER)
    dock.follow.setChecked(True)
    assert live.engine.has_preparer(PREPARER)
    dock.hide()
    assert not live.engine.has_preparer(PREPARER)
