"""What the lesson tests share: a window, a picture on disk, lessons written by hand."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

LESSON_HEADER = {"format": "cnn-explorer-lesson", "version": 1}


def write_picture(path: Path, value: int = 90) -> Path:
    """A small PNG with a bright square (so maps are not flat)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = np.full((60, 80, 3), value, np.uint8)
    image[20:40, 30:50] = (250, 200, 30)
    assert cv2.imwrite(str(path), image)
    return path


def write_lesson(path: Path, steps: list[dict], **top) -> Path:
    """A lesson file with ``steps`` (dicts as the file holds them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**LESSON_HEADER, **top, "steps": steps}), encoding="utf-8")
    return path


def shown_window(qtbot, session, live):
    """A main window on ``session`` at 1280 x 800, shown, persisting nothing."""
    from gui.main_window import MainWindow

    window = MainWindow(session, live, persist=False)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    return window


def shown_docks(window) -> set[str]:
    return {key for key, dock in window.docks.items() if dock.isVisible()}


def panel_of(window):
    return window.docks["lesson"].widget()
