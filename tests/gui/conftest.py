"""Fixtures shared by the GUI tests: a private config dir, a session, a live loop, a video,
and hand-made Results (the real pipeline run on a small frame) for docks fed without threads.

The helpers are plain functions; test modules import them with
``from tests.gui.conftest import make_result, publish``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest


@pytest.fixture(autouse=True)
def config_dir(tmp_path_factory, monkeypatch) -> Path:
    """Saved session, layout and user data go to a fresh folder, never to the user's home."""
    folder = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("CNN_EXPLORER_CONFIG_DIR", str(folder))
    monkeypatch.setenv("CNN_EXPLORER_DATA_DIR", str(folder / "data"))
    return folder


@pytest.fixture
def data_dir(config_dir) -> Path:
    """The user data folder of the test (recorded classes, training runs)."""
    return config_dir / "data"


def write_video(path: Path, n_frames: int = 24, height: int = 96, width: int = 128,
                fps: float = 30.0) -> Path:
    """Write an MJPG .avi whose frame i has a bright square at x = 4 i (so frames differ)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    assert writer.isOpened(), "OpenCV cannot write MJPG .avi files here"
    for i in range(n_frames):
        frame = np.full((height, width, 3), 40, np.uint8)
        x = (4 * i) % max(width - 16, 1)
        frame[height // 3 : height // 3 + 16, x : x + 16] = (255, 200, 30)  # BGR
        writer.write(frame)
    writer.release()
    return path


def _app_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if not t.name.startswith("engine-ops")}


@pytest.fixture
def app_threads():
    """A function listing live threads, leaving out the engine's process-wide op pool (idle
    between calls and shared by every pipeline run, like BLAS's own threads)."""
    return _app_threads


@pytest.fixture
def video_file(tmp_path) -> Path:
    """A small looping test video (24 frames of 96 x 128 at 30 fps)."""
    return write_video(tmp_path / "clip.avi")


@pytest.fixture
def session():
    """A fresh Session on the bundled default pipeline and the default sample."""
    from gui.session import Session

    return Session()


@pytest.fixture
def live(qtbot, session):
    """A running LiveResults on ``session``; its threads are stopped after the test."""
    from gui.live import LiveResults

    hub = LiveResults(session)
    yield hub
    hub.stop()
    assert not hub.running, "a worker thread outlived the test"


@pytest.fixture
def main_window(qtbot, session, live):
    """The full main window (every registered dock), shown; closed after the test."""
    from gui.main_window import MainWindow

    window = MainWindow(session, live)
    qtbot.addWidget(window)
    window.show()
    yield window
    window.close()


# -- hand-made Results -------------------------------------------------------------------------

def street_frame(side: int = 80) -> np.ndarray:
    """The bundled street sample, its longer side scaled to ``side`` (80: 60 x 80 x 3 RGB)."""
    from engine.io.media import read_image, resize_longest
    from gui.session import sample_path

    return resize_longest(read_image(sample_path("street")), side)


def smooth_frame(h: int = 60, w: int = 80) -> np.ndarray:
    """Smooth ramps (h, w, 3) uint8: red grows to the right, green downwards."""
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack([xx * 255 // w, yy * 255 // h, (xx + yy) % 256], axis=-1).astype(np.uint8)


def noise_frame(h: int = 60, w: int = 80, seed: int = 0) -> np.ndarray:
    """Seeded uniform noise (h, w, 3) uint8."""
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def make_result(pipeline, frame: np.ndarray | None = None, seq: int = 1):
    """Run the real pipeline on ``frame`` (default :func:`street_frame`), as the engine worker
    would, and pack it into a Result with its timings."""
    from engine.io.media import to_input
    from gui.capture import Result

    frame = street_frame() if frame is None else frame
    x = to_input(frame, pipeline.input_spec)
    timings: dict[str, float] = {}
    acts = pipeline.forward(x, timings=timings)
    return Result(seq, frame, x, pipeline, acts, timings, sum(timings.values()),
                  time.perf_counter())


def publish(live, result) -> None:
    """Publish a hand-made Result through LiveResults' own signal, as its timer does."""
    live.resultUpdated.emit(result)


def show_dock(qtbot, dock, width: int, height: int):
    """Register ``dock`` with qtbot, size it, show it and wait until it is on screen."""
    qtbot.addWidget(dock)
    dock.resize(width, height)
    dock.show()
    qtbot.waitExposed(dock)
    return dock


@pytest.fixture
def idle_live(qtbot):
    """A function ``idle_live(pipeline=None)`` giving (session, live): a Session on
    ``pipeline`` (the bundled default when None) and a LiveResults whose threads never start,
    fed by hand with :func:`publish`. Every one is stopped after the test."""
    from engine.resolve import resolve_pipeline
    from gui.live import LiveResults
    from gui.session import Session

    hubs = []

    def make(pipeline=None):
        session = Session(resolve_pipeline("default") if pipeline is None else pipeline)
        hub = LiveResults(session, start=False)
        hubs.append(hub)
        return session, hub

    yield make
    for hub in hubs:
        hub.stop()




def feed(live, result):
    """Hand a Result to LiveResults where the engine worker leaves it, then publish it (these
    docks also read ``live.latest``, which only this path sets)."""
    live.engine._result = result
    live.poll()


@pytest.fixture
def env(idle_live):
    session, live = idle_live()
    result = make_result(session.pipeline)
    feed(live, result)
    return session, live, result


# The players' fixtures, kept beside their helpers and offered here by name.
from tests.gui.player_support import conv, pool  # noqa: E402, F401
