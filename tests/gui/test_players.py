"""The convolution and pooling players: build, step, scrub, fit messages, lecture numbers."""

from __future__ import annotations

import numpy as np
import pytest

from engine import ops as F
from engine.lecture.examples import lecture_7x7
from engine.lecture.text import format_value
from engine.resolve import resolve_pipeline
from gui.docks.conv_player import ConvPlayerDock
from gui.widgets.cell_grid import CellGrid
from gui.widgets.player_controls import PlayerControls
from tests.gui.player_support import (
    FRAME,
    FakeLive,
    check_conv_step,
    shown_value,
)


def test_conv_player_starts_on_the_lecture_example(conv):
    x, w = lecture_7x7()
    assert conv.trace.out_shape == (5, 5)
    assert conv.input_grid.values.shape == (7, 7)
    assert conv.kernel_grid.values.tolist() == w[0].tolist()
    assert "(7 - 3 + 2*0)/1 + 1 = 5" in conv.formula_label.text()
    assert "fits" in conv.fit_label.text()
    engine = F.conv2d(x, w[None])[0]
    assert engine[0, 0] == 5
    check_conv_step(conv, engine)
    assert conv.sum_label.text().endswith("Total 5 + bias 0 = 5")


def test_conv_stepping_moves_highlight_and_fills_output(conv):
    x, w = lecture_7x7()
    engine = F.conv2d(x, w[None])[0]
    before = conv.input_grid.highlight.copy()
    conv.controls.forward()
    assert conv.controls.step == 1
    assert not np.array_equal(before, conv.input_grid.highlight)
    check_conv_step(conv, engine)
    assert conv.output_grid.text_at(0, 2) == ""  # not computed yet
    conv.controls.last()  # scrub to the end: the whole output is filled in
    assert conv.controls.step == 24
    check_conv_step(conv, engine)
    assert [conv.output_grid.text_at(r, c) for r in range(5) for c in range(5)] == [
        format_value(v) for v in engine.ravel()]
    conv.controls.slider.setValue(12)
    assert conv.controls.step == 12
    check_conv_step(conv, engine)
    conv.controls.back()
    check_conv_step(conv, engine)


def test_conv_stride_that_does_not_fit(conv):
    conv.stride.setValue(3)
    assert conv.trace.out_shape == (2, 2)
    text = conv.fit_label.text()
    assert "does not fit" in text and "row 6" in text and "column 6" in text
    assert conv.input_grid.tint[6].all() and conv.input_grid.tint[:, 6].all()
    assert not conv.input_grid.tint[:6, :6].any()
    assert "floor(2.33) = 2" in conv.formula_label.text()
    conv.stride.setValue(2)
    assert "fits" in conv.fit_label.text() and not conv.input_grid.tint.any()


def test_conv_padding_and_dilation_match_the_engine(conv):
    x, w = lecture_7x7()
    conv.padding.setValue(2)
    conv.dilation.setValue(2)
    conv.bias.setValue(0.5)
    engine = F.conv2d(x, w[None], np.array([0.5], np.float32), padding=2, dilation=2)[0]
    assert conv.trace.out_shape == engine.shape == (7, 7)
    assert conv.input_grid.values.shape == (11, 11)
    assert conv.input_grid.text_at(0, 0) == "0"  # the zero border
    for k in (0, 10, 48):
        conv.controls.set_step(k)
        check_conv_step(conv, engine)


def lecture_layer():
    """The bundled lecture pipeline's conv layer: weights (10, 3, 5, 5) and biases (10,)."""
    layer = resolve_pipeline("lecture").nodes[0].layer
    bias = np.zeros(10, np.float32) if layer.bias is None else np.asarray(layer.bias)
    return resolve_pipeline("lecture"), np.asarray(layer.weight), bias


def loop_conv_value(x, w, b, row, col, pad=2):
    """One output value of a stride-1 convolution, by plain loops over the padded input."""
    c, h, wd = x.shape
    total = float(b)
    for ch in range(c):
        for u in range(w.shape[1]):
            for v in range(w.shape[2]):
                i, j = row + u - pad, col + v - pad
                if 0 <= i < h and 0 <= j < wd:
                    total += float(x[ch, i, j]) * float(w[ch, u, v])
    return total


def test_conv_lecture_volume_steps_every_filter_like_the_lecture_pipeline(conv):
    conv.load_source("lecture_volume")
    x = conv.trace.input
    assert x.shape == (3, 32, 32) and conv.padding.value() == 2 and conv.stride.value() == 1
    pipeline, w, b = lecture_layer()
    maps = pipeline.forward(x)["conv1"]  # (10, 32, 32), the pipeline's own forward
    np.testing.assert_allclose(F.conv2d(x, w, b, padding=2), maps, rtol=1e-5, atol=1e-4)
    assert conv.filter.isVisibleTo(conv) and conv.filter.maximum() == 9
    for f in range(10):
        conv.filter.setValue(f)
        assert conv.trace.out_shape == (32, 32) and len(conv.trace) == 1024
        np.testing.assert_array_equal(conv.trace.weight, w[f])
        assert conv.bias.value() == pytest.approx(float(b[f]), abs=5e-3)
        np.testing.assert_allclose(conv.trace.output, maps[f], rtol=1e-5, atol=1e-4)
        for k in (0, 33 + 97 * f, 511, 1023):
            conv.controls.set_step(k)
            row, col = divmod(k, 32)
            value = conv.trace.step(k).value
            assert value == pytest.approx(float(maps[f, row, col]), rel=1e-5, abs=1e-4)
            assert value == pytest.approx(loop_conv_value(x, w[f], b[f], row, col), abs=1e-4)
            assert shown_value(conv) == format_value(value)
            assert conv.output_grid.marks == [(row, col)]
            rows, cols = np.nonzero(conv.input_grid.highlight)
            assert sorted(zip(rows.tolist(), cols.tolist(), strict=True)) == [
                (row + u, col + v) for u in range(5) for v in range(5)]
            assert conv.products_grid.values.shape == (5, 5)
        assert conv.output_title.text() == f"Output map {f}: 32x32"
    assert "Channel sums (R, G, B)" in conv.sum_label.text()
    conv.channel.setValue(2)
    assert conv.kernel_grid.values.tolist() == w[9, 2].tolist()
    assert "channel B" in conv.input_title.text()


def test_conv_lecture_volume_says_the_layers_numbers(qtbot, conv):
    conv.load_source("lecture_volume")
    assert "(32 - 5 + 2*2)/1 + 1 = 32" in conv.formula_label.text()
    layer = conv.layer_label.text()
    assert conv.layer_label.isVisibleTo(conv)
    assert "32x32x10 = 10,240 values" in layer and "10 x (5x5x3 + 1) = 760 parameters" in layer
    # The input is the sample in whole numbers 0 to 9, one digit per cell.
    x = conv.trace.input
    assert np.array_equal(x, np.round(x)) and x.min() >= 0 and x.max() <= 9
    assert conv.input_grid.values.shape == (36, 36) and conv.input_grid.text_at(0, 0) == "0"
    # The 36x36 padded grid shrinks to colours rather than widen the middle column.
    conv.show()
    qtbot.wait(1)
    assert conv.minimumSizeHint().width() <= 420
    # Stride 2 changes the whole layer's output, not its parameters.
    conv.stride.setValue(2)
    assert conv.trace.out_shape == (16, 16)
    assert "16x16x10 = 2,560 values" in conv.layer_label.text()
    assert "= 760" in conv.layer_label.text()
    # Another example hides the filter choice and the layer's numbers.
    conv.load_source("lecture_7x7")
    assert not conv.filter.isVisibleTo(conv) and not conv.layer_label.isVisibleTo(conv)
    assert conv.trace.out_shape == (5, 5) and conv.bias.value() == 0


def test_conv_crop_of_the_frame(conv):
    conv.crop.size.setValue(12)
    conv.crop.center_y.setValue(20)
    conv.crop.center_x.setValue(25)
    conv.load_source("crop")
    crop = FRAME[:, 14:26, 19:31]
    assert conv.trace.input.shape == (3, 12, 12)
    np.testing.assert_array_equal(conv.trace.input, crop)
    engine = F.conv2d(crop, conv.weight()[None])[0]
    conv.controls.set_step(50)
    check_conv_step(conv, engine)


def test_conv_crop_without_a_frame_says_why(qtbot, session):
    dock = ConvPlayerDock(session, FakeLive())
    qtbot.addWidget(dock)
    dock.load_source("crop")
    assert "no frame yet" in dock.error_label.text()
    assert dock.trace.out_shape == (5, 5)  # the lecture example stays


def test_conv_custom_kernel_and_bad_values(conv):
    conv.values.setText("1 1; 1 1")
    conv.values.editingFinished.emit()
    assert conv.kernel.currentData() == "custom"
    assert conv.trace.out_shape == (6, 6)
    conv.values.setText("1 2; 3")
    conv.values.editingFinished.emit()
    assert "same number of values" in conv.error_label.text()


def test_conv_kernel_larger_than_input_is_a_message(conv):
    conv.values.setText("; ".join(["1 1 1 1 1 1 1"] * 7))
    conv.values.editingFinished.emit()
    conv.dilation.setValue(2)
    assert "larger than the padded input" in conv.error_label.text()


def test_pool_lecture_example(pool):
    pool.stride.setValue(1)  # move away, then back with the button
    pool.lecture_button.click()
    assert pool.trace.output.tolist() == [[6, 8], [3, 4]]
    engine = F.max_pool2d(pool.trace.input[None], 2)[0]
    winners = [(1, 1), (1, 3), (2, 0), (3, 3)]
    for k in range(4):
        pool.controls.set_step(k)
        row, col = divmod(k, 2)
        assert shown_value(pool) == format_value(engine[row, col])
        assert pool.input_grid.marks == [winners[k]]
        assert pool.output_grid.marks == [(row, col)]
    assert [pool.output_grid.text_at(r, c) for r in range(2) for c in range(2)] == [
        "6", "8", "3", "4"]
    pool.controls.first()
    assert "max(1, 1, 5, 6) = 6" in pool.window_label.text()


def test_pool_average_and_fit(pool):
    pool.load_source("lecture_7x7")
    pool.mode.setCurrentIndex(pool.mode.findData("avg"))
    pool.rebuild()
    x = lecture_7x7()[0][0]
    engine = F.avg_pool2d(x[None], 2)[0]
    assert pool.trace.out_shape == (3, 3)
    assert "does not fit" in pool.fit_label.text()  # 7 = 3 windows of 2, one row left over
    pool.controls.last()
    assert shown_value(pool) == format_value(engine[2, 2])
    assert pool.input_grid.marks == []  # no winner in average pooling
    assert pool.input_grid.tint[6].all()


def test_pool_crop_channel(pool):
    pool.load_source("crop")
    assert pool.trace.input.shape == (8, 8)
    pool.channel.setValue(1)
    engine = F.max_pool2d(FRAME[1:2, 16:24, 21:29], 2)[0]
    np.testing.assert_allclose(pool.trace.output, engine)


def test_player_controls_play_runs_to_the_end(qtbot):
    controls = PlayerControls()
    qtbot.addWidget(controls)
    controls.set_count(3)
    controls.speed.setCurrentIndex(controls.speed.count() - 1)  # fastest
    controls.play()
    assert controls.is_playing
    qtbot.waitUntil(lambda: controls.step == 2 and not controls.is_playing, timeout=3000)
    assert not controls.forward_button.isEnabled()
    controls.play()  # play at the end starts over
    assert controls.step == 0 and controls.is_playing
    controls.pause()
    assert not controls.is_playing


def test_cell_grid_tooltips_and_masks(qtbot):
    grid = CellGrid()
    qtbot.addWidget(grid)
    grid.set_values(np.array([[1.5, -2.0], [0.125, 7.0]]))
    grid.set_padding(np.array([[True, False], [False, False]]))
    grid.set_index_offset(-1, -1)
    assert grid.text_at(0, 0) == "0" and grid.text_at(1, 0) == "0.12"
    assert "padding" in grid.tooltip_at(0, 0)
    assert "row -1, column 0: -2" in grid.tooltip_at(0, 1)
    with pytest.raises(ValueError, match="differs"):
        grid.set_highlight(np.zeros((3, 3), bool))


def test_crop_from_the_running_app(qtbot, session, live):
    """With the real live loop: the crop takes what entered the pipeline."""
    qtbot.waitUntil(lambda: live.latest is not None, timeout=10000)
    dock = ConvPlayerDock(session, live)
    qtbot.addWidget(dock)
    dock.load_source("crop")
    image = live.latest.input
    assert dock.trace.input.shape == (image.shape[0], 8, 8)
    assert dock.error_label.text() == ""
