"""The guided tour: every stop builds and renders, the panel moves and leaves, the numbers hold."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableView, QWidget

from engine import ops as F
from engine.ops.shapes import (
    conv_output_size,
    conv_params,
    dense_params,
    dropped_pixels,
    fc_equivalent_params,
    same_padding,
)
from gui.layout import DOCKS
from gui.main_window import MainWindow
from gui.session import SourceSpec
from gui.tour import TourError, apply_stop, check_stop_number, start_tour, stops, with_tour_docks

ROOT = Path(__file__).resolve().parents[2]
N_STOPS = 12

SHAPES = ["Conv2d", "ReLU", "MaxPool2d"] * 3 + ["Flatten", "Linear", "ReLU", "Linear", "Softmax"]

# What each stop must set up, written out independently of the stop data:
# (layer types of the pipeline, selected layer, sample, panels shown besides the tour).
EXPECTED = {
    1: (["Conv2d"], 0, "astronaut", {"source", "maps"}),
    2: (["Conv2d"], 0, "shapes", {"source", "maps", "kernels"}),
    3: (["Conv2d"], 0, "cat", {"stepper", "maps", "kernels"}),
    4: (["Conv2d"], 0, "textures", {"conv_player", "maps", "ledger"}),
    5: (["Conv2d"], 0, "shapes", {"conv_player", "maps", "ledger"}),
    6: (["Conv2d"], 0, "shapes", {"parameters", "conv_player", "ledger"}),
    7: (["Conv2d", "ReLU", "Conv2d"], 2, "colors", {"channel_mixing", "maps", "ledger"}),
    8: (["Conv2d", "ReLU", "MaxPool2d"], 2, "shapes", {"pool_player", "translation", "ledger"}),
    9: (["Conv2d", "ReLU", "MaxPool2d"] * 3, 6, "coffee", {"stepper", "ledger",
                                                           "receptive_field"}),
    10: (["Conv2d", "ReLU", "MaxPool2d"] * 3, 1, "digits", {"kernels", "maps"}),
    11: (SHAPES, 4, "shapes", {"maps", "explain"}),
    12: (SHAPES, 0, "shapes", {"train_curves", "train_filters"}),
}


@pytest.fixture
def window(qtbot, session, live):
    """A main window with every panel the tour uses (the registry may not list them all yet)."""
    win = MainWindow(session, live, docks=with_tour_docks(), persist=False)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    yield win
    win.close()


def visible_docks(window) -> set[str]:
    return {key for key, dock in window.docks.items() if dock.isVisible()}


def wait_for_result(qtbot, window):
    """The first result of the session's current pipeline."""
    def ready():
        latest = window.live.latest
        return latest is not None and latest.pipeline is window.session.pipeline

    qtbot.waitUntil(ready, timeout=15000)
    return window.live.latest


def visible_area(widget: QWidget) -> int:
    rect = widget.visibleRegion().boundingRect()
    return rect.width() * rect.height()


def main_view(panel: QWidget) -> QWidget:
    """The panel's largest visible part: its picture, grid, table or text."""
    parts = [w for w in panel.findChildren(QWidget) if w.isVisible() and visible_area(w) > 0]
    assert parts, f"{type(panel).__name__} shows nothing"
    return max(parts, key=visible_area)


def lightness_spread(widget: QWidget) -> float:
    image = widget.grab().toImage()
    step_x, step_y = max(1, image.width() // 60), max(1, image.height() // 60)
    values = [image.pixelColor(x, y).lightness() for x in range(0, image.width(), step_x)
              for y in range(0, image.height(), step_y)]
    return float(np.std(values))


def tour_panel(window):
    return window.docks["tour"].widget()


def plain_max_pool(x, k, s):
    rows, cols = (x.shape[0] - k) // s + 1, (x.shape[1] - k) // s + 1
    out = np.zeros((rows, cols), x.dtype)
    for r in range(rows):
        for c in range(cols):
            best = x[r * s, c * s]
            for i in range(k):
                for j in range(k):
                    best = max(best, x[r * s + i, c * s + j])
            out[r, c] = best
    return out


def receptive_size(pipeline) -> dict[str, int]:
    """Receptive-field side per layer of a chain: r += (k - 1) * jump; jump *= stride."""
    r, jump, sizes = 1, 1, {}
    for node in pipeline.nodes:
        config = node.layer.config()
        k = config.get("kernel_size", 1)
        s = (config.get("stride") or k) if "kernel_size" in config else 1  # pools: stride = k
        k, s = (k if isinstance(k, int) else k[0]), (s if isinstance(s, int) else s[0])
        r += (k - 1) * jump
        jump *= s
        sizes[node.name] = r
    return sizes


# -- every stop --------------------------------------------------------------------------------
def test_the_tour_has_its_stops_in_the_lectures_order():
    titles = [stop.title.lower() for stop in stops()]
    assert len(titles) == N_STOPS
    for title, word in zip(titles, ("image", "edges", "filters", "stride", "padding",
                                    "parameters", "1×1", "pooling", "convnet", "filters",
                                    "unit", "learn"),
                           strict=True):
        assert word in title
    for stop in stops():
        sentences = stop.text.count(". ") + 1
        assert 2 <= sentences <= 3, stop.title
        # The formula box is about 36 monospace characters wide: no line may wrap.
        assert max(len(line) for line in stop.formula.splitlines()) <= 36, stop.title


@pytest.mark.parametrize("n", range(1, N_STOPS + 1))
def test_every_stop_builds_and_renders(qtbot, window, n):
    types, layer, sample, docks = EXPECTED[n]
    missing = apply_stop(window, n - 1)
    assert missing == []
    session = window.session
    assert [node.layer.type_name for node in session.pipeline.nodes] == types
    assert session.selected_layer == layer
    assert session.source == SourceSpec(kind="sample", sample=sample)
    assert session.display.show_channels == (n == 1)
    assert session.pipeline_path is None
    assert visible_docks(window) == docks | {"tour"}
    result = wait_for_result(qtbot, window)
    assert result.pipeline is session.pipeline and result.error is None
    panel = tour_panel(window)
    assert panel.progress_label.text() == f"Stop {n} of {N_STOPS}"
    assert panel.formula.text() == stops()[n - 1].formula
    if "train_filters" in docks:  # the last stop trains: wait for its first filters
        filters = window.docks["train_filters"].widget()
        qtbot.waitUntil(lambda: filters.maps.picture_size != (0, 0), timeout=60000)
    qtbot.wait(20)  # let the panels draw the new result
    image = window.grab().toImage()
    assert image.width() >= 1280 and image.height() >= 800
    for key in docks | {"tour"}:
        panel = window.docks[key].widget()
        assert panel.isVisible() and panel.width() > 0 and panel.height() > 0, key
        view = main_view(panel)
        if isinstance(view, QTableView):
            assert view.model().rowCount() > 0, key
        assert lightness_spread(view) > 8, f"{key}: its {type(view).__name__} looks empty"


def test_stop_pipelines_do_what_the_lecture_says(qtbot, window):
    pipes = [stop.build_pipeline() for stop in stops()]
    x = np.random.default_rng(1).random((3, 12, 16)).astype(np.float32)
    # 1: the maps are the R, G and B channels themselves.
    out = pipes[0].forward(x)["rgb"]
    np.testing.assert_allclose(out, x, atol=1e-6)
    # 2: Sobel X and Sobel Y, as printed on the lecture's slide.
    w = pipes[1].nodes[0].layer.weight[:, 0]
    np.testing.assert_array_equal(w[0], [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    np.testing.assert_array_equal(w[1], [[-1, -2, -1], [0, 0, 0], [1, 2, 1]])
    # 3: n = 8 filters, no padding: (W - 2) x (H - 2) x 8.
    assert pipes[2].shapes((3, 12, 16))["conv1"] == (8, 10, 14)
    # 4 and 5: the lecture's 7x7 input, 3x3 filter: stride 2 -> 3x3; padding 1 -> 7x7.
    assert list(pipes[3].shapes((1, 7, 7)).values())[-1] == (1, 3, 3)
    assert list(pipes[4].shapes((1, 7, 7)).values())[-1] == (1, 7, 7)
    # 6: 32x32x3, ten 5x5 filters, stride 1, pad 2 -> 32x32x10, 760 parameters.
    ledger = pipes[5].summary((3, 32, 32))
    assert ledger.rows[0].out_shape == (10, 32, 32) and ledger.total_params == 760
    # 7: the 1x1 layer mixes 8 channels into 4 with 4 x (8 + 1) weights.
    mix = pipes[6].nodes[2].layer
    assert mix.weight.shape == (4, 8, 1, 1) and mix.num_params == 36
    # 9: the parameter sum and the receptive field the formula quotes.
    ledger = pipes[8].summary((3, 64, 64))
    assert [r.params for r in ledger.rows if r.params] == [224, 1168, 4640]
    assert ledger.total_params == 6032
    assert receptive_size(pipes[8])["conv3"] == 18
    assert "18 × 18" in stops()[8].formula


# -- the lecture's numbers in the formula box --------------------------------------------------
def formula_shown(window, n) -> str:
    apply_stop(window, n - 1)
    return tour_panel(window).formula.text()


def test_stride_numbers_are_the_lectures(window):
    text = formula_shown(window, 4)
    for s in (1, 2):
        out = conv_output_size(7, 3, s)
        assert f"(7 − 3)/{s} + 1 = {out} → {out}×{out}" in text
    exact = (7 - 3 + 3) / 3
    assert conv_output_size(7, 3, 3) == 2 and dropped_pixels(7, 3, 3) == 1
    assert f"(7 − 3)/3 + 1 = {exact:.2f}" in text and "does not fit: floor = 2" in text
    assert "1 row and 1 column dropped" in text
    # The player shows the stop's subject: stride 3, the dropped row and column hatched.
    player = window.docks["conv_player"].widget()
    assert player.stride.value() == 3 and not player.trace.fits
    assert player.trace.out_shape == (2, 2)
    assert player.input_grid.tint[6].all() and player.input_grid.tint[:, 6].all()
    assert "does not fit" in player.fit_label.text() and player.fit_label.isVisible()
    player.stride.setValue(2)
    assert player.trace.out_shape == (conv_output_size(7, 3, 2),) * 2 and player.trace.fits


def test_padding_numbers_are_the_lectures(window):
    text = formula_shown(window, 5)
    out = conv_output_size(7, 3, 1, 1)
    assert f"(7 − 3 + 2·1)/1 + 1 = {out} → {out}×{out}" in text
    pads = ", ".join(str(same_padding(f)) for f in (3, 5, 7))
    assert f"F = 3, 5, 7  →  P = {pads}" in text
    player = window.docks["conv_player"].widget()
    assert player.trace.out_shape == (out, out) and player.padding.value() == 1


def test_volume_and_parameter_numbers_are_the_lectures(window):
    text = formula_shown(window, 6)
    side = conv_output_size(32, 5, 1, 2)
    assert f"(32 − 5 + 2·2)/1 + 1 = {side}" in text
    assert f"32×32×10 = {side * side * 10}" in text  # the lecture's notation: 10240
    assert f"10 × (5×5×3 + 1) = {conv_params(3, 10, 5)}" in text
    # Two different fully connected counts, each named: the same-volume layer (the one the
    # parameters panel beside it draws) and the lecture's one-input-sized-layer-per-filter.
    dense = dense_params(3 * 32 * 32, 10 * side * side)
    lecture = fc_equivalent_params((3, 32, 32), 10)
    assert dense != lecture
    assert f"= {dense} ≈ 3.1 × 10⁷" in text and f"= {lecture} ≈ 10⁸" in text
    assert round(np.log10(lecture)) == 8 and f"{dense / 1e7:.1f}" == "3.1"
    stop = stops()[5]
    assert f"{dense:,} weights" in stop.text and "about 10⁸" not in stop.text
    big = fc_equivalent_params((3, 200, 200), 1)
    assert f"{big / 1e9:.1f} × 10⁹" in text
    panel = window.docks["parameters"].widget()
    assert panel.mode == "conv32"
    assert panel.comparison.dense == dense and panel.comparison.lecture == lecture
    # The player runs the lecture's own 32x32x3 volume with the pipeline's ten filters, and
    # shows one whole 32x32 map with the layer's numbers.
    player = window.docks["conv_player"].widget()
    assert player.source.currentText() == "Lecture: 32x32x3 volume"
    assert "sample cut to 32×32" in stop.text and "stand-in" not in stop.text
    assert player.trace.input.shape == (3, 32, 32) and player.trace.out_shape == (32, 32)
    assert player.filter.isVisibleTo(player) and player.filter.maximum() == 9
    np.testing.assert_array_equal(
        player.trace.weight, window.session.pipeline.nodes[0].layer.weight[0])
    assert "= 32, so 32x32" in player.formula_label.text()
    assert "10,240 values" in player.layer_label.text()
    assert "= 760" in player.layer_label.text()
    assert player.controls.step == player.controls.count - 1 == 1023
    assert all(player.output_grid.text_at(r, c) != "" for r in range(player.trace.out_shape[0])
               for c in range(player.trace.out_shape[1]))


def test_first_and_last_stops_say_what_their_maps_are(qtbot, window):
    apply_stop(window, 0)
    assert "map 0 is R, map 1 is G and map 2 is B" in stops()[0].text
    apply_stop(window, 9)
    # Stop 10's formula has the ReLU: the maps shown are the ReLU's, of conv1's filters.
    node = window.session.pipeline.nodes[window.session.selected_layer]
    assert node.layer.type_name == "ReLU" and "ReLU(" in stops()[9].formula
    assert window.session.pipeline.nodes[window.session.selected_layer - 1].name == "conv1"


def test_the_unit_stop_asks_the_explain_panel_about_the_selected_map(qtbot, window):
    assert stops()[10].title == "What a unit responds to"  # right after the filters
    apply_stop(window, 10)
    panel = window.docks["explain"].widget()
    assert panel.tabs.currentWidget() is panel.channel_tab
    assert window.session.selected_map == 5 and panel.channel_tab.layer == "relu2"
    assert panel.channel_tab.channel_spin.value() == 5


def test_pooling_numbers_are_the_lectures(window):
    text = formula_shown(window, 8)
    lecture_in = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], np.float32)
    expected = plain_max_pool(lecture_in, 2, 2)
    np.testing.assert_array_equal(F.max_pool2d(lecture_in[None], 2)[0], expected)
    np.testing.assert_array_equal(expected, [[6, 8], [3, 4]])  # the lecture's slide
    rows = text.splitlines()
    for i, row in enumerate(lecture_in):
        assert rows[2 + i].startswith(" ".join(str(int(v)) for v in row))
    assert rows[3].endswith("6 8") and rows[4].endswith("3 4")
    assert f"(4 − 2)/2 + 1 = {conv_output_size(4, 2, 2)}" in text
    player = window.docks["pool_player"].widget()
    np.testing.assert_array_equal(player.trace.output, expected)
    assert player.controls.step == player.controls.count - 1  # the whole output is filled in


# -- the panel ---------------------------------------------------------------------------------
def test_next_and_back_move_through_the_stops(qtbot, window):
    start_tour(window, 1)
    panel = tour_panel(window)
    assert panel.index == 0 and not panel.back_button.isEnabled()
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert panel.index == 1 and panel.progress_label.text() == f"Stop 2 of {N_STOPS}"
    assert window.session.pipeline.name == "sobel"
    assert visible_docks(window) == EXPECTED[2][3] | {"tour"}
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.back_button, Qt.MouseButton.LeftButton)
    assert panel.index == 1 and panel.stop_combo.currentIndex() == 1
    panel.stop_combo.activated.emit(N_STOPS - 1)
    assert panel.index == N_STOPS - 1 and not panel.next_button.isEnabled()
    assert window.session.selected_layer == EXPECTED[N_STOPS][1]
    for button, key in ((panel.back_button, "Alt+Left"), (panel.next_button, "Alt+Right"),
                        (panel.leave_button, "Alt+L")):
        assert button.shortcut().toString() == key
        assert f"({key})" in button.toolTip()


def test_leaving_keeps_what_the_stop_set_up(qtbot, window):
    apply_stop(window, 3)
    pipeline, layer = window.session.pipeline, window.session.selected_layer
    shown = visible_docks(window)
    qtbot.mouseClick(tour_panel(window).leave_button, Qt.MouseButton.LeftButton)
    assert not window.docks["tour"].isVisible()
    assert window.session.pipeline is pipeline and window.session.selected_layer == layer
    assert visible_docks(window) == shown - {"tour"}
    assert window.docks["conv_player"].widget().stride.value() == 3  # the stop's stride
    assert "left the tour" in window.last_message[1]


def test_my_own_source_is_kept_when_asked(qtbot, window, video_file):
    own = SourceSpec(kind="video", path=str(video_file))
    window.session.set_source(own)
    panel = tour_panel(window)
    panel.own_source.setChecked(True)
    panel.go_to(1)
    assert window.session.source == own and window.session.pipeline.name == "sobel"
    panel.own_source.setChecked(False)
    panel.go_to(2)
    assert window.session.source == SourceSpec(kind="sample", sample="cat")


def test_the_panel_alone_sets_up_the_session(qtbot, session, live):
    from gui.docks.tour import TourDock

    panel = TourDock(session, live)
    qtbot.addWidget(panel)
    panel.go_to(6)
    assert session.selected_layer == 2 and session.pipeline.nodes[2].name == "mix1x1"
    assert panel.progress_label.text() == f"Stop 7 of {N_STOPS}"


# -- the command line and the docs -------------------------------------------------------------
def test_start_tour_adds_the_panel_and_checks_the_number(qtbot, session, live):
    window = MainWindow(session, live, docks=DOCKS, persist=False)
    qtbot.addWidget(window)
    window.show()
    no_stop = f"the tour has stops 1 to {N_STOPS}; there is no stop {N_STOPS + 1}"
    with pytest.raises(TourError, match=no_stop):
        start_tour(window, N_STOPS + 1)
    with pytest.raises(ValueError, match="no stop 0"):
        check_stop_number(0)
    start_tour(window, 3)
    assert window.docks["tour"].isVisible() and tour_panel(window).index == 2
    assert window.size().toTuple() == (1280, 800)
    window.close()


def test_make_tour_docs_writes_pictures_and_text(qtbot, tmp_path):
    spec = importlib.util.spec_from_file_location("make_tour_docs",
                                                  ROOT / "tools" / "make_tour_docs.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.main(["--stops", "8", "--docs", str(tmp_path)]) == 0
    from engine.io.media import read_image

    picture = read_image(tmp_path / "tour" / "stop-08.png")  # (H, W, 3)
    assert picture.shape[:2] == (800, 1280) and picture.std() > 10
    text = (tmp_path / "tour.md").read_text(encoding="utf-8")
    assert "![Stop 8: Max pooling](tour/stop-08.png)" in text
    for stop in stops():
        assert stop.title in text and stop.formula in text
    assert "stop-01.png" not in text  # only pictures that exist are linked
