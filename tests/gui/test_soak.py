"""A short soak: seconds of live processing of a 640x480 video with every dock open (the
30-minute one is ``python -m benchmarks.soak``; figures in docs/benchmarks.md)."""

from __future__ import annotations

from benchmarks.soak import soak


def test_a_short_soak_leaves_no_thread_or_file_behind(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_EXPLORER_CONFIG_DIR", str(tmp_path))  # soak() points it here
    result = soak(tmp_path, seconds=4.0, warmup_s=1.0, sample_s=0.5, video_frames=30,
                  configure=False)
    assert result.errors == []
    assert result.frames >= 10  # frames really went through every dock
    before_threads, before_files, before_python = result.before
    after_threads, after_files, after_python = result.after
    assert after_python == before_python  # capture, engine and autosave threads all joined
    assert after_files == before_files  # the video, the session file: all closed
    assert after_threads <= before_threads
    assert result.growth(2) <= 0 and result.growth(3) <= 0  # nothing grew during the run
    assert len(result.samples) >= 8 and all(mb > 0 for _t, mb, _thr, _fd in result.samples)
