"""A short soak: seconds of live processing of a 640x480 video with every dock open (the
30-minute one is ``python -m benchmarks.soak``; figures in docs/benchmarks.md)."""

from __future__ import annotations

import json
import time

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
    # The stall diagnosis ran: its report is in the result and in the printed table.
    assert set(result.diagnosis) >= {"stalls", "gc", "gc_frozen", "gc_threshold"}
    assert "garbage collections" in result.table()
    assert all(stall["cause"] for stall in result.diagnosis["stalls"])
    plain = json.loads(json.dumps(result.as_json()))  # what --json writes
    assert len(plain["ticks"]) == len(result.ticks) > 100 and plain["ticks_not_kept"] == 0
    assert len(plain["engine_ms"]) >= result.frames


def test_the_soaks_records_are_made_before_the_run_and_never_grow():
    from benchmarks.soak import Series

    series = Series(3, 2)
    size = series._rows.nbytes
    for i in range(5):
        series.append((i, 10.0 * i))
    assert series.values().tolist() == [[0, 0], [1, 10], [2, 20]] and series.lost == 2
    assert series._rows.nbytes == size
    one = Series(2, 1)
    one.append(4.5)
    assert one.values().tolist() == [4.5] and len(one) == 1


# -- the stall diagnosis (benchmarks/stall_watch.py) ------------------------------------------
LOOP = "benchmarks/soak.py _measure"
IN_LOOP = ["benchmarks/soak.py:228 _measure", "benchmarks/soak.py:157 run"]
IN_SLOT = ["gui/docks/maps.py:250 _render", "gui/live.py:229 _poll", *IN_LOOP]
IN_LIBRARY = ["graphicsItems/ImageItem.py:877 paint", *IN_SLOT]


def _stall(ms=150.0, on_core=140.0, queued=5.0, blocked=5.0, gc=(), stacks=(), late=0.0):
    from benchmarks.stall_watch import Stall

    return Stall(1.0, ms, on_core, queued, blocked, list(gc), [list(s) for s in stacks], late)


def test_each_kind_of_stall_gets_its_cause():
    from benchmarks.stall_watch import classify

    assert classify(_stall(gc=[(2, 120.0, "MainThread")]), LOOP) == (
        "garbage collection of generation 2 (120 ms, thread MainThread)")
    assert classify(_stall(gc=[(0, 3.0, "MainThread")], stacks=[IN_SLOT]), LOOP) == (
        "Python: gui/docks/maps.py:250 _render")  # a short collection does not explain it
    assert classify(_stall(on_core=20, queued=120, stacks=[IN_LOOP]), LOOP) == (
        "waiting for a core (machine load)")
    assert classify(_stall(on_core=20, blocked=125, late=90, stacks=[IN_SLOT]), LOOP) == (
        "waiting for the GIL (another thread held it)")
    assert classify(_stall(on_core=20, blocked=125, late=1, stacks=[IN_SLOT]), LOOP) == (
        "blocked (a lock, I/O or a sleep) in gui/docks/maps.py:250 _render")
    assert classify(_stall(stacks=[IN_LOOP, IN_LOOP, IN_SLOT]), LOOP) == (
        "in Qt with no Python frame")
    # A library frame is named by the project's frame that called it.
    assert classify(_stall(stacks=[IN_LIBRARY]), LOOP) == "Python: gui/docks/maps.py:250 _render"
    assert classify(_stall(), LOOP).startswith("busy, no stack sampled")


def test_the_causes_table_groups_the_stalls_over_the_limit():
    from benchmarks.stall_watch import causes_table, classify

    stalls = [_stall(ms=ms, stacks=[IN_SLOT]) for ms in (120.0, 180.0, 60.0)]
    stalls.append(_stall(ms=130.0, stacks=[IN_LOOP]))
    for s in stalls:
        s.cause = classify(s, LOOP)
    table = causes_table(stalls, 100.0, LOOP).splitlines()
    assert len(table) == 4  # header, rule, two causes (the 60 ms stall is under the limit)
    assert table[2].startswith("| Python: gui/docks/maps.py:250 _render | 2 | 180 |")
    assert table[3].startswith("| in Qt with no Python frame | 1 | 130 |")
    assert "Qt (no Python frame) (1)" in table[3]
    assert causes_table(stalls[2:3], 100.0) == "no stall over 100 ms"


def _hold_the_thread(seconds: float) -> None:
    time.sleep(seconds)  # the watched thread stops beating, as a slow slot would


def test_the_watchdog_samples_the_stack_of_a_stalled_thread_and_times_collections():
    import gc
    import json

    from benchmarks.stall_watch import StallWatch

    watch = StallWatch(stall_ms=50.0, sample_after_ms=60.0, resample_ms=20.0)
    watch.start()
    try:
        watch.beat()
        _hold_the_thread(0.4)
        watch.beat()  # the stall ends here and is classified
        gc.collect()
    finally:
        watch.stop()
    assert len(watch.stalls) == 1
    stall = watch.stalls[0]
    assert stall.stacks and all("_hold_the_thread" in stack[0] for stack in stall.stacks)
    assert stall.cause  # classified (which cause depends on the machine's load)
    summary = json.loads(json.dumps(watch.summary()))
    assert summary["stalls"][0]["stacks"] == stall.stacks
    assert summary["gc"]["2"]["collections"] >= 1  # the collect() above was seen
    assert "generation 2" in watch.gc_table()
    assert watch._on_gc not in gc.callbacks  # stop() took its callback away
