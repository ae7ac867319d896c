"""Predictions, filter gallery, drawing canvas, preprocessing dialog and the open-model flow."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtWidgets import QDialogButtonBox

from engine.io.preprocess import PRESETS, Preprocess, frame_to_input, load_beside, sidecar_path
from engine.resolve import resolve_pipeline
from gui.capture import Result
from gui.dialogs.preprocess import (
    PreprocessDialog,
    edit_preprocessing_flow,
    open_model_flow,
    open_model_from_args,
    parse_number,
)
from gui.docks import canvas as canvas_module
from gui.docks.canvas import SHAPES_HINT, CanvasBoard, CanvasSource, DrawingCanvasDock
from gui.docks.filters import PAGE, FilterGalleryDock, filter_tiles
from gui.docks.predictions import NOT_SCORES, PredictionsDock
from gui.labels import class_names
from gui.session import Session, SourceSpec
from training.shapes_data import CLASSES, draw_shape


class FakeLive(QObject):
    """The two signals and the attribute the docks use, without worker threads."""

    resultUpdated = Signal(object)
    errorChanged = Signal(str)
    latest = None


def result_for(pipeline, frame: np.ndarray, seq: int = 1) -> Result:
    x = frame_to_input(frame, pipeline)
    return Result(seq, frame, x, pipeline, pipeline.forward(x), {}, 0.0, 0.0)


@pytest.fixture
def shapes():
    return resolve_pipeline("shapes")


@pytest.fixture
def fake_live():
    return FakeLive()


# -- predictions ------------------------------------------------------------------------------


@pytest.mark.parametrize("label", [0, 3, 5, 7])
def test_predictions_put_the_drawn_shape_on_top(qtbot, shapes, fake_live, label):
    session = Session(shapes)
    dock = PredictionsDock(session, fake_live)
    qtbot.addWidget(dock)
    assert not dock.showing_predictions  # nothing yet: waiting for a frame
    frame = draw_shape(label, np.random.default_rng(100 + label))
    result = result_for(shapes, frame)
    fake_live.resultUpdated.emit(result)
    rows = dock.top()
    assert len(rows) == 5 and rows[0][0] == CLASSES[label]
    probs = result.activations[shapes[-1].name]
    expected = [CLASSES[i] for i in sorted(range(8), key=lambda i: -probs[i])[:5]]
    assert [name for name, _ in rows] == expected
    assert [p for _, p in rows] == pytest.approx(sorted(probs, reverse=True)[:5], abs=1e-6)
    assert dock.prediction.kind == "probabilities"
    assert "bundled shapes.txt" in dock.note.text()


def test_raw_scores_are_turned_into_probabilities(qtbot, shapes, fake_live):
    logits_net = shapes.remove_layer(len(shapes) - 1)  # ends in the Linear layer
    session = Session(logits_net)
    dock = PredictionsDock(session, fake_live)
    qtbot.addWidget(dock)
    result = result_for(logits_net, draw_shape(1, np.random.default_rng(7)))
    fake_live.resultUpdated.emit(result)
    logits = result.activations[logits_net[-1].name].astype(np.float64)
    softmax = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert dock.prediction.kind == "scores" and "logits" in dock.note.text()
    assert dock.top()[0] == (CLASSES[int(np.argmax(logits))], pytest.approx(softmax.max()))


def test_an_output_of_one_value_gets_an_explanation(qtbot, fake_live):
    from engine.graph.pipeline import InputSpec, Pipeline
    from engine.layers import Conv2d, Flatten, GlobalAvgPool2d

    one = Pipeline.chain([Conv2d(3, 1, 3), GlobalAvgPool2d(), Flatten()],
                         input_spec=InputSpec(3, height=40, width=60))  # (1,): neither kind
    session = Session(one)
    dock = PredictionsDock(session, fake_live)
    qtbot.addWidget(dock)
    assert dock.explanation.text() == NOT_SCORES and not dock.showing_predictions
    frame = np.full((40, 60, 3), 128, np.uint8)
    fake_live.resultUpdated.emit(result_for(session.pipeline, frame))
    assert dock.top() == [] and "Open the bundled shapes classifier" in dock.explanation.text()
    assert not dock.showing_map


def test_label_files():
    imagenet = class_names(1000)
    assert imagenet.source == "ImageNet class names" and imagenet[0] == "tench"
    assert class_names(1001)[0] == "background" and class_names(1001)[1] == "tench"
    assert class_names(3).names == ("class 0", "class 1", "class 2")
    wrong = class_names(5, resolve_pipeline("shapes"))
    assert wrong[0] == "class 0" and "8 names for 5 outputs" in wrong.note


# -- filters ----------------------------------------------------------------------------------


def test_filter_tiles_match_a_plain_loop(shapes):
    weight = shapes[0].layer.weight  # (8, 3, 5, 5)
    tiles = filter_tiles(weight)
    assert tiles.shape == (8, 5, 5, 3)
    f = weight[2].astype(np.float64)
    lo, hi = f.min(), f.max()
    for i in range(5):
        for j in range(5):
            for c in range(3):
                assert tiles[2, i, j, c] == round((f[c, i, j] - lo) / (hi - lo) * 255)


def test_filter_gallery_shows_8_color_filters_and_pages_deeper(qtbot, shapes, fake_live):
    dock = FilterGalleryDock(Session(shapes), fake_live)
    qtbot.addWidget(dock)
    dock.resize(460, 560)
    dock.show()
    assert dock.mode == "color"
    rows, cols = dock.grid.shape
    assert rows * cols >= 8 > (rows - 1) * cols and dock.caption.text().startswith("All 8")
    qtbot.mouseClick(dock.grid, Qt.MouseButton.LeftButton, pos=dock.grid.cell_center(0, 1))
    assert dock.selected == 1 and dock.detail_text.text().startswith("filter 1: 3 x 5 x 5")
    dock.layer_combo.setCurrentIndex(2)  # conv3: 32 filters of 16 channels
    assert dock.mode == "channels" and dock.grid.shape == (PAGE, PAGE)
    assert dock.pages() == (2, 1)
    assert "filters 0-15 of 32" in dock.caption.text()
    assert not dock.prev_filters.isEnabled() and dock.next_filters.isEnabled()
    qtbot.mouseClick(dock.next_filters, Qt.MouseButton.LeftButton)
    assert "filters 16-31 of 32" in dock.caption.text() and not dock.next_filters.isEnabled()
    qtbot.mouseClick(dock.grid, Qt.MouseButton.LeftButton, pos=dock.grid.cell_center(3, 0))
    assert dock.selected == 19


def test_filter_gallery_without_convolutions(qtbot, fake_live):
    from engine.graph.pipeline import Pipeline
    from engine.layers import MaxPool2d

    dock = FilterGalleryDock(Session(Pipeline.chain([MaxPool2d(2)])), fake_live)
    qtbot.addWidget(dock)
    assert dock.weight is None and "no convolution layer" in dock.caption.text()


# -- canvas -----------------------------------------------------------------------------------


def drag(qtbot, widget, points):
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=points[0])
    for p in points[1:]:
        qtbot.mouseMove(widget, p)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=points[-1])


def test_drawing_changes_the_frame_the_source_serves(qtbot, shapes, fake_live):
    board = CanvasBoard()
    session = Session(shapes)
    dock = DrawingCanvasDock(session, fake_live, board=board)
    qtbot.addWidget(dock)
    dock.resize(300, 360)
    dock.show()
    assert dock.hint.text() == SHAPES_HINT
    source = CanvasSource(board=board)
    blank = source.read()
    assert (blank == 255).all()
    canvas = dock.canvas
    side = min(canvas.width(), canvas.height())
    x0 = (canvas.width() - side) // 2
    y0 = (canvas.height() - side) // 2
    row = y0 + side // 2
    drag(qtbot, canvas, [QPoint(x0 + side // 4, row), QPoint(x0 + side // 2, row),
                         QPoint(x0 + 3 * side // 4, row)])
    drawn = source.read()
    assert drawn.shape == (256, 256, 3)
    line = drawn[128, 64:192]
    assert (line < 60).all(), "the stroke is not where the mouse went"
    assert (drawn[20] == 255).all() and (drawn[:, 20] == 255).all()
    start = time.perf_counter()
    again = source.read()  # nothing new: waits briefly, then the same drawing
    assert time.perf_counter() - start >= canvas_module.WAIT_S * 0.5
    np.testing.assert_array_equal(again, drawn)
    qtbot.mouseClick(dock.clear_button, Qt.MouseButton.LeftButton)
    assert (source.read() == 255).all()


def test_use_as_source_switches_and_restores(qtbot, fake_live, monkeypatch):
    import gui.session

    # The integration adds "canvas" to the source kinds; the dock only needs that.
    monkeypatch.setattr(gui.session, "SOURCE_KINDS", (*gui.session.SOURCE_KINDS, "canvas"))
    session = Session()
    before = session.source
    dock = DrawingCanvasDock(session, fake_live, board=CanvasBoard())
    qtbot.addWidget(dock)
    dock.use_box.setChecked(True)
    assert session.source == SourceSpec(kind="canvas")
    dock.use_box.setChecked(False)
    assert session.source == before
    session.set_source(SourceSpec(kind="canvas"))
    assert dock.use_box.isChecked()


# -- preprocessing dialog and opening a model -------------------------------------------------


def test_dialog_round_trip(qtbot):
    for recipe in [*PRESETS.values(), Preprocess((32, 48), "stretch", "BGR", 0.5, (1, 2, 3),
                                                 (2,), invert=True)]:
        dialog = PreprocessDialog(recipe)
        qtbot.addWidget(dialog)
        dialog.accept()
        assert dialog.preprocess() == recipe


def test_dialog_validates_and_applies_presets(qtbot):
    dialog = PreprocessDialog(Preprocess((64, 64)), channels=3, model_size=(64, 64))
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    dialog.mean_edit.setText("0.5, x")
    assert not ok.isEnabled() and "mean" in dialog.error.text()
    dialog.mean_edit.setText("0.5, 0.5")
    assert not ok.isEnabled() and "1 or 3" in dialog.error.text()
    dialog.preset.setCurrentText("ImageNet (PyTorch / torchvision)")
    assert ok.isEnabled()
    dialog.accept()
    expected = PRESETS["ImageNet (PyTorch / torchvision)"].with_size((64, 64))
    assert dialog.preprocess() == expected
    assert parse_number("1/127.5") == pytest.approx(2 / 255)
    gray = PreprocessDialog(PRESETS["ImageNet (PyTorch / torchvision)"], channels=1)
    qtbot.addWidget(gray)
    assert not gray.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
    assert "1 input channel(s) but the mean has 3 values" in gray.error.text()


def small_onnx(path, n_classes: int = 4) -> None:
    """Conv(3 -> 2, 3x3, pad 1) + Relu + Flatten + Gemm: a tiny 8 x 8 classifier."""
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.normal(size=(2, 3, 3, 3)).astype(np.float32), "w"),
             numpy_helper.from_array(rng.normal(size=(n_classes, 128)).astype(np.float32), "fc"),
             numpy_helper.from_array(np.zeros(n_classes, np.float32), "fb")]
    nodes = [helper.make_node("Conv", ["image", "w"], ["conv"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["conv"], ["relu"]),
             helper.make_node("Flatten", ["relu"], ["flat"]),
             helper.make_node("Gemm", ["flat", "fc", "fb"], ["scores"], transB=1)]
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, n_classes])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))


def test_open_model_flow_asks_once_and_saves_beside(qtbot, tmp_path, fake_live):
    path = tmp_path / "tiny.onnx"
    small_onnx(path)
    session = Session()
    messages = []
    session.message.connect(lambda level, text: messages.append((level, text)))
    asked = []
    chosen = Preprocess((8, 8), "stretch", scale=1 / 255, mean=(0.5,), std=(0.25,))

    def ask(parent, initial, channels, model_size, title):
        asked.append((initial, channels, model_size))
        return chosen

    session.set_pipeline(session.pipeline, path=tmp_path / "mine.json")
    assert open_model_flow(None, path, session, ask=ask)
    assert session.pipeline_path is None  # never offer to save JSON over the .onnx file
    assert asked == [(PRESETS["[0, 1], no normalization"].with_size((8, 8)), 3, (8, 8))]
    assert session.pipeline.input_spec.preprocess == chosen
    assert sidecar_path(path).is_file() and messages[-1][0] == "info"

    def must_not_ask(*_args):
        raise AssertionError("the saved preprocessing should have been used")

    assert open_model_flow(None, path, session, ask=must_not_ask)
    assert session.pipeline.input_spec.preprocess == chosen
    # A label file beside the model names the classes in the predictions panel.
    (tmp_path / "tiny.labels.txt").write_text("cat\ndog\nfox\nowl\n")
    dock = PredictionsDock(session, fake_live)
    qtbot.addWidget(dock)
    frame = draw_shape(0, np.random.default_rng(1))
    fake_live.resultUpdated.emit(result_for(session.pipeline, frame))
    assert {name for name, _ in dock.top()} == {"cat", "dog", "fox", "owl"}
    assert dock.prediction.kind == "scores" and "tiny.labels.txt" in dock.note.text()


def test_open_model_flow_failures_are_messages(tmp_path):
    session = Session()
    messages = []
    session.message.connect(lambda level, text: messages.append((level, text)))
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x00not a model at all\xff" * 10)
    before = session.pipeline
    assert not open_model_flow(None, garbage, session, ask=lambda *a: Preprocess())
    assert messages[-1][0] == "error" and "garbage.onnx" in messages[-1][1]
    assert not open_model_flow(None, tmp_path / "missing.onnx", session)
    assert messages[-1][0] == "error"
    path = tmp_path / "tiny.onnx"
    small_onnx(path)
    assert not open_model_flow(None, path, session, ask=lambda *a: None)  # Cancel
    assert not sidecar_path(path).exists() and session.pipeline is before


def test_open_model_without_asking_and_edit_later(tmp_path):
    path = tmp_path / "tiny.onnx"
    small_onnx(path)
    session = Session()
    assert open_model_flow(None, path, session, ask=None)  # nobody to ask: a guess, not saved
    guess = PRESETS["[0, 1], no normalization"].with_size((8, 8))
    assert session.pipeline.input_spec.preprocess == guess and not sidecar_path(path).exists()
    edited = dataclasses.replace(guess, channel_order="BGR")
    assert edit_preprocessing_flow(None, session, ask=lambda *a: edited)
    assert session.pipeline.input_spec.preprocess == edited
    assert load_beside(path) == edited  # saved beside the model it came from
    assert not edit_preprocessing_flow(None, session, ask=lambda *a: None)  # Cancel
    session.undo()
    assert session.pipeline.input_spec.preprocess == guess


def test_open_model_from_the_command_line(tmp_path):
    path = tmp_path / "tiny.onnx"
    small_onnx(path)
    session = Session()
    assert open_model_from_args(session, path, interactive=False) is None
    assert session.pipeline.input_spec.preprocess is not None
    problem = open_model_from_args(session, tmp_path / "nope.onnx", interactive=False)
    assert "nope.onnx" in problem and "does not exist" in problem


def test_opening_a_classifier_brings_the_predictions_into_view(qtbot, main_window):
    from engine.resolve import resolve_pipeline

    predictions = main_window.docks["predictions"]
    assert predictions.isHidden()  # the default network ends in maps, not class scores
    main_window.session.set_pipeline(resolve_pipeline("shapes"))
    assert not predictions.isHidden()
    predictions.hide()
    edited = main_window.session.pipeline.remove_layer(len(main_window.session.pipeline) - 1)
    main_window.session.set_pipeline(edited)  # an edit of the same network leaves it closed
    assert predictions.isHidden()
