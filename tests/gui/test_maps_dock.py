"""The activation maps dock: tiles, normalization, colormaps, hover readout, map detail, bars."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from engine.graph.pipeline import Pipeline
from engine.io.mosaic import tile_maps
from engine.layers import Flatten, GlobalAvgPool2d, Linear, Softmax
from engine.resolve import resolve_pipeline
from gui.colormaps import indexed_lookup_table, lookup_table
from gui.docks.map_detail import ZEROS_LABEL, ZEROS_LABEL_RELU
from gui.docks.maps import MapsDock
from gui.widgets.colorbar import format_value
from tests.gui.conftest import make_result, publish, show_dock


@pytest.fixture
def setup(qtbot, idle_live):
    session, live = idle_live()
    dock = show_dock(qtbot, MapsDock(session, live), 700, 500)
    result = make_result(session.pipeline)
    publish(live, result)
    return session, live, dock, result


def layer_index(pipeline, type_name, after=0):
    return next(i for i, n in enumerate(pipeline.nodes) if n.layer.type_name == type_name
                and i >= after)


def reference_indices(tiled, levels):
    """Colour-table indices of a float mosaic: 0 in the NaN gaps, 1..254 from lo to hi."""
    lo, hi = levels
    out = np.zeros(tiled.shape, dtype=np.uint8)
    ok = ~np.isnan(tiled)
    out[ok] = 1 + np.rint(np.clip((tiled[ok] - lo) / (hi - lo), 0.0, 1.0) * 253)
    return out


def assert_same_indices(actual, tiled, levels):
    expected = reference_indices(tiled, levels)
    np.testing.assert_array_equal(actual == 0, expected == 0)  # the gaps, exactly
    # Rounding at an exact half may differ by one step of the 253.
    assert np.abs(actual.astype(int) - expected.astype(int)).max() <= 1


def per_map_reference(a, diverging):
    """Each map scaled on its own, written as a plain loop."""
    out = np.empty_like(a)
    for c in range(a.shape[0]):
        m = a[c].astype(np.float64)
        if diverging:
            s = np.abs(m).max()
            out[c] = m / s if s > 0 else m
        else:
            lo, hi = m.min(), m.max()
            out[c] = (m - lo) / (hi - lo) if hi > lo else m - lo
    return out


@pytest.mark.parametrize("mode", ["layer", "map", "global"])
def test_tiled_image_equals_tile_maps_under_each_normalization(setup, mode):
    session, _live, dock, result = setup
    session.set_display(colormap="viridis", normalization=mode)
    dock.auto_cmap.setChecked(False)
    for index in range(len(session.pipeline.nodes)):
        node = session.pipeline.nodes[index]
        a = result.activations[node.name]
        if a.ndim != 3 or a.shape[1] * a.shape[2] == 1:
            continue
        session.set_selected_layer(index)
        assert dock.mosaic.n_maps == a.shape[0]
        rows, cols = dock.mosaic.grid
        assert rows * cols >= a.shape[0] > (rows - 1) * cols
        expected = per_map_reference(a, False) if mode == "map" else a
        levels = dock.mosaic.levels
        assert_same_indices(dock.mosaic.tiled, tile_maps(expected, columns=cols), levels)
        if mode == "layer":
            np.testing.assert_allclose(levels, [a.min(), a.max()], rtol=1e-6)
        elif mode == "global":
            lo = min(float(v.min()) for v in result.activations.values())
            hi = max(float(v.max()) for v in result.activations.values())
            np.testing.assert_allclose(levels, [lo, hi], rtol=1e-6)
            assert dock.colorbar.range == pytest.approx((lo, hi))
        else:
            np.testing.assert_allclose(levels, [0.0, 1.0])
            # The bar shows real numbers: map 0's own range (nothing hovered or selected).
            lo, hi = min(a[0].ravel().tolist()), max(a[0].ravel().tolist())
            assert dock.colorbar.range == pytest.approx((lo, hi), rel=1e-6)
            assert dock.colorbar.tick_labels() == [format_value(lo), format_value(hi)]
            assert dock.colorbar.note == "range of map 0"


def test_one_index_label_per_map_and_layer_change_rebuilds(setup):
    session, _live, dock, result = setup
    pool = layer_index(session.pipeline, "MaxPool2d")
    for index in (0, pool):
        session.set_selected_layer(index)
        node = session.pipeline.nodes[index]
        c = result.activations[node.name].shape[0]
        assert [t.text() for t in dock.mosaic._labels] == [str(i) for i in range(c)]
        assert node.name in dock.info.text()
        assert dock.layer_combo.currentIndex() == index


def test_diverging_colormap_is_suggested_and_symmetric(setup):
    session, _live, dock, result = setup
    session.set_display(normalization="layer")  # one symmetric range for the whole layer
    conv = layer_index(session.pipeline, "Conv2d")
    relu = layer_index(session.pipeline, "ReLU")
    a = result.activations[session.pipeline.nodes[conv].name]
    assert a.min() < 0  # the bundled default's first conv has signed outputs
    session.set_selected_layer(relu)
    assert session.display.colormap != "coolwarm"
    session.set_selected_layer(conv)
    assert session.display.colormap == "coolwarm"
    assert dock.cmap_combo.currentText() == "coolwarm"
    levels = dock.mosaic.levels
    bound = float(np.abs(a).max())
    np.testing.assert_allclose(levels, [-bound, bound], rtol=1e-6)
    session.set_selected_layer(relu)
    assert session.display.colormap == "viridis"


def test_colormap_and_normalization_controls_write_to_session(setup):
    session, _live, dock, _result = setup
    dock.cmap_combo.setCurrentIndex(dock.cmap_combo.findData("magma"))
    assert session.display.colormap == "magma"
    np.testing.assert_array_equal(dock.mosaic._image.lut, indexed_lookup_table("magma"))
    np.testing.assert_array_equal(dock.colorbar._lut[0], lookup_table("magma"))
    dock.norm_combo.setCurrentIndex(dock.norm_combo.findData("global"))
    assert session.display.normalization == "global"
    session.set_display(normalization="map")
    assert dock.norm_combo.currentData() == "map"
    for widget in (dock.layer_combo, dock.cmap_combo, dock.norm_combo, dock.auto_cmap,
                   dock.mosaic, dock.colorbar, dock.readout, dock.bars):
        assert widget.toolTip(), widget


def test_hover_readout_gives_map_position_and_real_value(setup, qtbot):
    session, _live, dock, result = setup
    relu = layer_index(session.pipeline, "ReLU")
    session.set_selected_layer(relu)
    session.set_display(normalization="map")  # the readout must still show real values
    node = session.pipeline.nodes[relu]
    a = result.activations[node.name]
    index, x, y = min(5, a.shape[0] - 1), 7, 3
    scene_pos = dock.mosaic.view_point(index, x, y)
    view_pos = dock.mosaic.mapFromScene(scene_pos)
    qtbot.mouseMove(dock.mosaic.viewport(), view_pos)
    qtbot.waitUntil(lambda: f"map {index}" in dock.readout.text(), timeout=2000)
    text = dock.readout.text()
    assert text.startswith(node.name)
    assert f"x {x}, y {y}" in text
    value = float(re.search(r"value (\S+)", text).group(1))
    assert value == pytest.approx(float(a[index, y, x]), rel=1e-4, abs=1e-7)
    # Outside the mosaic: back to the hint.
    dock.mosaic.scene().sigMouseMoved.emit(QPointF(-50.0, -50.0))
    assert "Hover" in dock.readout.text()


def test_click_opens_detail_with_numpy_statistics(setup, qtbot):
    session, _live, dock, result = setup
    relu = layer_index(session.pipeline, "ReLU")
    session.set_selected_layer(relu)
    node = session.pipeline.nodes[relu]
    a = result.activations[node.name]
    index = a.shape[0] - 1
    assert not dock.detail.isVisible()
    pos = dock.mosaic.mapFromScene(dock.mosaic.view_point(index, 2, 2))
    qtbot.mouseClick(dock.mosaic.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: session.selected_map == index, timeout=2000)
    assert dock.detail.isVisible()
    m = a[index].astype(np.float64)
    stats = dock.detail.stats
    assert stats["min"] == pytest.approx(m.min())
    assert stats["max"] == pytest.approx(m.max())
    assert stats["mean"] == pytest.approx(m.mean(), rel=1e-6, abs=1e-9)
    assert stats["std"] == pytest.approx(m.std(), rel=1e-6, abs=1e-9)
    zeros = sum(1 for v in m.ravel() if v == 0) / m.size
    assert stats["zeros"] == pytest.approx(zeros)
    assert dock.detail.value_text("zeros") == f"{zeros:.1%}"
    assert dock.detail.zeros_label() == ZEROS_LABEL_RELU
    # The histogram counts every non-zero pixel once (zeros are left out after a ReLU).
    assert int(dock.detail.histogram.counts.sum()) == int(np.count_nonzero(m))
    # Hovering the enlarged map reads the same real values.
    detail = dock.detail
    qtbot.waitUntil(lambda: detail._box.width() > 20, timeout=2000)  # laid out once shown
    scene_pos = detail._box.mapViewToScene(QPointF(4.5, 1.5))
    detail.view.scene().sigMouseMoved.emit(scene_pos)
    assert f"map {index} · x 4, y 1 · value {float(a[index, 1, 4]):.5g}" in dock.readout.text()
    # A conv layer that follows no ReLU: the plain label; closing hides the panel.
    session.set_selected_layer(0)
    session.set_selected_map(0)
    assert dock.detail.zeros_label() == ZEROS_LABEL
    assert dock.detail.stats["max"] == pytest.approx(float(result.activations[
        session.pipeline.nodes[0].name][0].max()))
    session.set_selected_map(-1)
    assert not dock.detail.isVisible()


def test_detail_updates_live(setup):
    session, live, dock, result = setup
    session.set_selected_map(1)
    first = dict(dock.detail.stats)
    # A darker frame: every statistic moves.
    darker = make_result(session.pipeline, (result.frame // 3).astype(np.uint8), seq=2)
    publish(live, darker)
    name = session.pipeline.nodes[session.selected_layer].name
    assert dock.detail.stats["max"] == pytest.approx(float(darker.activations[name][1].max()))
    assert dock.detail.stats != first


def test_vector_layers_show_bars(qtbot, idle_live):
    base = resolve_pipeline("default")
    channels = base.shapes((3, 60, 80))[base.nodes[-1].name][0]
    pipeline = Pipeline.chain([*base.layers, GlobalAvgPool2d(), Flatten(),
                               Linear(channels, 5), Softmax()])
    session, live = idle_live(pipeline)
    dock = show_dock(qtbot, MapsDock(session, live), 700, 500)
    result = make_result(pipeline)
    publish(live, result)
    for index in range(len(pipeline.nodes) - 4, len(pipeline.nodes)):
        session.set_selected_layer(index)
        assert dock.stack.currentWidget() is dock.bars
        expected = result.activations[pipeline.nodes[index].name].ravel()
        np.testing.assert_array_equal(dock.bars.values, expected)
        assert "bars" in dock.info.text()
    dock.bars.barHovered.emit(2)
    assert f"feature 2 · value {float(expected[2]):.5g}" in dock.readout.text()
    session.set_selected_layer(0)
    assert dock.stack.currentWidget() is dock.mosaic


def test_per_frame_update_moves_pixels_only(setup):
    session, live, dock, result = setup
    session.set_selected_layer(layer_index(session.pipeline, "ReLU"))
    labels = list(dock.mosaic._labels)
    grid = dock.mosaic.grid
    before = dock.mosaic.tiled.copy()
    negative = (255 - result.frame).astype(np.uint8)  # other pixels, the same shapes
    publish(live, make_result(session.pipeline, negative, seq=2))
    assert dock.mosaic._labels == labels  # the very same labels
    assert all(a is b for a, b in zip(dock.mosaic._labels, labels, strict=True))
    assert dock.mosaic.grid == grid
    assert not np.array_equal(dock.mosaic.tiled, before)
    assert dock.mosaic.tiled.dtype == np.uint8 and dock.mosaic.tiled.flags.c_contiguous


def test_colorbar_ticks_show_real_values(setup):
    session, _live, dock, result = setup
    dock.auto_cmap.setChecked(False)
    session.set_display(colormap="gray", normalization="layer")
    pool = layer_index(session.pipeline, "MaxPool2d")
    session.set_selected_layer(pool)
    a = result.activations[session.pipeline.nodes[pool].name]
    labels = dock.colorbar.tick_labels()
    assert len(labels) == 5
    assert float(labels[0]) == pytest.approx(float(a.min()), rel=1e-2, abs=1e-3)
    assert float(labels[-1]) == pytest.approx(float(a.max()), rel=1e-2)


def hover(qtbot, dock, index, x=2, y=2):
    pos = dock.mosaic.mapFromScene(dock.mosaic.view_point(index, x, y))
    qtbot.mouseMove(dock.mosaic.viewport(), pos)
    qtbot.waitUntil(lambda: f"map {index} ·" in dock.readout.text(), timeout=2000)


def test_per_map_colorbar_shows_the_hovered_maps_real_range_live(setup, qtbot):
    session, live, dock, result = setup
    dock.auto_cmap.setChecked(False)
    session.set_display(colormap="viridis", normalization="map")
    relu = layer_index(session.pipeline, "ReLU")
    session.set_selected_layer(relu)
    name = session.pipeline.nodes[relu].name
    a = result.activations[name]

    def real_range(maps, i):
        values = maps[i].ravel().tolist()
        return min(values), max(values)

    assert dock.colorbar.range == pytest.approx(real_range(a, 0), rel=1e-6)
    hover(qtbot, dock, 5)
    lo, hi = real_range(a, 5)
    assert real_range(a, 5) != real_range(a, 0)
    assert dock.colorbar.range == pytest.approx((lo, hi), rel=1e-6)
    assert dock.colorbar.describe() == (f"range of map 5: {format_value(lo)} ... "
                                        f"{format_value(hi)}")
    # A new frame under a still mouse: the numbers follow it.
    darker = make_result(session.pipeline, (result.frame // 3).astype(np.uint8), seq=2)
    publish(live, darker)
    b = darker.activations[name]
    assert real_range(b, 5) != real_range(a, 5)
    assert dock.colorbar.range == pytest.approx(real_range(b, 5), rel=1e-6)
    # Off the maps: the selected map's range, and map 0's when none is selected.
    session.set_selected_map(3)
    dock.mosaic.scene().sigMouseMoved.emit(QPointF(-50.0, -50.0))
    assert dock.colorbar.note == "range of map 3"
    assert dock.colorbar.range == pytest.approx(real_range(b, 3), rel=1e-6)
    session.set_selected_map(-1)
    assert dock.colorbar.note == "range of map 0"
    # A diverging colormap spans -+ the map's largest magnitude, as the map is drawn.
    session.set_display(colormap="coolwarm")
    bound = max(abs(v) for v in b[0].ravel().tolist())
    assert dock.colorbar.range == pytest.approx((-bound, bound), rel=1e-6)
    # Per-layer scaling: five ticks of the layer's range and no map named.
    session.set_display(normalization="layer", colormap="viridis")
    assert dock.colorbar.note == "" and len(dock.colorbar.tick_labels()) == 5


def test_engine_error_is_shown_not_raised(setup):
    _session, live, dock, _result = setup
    live.errorChanged.emit("conv1: kernel 11 is larger than the 8-pixel input")
    assert "kernel 11 is larger" in dock.info.text()
    live.errorChanged.emit("")
    publish(live, make_result(live.session.pipeline, seq=5))
    assert "maps of" in dock.info.text()


def test_scaling_helpers_edge_cases():
    from gui.colormaps import ColormapError, is_signed, scale_maps, to_indices

    flat = np.full((2, 3, 4), 7.0, dtype=np.float32)
    shown, levels = scale_maps(flat, "map", diverging=False)
    assert np.all(shown == 0) and levels == (0.0, 1.0)
    shown, levels = scale_maps(flat, "layer", diverging=False)
    assert levels[0] < 7.0 < levels[1]  # a flat layer still gets a usable range
    zeros = np.zeros((1, 2, 2), dtype=np.float32)
    assert scale_maps(zeros, "map", diverging=True)[1] == (-1.0, 1.0)
    idx = to_indices(np.array([-5.0, 0.0, 10.0, 20.0], dtype=np.float32), (0.0, 10.0))
    assert idx.astype(np.uint8).tolist() == [1, 1, 254, 254]  # 255: NaN and infinity
    assert is_signed(np.array([-1.0, 2.0])) and not is_signed(np.array([0.0, 2.0]))
    with pytest.raises(ColormapError, match="unknown colormap"):
        lookup_table("rainbow")
    with pytest.raises(ColormapError, match="normalization"):
        scale_maps(flat, "image", diverging=False)
