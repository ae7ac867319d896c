"""Fixtures shared by the GUI tests: a private config dir, a session, a live loop, a video."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest


@pytest.fixture(autouse=True)
def config_dir(tmp_path_factory, monkeypatch) -> Path:
    """Saved session and layout go to a fresh folder, never to the user's ~/.config."""
    folder = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("CNN_EXPLORER_CONFIG_DIR", str(folder))
    return folder


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
