"""The Explain panel's "What drives this channel?" tab, opened from the activation maps panel:
activation maximization (on demand, cached, cancellable), the top 9 patches of a folder or a
video, the Grad-CAM weight; the panel in the window and its threads."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMenu

from engine.explain import Cancelled
from engine.io.media import write_image
from engine.resolve import resolve_pipeline
from gui.explain.dock import ExplainDock
from gui.explain.jobs import Request
from gui.explain.workers import LiveWorker, TaskRunner
from gui.main_window import MainWindow
from gui.session import SourceSpec
from tests.gui.conftest import show_dock, write_video
from tests.gui.test_explain_dock import TIMEOUT, use

RELU2 = 4  # the shapes network's second ReLU: 16 maps of 32 x 32
LIVELY = 5  # one of its channels that noise excites (channel 0 stays at zero from noise)


@pytest.fixture
def channel(qtbot, session, live):
    """(session, dock, tab): the shapes network, relu2 selected, the channel tab in front, a
    short ascent (20 steps) so that tests stay quick."""
    use(qtbot, session, live, resolve_pipeline("shapes"))
    session.set_selected_layer(RELU2)
    session.set_selected_map(LIVELY)
    dock = ExplainDock(session, live)
    dock.channel_tab.steps.setValue(20)
    dock.show_channel()
    show_dock(qtbot, dock, 390, 700)
    yield session, dock, dock.channel_tab
    dock.shutdown()


def maximized(tab) -> bool:
    return tab._cache_key() in tab.cache


def test_a_channel_shows_its_maximizing_input_and_its_weight(qtbot, channel):
    session, dock, tab = channel
    assert tab.layer_combo.currentIndex() == RELU2 and tab.channel == LIVELY
    assert tab.channel_spin.maximum() == 15
    qtbot.waitUntil(lambda: maximized(tab), timeout=TIMEOUT)
    result = tab.cache[tab._cache_key()][1]
    assert result.picture.shape == (64, 64, 3) and result.steps == 20
    assert result.objective > result.initial  # the ascent raised the channel's mean
    assert tab.maximized.view.has_picture and "after 20 steps" in tab.maximized.caption.text()
    qtbot.waitUntil(lambda: tab.alpha is not None and tab.alpha.layer == "relu2",
                    timeout=TIMEOUT)
    assert tab.alpha.alpha.shape == (16,)
    assert "Grad-CAM weight for smiley" in tab.weight.text() and "of the layer's 16" in (
        tab.weight.text())
    # Another channel: computed on demand; going back to the first uses the cache.
    tab.channel_spin.setValue(0)
    assert session.selected_map == 0
    qtbot.waitUntil(lambda: maximized(tab), timeout=TIMEOUT)
    assert len(tab.cache) == 2 and "stays at 0" in tab.maximized.caption.text()
    session.set_selected_map(LIVELY)
    assert not dock.max_tasks.running and "after 20 steps" in tab.maximized.caption.text()


def test_maximization_can_be_cancelled(qtbot, channel):
    _session, _dock, tab = channel
    qtbot.waitUntil(lambda: maximized(tab), timeout=TIMEOUT)
    tab.steps.setValue(2000)
    tab.compute()
    qtbot.waitUntil(lambda: tab.max_row.progress.value() > 0, timeout=TIMEOUT)
    qtbot.mouseClick(tab.max_row.cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Stopped" in tab.maximized.caption.text(), timeout=TIMEOUT)
    assert not maximized(tab)  # a stopped ascent is shown, not cached
    assert tab.max_row.starts[0].isEnabled() and not tab.max_row.cancel.isEnabled()


def test_top_patches_of_a_folder_and_of_a_video(qtbot, channel, tmp_path):
    session, _dock, tab = channel
    assert "No folder or video run for relu2" in tab.patches.__dict__.get("_empty", "")
    folder = tmp_path / "pictures"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(12):
        write_image(folder / f"p{i:02d}.png", rng.integers(0, 256, (40, 50, 3), np.uint8))
    tab.find_patches("folder", str(folder))
    qtbot.waitUntil(lambda: tab.patches_run is not None, timeout=TIMEOUT)
    run = tab.patches_run
    assert run.layer == "relu2" and run.count == 12 and len(run.patches) == 16
    assert tab.patches.count == 9 and "The best of 12 inputs of pictures" in (
        tab.patches_note.text())
    values = [v for _p, v in run.for_channel(0)]
    assert values == sorted(values, reverse=True)
    assert all(p.dtype == np.uint8 and p.ndim == 3 for p, _v in run.for_channel(0))
    session.set_selected_layer(RELU2 + 1)  # another layer: this run does not apply
    assert tab.patches.count == 0
    session.set_selected_layer(RELU2)
    tab.find_patches("video", str(write_video(tmp_path / "clip.avi", n_frames=10)))
    qtbot.waitUntil(lambda: tab.patches_run is not run, timeout=TIMEOUT)
    assert tab.patches_run.count == 10 and tab.patches.count == 9


def test_a_network_without_class_scores_has_no_weights(qtbot, session, live):
    qtbot.waitUntil(lambda: live.latest is not None, timeout=TIMEOUT)  # the default network
    dock = ExplainDock(session, live)
    dock.channel_tab.steps.setValue(10)
    dock.show_channel()
    show_dock(qtbot, dock, 390, 700)
    tab = dock.channel_tab
    assert "no class scores" in tab.weight.text()
    qtbot.waitUntil(lambda: maximized(tab), timeout=TIMEOUT)  # maximization works all the same
    dock.shutdown()


def test_clicking_a_map_opens_what_drives_this_channel(qtbot, session, live, app_threads):
    before = app_threads()
    window = MainWindow(session, live, persist=False)
    qtbot.addWidget(window)
    window.show()
    use(qtbot, session, live, resolve_pipeline("shapes"))
    session.set_selected_layer(RELU2)
    explain = window.docks["explain"]
    assert not explain.isVisible()
    explain.widget().channel_tab.steps.setValue(10)
    maps = window.docks["maps"].widget()
    qtbot.waitUntil(lambda: maps.mosaic.n_maps == 16, timeout=TIMEOUT)
    pos = maps.mosaic.mapFromScene(maps.mosaic.view_point(3, 2, 2))
    qtbot.mouseClick(maps.mosaic.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert session.selected_map == 3
    qtbot.waitUntil(lambda: maps.detail.explain_button.width() > 20, timeout=TIMEOUT)
    qtbot.mouseClick(maps.detail.explain_button, Qt.MouseButton.LeftButton)
    panel = explain.widget()
    assert explain.isVisible() and panel.tabs.currentWidget() is panel.channel_tab
    tab = panel.channel_tab
    assert tab.layer_combo.currentIndex() == RELU2 and tab.channel_spin.value() == 3
    qtbot.waitUntil(lambda: maximized(tab) and tab.maximized.view.has_picture, timeout=TIMEOUT)
    # The right-click menu of another map does the same.
    maps.mosaic.mapMenuRequested.emit(7, QPoint(10, 10))
    menu = maps.findChildren(QMenu)[-1]
    action = next(a for a in menu.actions() if "map 7" in a.text())
    assert action.toolTip().startswith("Open the Explain panel")
    action.trigger()
    menu.close()
    assert session.selected_map == 7 and tab.channel_spin.value() == 7
    window.close()
    assert app_threads() <= before  # the Explain panel's threads ended with the window


def test_live_worker_keeps_only_the_newest_request():
    seen = []

    def compute(request):
        seen.append(request.seq)
        return request.seq

    worker = LiveWorker(compute)
    frame, x = np.zeros((4, 4, 3), np.uint8), np.zeros((3, 4, 4), np.float32)
    for seq in (1, 2, 3):  # before the thread starts: only the last one is waiting
        worker.submit(Request("saliency", None, frame, x, seq=seq))
    worker.start()
    deadline = 200
    while worker.latest is None and deadline:
        deadline -= 1
        worker.join(0.01)
    worker.stop()
    worker.join(5)
    assert seen == [3] and worker.latest == (1, 3) and not worker.is_alive()


def test_task_runner_cancels_and_drops_a_replaced_job():
    runner, pause = TaskRunner(), threading.Event()

    def slow(progress, stop):
        for i in range(1000):
            if stop():
                raise Cancelled("stopped")
            progress(i, 1000)
            pause.wait(0.005)
        return "finished"

    runner.start("slow", slow)
    runner.cancel()
    runner.shutdown()
    _progress, done = runner.take()
    assert done.cancelled and done.result is None and not runner.running
    runner.start("first", slow)
    runner.start("second", lambda progress, stop: "quick")
    runner.shutdown()
    _progress, done = runner.take()
    assert done.name == "second" and done.result == "quick"
    runner.start("broken", lambda progress, stop: 1 / 0)
    runner.shutdown()
    assert runner.take()[1].error == "Division by zero."


def test_a_floating_panel_on_its_own_stops_its_threads(qtbot, session, live, app_threads):
    before = app_threads()
    use(qtbot, session, live, resolve_pipeline("shapes"))
    session.set_source(SourceSpec(kind="sample", sample="shapes"))
    dock = show_dock(qtbot, ExplainDock(session, live), 390, 700)
    qtbot.waitUntil(lambda: dock.class_tab.heat_page.outcome is not None, timeout=TIMEOUT)
    assert dock.worker is not None and dock.worker.is_alive()
    dock.close()
    assert dock.worker is None and app_threads() <= before
