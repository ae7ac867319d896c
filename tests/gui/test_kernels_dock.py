"""The Kernels dock: filters follow the selection, and every edit reaches the pipeline's output."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from engine.graph.pipeline import Pipeline
from engine.layers import Conv2d, MaxPool2d, ReLU
from engine.layers.kernels import he_init
from engine.ops import conv2d
from gui.docks.kernels import KernelsDock
from gui.session import Session

SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)
LUMA = (0.299, 0.587, 0.114)


def make_dock(qtbot, session):
    dock = KernelsDock(session, None)
    qtbot.addWidget(dock)
    dock.resize(400, 700)
    dock.show()
    return dock


def first_conv(pipeline):
    return next(i for i, n in enumerate(pipeline.nodes) if n.layer.type_name == "Conv2d")


def edit_cell(dock, row, col, value):
    """What the spin-box delegate does when the user commits a number."""
    dock.table.item(row, col).setData(Qt.ItemDataRole.UserRole, float(value))


def conv_by_loops(x, weight, bias, padding):
    """Cross-correlation with stride 1, written as plain loops (the reference)."""
    c_in, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    xp = np.zeros((c_in, h + 2 * padding, w + 2 * padding), np.float64)
    xp[:, padding:padding + h, padding:padding + w] = x
    out = np.zeros((c_out, h + 2 * padding - kh + 1, w + 2 * padding - kw + 1))
    for f in range(c_out):
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                out[f, i, j] = np.sum(xp[:, i:i + kh, j:j + kw] * weight[f]) + bias[f]
    return out


def test_builds_on_default_and_follows_the_selection(qtbot, session):
    dock = make_dock(qtbot, session)
    conv = first_conv(session.pipeline)
    session.set_selected_layer(conv)
    name = session.pipeline.nodes[conv].name
    assert name in dock.caption.text() and "nearest" not in dock.caption.text()
    np.testing.assert_array_equal(dock.grid._weight, session.pipeline.nodes[conv].layer.weight)
    session.set_selected_layer(conv + 1)  # the ReLU after it
    caption = dock.caption.text()
    assert "nearest conv layer above" in caption and name in caption
    # What the selected layer does, in the same label (a second one made the dock too tall).
    relu = session.pipeline.nodes[conv + 1].name
    assert caption.startswith(f"<b>{relu}</b>: ReLU keeps positive values")
    assert dock.panel.isVisibleTo(dock)


def test_no_conv_above_explains_the_layer(qtbot):
    session = Session(Pipeline.chain([ReLU(), MaxPool2d(2), Conv2d(3, 2, 3)]))
    dock = make_dock(qtbot, session)
    session.set_selected_layer(1)
    assert "largest value" in dock.caption.text() and "no kernels" in dock.caption.text()
    assert not dock.panel.isVisibleTo(dock)
    session.set_selected_layer(2)
    assert dock.panel.isVisibleTo(dock)


def test_editing_a_cell_changes_the_weight_and_the_output(qtbot, session):
    dock = make_dock(qtbot, session)
    index = first_conv(session.pipeline)
    session.set_selected_layer(index)
    name = session.pipeline.nodes[index].name
    x = np.random.default_rng(1).random((3, 12, 14), dtype=np.float32)
    before_layer = session.pipeline.nodes[index].layer
    before = session.pipeline.forward(x)[name]
    dock._on_grid_clicked(1, 2)  # filter 1, input channel B
    edit_cell(dock, 0, 2, 0.75)
    layer = session.pipeline.nodes[index].layer
    assert layer.weight[1, 2, 0, 2] == pytest.approx(0.75)
    changed = np.zeros_like(layer.weight, dtype=bool)
    changed[1, 2, 0, 2] = True
    np.testing.assert_array_equal(layer.weight[~changed], before_layer.weight[~changed])
    after = session.pipeline.forward(x)[name]
    reference = conv2d(x, layer.weight, layer.bias, layer.stride, layer.padding)
    np.testing.assert_allclose(after, reference, rtol=1e-5, atol=1e-5)
    # Only filter 1's map changes, by (new - old) times the shifted B channel.
    delta = 0.75 - before_layer.weight[1, 2, 0, 2]
    p = layer.padding if isinstance(layer.padding, int) else layer.padding[0]
    h_out, w_out = after.shape[1:]
    shifted = np.pad(x[2], p)[0:h_out, 2:2 + w_out]  # the B values under tap (0, 2)
    np.testing.assert_allclose(after[1] - before[1], delta * shifted, atol=1e-5)
    np.testing.assert_array_equal(np.delete(after, 1, 0), np.delete(before, 1, 0))
    session.undo()
    assert session.pipeline.nodes[index].layer is before_layer
    assert dock.table.item(0, 2).data(Qt.ItemDataRole.UserRole) == pytest.approx(
        float(before_layer.weight[1, 2, 0, 2]))


def test_conv_matches_plain_loops_after_an_edit(qtbot):
    session = Session(Pipeline.chain([Conv2d(3, 2, 3, padding=1, seed=4)]))
    dock = make_dock(qtbot, session)
    edit_cell(dock, 1, 1, -2.5)
    layer = session.pipeline.nodes[0].layer
    x = np.random.default_rng(2).random((3, 6, 7), dtype=np.float32)
    out = session.pipeline.forward(x)["conv1"]
    np.testing.assert_allclose(out, conv_by_loops(x, layer.weight, layer.bias, 1), atol=1e-5)


def test_click_selects_a_filter(qtbot, session):
    dock = make_dock(qtbot, session)
    session.set_selected_layer(first_conv(session.pipeline))
    grid = dock.grid
    ch, cw = grid._cell()
    left, top = grid._margins()
    qtbot.mouseClick(grid, Qt.MouseButton.LeftButton,
                     pos=QPoint(left + cw + cw // 2, top + 2 * ch + ch // 2))
    assert (dock._filter, dock._channel) == (2, 1)
    assert session.selected_map == 2
    layer = session.pipeline.nodes[first_conv(session.pipeline)].layer
    shown = [[dock.table.item(r, c).data(Qt.ItemDataRole.UserRole) for c in range(3)]
             for r in range(3)]
    np.testing.assert_allclose(shown, layer.weight[2, 1], rtol=1e-6)
    assert "Filter 2" in dock.editor_box.title()


def test_preset_applies_to_one_filter_or_all(qtbot, session):
    dock = make_dock(qtbot, session)
    index = first_conv(session.pipeline)
    before = session.pipeline.nodes[index].layer.weight
    dock._on_grid_clicked(3, 0)
    dock.preset.setCurrentText("sobel_x")
    dock.expand.setCurrentIndex(dock.expand.findData("luma"))
    dock.scope.setCurrentIndex(0)
    dock.apply_preset.click()
    weight = session.pipeline.nodes[index].layer.weight
    for c in range(3):
        np.testing.assert_allclose(weight[3, c], LUMA[c] * SOBEL_X, rtol=1e-6)
    np.testing.assert_array_equal(np.delete(weight, 3, 0), np.delete(before, 3, 0))
    dock.expand.setCurrentIndex(dock.expand.findData("channel:1"))
    dock.scope.setCurrentIndex(1)
    dock.apply_preset.click()
    weight = session.pipeline.nodes[index].layer.weight
    expected = np.zeros((3, 3, 3), np.float32)
    expected[1] = SOBEL_X
    for f in range(weight.shape[0]):
        np.testing.assert_array_equal(weight[f], expected)
    assert session.pipeline.nodes[index].layer.kernel_source.startswith("preset sobel_x")


def test_preset_that_does_not_fit_changes_nothing(qtbot, session):
    dock = make_dock(qtbot, session)
    before = session.pipeline
    dock.preset.setCurrentText("gaussian_5")  # 5x5 into 3x3 kernels
    dock.apply_preset.click()
    assert session.pipeline is before
    assert "does not fit" in dock.status.text()


def test_randomize_with_a_seed(qtbot, session):
    dock = make_dock(qtbot, session)
    index = first_conv(session.pipeline)
    shape = session.pipeline.nodes[index].layer.weight.shape
    dock.init.setCurrentIndex(dock.init.findData("he"))
    dock.seed.setValue(7)
    dock.scope.setCurrentIndex(1)
    dock.randomize.click()
    weight = session.pipeline.nodes[index].layer.weight
    np.testing.assert_array_equal(weight, he_init(shape, seed=7))
    layer = session.pipeline.nodes[index].layer
    assert (layer.init, layer.seed, layer.kernel_source) == ("he", 7, "he seed 7")
    applied = session.pipeline
    dock.randomize.click()  # same seed, same weights: nothing new, no undo step
    assert session.pipeline is applied
    assert "Nothing changed" in dock.status.text()
    dock.init.setCurrentIndex(dock.init.findData("glorot"))
    dock.scope.setCurrentIndex(0)
    dock._on_grid_clicked(0, 0)
    dock.randomize.click()
    new = session.pipeline.nodes[index].layer.weight
    fan = shape[1] * shape[2] * shape[3] + shape[0] * shape[2] * shape[3]
    assert np.abs(new[0]).max() <= np.sqrt(6 / fan) + 1e-6
    np.testing.assert_array_equal(new[1:], weight[1:])


def test_bias_and_true_convolution(qtbot, session):
    dock = make_dock(qtbot, session)
    index = first_conv(session.pipeline)
    name = session.pipeline.nodes[index].name
    dock._on_grid_clicked(2, 0)
    dock.bias.setValue(0.5)
    layer = session.pipeline.nodes[index].layer
    assert layer.bias[2] == pytest.approx(0.5)
    dock.flip.setChecked(True)
    layer = session.pipeline.nodes[index].layer
    assert layer.flip is True
    x = np.random.default_rng(3).random((3, 9, 10), dtype=np.float32)
    rotated = layer.weight[..., ::-1, ::-1]
    np.testing.assert_allclose(session.pipeline.forward(x)[name],
                               conv2d(x, rotated, layer.bias, layer.stride, layer.padding),
                               atol=1e-5)
    assert "cross-correlation" in dock.flip.toolTip()
    session.undo()
    assert dock.flip.isChecked() is False


def test_every_control_has_a_tooltip(qtbot, session):
    dock = make_dock(qtbot, session)
    for widget in (dock.grid, dock.table, dock.bias, dock.flip, dock.scope, dock.preset,
                   dock.expand, dock.apply_preset, dock.init, dock.seed, dock.randomize,
                   dock.colorbar):
        assert widget.toolTip(), widget


def test_gray_pipeline_has_no_color_column(qtbot):
    from engine.resolve import resolve_pipeline

    session = Session(resolve_pipeline("edges"))
    dock = make_dock(qtbot, session)
    assert not dock.grid.has_color_column
    assert [dock.expand.itemData(i) for i in range(dock.expand.count())] == [
        "luma", "each", "channel:0"]
    assert "in 0" in dock.editor_box.title()


def test_editing_a_cell_changes_the_live_maps(qtbot, session, live):
    dock = KernelsDock(session, live)
    qtbot.addWidget(dock)
    index = first_conv(session.pipeline)
    name = session.pipeline.nodes[index].name
    session.set_selected_layer(index)
    qtbot.waitUntil(lambda: live.latest is not None and live.latest.pipeline is session.pipeline,
                    timeout=15000)
    before = live.latest.activations[name].copy()
    dock._on_grid_clicked(0, 0)
    edit_cell(dock, 1, 1, 3.0)
    edited = session.pipeline
    qtbot.waitUntil(lambda: live.latest is not None and live.latest.pipeline is edited,
                    timeout=15000)
    result = live.latest
    layer = edited.nodes[index].layer
    after = result.activations[name]
    expected = conv2d(result.input, layer.weight, layer.bias, layer.stride, layer.padding)
    np.testing.assert_allclose(after, expected, rtol=1e-4, atol=1e-4)
    assert not np.allclose(after[0], before[0])
    np.testing.assert_allclose(after[1:], before[1:], rtol=1e-5, atol=1e-5)


def _visible_widgets(layout):
    """The visible widgets a layout places, its nested layouts' included."""
    found = []
    for i in range(layout.count()):
        item = layout.itemAt(i)
        if item.widget() is not None and item.widget().isVisible():
            found.append(item.widget())
        elif item.layout() is not None:
            found += _visible_widgets(item.layout())
    return found


def overlaps(root):
    """Pairs of widgets that one layout inside ``root`` places on top of each other, and
    widgets that stick out of their parent: every problem as a short text."""
    from PySide6.QtWidgets import QWidget

    problems = []
    for parent in [root, *root.findChildren(QWidget)]:
        layout = parent.layout()
        if layout is None or not parent.isVisible():
            continue
        placed = _visible_widgets(layout)
        for i, a in enumerate(placed):
            if not parent.rect().contains(a.geometry()):
                problems.append(f"{type(a).__name__} {a.geometry()} sticks out of "
                                f"{type(parent).__name__} {parent.rect()}")
            for b in placed[i + 1:]:
                if a.geometry().intersects(b.geometry()):
                    problems.append(f"{type(a).__name__} {a.geometry()} overlaps "
                                    f"{type(b).__name__} {b.geometry()}")
    return problems


@pytest.mark.parametrize("pipeline_name", ["default", "edges"])
def test_nothing_is_cut_off_in_the_main_window_for_any_layer(qtbot, main_window,
                                                            pipeline_name):
    """At 1280 x 800, whatever the selected layer (a layer without kernels adds a sentence to
    the caption), the weight table ends above the bias row and no widgets overlap."""
    from PySide6.QtCore import QPoint

    assert main_window.open_pipeline(pipeline_name)
    dock = main_window.docks["kernels"].widget()
    session = main_window.session
    qtbot.waitUntil(lambda: dock.isVisible() and dock.height() > 100, timeout=3000)
    for layer in range(len(session.pipeline.nodes)):
        session.set_selected_layer(layer)
        qtbot.wait(30)  # the new caption is laid out
        assert dock.table.isVisible(), layer
        table_bottom = dock.table.mapTo(dock, QPoint(0, dock.table.height())).y()
        bias_top = min(w.mapTo(dock, QPoint(0, 0)).y() for w in (dock.bias, dock.flip))
        assert table_bottom <= bias_top, (layer, table_bottom, bias_top)
        bias_bottom = dock.bias.mapTo(dock, QPoint(0, dock.bias.height())).y()
        assert bias_bottom <= dock.height(), (layer, bias_bottom, dock.height())
        assert overlaps(dock) == [], (layer, overlaps(dock))
