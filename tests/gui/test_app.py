"""gui.app.run: --screenshot runs, argument errors, and applying arguments to a session."""

from __future__ import annotations

import os
import signal
import time
from argparse import Namespace

import pytest

from engine.io.media import read_image
from gui.app import apply_args, close_on_terminal_signals, run
from gui.session import Session, SourceSpec


def args(**given) -> Namespace:
    base = dict(source=None, pipeline=None, layer=None, screenshot=None, tour=None, model=None,
                camera=None, fresh=False)
    base.update(given)
    return Namespace(**base)


def test_screenshot_writes_the_whole_window(
    qtbot, tmp_path, video_file, config_dir, capsys, app_threads
):
    out = tmp_path / "shot.png"
    before = app_threads()
    code = run(args(screenshot=str(out), source=str(video_file), pipeline="edges", layer=1))
    assert code == 0, capsys.readouterr().err
    image = read_image(out)  # (H, W, 3)
    assert image.shape[0] >= 700 and image.shape[1] >= 1200
    assert image.std() > 10  # not a blank window
    assert app_threads() <= before  # the run stopped its threads
    assert not (config_dir / "session.json").exists()  # screenshot runs save nothing


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ({"source": "nowhere/photo.png"}, "--source nowhere/photo.png: the file does not exist"),
        ({"pipeline": "no-such-pipeline"}, "--pipeline no-such-pipeline"),
        ({"layer": 99}, "--layer 99: the pipeline has layers 0 to"),
        ({"tour": 99}, "--tour 99: the tour has stops 1 to"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(qtbot, tmp_path, capsys, given, words):
    out = tmp_path / "shot.png"
    assert run(args(screenshot=str(out), **given)) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not out.exists()


def test_unreadable_source_fails_a_screenshot_run(qtbot, tmp_path, capsys):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    assert run(args(screenshot=str(tmp_path / "o.png"), source=str(broken))) == 2
    assert "broken.jpg" in capsys.readouterr().err


def test_apply_args_sets_what_is_valid_and_reports_the_rest(tmp_path, video_file):
    s = Session()
    problems = apply_args(s, args(source=str(video_file), pipeline="edges", layer=500))
    assert s.source == SourceSpec(kind="video", path=str(video_file))
    assert s.pipeline.name == "edges"
    assert len(problems) == 1 and "--layer 500" in problems[0]
    s2 = Session()
    problems = apply_args(s2, args(camera=2, pipeline=str(tmp_path / "nope.json")))
    assert s2.source == SourceSpec(kind="camera", camera_index=2)
    assert s2.pipeline.name == "default" and "nope.json" in problems[0]


def _close_window_soon(found: list) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow

    def close() -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow) and widget.isVisible():
                found.append((widget.last_message, widget.session.source, widget.windowTitle()))
                widget.close()

    QTimer.singleShot(1500, close)


def _loop_until_closed(app) -> int:
    """Stands in for app.exec(), which would end pytest-qt's application for later tests."""
    from PySide6.QtCore import QEventLoop, QTimer

    from gui.main_window import MainWindow

    loop = QEventLoop()
    windows = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    timer = QTimer()
    timer.timeout.connect(lambda: None if any(w.isVisible() for w in windows) else loop.quit())
    timer.start(50)
    loop.exec()
    return 0


def test_interactive_run_shows_argument_errors_and_goes_on(
    qtbot, config_dir, video_file, monkeypatch
):
    monkeypatch.setattr("gui.app.main_loop", _loop_until_closed)
    found: list = []
    _close_window_soon(found)
    assert run(args(source=str(video_file), pipeline="no-such-pipeline")) == 0
    (level, text), source, title = found[0]
    assert level == "error" and "--pipeline no-such-pipeline" in text
    assert source == SourceSpec(kind="video", path=str(video_file))
    assert "default" in title  # went on with the default pipeline
    assert (config_dir / "session.json").is_file()

    found.clear()
    _close_window_soon(found)
    assert run(args()) == 0  # the saved session comes back
    assert found[0][1] == SourceSpec(kind="video", path=str(video_file))
    found.clear()
    _close_window_soon(found)
    assert run(args(fresh=True)) == 0  # ... unless --fresh
    assert found[0][1] == SourceSpec()


def test_a_pipeline_that_cannot_run_fails_a_screenshot_run_at_once(qtbot, tmp_path, capsys):
    from engine.graph.pipeline import Pipeline
    from engine.graph.spec import save_pipeline
    from engine.layers import MaxPool2d

    # The default sample at 480 is 320 x 480: the first pool leaves 1 x 2, too small for 2 x 2.
    path = tmp_path / "too_small.json"
    save_pipeline(Pipeline.chain([MaxPool2d(200), MaxPool2d(2)], name="shrink"), path)
    start = time.perf_counter()
    assert run(args(screenshot=str(tmp_path / "o.png"), pipeline=str(path))) == 2
    assert time.perf_counter() - start < 15  # no waiting for the 30 s timeout
    err = capsys.readouterr().err
    assert "cannot run on this" in err and "Traceback" not in err


def test_terminal_signals_close_the_window_and_save_the_session(qtbot, main_window, config_dir):
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        close_on_terminal_signals(main_window)
        os.kill(os.getpid(), signal.SIGTERM)
        qtbot.waitUntil(lambda: not main_window.isVisible(), timeout=5000)
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
    assert (config_dir / "session.json").is_file()


def test_tour_screenshot_opens_the_stop_and_saves_it(qtbot, tmp_path, config_dir, capsys):
    import numpy as np

    out = tmp_path / "tour.png"
    assert run(args(screenshot=str(out), tour=8)) == 0, capsys.readouterr().err
    image = read_image(out)  # (H, W, 3)
    assert image.shape[0] >= 800 and image.shape[1] >= 1280
    assert image.std() > 10  # not a blank window
    assert image[:, :300].std() > 10  # the tour panel on the left has its text
    # Another stop sets up other panels: a different picture of the same size.
    other = tmp_path / "other.png"
    assert run(args(screenshot=str(other), tour=1)) == 0, capsys.readouterr().err
    second = read_image(other)
    assert second.shape == image.shape
    assert np.abs(second.astype(int) - image.astype(int)).mean() > 5
    assert not (config_dir / "session.json").exists()  # screenshot runs save nothing
