"""A network whose output is a map: the predictions dock draws it (an image, or classes over the
input with a legend, and the maps as tiles) instead of top-5 bars; the Explain panel says that its
class methods need a classifier."""

from __future__ import annotations

import numpy as np

from engine.explain.output_map import class_colors, class_map, class_overlay, reconstruction
from engine.explain.overlay import to_image
from gui.docks.predictions import PredictionsDock
from gui.explain.dock import ExplainDock
from tests.engine.onnx import map_models
from tests.gui.conftest import make_result, noise_frame, publish, show_dock


def _dock(qtbot, idle_live, pipeline, frame):
    session, live = idle_live(pipeline)
    dock = show_dock(qtbot, PredictionsDock(session, live), 380, 700)
    result = make_result(session.pipeline, frame)
    publish(live, result)
    return dock, result


def test_a_segmentation_shows_classes_over_the_input(qtbot, idle_live):
    pipeline = map_models.load(map_models.segmenter())
    dock, result = _dock(qtbot, idle_live, pipeline, noise_frame(16, 16))
    page = dock.output_map
    assert dock.showing_map and not dock.showing_predictions and dock.top() == []
    assert dock.prediction is None and page.kind == "classes"
    assert "a map of 2 x 16 x 16" in page.headline.text()
    assert "not class scores" in page.headline.text()
    output = result.activations[pipeline.nodes[-1].name]
    labels = class_map(output)
    expected = class_overlay(labels, to_image(result.input, pipeline), class_colors(2))
    assert (page.output_view._rgb == expected).all()
    assert (page.input_view._rgb == to_image(result.input, pipeline)).all()
    legend = page.legend.text()
    assert page.legend.isVisible() and legend.count("background-color") == 2
    assert "class 0" in legend and "class 1" in legend
    assert page.shares.sum() == 1.0 and page.shares[1] == (labels == 1).mean()
    assert page.tiles.n_maps == 2 and "2 output maps" in page.tiles_caption.text()


def test_an_autoencoder_shows_its_reconstruction_beside_the_input(qtbot, idle_live):
    pipeline = map_models.load(map_models.autoencoder())
    dock, result = _dock(qtbot, idle_live, pipeline, noise_frame(16, 16, seed=3))
    page = dock.output_map
    assert dock.showing_map and page.kind == "image" and not page.legend.isVisible()
    output = result.activations[pipeline.nodes[-1].name]
    assert (page.output_view._rgb == reconstruction(output)[0]).all()
    assert "an image, not class scores" in page.headline.text()
    assert "autoencoder" in page.note.text() and "as they are" in page.note.text()
    assert "choose Classes above" in page.note.text()  # three channels: it may be classes
    assert page.output_caption.text() == "Output (color)" and page.tiles.n_maps == 3


def test_feature_maps_name_channels_and_count_the_rest(qtbot, idle_live):
    dock, _result = _dock(qtbot, idle_live, None, noise_frame(48, 64))
    page = dock.output_map  # the default network ends in 32 maps of 6 x 8
    assert dock.showing_map and page.kind == "classes"
    assert "channel" in page.legend.text() and "class 0" not in page.legend.text()
    assert page.legend.text().count("background-color") == 10
    assert "and 22 more classes" in page.legend.text()


def test_a_classifier_after_a_map_gets_its_bars_back(qtbot, idle_live):
    from engine.resolve import resolve_pipeline

    pipeline = map_models.load(map_models.segmenter())
    dock, _result = _dock(qtbot, idle_live, pipeline, noise_frame(16, 16))
    assert dock.showing_map
    shapes = resolve_pipeline("shapes")
    dock.session.set_pipeline(shapes)
    assert not dock.showing_map
    publish(dock.live, make_result(shapes, noise_frame(64, 64)))
    assert dock.showing_predictions and len(dock.top()) == 5


def test_the_explain_panel_says_its_class_methods_need_a_classifier(qtbot, idle_live):
    pipeline = map_models.load(map_models.segmenter())
    session, live = idle_live(pipeline)
    publish(live, make_result(pipeline, noise_frame(16, 16)))
    dock = show_dock(qtbot, ExplainDock(session, live), 390, 700)
    tab = dock.class_tab
    assert tab.note.isVisible() and not tab.run_button.isEnabled()
    assert "a map of 2 x 16 x 16, not class scores" in tab.note.text()
    assert "explain one class of a classifier" in tab.note.text()
    assert not tab.classes.combo.isEnabled() and tab.heat_page.outcome is None
    dock.shutdown()


def test_the_window_brings_the_output_map_of_a_new_segmenter_into_view(qtbot, main_window):
    pipeline = map_models.load(map_models.segmenter())
    dock = main_window.docks["predictions"]
    assert not dock.isVisible()  # the default network's feature maps do not call for it
    main_window.session.set_pipeline(pipeline)
    qtbot.waitUntil(dock.isVisible, timeout=5000)


def _unet_page(qtbot):
    from gui.docks.output_map import OutputMapPage
    from tests.engine.onnx.networks import unet

    page = OutputMapPage()
    show_dock(qtbot, page, 380, 600)
    pipeline = map_models.load(unet())  # three channels of raw per-pixel class scores
    x = np.random.default_rng(5).random((3, 12, 12)).astype(np.float32)
    return page, pipeline, x, pipeline.forward(x)[pipeline.nodes[-1].name]


def test_three_channels_read_as_an_image_unless_told_otherwise(qtbot):
    page, pipeline, x, output = _unet_page(qtbot)
    page.show_output(output, x, pipeline)
    assert page.kind == "image" and page.show_as_row.isVisible()
    page.show_as.setCurrentIndex(page.show_as.findData("classes"))  # drawn again at once
    assert page.kind == "classes" and page.legend.text().count("background-color") == 3
    page.show_output(output, x, pipeline)  # the choice holds for the next frames
    assert page.kind == "classes"
    other = map_models.load(map_models.autoencoder())
    page.show_output(*_frame(other))  # a new network starts from the automatic reading again
    assert page.kind == "image" and page.show_as.currentData() == "auto"


def test_a_label_file_of_three_names_makes_three_channels_classes(qtbot, tmp_path):
    page, pipeline, x, output = _unet_page(qtbot)
    (tmp_path / "unet.labels.txt").write_text("road\nsky\ncar\n")
    page.show_output(output, x, pipeline, str(tmp_path / "unet.onnx"))
    assert page.kind == "classes" and "sky" in page.legend.text()


def _frame(pipeline):
    x = np.random.default_rng(6).random((3, 16, 16)).astype(np.float32)
    return pipeline.forward(x)[pipeline.nodes[-1].name], x, pipeline


def test_a_hidden_panel_draws_the_newest_map_when_shown(qtbot, idle_live):
    pipeline = map_models.load(map_models.segmenter())
    session, live = idle_live(pipeline)
    dock = PredictionsDock(session, live)
    qtbot.addWidget(dock)
    publish(live, make_result(pipeline, noise_frame(16, 16, seed=1)))
    newest = make_result(pipeline, noise_frame(16, 16, seed=2), seq=2)
    publish(live, newest)
    assert dock.showing_map and dock.output_map.kind == ""  # nothing drawn while hidden
    show_dock(qtbot, dock, 380, 700)
    output = newest.activations[pipeline.nodes[-1].name]
    assert dock.output_map.kind == "classes"
    assert (dock.output_map.shares == np.bincount(class_map(output).ravel(), minlength=2) /
            output[0].size).all()


def test_large_maps_are_drawn_from_every_nth_pixel(qtbot, idle_live):
    from engine.graph.pipeline import InputSpec, Pipeline
    from engine.layers import Conv2d
    from gui.docks.output_map import PICTURE_SIDE, TILE_SIDE

    net = Pipeline.chain([Conv2d(3, 5, 1)], input_spec=InputSpec(3, height=300, width=520))
    dock, result = _dock(qtbot, idle_live, net, noise_frame(300, 520))
    page = dock.output_map
    output = result.activations[net.nodes[-1].name]
    assert page.output_view._rgb.shape == (100, 174, 3)  # every 3rd pixel: 520 / 3 <= 256
    assert max(page.output_view._rgb.shape[:2]) <= PICTURE_SIDE
    assert page.output_view.image_shape == page.input_view.image_shape == (300, 520)
    assert (page.shares == [(class_map(output[:, ::3, ::3]) == k).mean() for k in range(5)]).all()
    assert page.tiles.n_maps == 5 and max(page.tiles._map_shape) <= TILE_SIDE
