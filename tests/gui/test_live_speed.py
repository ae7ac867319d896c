"""The live loop's light GUI thread and its graceful degradation (issue 16).

Hidden panels do no work, the maps mosaic arrives made by the engine thread, a slow engine
brings the offer of a lower resolution or fewer layers, and applying it changes what runs.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from engine.graph.pipeline import Pipeline
from engine.layers import Conv2d, MaxPool2d, ReLU
from gui.live import LiveResults, Stats
from gui.live_pace import PaceMonitor, deepest_needed, lower_resolution
from gui.session import Session, SourceSpec
from tests.gui.conftest import make_result, write_video

WAIT_MS = 20000


class SlowReLU(ReLU):
    """A ReLU that takes 80 ms: a layer too slow for 30 frames per second."""

    def forward(self, x):
        time.sleep(0.08)
        return super().forward(x)


def open_window(qtbot, session, live):
    from gui.main_window import MainWindow

    window = MainWindow(session, live, persist=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.fixture
def video(tmp_path):
    return write_video(tmp_path / "clip.avi", n_frames=30, height=240, width=320)


@pytest.fixture
def hubs():
    made: list[LiveResults] = []
    yield made
    for hub in made:
        hub.stop()
    assert not any(hub.running for hub in made)


def count_calls(obj, name: str) -> list:
    calls: list = []
    original = getattr(obj, name)

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    setattr(obj, name, counted)
    return calls


# -- pure logic ---------------------------------------------------------------------------------

def test_pace_monitor_names_the_limiting_stage_after_a_while():
    pace = PaceMonitor(slow_s=1.0)
    assert pace.update(0.0, 12.0, 30.0, 70.0, 5.0, "conv2") is None  # not for long yet
    slowdown = pace.update(1.5, 12.0, 30.0, 70.0, 5.0, "conv2")
    assert slowdown.stage == "engine" and "conv2" in slowdown.text and "70" in slowdown.text
    slowdown = pace.update(2.0, 12.0, 30.0, 10.0, 60.0)
    assert slowdown.stage == "display" and "60 ms" in slowdown.text
    assert pace.update(2.5, 30.0, 30.0, 10.0, 5.0) is not None  # keeping up, not for long yet
    assert pace.update(4.0, 30.0, 30.0, 10.0, 5.0) is None
    # A 12 fps source shown at 12 fps keeps up; a still image (capture 0) always does.
    assert pace.update(9.0, 12.0, 12.0, 70.0, 5.0) is None
    assert pace.update(20.0, 0.0, 0.0, 70.0, 5.0) is None


def test_layers_needed_and_resolution_steps():
    assert deepest_needed(["source", "ledger"], 4, 9) == 1
    assert deepest_needed(["maps", "stepper"], 4, 9) == 5
    assert deepest_needed(["maps"], 8, 9) is None  # the last layer: all of them
    assert deepest_needed(["maps", "some_new_panel"], 1, 9) is None  # unknown: all
    assert lower_resolution(480, 480) == 320
    assert lower_resolution(None, 640) == 480
    assert lower_resolution(160, 160) is None


def test_status_bar_text_names_the_limiting_stage():
    keeping_up = Stats(30.0, 12.5, 30.0, 4).describe()
    assert "engine 12.5 ms" in keeping_up and "dropped 4" in keeping_up
    assert "limited" not in keeping_up
    slow = Stats(30.0, 80.0, 11.0, 40, limit="engine (80 ms per frame)").describe()
    assert "display 11 fps" in slow and "limited by engine (80 ms per frame)" in slow


# -- the window ---------------------------------------------------------------------------------

def test_hidden_docks_do_no_work_and_catch_up_when_shown(qtbot, idle_live):
    session, live = idle_live()
    window = open_window(qtbot, session, live)
    maps = window.docks["maps"].widget()
    source = window.docks["source"].widget()
    redraws = count_calls(maps.mosaic._image, "setImage")
    frames = count_calls(source.image, "setImage")
    window.docks["maps"].hide()
    window.docks["source"].hide()
    for seq in (1, 2, 3):
        live.engine._result = make_result(session.pipeline, seq=seq)
        live.poll()
    assert redraws == [] and frames == []
    assert not live.engine.has_preparer("maps")  # nothing prepared for a hidden panel
    window.docks["maps"].show()
    window.docks["source"].show()
    qtbot.waitUntil(lambda: bool(redraws and frames), timeout=WAIT_MS)  # caught up
    assert live.engine.has_preparer("maps")  # visible again: the engine thread prepares
    redraws.clear()
    frames.clear()
    live.engine._result = make_result(session.pipeline, seq=4)
    live.poll()
    assert len(redraws) == 1 and len(frames) == 1  # one redraw per new frame


def test_mosaic_arrives_precomputed_from_the_engine_thread(qtbot, video, hubs):
    session = Session()
    session.set_source(SourceSpec(kind="video", path=str(video)))
    hubs.append(live := LiveResults(session))
    window = open_window(qtbot, session, live)
    maps = window.docks["maps"].widget()
    qtbot.waitUntil(lambda: live.latest is not None and "maps" in live.latest.prepared,
                    timeout=WAIT_MS)
    drawn_here = count_calls(maps.mosaic, "set_maps")
    shown = []
    live.resultUpdated.connect(lambda r: shown.append(r) if "maps" in r.prepared else None)
    qtbot.waitUntil(lambda: len(shown) >= 3, timeout=WAIT_MS)
    prepared = shown[-1].prepared["maps"]
    assert drawn_here == []  # the GUI thread only handed the finished image to Qt
    assert maps.mosaic.tiled is prepared.image
    assert prepared.rgba.dtype == np.uint8 and prepared.rgba.shape[-1] == 4
    assert prepared.request.layer == session.pipeline.nodes[session.selected_layer].name


def slow_session(video) -> Session:
    pipeline = Pipeline.chain([Conv2d(3, 4, 3, padding=1), ReLU(), MaxPool2d(2), SlowReLU()])
    session = Session(pipeline)
    session.set_source(SourceSpec(kind="video", path=str(video)))
    session.set_display(resolution=320)
    return session


def test_a_slow_engine_brings_the_offer_and_applying_it_changes_what_runs(qtbot, video, hubs):
    session = slow_session(video)
    hubs.append(live := LiveResults(session))
    live.pace.slow_s = 0.5
    window = open_window(qtbot, session, live)
    offer = window.slowdown_offer
    qtbot.waitUntil(offer.isVisible, timeout=WAIT_MS)
    assert "limited by engine" in offer.label.text()
    assert "relu" in offer.label.text()  # the slowest layer is named
    qtbot.waitUntil(lambda: "limited by engine" in window.stats_label.text(), timeout=WAIT_MS)
    # Run only the layers shown: the panels open show layer 0 at most, the slow one is skipped.
    assert offer.skip.isVisible() and session.selected_layer == 0
    offer.skip.click()
    assert session.display.shown_layers_only and not offer.isVisible()
    qtbot.waitUntil(lambda: live.latest is not None and live.latest.depth == 1,
                    timeout=WAIT_MS)
    assert list(live.latest.activations) == [session.pipeline.nodes[0].name]
    # The View menu shows the option on, and turns it off again: every layer runs.
    assert offer.shown_only_action.isChecked()
    offer.shown_only_action.trigger()
    assert not session.display.shown_layers_only
    qtbot.waitUntil(lambda: live.latest is not None and live.latest.depth is None,
                    timeout=WAIT_MS)


def test_the_lower_resolution_offer_and_the_automatic_setting(qtbot, video, hubs):
    session = slow_session(video)
    session.set_selected_layer(3)  # the slow layer itself is shown: only the size can help
    hubs.append(live := LiveResults(session))
    live.pace.slow_s = 0.5
    window = open_window(qtbot, session, live)
    offer = window.slowdown_offer
    qtbot.waitUntil(offer.isVisible, timeout=WAIT_MS)
    assert not offer.skip.isVisible() and offer.lower.isVisible()
    offer.lower.click()
    assert session.display.resolution == 240  # the next step down from 320
    # Allowed in the View menu: applied without asking, and said in the status line.
    assert offer.adapt_action in window.menu_by_key["view"].actions()
    offer.adapt_action.trigger()
    assert session.display.adapt_speed
    qtbot.waitUntil(lambda: session.display.resolution == 160, timeout=WAIT_MS)
    assert not offer.isVisible()
    assert "Adapt speed automatically" in window.last_message[1]


def test_every_dock_shows_live_content_from_a_video(qtbot, video, hubs):
    from benchmarks.live import open_every_dock

    session = Session()
    session.set_source(SourceSpec(kind="video", path=str(video)))
    session.set_selected_layer(6)
    hubs.append(live := LiveResults(session))
    window = open_window(qtbot, session, live)
    open_every_dock(window)
    errors = []
    session.message.connect(lambda level, text: errors.append(text) if level == "error" else 0)
    seen = []
    live.resultUpdated.connect(lambda r: seen.append(r.seq))
    qtbot.waitUntil(lambda: len(seen) >= 4, timeout=WAIT_MS)
    docks = {key: dock.widget() for key, dock in window.docks.items()}
    assert docks["source"].image.image is not None
    assert docks["maps"].mosaic.tiled is not None
    assert docks["stepper"].view.output_panel.mosaic.tiled is not None
    assert set(docks["ledger"].model.timings) == {n.name for n in session.pipeline.nodes}
    assert all(dock.isVisible() for dock in window.docks.values())
    assert errors == []
