"""session.json that cannot be used, autosave, and the start after a crash (kill -9).

Every bad file is made here from a real saved session with one field spoiled; each must give
the defaults, one warning naming the file and field, and the bad file kept aside.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from argparse import Namespace
from pathlib import Path

import pytest

from engine.graph.pipeline import Pipeline
from engine.layers import Conv2d, ReLU
from engine.layers.arithmetic import Clip
from engine.resolve import resolve_pipeline
from gui.session import DisplayOptions, Session, SourceSpec
from tests.hostile import makers as mk

ROOT = Path(__file__).resolve().parents[2]


class Messages:
    """Every (level, text) a Session sends."""

    def __init__(self, session: Session) -> None:
        self.calls: list[tuple[str, str]] = []
        session.message.connect(lambda level, text: self.calls.append((level, text)))


def saved(tmp_path: Path) -> dict:
    """The content of a real session file: edges on a video, layer 2, magma, per layer."""
    s = Session(resolve_pipeline("edges"))
    s.set_source(SourceSpec(kind="video", path=str(tmp_path / "clip.avi")))
    s.set_selected_layer(2)
    s.set_display(colormap="magma", normalization="layer", resolution=320)
    path = tmp_path / "good" / "session.json"
    path.parent.mkdir()
    s.save(path)
    return json.loads(path.read_text())


def spoil(*keys, value):
    """A case: the saved session with the field at ``keys`` set to ``value``
    (``value=DELETE`` removes it)."""

    def make(data: dict) -> dict:
        target = data
        for key in keys[:-1]:
            target = target[key]
        if value is DELETE:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value
        return data

    return make


DELETE = object()

# (id, how the file is made from a saved session's data (or its raw text), words of the message)
SPOILED = [
    ("source-path-number", spoil("source", "path", value=5), "'source.path': must be text"),
    ("source-path-list", spoil("source", "path", value=["a.png"]), "'source.path'"),
    ("source-path-empty", spoil("source", "path", value=""), "must be a file path"),
    ("source-path-nul", spoil("source", "path", value="a\0b.avi"), "must be a file path"),
    ("source-path-missing", spoil("source", "path", value=DELETE), "required for a video"),
    ("source-kind-unknown", spoil("source", "kind", value="webcam"), "must be one of"),
    ("source-kind-number", spoil("source", "kind", value=3), "'source.kind'"),
    ("source-missing", spoil("source", value=DELETE), "'source': is required"),
    ("source-list", spoil("source", value=[1]), "must be an object"),
    ("camera-negative", spoil("source", "camera_index", value=-1), "'source.camera_index'"),
    ("camera-float", spoil("source", "camera_index", value=1.5), "whole number"),
    ("camera-huge", spoil("source", "camera_index", value=10**30), "from 0 to 63"),
    ("layer-text", spoil("selected_layer", value="two"), "'selected_layer'"),
    ("layer-negative", spoil("selected_layer", value=-1), "from 0 to 2"),
    ("layer-past-the-end", spoil("selected_layer", value=99), "from 0 to 2, not 99"),
    ("layer-float", spoil("selected_layer", value=1.5), "'selected_layer'"),
    ("layer-bool", spoil("selected_layer", value=True), "'selected_layer'"),
    ("layer-400-digits", spoil("selected_layer", value=10**400), "'selected_layer'"),
    ("map-below-minus-one", spoil("selected_map", value=-2), "'selected_map'"),
    ("map-text", spoil("selected_map", value="x"), "'selected_map'"),
    ("colormap-unknown", spoil("display", "colormap", value="rainbow"), "'display.colormap'"),
    ("colormap-number", spoil("display", "colormap", value=5), "'display.colormap'"),
    ("normalization-unknown", spoil("display", "normalization", value="row"), "must be one of"),
    ("resolution-tiny", spoil("display", "resolution", value=8), "'display.resolution'"),
    ("resolution-text", spoil("display", "resolution", value="480"), "'display.resolution'"),
    ("resolution-huge", spoil("display", "resolution", value=10**9), "from 16 to 65536"),
    ("show-channels-text", spoil("display", "show_channels", value="yes"), "true or false"),
    ("flip-number", spoil("display", "flip_kernels", value=1), "true or false"),
    ("display-list", spoil("display", value=[]), "'display': must be an object"),
    ("version-missing", spoil("version", value=DELETE), "'version': is required"),
    ("version-2", spoil("version", value=2), "'version'"),
    ("version-text", spoil("version", value="1"), "'version'"),
    ("running-text", spoil("running", value="yes"), "'running'"),
    ("pipeline-path-number", spoil("pipeline_path", value=5), "'pipeline_path'"),
    ("pipeline-number", spoil("pipeline", value=5), "'pipeline': must be an object"),
    ("pipeline-format", spoil("pipeline", "format", value="nonsense"), "not a pipeline file"),
    ("pipeline-layers-object", spoil("pipeline", "layers", value={}), "must be a list"),
    ("pipeline-kernel-400-digits", spoil("pipeline", "layers", 0, "kernel_size", value=10**400),
     "must be at most"),
    ("pipeline-npz-missing", spoil("pipeline", "layers", 0, "weights",
                                   value={"npz": "session-gone.npz", "key": "w"}), "gone.npz"),
    ("pipeline-npz-outside", spoil("pipeline", "layers", 0, "weights",
                                   value={"npz": "../w.npz", "key": "w"}), "w.npz"),
    ("top-level-list", lambda data: [data], "must be an object"),
    ("top-level-null", lambda data: None, "must be an object"),
]

RAW = [  # (id, the file's text or bytes, words)
    ("truncated", '{"version": 1, "source": {', "ends early"),
    ("empty", "", "not valid JSON"),
    ("not-utf8", b"\xff\xfe{\x00}", "not a text file"),
    ("infinity-layer", '{"version": 1, "selected_layer": Infinity}', "Infinity is not a number"),
    ("nan-map", '{"version": 1, "selected_map": NaN}', "NaN is not a number"),
    ("1e999", '{"version": 1e999}', "too large for a number"),
    ("key-twice", '{"version": 1, "version": 1}', "given twice"),
    ("nested-100000", "[" * 100_000 + "]" * 100_000, "nest 100000 levels deep"),
]


def _write_case(tmp_path: Path, case) -> Path:
    path = tmp_path / "config" / "session.json"
    path.parent.mkdir()
    _id, make, _words = case
    if callable(make):
        path.write_text(json.dumps(make(saved(tmp_path))), encoding="utf-8")
    elif isinstance(make, bytes):
        path.write_bytes(make)
    else:
        path.write_text(make, encoding="utf-8")
    return path


def assert_defaults_and_one_warning(s: Session, messages: Messages, path: Path, words: str):
    default = Session()
    assert s.pipeline is not None and s.pipeline.name == default.pipeline.name
    assert s.source == SourceSpec() and s.display == DisplayOptions()
    assert s.selected_layer == 0 and s.selected_map == -1
    assert len(messages.calls) == 1, messages.calls
    level, text = messages.calls[0]
    assert level == "warning" and "\n" not in text
    assert words in text and "Started with the defaults" in text, text
    bad = sorted(path.parent.glob("session.json.bad-*"))
    assert len(bad) == 1 and str(bad[0]) in text  # kept aside, and the message says where
    assert not os.path.lexists(path)


@pytest.mark.parametrize("case", [pytest.param(c, id=c[0]) for c in SPOILED + RAW])
def test_an_unusable_session_file_gives_the_defaults_and_is_kept_aside(tmp_path, case):
    path = _write_case(tmp_path, case)
    s = Session()
    messages = Messages(s)
    assert not s.load(path)
    assert_defaults_and_one_warning(s, messages, path, case[2])


@pytest.mark.parametrize(("make", "words"), [
    pytest.param(mk.fifo, "named pipe (FIFO)", id="fifo"),
    pytest.param(Path.mkdir, "it is a folder", id="folder"),
    pytest.param(mk.device, "it is a device", id="device"),
    pytest.param(lambda p: mk.sparse(p, 9 << 20), "more than the 8,388,608 bytes", id="9-MB"),
])
def test_a_session_path_that_is_no_file_is_moved_aside_too(tmp_path, make, words):
    path = tmp_path / "session.json"
    make(path)
    s = Session()
    messages = Messages(s)
    assert not s.load(path)
    assert_defaults_and_one_warning(s, messages, path, words)


def test_at_most_three_bad_files_are_kept(tmp_path):
    path = tmp_path / "session.json"
    for i in range(5):
        path.write_text("{ bad")
        old = time.time() - 100 + i
        for bad in tmp_path.glob("session.json.bad-*"):
            os.utime(bad, (old - 1, old - 1))
        assert not Session().load(path)
    assert len(list(tmp_path.glob("session.json.bad-*"))) == 3


def test_a_session_round_trips_with_its_arrays_beside_it(tmp_path):
    s = Session(resolve_pipeline("shapes"))  # a trained network: weights far over the limit
    s.set_selected_layer(3)
    path = tmp_path / "session.json"
    s.save(path)
    npz = list(tmp_path.glob("session-*.npz"))
    assert len(npz) == 1 and path.stat().st_size < 50_000  # inline: 2.9 MB
    restored = Session()
    messages = Messages(restored)
    assert restored.load(path)
    assert restored.pipeline == s.pipeline and restored.selected_layer == 3
    assert messages.calls == [("info", messages.calls[0][1])]
    assert messages.calls[0][1].startswith("Restored the last session: pipeline shapes, layer 3")
    s.set_pipeline(resolve_pipeline("edges"))
    s.save(path)
    assert not list(tmp_path.glob("session-*.npz"))  # the old arrays went with the old network


def test_an_imported_network_is_left_out_but_the_rest_is_restored(tmp_path):
    imported = Pipeline.chain([Conv2d(3, 2, 3), ReLU(), Clip(max_val=6.0)], name="imported")
    s = Session(imported)
    s.set_selected_layer(2)
    s.set_display(colormap="gray")
    path = tmp_path / "session.json"
    s.save(path)
    restored = Session()
    messages = Messages(restored)
    assert restored.load(path)
    assert restored.pipeline.name == "default" and restored.display.colormap == "gray"
    assert "the imported network was not kept" in messages.calls[0][1]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "session.json"
    Session().save(path)
    before = path.read_bytes()
    s = Session()
    s.set_selected_layer(2)

    def full_disk(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        s.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["session.json"]


def test_temporaries_a_killed_run_left_are_removed_at_the_next_start(tmp_path):
    path = tmp_path / "session.json"
    Session().save(path)
    stale = tmp_path / ".session.json.k1ll3d.tmp"
    stale.write_text('{"half": ')
    os.utime(stale, (time.time() - 3600,) * 2)
    fresh = tmp_path / ".session.json.wr1t1ng.tmp"  # another window writing right now
    fresh.write_text("{")
    assert Session().load(path)
    assert not stale.exists() and fresh.exists()


# -- the window's start with a bad session, and after kill -9 -------------------------------------

def _args(**given) -> Namespace:
    base = dict(source=None, pipeline=None, layer=None, screenshot=None, tour=None, model=None,
                camera=None, fresh=False)
    base.update(given)
    return Namespace(**base)


def _run_window_briefly(monkeypatch, args: Namespace, ms: int = 800) -> dict:
    """gui.app.run with a local event loop that closes the window after ``ms``; returns what
    the window showed then."""
    from PySide6.QtCore import QEventLoop, QTimer

    from gui.main_window import MainWindow

    seen: dict = {}

    def loop_until_closed(app) -> int:
        window = next(w for w in app.topLevelWidgets()
                      if isinstance(w, MainWindow) and w.isVisible())
        loop = QEventLoop()

        def close() -> None:
            s = window.session
            seen.update(message=window.last_message, source=s.source, layer=s.selected_layer,
                        pipeline=s.pipeline.name, display=s.display, alive=window.isVisible())
            window.close()
            loop.quit()

        QTimer.singleShot(ms, close)
        loop.exec()
        return 0

    monkeypatch.setattr("gui.app.main_loop", loop_until_closed)
    from gui.app import run

    assert run(args) == 0
    return seen


@pytest.mark.parametrize(("text", "words"), [
    pytest.param(None, "'source.path': must be text, not 5", id="number-as-source-path"),
    pytest.param('{"version": 1, "selected_layer": Infinity}', "Infinity", id="infinity-layer"),
])
def test_the_window_starts_with_defaults_after_a_bad_session(
        qtbot, config_dir, tmp_path, monkeypatch, text, words):
    path = config_dir / "session.json"
    if text is None:
        data = saved(tmp_path)
        data["source"]["path"] = 5
        text = json.dumps(data)
    path.write_text(text)
    seen = _run_window_briefly(monkeypatch, _args())
    level, message = seen["message"]
    assert seen["alive"] and level == "warning" and words in message
    assert seen["source"] == SourceSpec() and seen["pipeline"] == "default"
    assert len(list(config_dir.glob("session.json.bad-*"))) == 1
    assert Session().load(path)  # the close wrote a good session in its place
    seen = _run_window_briefly(monkeypatch, _args())  # and the next start is a normal one
    assert seen["message"][0] == "info" and "Restored the last session" in seen["message"][1]


def test_after_kill_9_the_next_start_restores_the_autosaved_session(
        qtbot, config_dir, video_file, monkeypatch):
    env = dict(os.environ, CNN_EXPLORER_CONFIG_DIR=str(config_dir), QT_QPA_PLATFORM="offscreen")
    child = subprocess.Popen(
        [sys.executable, "main.py", "--source", str(video_file), "--pipeline", "edges",
         "--layer", "2"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    path = config_dir / "session.json"
    try:
        deadline = time.monotonic() + 30
        data: dict = {}
        while time.monotonic() < deadline and child.poll() is None:
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                data = {}
            if data.get("running") and data.get("selected_layer") == 2:
                break
            time.sleep(0.2)
        assert data.get("running") is True, child.stderr.read1().decode() if child.poll() else ""
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    assert [p.name for p in config_dir.iterdir() if p.name.endswith(".tmp")] == []

    seen = _run_window_briefly(monkeypatch, _args())
    assert seen["source"] == SourceSpec(kind="video", path=str(video_file))
    assert seen["pipeline"] == "edges" and seen["layer"] == 2
    level, message = seen["message"]
    assert level == "info" and "ended without closing the window" in message, message
    assert "pipeline edges, layer 2" in message and video_file.name in message
    assert json.loads(path.read_text())["running"] is False  # this run ended normally

