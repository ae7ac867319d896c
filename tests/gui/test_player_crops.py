"""The convolution player's crop thumbnail and its kernel values line."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt

from engine import ops as F
from engine.layers.kernels import PRESETS, expand_kernel
from engine.lecture.examples import crop_around, lecture_volume
from engine.lecture.text import parse_kernel
from tests.gui.player_support import (
    FRAME,
    check_conv_step,
)


# -- the crop thumbnail and the kernel values line ------------------------------------------------
def test_clicking_the_thumbnail_crops_around_that_point(qtbot, conv):
    conv.show()
    qtbot.waitExposed(conv)
    conv.crop.size.setValue(6)
    conv.load_source("crop")
    view = conv.crop.view
    assert view.isVisible() and view.width() > 0 and view.height() > 0
    # The thumbnail is the frame itself (40 x 50 is small enough to keep every pixel).
    assert view.image_shape == (40, 50)
    np.testing.assert_array_equal(view._rgb[31, 7], np.round(FRAME[:, 31, 7] * 255))
    r, c = 31, 7
    point = view.position_of(r, c).toPoint()
    assert view.pixel_at(QPointF(point)) == (r, c)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=point)
    assert (conv.crop.center_y.value(), conv.crop.center_x.value()) == (r, c)
    expected, (y0, x0) = crop_around(FRAME, r, c, 6)
    np.testing.assert_array_equal(conv.trace.input, expected)
    np.testing.assert_array_equal(conv.trace.input, FRAME[:, 28:34, 4:10])  # by hand
    assert view.boxes == [(28, 33, 4, 9)] == [(y0, y0 + 5, x0, x0 + 5)]
    # Near the border the square moves inside the frame, and so does its box.
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.position_of(1, 48).toPoint())
    np.testing.assert_array_equal(conv.trace.input, FRAME[:, 0:6, 44:50])
    assert view.boxes == [(0, 5, 44, 49)]


def values_shown(dock) -> np.ndarray:
    return parse_kernel(dock.values.text())


def test_values_line_follows_the_lecture_filter_and_custom_starts_from_it(conv):
    conv.load_source("lecture_volume")
    conv.filter.setValue(4)
    x, weights, _ = lecture_volume()
    w = weights[4]
    assert conv.kernel.currentData() == "lecture filter"
    np.testing.assert_allclose(values_shown(conv), w[0], rtol=1e-3, atol=1e-6)
    assert conv.values_label.text() == "w[R] ="
    conv.channel.setValue(2)
    np.testing.assert_allclose(values_shown(conv), w[2], rtol=1e-3, atol=1e-6)
    assert conv.values_label.text() == "w[B] ="
    conv.kernel.setCurrentIndex(conv.kernel.findData("custom"))
    conv.kernel.activated.emit(conv.kernel.currentIndex())
    np.testing.assert_array_equal(conv.trace.weight, w)  # not Sobel 3x3
    # Typing edits the shown channel only; the other two keep the lecture's weights.
    conv.channel.setValue(1)
    typed = np.arange(25).reshape(5, 5) - 12
    conv.values.setText("; ".join(" ".join(str(v) for v in row) for row in typed))
    conv.values.editingFinished.emit()
    expected = w.copy()
    expected[1] = typed
    np.testing.assert_array_equal(conv.trace.weight, expected)
    conv.controls.set_step(20)
    check_conv_step(conv, F.conv2d(x, expected[None], padding=2)[0])


def test_custom_values_on_a_colour_crop_are_used_as_typed(conv):
    conv.load_source("crop")
    spread = expand_kernel(PRESETS["sobel_x"], 3)
    np.testing.assert_allclose(values_shown(conv), spread[0], rtol=1e-3)  # what is used
    assert not np.array_equal(spread[0], PRESETS["sobel_x"])
    conv.values.setText("-1 0 1; -2 0 2; -1 0 1")
    conv.values.editingFinished.emit()
    assert conv.kernel.currentData() == "custom"
    assert conv.trace.weight[0].tolist() == [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    assert conv.values.text() == "-1 0 1; -2 0 2; -1 0 1"  # not -0.299 ...
    np.testing.assert_array_equal(conv.trace.weight[1:], spread[1:])
    # Stepping redraws the grids but leaves a half-typed line alone.
    conv.values.setText("1 2")
    conv.controls.forward()
    assert conv.values.text() == "1 2"
    # A new size resets the other channels to zero.
    conv.values.setText("1 1; 1 1")
    conv.values.editingFinished.emit()
    assert conv.trace.weight.shape == (3, 2, 2)
    assert conv.trace.weight[0].tolist() == [[1, 1], [1, 1]] and not conv.trace.weight[1:].any()
