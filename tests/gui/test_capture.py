"""The live path: capture thread -> engine thread -> LiveResults, latest frame wins."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from engine.graph.pipeline import Pipeline
from engine.io.media import to_input
from engine.layers import Conv2d, MaxPool2d, ReLU
from gui import capture
from gui.capture import classify_path
from gui.live import LiveResults
from gui.session import Session, SourceSpec


def small(out_channels: int = 4, kernel: int = 3) -> Pipeline:
    return Pipeline.chain([Conv2d(3, out_channels, kernel, padding=1), ReLU(), MaxPool2d(2)])


@dataclass(frozen=True)
class _Node:
    name: str


class SlowPipeline:
    """A stand-in pipeline that takes ``delay`` seconds per frame and counts its runs."""

    def __init__(self, delay: float) -> None:
        self.delay, self.runs = delay, 0
        self.nodes = (_Node("mean"),)
        self.input_spec = None

    def forward(self, x, timings=None):
        self.runs += 1
        time.sleep(self.delay)
        return {"mean": x.mean(axis=0, keepdims=True)}


@pytest.fixture
def hub(qtbot):
    """A live loop on a small real pipeline, working resolution 96; stopped after the test."""
    session = Session(small())
    session.set_display(resolution=96)
    hub = LiveResults(session)
    yield hub
    hub.stop()
    assert not hub.running


def messages_of(session) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    session.message.connect(lambda level, text: seen.append((level, text)))
    return seen


def test_classify_path():
    assert classify_path("a/B.JPG") == "image"
    assert classify_path("clip.avi") == "video"
    assert classify_path("net.json") == "pipeline"
    assert classify_path("notes.txt") is None


def test_video_frames_reach_the_display(qtbot, hub, video_file):
    hub.session.set_source(SourceSpec(kind="video", path=str(video_file)))
    shown = []
    hub.resultUpdated.connect(shown.append)
    qtbot.waitUntil(lambda: len({r.frame.tobytes() for r in shown}) >= 3, timeout=5000)
    result = shown[-1]
    assert result.error is None
    assert result.frame.shape == (72, 96, 3)  # 96 x 128 scaled to a longest side of 96
    assert [s.seq for s in shown] == sorted({s.seq for s in shown})  # each seq shown once
    expected = hub.session.pipeline.forward(to_input(result.frame, None))
    assert list(result.activations) == list(expected)
    for name, value in expected.items():
        np.testing.assert_allclose(result.activations[name], value, rtol=1e-5, atol=1e-6)
    assert hub.source_info.describe() == "Video: clip.avi (128 x 96, 30 fps)"
    hub.session.set_display(resolution=640)  # a limit, never an enlargement
    qtbot.waitUntil(lambda: shown[-1].frame.shape == (96, 128, 3), timeout=3000)


def square_x(frame: np.ndarray) -> int:
    """Left edge of the bright square the test video draws (its x grows with the frame)."""
    bright = frame.max(axis=(0, 2)) > 150  # (W,) columns holding the square (gray 40 elsewhere)
    return int(np.argmax(bright))


def test_a_video_file_loops_in_the_live_path(qtbot, hub, video_file):
    seen = messages_of(hub.session)
    positions = []
    hub.resultUpdated.connect(lambda r: positions.append(square_x(r.frame)))
    hub.session.set_source(SourceSpec(kind="video", path=str(video_file)))

    def looped() -> bool:
        # The square only moves right within the 24-frame clip: a jump back is the clip
        # starting over; frames must keep coming after it.
        jumps = [i for i in range(1, len(positions)) if positions[i] < positions[i - 1] - 20]
        return bool(jumps) and len(positions) > jumps[0] + 5

    qtbot.waitUntil(looped, timeout=10000)
    assert hub.capture._index > 24 + 5  # more frames delivered than the clip has
    assert not [m for m in seen if m[0] == "error"], seen
    assert hub.error is None


def test_at_least_four_samples_are_bundled_and_described():
    from assets import __file__ as assets_init
    from gui.session import list_samples, sample_path

    names = list_samples()
    assert len(names) >= 4
    readme = (Path(assets_init).parent / "README.md").read_text(encoding="utf-8")
    for name in names:
        path = sample_path(name)
        assert path.is_file() and path.stat().st_size > 1000, path
        assert f"`{path.name}`" in readme, f"{path.name} is not described in assets/README.md"


def test_pause_step_and_pipeline_swap_rerun_the_paused_frame(qtbot, hub, video_file):
    s = hub.session
    s.set_source(SourceSpec(kind="video", path=str(video_file)))
    qtbot.waitUntil(lambda: hub.latest is not None and hub.latest.frame.shape[1] == 96)
    s.set_paused(True)
    time.sleep(0.15)  # let a frame in flight land
    hub.poll()
    paused = hub.latest
    time.sleep(0.3)
    hub.poll()
    assert hub.latest is paused  # nothing new while paused

    hub.step()
    qtbot.waitUntil(lambda: hub.latest is not paused, timeout=3000)
    stepped = hub.latest
    assert stepped.captured_at > paused.captured_at
    assert not np.array_equal(stepped.frame, paused.frame)
    time.sleep(0.2)
    hub.poll()
    assert hub.latest is stepped  # exactly one frame

    new = small(out_channels=2)
    s.set_pipeline(new)
    qtbot.waitUntil(lambda: hub.latest is not None and hub.latest.pipeline is new, timeout=3000)
    assert hub.latest.captured_at == stepped.captured_at  # the same frame, run again
    assert hub.latest.activations["conv1"].shape[0] == 2

    s.set_display(resolution=64)  # re-scales the paused frame too
    qtbot.waitUntil(lambda: hub.latest.frame.shape == (48, 64, 3), timeout=3000)


def test_a_slow_engine_drops_frames_instead_of_lagging(qtbot, video_file):
    slow = SlowPipeline(delay=0.12)
    session = Session(slow)
    session.set_display(resolution=96)
    hub = LiveResults(session)
    lags = []
    hub.resultUpdated.connect(lambda r: lags.append(time.perf_counter() - r.captured_at))
    try:
        session.set_source(SourceSpec(kind="video", path=str(video_file)))
        qtbot.wait(1500)
    finally:
        hub.stop()
    # About 45 frames were captured in 1.5 s at 30 fps; the engine could only run about 12.
    captured = hub.capture._index
    assert slow.runs <= 15 and captured >= 30
    # Every frame the engine did not take was replaced by a newer one and counted.
    assert captured - slow.runs - 1 <= hub._slot.dropped <= captured - slow.runs
    # The newest frame wins: what is shown is never older than one engine run plus one poll.
    assert len(lags) >= 5
    assert max(lags[2:]) < 0.12 + 0.033 + 0.1


def test_a_pipeline_that_does_not_fit_gives_a_message_and_recovers(qtbot, hub):
    s = hub.session
    seen = messages_of(s)
    errors = []
    hub.errorChanged.connect(errors.append)
    qtbot.waitUntil(lambda: hub.latest is not None)
    good = hub.latest
    s.set_pipeline(Pipeline.chain([Conv2d(3, 2, 99)]))  # larger than the 96-pixel frame
    qtbot.waitUntil(lambda: hub.error is not None, timeout=3000)
    assert "cannot run on this 96 x" in hub.error
    assert hub.latest is None  # no result of the broken pipeline; docks keep what they had
    assert ("error", hub.error) in seen
    s.undo()
    qtbot.waitUntil(lambda: hub.error is None, timeout=3000)
    assert hub.latest.pipeline is good.pipeline
    assert errors == [errors[0], ""]


def test_missing_camera_and_bad_files_give_messages_and_keep_the_frame(qtbot, hub, tmp_path):
    s = hub.session
    seen = messages_of(s)
    qtbot.waitUntil(lambda: hub.latest is not None)
    frame = hub.latest.frame
    start = s.source
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png at all")
    for n, bad in enumerate((
        SourceSpec(kind="camera", camera_index=9),
        SourceSpec(kind="image", path=str(broken)),
        SourceSpec(kind="video", path=str(tmp_path / "missing.avi")),
    )):
        s.set_source(bad)
        qtbot.waitUntil(lambda n=n: s.source == start and len(seen) == n + 1, timeout=5000)
    assert [level for level, _ in seen] == ["error"] * 3
    assert seen[0][1].startswith("Camera 9 cannot be opened")
    assert "broken.png" in seen[1][1] and "missing.avi" in seen[2][1]
    assert all(text.endswith("Keeping the previous source.") for _, text in seen)
    assert np.array_equal(hub.latest.frame, frame)


class _VanishingReader:
    """A camera that delivers three frames and is then unplugged."""

    def __init__(self, target, loop=True):
        self.left, self.fps = 3, 30.0

    def read(self):
        self.left -= 1
        return np.full((60, 80, 3), 100, np.uint8) if self.left >= 0 else None

    def close(self):
        pass


def test_a_camera_that_vanishes_mid_stream_leaves_the_last_frame(qtbot, hub, monkeypatch):
    monkeypatch.setattr(capture, "VideoReader", _VanishingReader)
    seen = messages_of(hub.session)
    hub.session.set_source(SourceSpec(kind="camera", camera_index=0))
    qtbot.waitUntil(lambda: any("Camera 0 was lost" in t for _, t in seen), timeout=3000)
    qtbot.waitUntil(lambda: hub.latest is not None and hub.latest.frame.shape == (60, 80, 3))
    assert hub.capture.is_alive()
    assert hub.session.source == SourceSpec(kind="camera", camera_index=0)
    seq = hub.latest.seq
    hub.reopen()  # plugged back in: choosing it again opens it anew
    qtbot.waitUntil(lambda: hub.latest.seq > seq, timeout=3000)
    qtbot.waitUntil(lambda: sum("Camera 0 was lost" in t for _, t in seen) == 2, timeout=3000)


def test_stop_joins_every_thread(qtbot, video_file):
    before = {t.name for t in threading.enumerate()}
    session = Session(small())
    hub = LiveResults(session)
    session.set_source(SourceSpec(kind="video", path=str(video_file)))
    qtbot.waitUntil(lambda: hub.latest is not None)
    hub.stop()
    hub.stop()  # twice is fine
    after = {t.name for t in threading.enumerate()}
    assert not any(name.startswith("cnn-explorer") for name in after - before)
