"""The hostile inputs of tests/hostile/, this time through the window: File > Open and a drop
(``open_path``), the Pipeline dock's form, the live engine. Each must give exactly one message
of one line and leave the previous image, pipeline, selected layer and display as they were.

One window serves the whole module, so every case also checks that the window is still alive
and still working after all the cases before it.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from tests.hostile import makers as mk
from tests.hostile.test_arrays_and_paths import NOT_NUMBERS, PATHS
from tests.hostile.test_images import IMAGES, VIDEOS
from tests.hostile.test_pipelines import STRUCTURE, VALUES

SETTLE_S = 0.3  # after the message: time for a second one (there must be none) to show


@pytest.fixture(scope="module")
def window(qapp, tmp_path_factory):
    """One running window on the default pipeline and sample, its first frame shown."""
    from gui.app import wait_for_result
    from gui.live import LiveResults
    from gui.main_window import MainWindow
    from gui.session import Session

    patch = pytest.MonkeyPatch()
    patch.setenv("CNN_EXPLORER_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
    session = Session()
    live = LiveResults(session)
    win = MainWindow(session, live, persist=False)
    win.show()
    assert wait_for_result(live)
    yield win
    win.close()
    live.stop()
    patch.undo()


class Watch:
    """Records the session's messages and its state before a hostile input."""

    def __init__(self, window) -> None:
        self.window, self.session = window, window.session
        self.messages: list[tuple[str, str]] = []
        s = self.session
        self.before = (s.pipeline, s.source, s.selected_layer, s.selected_map, s.display)
        self.frame = window.live.latest.frame if window.live.latest is not None else None
        s.message.connect(self._record)

    def _record(self, level: str, text: str) -> None:
        self.messages.append((level, text))

    def one_error(self, qtbot, fragment: str) -> str:
        """Wait for the message (a decode failure comes from the capture thread), then check
        that it is the only one, an error of one line, and that nothing changed."""
        qtbot.waitUntil(lambda: bool(self.messages), timeout=10_000)
        end = time.perf_counter() + SETTLE_S
        while time.perf_counter() < end:
            qtbot.wait(20)
        self.session.message.disconnect(self._record)
        assert len(self.messages) == 1, self.messages
        level, text = self.messages[0]
        assert level == "error" and "\n" not in text and "Traceback" not in text, text
        assert fragment in text, text
        self.assert_intact()
        return text

    def assert_intact(self) -> None:
        s = self.session
        assert s.pipeline is self.before[0]
        assert (s.source, s.selected_layer, s.selected_map, s.display) == self.before[1:]
        assert self.window.isVisible() and self.window.last_message == self.messages[-1]
        latest = self.window.live.latest  # the previous image is still the one shown
        assert latest is not None and latest.pipeline is s.pipeline
        if self.frame is not None:
            assert latest.frame.shape == self.frame.shape


def _path_of(case, tmp_path: Path) -> Path:
    argv, _api = case.make(tmp_path)
    return Path(argv[2] if argv[0] == "run" else argv[1])


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in IMAGES])
def test_opening_a_bad_image_keeps_everything(qtbot, window, tmp_path, case):
    (tmp_path / "plain").write_text("a file, not a folder")
    path = _path_of(case, tmp_path)
    watch = Watch(window)
    window.open_path(path)
    watch.one_error(qtbot, case.fragment)


@pytest.mark.parametrize(("make", "fragment"), [pytest.param(m, f, id=i) for i, m, f in VIDEOS])
def test_opening_a_bad_video_keeps_everything(qtbot, window, tmp_path, make, fragment):
    path = tmp_path / "clip.mp4"
    if make is not None:
        make(path)
    watch = Watch(window)
    window.open_path(path)
    watch.one_error(qtbot, fragment)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in STRUCTURE + VALUES])
def test_opening_a_bad_pipeline_file_keeps_everything(qtbot, window, tmp_path, case):
    path = _path_of(case, tmp_path)
    watch = Watch(window)
    assert not window.open_path(path)
    text = watch.one_error(qtbot, case.fragment)
    assert "p.json" in text


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in NOT_NUMBERS + PATHS])
def test_a_pipeline_with_bad_arrays_keeps_everything(qtbot, window, tmp_path, case):
    (tmp_path / "net").mkdir()
    path = _path_of(case, tmp_path)
    watch = Watch(window)
    assert not window.open_path(path)
    watch.one_error(qtbot, case.fragment)


@pytest.mark.parametrize(("name", "make", "fragment"), [
    pytest.param("huge.json", lambda p: mk.sparse(p, 40 << 20), "bytes allowed", id="40-mb"),
    pytest.param("net.json", mk.fifo, "named pipe (FIFO)", id="fifo-json"),
    pytest.param("net.onnx", mk.fifo, "named pipe (FIFO)", id="fifo-onnx"),
    pytest.param("net.onnx", mk.device, "it is a device", id="device-onnx"),
    pytest.param("net.onnx", Path.mkdir, "it is a folder", id="folder-onnx"),
    pytest.param("notes.txt", lambda p: p.write_text("hi"), "not an image, video or pipeline",
                 id="unknown-kind"),
])
def test_other_files_that_cannot_be_opened(qtbot, window, tmp_path, name, make, fragment):
    path = tmp_path / name
    make(path)
    watch = Watch(window)
    assert not window.open_path(path)
    watch.one_error(qtbot, fragment)


def _drop(window, path: Path) -> None:
    """Drop ``path`` on the window the way a file manager does."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)


@pytest.mark.parametrize(("name", "make", "fragment"), [
    pytest.param("x.png", mk.fifo, "named pipe (FIFO)", id="fifo-named-x.png"),
    pytest.param("big.png", lambda p: p.write_bytes(mk.png()), "400.0 megapixels",
                 id="header-400-megapixels"),
    pytest.param("big.jpg", lambda p: p.write_bytes(mk.jpeg()), "megapixels", id="jpeg-header"),
    pytest.param("p.json", lambda p: p.write_text("[" * 100_000), "nest 100000 levels",
                 id="deep-pipeline"),
    pytest.param("cut.png", lambda p: p.write_bytes(mk.png(8, 8, extra=mk.chunk(b"IDAT", b"x"))),
                 "cannot be decoded", id="pixels-damaged"),
])
def test_dropping_a_bad_file_keeps_everything(qtbot, window, tmp_path, name, make, fragment):
    path = tmp_path / name
    make(path)
    watch = Watch(window)
    _drop(window, path)
    watch.one_error(qtbot, fragment)


# (layer, field, value, words): values the form's editors can produce that cannot apply; on the
# default pipeline at 360 x 480 (conv1 at 0 sees 3 x 360 x 480, conv3 at 6 sees 16 x 90 x 120)
IMPOSSIBLE_EDITS = [
    (6, "kernel_size", 255, "larger than the padded input"),
    (0, "kernel_size", 0, "kernel_size"),
    (0, "out_channels", 0, "at least 1"),
    (0, "out_channels", 4096, "more than the budget of"),  # 4096 maps of 360 x 480: 2.8 GB
    (8, "kernel_size", 100, "larger than the padded input"),  # pool3 on 90 x 120
    (0, "stride", 0, "stride"),
    (0, "dilation", 256, "larger than the padded input"),
    (0, "groups", 2, "groups"),
    (0, "padding", -1, "padding"),
]


@pytest.mark.parametrize(("layer", "field", "value", "words"), IMPOSSIBLE_EDITS)
def test_an_impossible_layer_edit_keeps_everything(qtbot, window, layer, field, value, words):
    dock = window.docks["pipeline"].widget()
    window.session.set_selected_layer(layer)
    qtbot.waitUntil(lambda: window.live.latest is not None, timeout=10_000)
    watch = Watch(window)
    dock.form.fieldEdited.emit(field, value)  # what the form sends when a value is typed
    watch.one_error(qtbot, words)


def test_a_pipeline_over_the_memory_budget_is_refused_before_it_runs(
        qtbot, window, tmp_path, monkeypatch):
    from engine.graph.pipeline import Pipeline
    from engine.graph.spec import save_pipeline
    from engine.layers import Conv2d

    wide = tmp_path / "wide.json"
    save_pipeline(Pipeline.chain([Conv2d(3, 64, 3, padding=1)], name="wide"), wide)
    monkeypatch.setenv("CNN_EXPLORER_MEMORY_BUDGET", "20M")
    watch = Watch(window)
    assert not window.open_path(wide)
    watch.one_error(qtbot, "more than the budget of 20.0 MiB")


def test_the_engine_refuses_a_run_over_the_memory_budget_with_a_message(
        qtbot, window, monkeypatch):
    from engine.graph.pipeline import Pipeline
    from engine.layers import Conv2d

    session, live = window.session, window.live
    before = session.pipeline
    monkeypatch.setenv("CNN_EXPLORER_MEMORY_BUDGET", "20M")
    messages: list[tuple[str, str]] = []

    def record(level: str, text: str) -> None:
        messages.append((level, text))

    session.message.connect(record)
    wide = Pipeline.chain([Conv2d(3, 64, 3, padding=1)], name="wide")
    session.set_pipeline(wide)  # an edit that bypasses every check: the engine still refuses
    qtbot.waitUntil(lambda: live.error is not None, timeout=10_000)
    assert "more than the budget of 20.0 MiB" in live.error
    assert messages and messages[-1][0] == "error" and "\n" not in messages[-1][1]
    assert live.engine.is_alive() and live.latest is None
    monkeypatch.delenv("CNN_EXPLORER_MEMORY_BUDGET")
    session.undo()  # back to the pipeline that ran, and it runs again
    assert session.pipeline is before
    qtbot.waitUntil(lambda: live.latest is not None and live.error is None, timeout=10_000)
    session.message.disconnect(record)


# numpy warns when a product overflows; the app shows the numbers it gets, as any run would
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_nan_and_infinity_in_a_live_run_are_drawn_and_said(qtbot, window):
    """Finite weights whose sums overflow float32: infinity in the first layer's maps, and
    infinity minus infinity (NaN) in the second's."""
    from engine.graph.pipeline import Pipeline
    from engine.layers import Conv2d

    session, live = window.session, window.live
    before = session.pipeline
    grow = np.full((2, 3, 1, 1), 3e38, np.float32)  # (R + G + B) x 3e38: infinity when bright
    cancel = np.array([1.0, -1.0], np.float32).reshape(1, 2, 1, 1)  # inf - inf = NaN
    overflow = Pipeline.chain([Conv2d(3, 2, 1, weight=grow, bias=False),
                               Conv2d(2, 1, 1, weight=cancel, bias=False)], name="overflow")
    maps = window.docks["maps"].widget()
    for layer in (0, 1):
        session.set_pipeline(overflow)
        session.set_selected_layer(layer)
        qtbot.waitUntil(lambda: live.latest is not None, timeout=10_000)
        qtbot.waitUntil(lambda: "NaN or infinite" in maps.info.text(), timeout=10_000)
        assert (maps.mosaic.tiled == 255).any()  # the colour of values that are no numbers
        assert maps.mosaic.nonfinite > 0 and live.error is None
    session.undo()
    assert session.pipeline is before
    session.set_selected_layer(0)
    qtbot.waitUntil(lambda: "NaN" not in maps.info.text(), timeout=10_000)
