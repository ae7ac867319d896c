"""Soak: the real window on a 640x480 video for a long time, every dock open.

What a long run must not do: grow in memory, stall the event loop, leak threads or open files.
Every ``--sample`` seconds it records the resident memory (``/proc/self/statm``), the threads
(``/proc/self/task``: Python's, Qt's and BLAS's alike) and the open file descriptors
(``/proc/self/fd``); a 5 ms timer measures how late the GUI event loop runs (a stall). After
the window closes, threads and descriptors are counted again.

The memory slope is a least-squares line through the samples after the warm-up, in MB per
minute. Targets: slope under 1 MB/min, no stall over 100 ms, no growth in threads or files.

    QT_QPA_PLATFORM=offscreen python -m benchmarks.soak                # 30 minutes
    QT_QPA_PLATFORM=offscreen python -m benchmarks.soak --minutes 2    # a quick look

Every dock is shown; docks that share a place as tabs are floated beside the window, so each
one paints every frame (``--tabbed`` leaves them as tabs: only the front one paints).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TIMER_MS = 5
STALL_MS = 100.0
SLOPE_MB_PER_MIN = 1.0


def resident_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def native_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def python_threads() -> list[str]:
    """Python threads but the engine's process-wide op pool (idle between runs, like BLAS's)."""
    return sorted(t.name for t in threading.enumerate() if not t.name.startswith("engine-ops"))


class Series:
    """Rows of floats in an array made (and its pages touched) before the run: the soak's own
    records must not grow the memory it measures (a list of 370,000 tick tuples did, by about
    1 MB a minute). Rows beyond the capacity are counted, not kept."""

    def __init__(self, capacity: int, columns: int) -> None:
        self._rows = np.full((max(capacity, 1), columns), np.nan)
        self._n = 0
        self.lost = 0

    def append(self, row) -> None:
        if self._n < len(self._rows):
            self._rows[self._n] = row
            self._n += 1
        else:
            self.lost += 1

    def values(self) -> np.ndarray:
        return self._rows[: self._n] if self._rows.shape[1] > 1 else self._rows[: self._n, 0]

    def __len__(self) -> int:
        return self._n


@dataclass
class SoakResult:
    """What a soak measured; times in seconds, memory in MB."""

    seconds: float
    warmup_s: float
    samples: list[tuple[float, float, int, int]] = field(default_factory=list)  # t, MB, thr, fd
    ticks: Series = field(default_factory=lambda: Series(0, 2))  # (t, how late in ms)
    frames: int = 0
    engine_ms: Series = field(default_factory=lambda: Series(0, 1))
    errors: list[str] = field(default_factory=list)  # error messages the window showed
    before: tuple[int, int, list[str]] = (0, 0, [])  # native threads, files, Python threads
    after: tuple[int, int, list[str]] = (0, 0, [])  # the same once the window closed
    diagnosis: dict = field(default_factory=dict)  # StallWatch.summary(): stalls with causes, GC
    causes: str = ""  # the stalls over STALL_MS by cause (markdown)
    collections: str = ""  # the garbage collections by generation (markdown)

    def as_json(self) -> dict:
        """Everything measured, as plain data (the ticks as [t, late] pairs)."""
        series = {"ticks": self.ticks.values().tolist(),
                  "engine_ms": self.engine_ms.values().tolist()}
        plain = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in series}
        return {**plain, **series, "ticks_not_kept": self.ticks.lost}

    def slope_mb_per_min(self) -> float:
        kept = [(t, mb) for t, mb, _thr, _fd in self.samples if t >= self.warmup_s]
        if len(kept) < 3:
            return 0.0
        t, mb = np.array(kept).T
        return float(np.polyfit(t / 60.0, mb, 1)[0])

    def stalls(self) -> np.ndarray:
        """How late each timer tick after the warm-up came, in ms."""
        ticks = self.ticks.values()
        late = ticks[ticks[:, 0] >= self.warmup_s, 1]
        return late if late.size else np.zeros(1)

    def growth(self, column: int) -> int:
        """Last sample minus the first after the warm-up (threads: 2, files: 3)."""
        kept = [s for s in self.samples if s[0] >= self.warmup_s] or self.samples
        return kept[-1][column] - kept[0][column] if kept else 0

    def table(self) -> str:
        stalls = self.stalls()
        mb = [s[1] for s in self.samples if s[0] >= self.warmup_s] or [0.0]
        rows = [
            ("frames shown (after warm-up: per second)",
             f"{self.frames} ({self.frames / max(self.seconds, 1e-9):.1f} fps)", ""),
            ("engine ms per frame (median)",
             f"{np.median(self.engine_ms.values()) if len(self.engine_ms) else 0.0:.1f}", ""),
            ("resident memory after warm-up, first / last / max (MB)",
             f"{mb[0]:.0f} / {mb[-1]:.0f} / {max(mb):.0f}", ""),
            ("resident memory slope after warm-up (MB/min)", f"{self.slope_mb_per_min():+.2f}",
             f"< {SLOPE_MB_PER_MIN:g}"),
            ("longest event-loop stall (ms)", f"{stalls.max():.0f}", f"<= {STALL_MS:g}"),
            ("stalls over 100 ms / over 200 ms", f"{(stalls > 100).sum()} / "
             f"{(stalls > 200).sum()}", "0"),
            ("stall p99 (ms)", f"{np.percentile(stalls, 99):.1f}", ""),
            ("threads during the run, first / last (native)",
             f"{self._first(2)} / {self.samples[-1][2] if self.samples else 0}", "no growth"),
            ("open files during the run, first / last",
             f"{self._first(3)} / {self.samples[-1][3] if self.samples else 0}", "no growth"),
            ("Python threads before / after the window",
             f"{len(self.before[2])} / {len(self.after[2])}", "equal"),
            ("open files before / after the window", f"{self.before[1]} / {self.after[1]}",
             "equal"),
            ("error messages shown", str(len(self.errors)), "0"),
        ]
        lines = ["| measure | value | target |", "| --- | --- | --- |"]
        lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
        return "\n\n".join(["\n".join(lines), self.causes, self.collections]).strip()

    def _first(self, column: int) -> int:
        kept = [s for s in self.samples if s[0] >= self.warmup_s] or self.samples
        return kept[0][column] if kept else 0


def soak(folder: Path, seconds: float, warmup_s: float = 60.0, sample_s: float = 5.0,
         tabbed: bool = False, video_frames: int = 120, baseline_window: bool = True,
         configure: bool = True) -> SoakResult:
    """Run the window for ``warmup_s + seconds`` on a generated video, scratch files in
    ``folder``; the window is closed before this returns.

    ``baseline_window``: open and close a window first, so that the threads and descriptors
    Qt and BLAS create once per process (Qt's thread pool, its event descriptors) are there
    before the "before" count and do not pass for a leak. ``configure``: make the engine's
    process settings as the app does at start (tests leave them alone).
    """
    os.environ["CNN_EXPLORER_CONFIG_DIR"] = str(folder)  # never the user's saved state
    import engine
    from benchmarks.live import write_video
    from gui.app import _application, wait_for_result

    if configure:
        engine.configure()
    _application()
    video = write_video(folder / "soak.avi", n_frames=video_frames)
    run_s = seconds + warmup_s + 10.0
    result = SoakResult(seconds=seconds, warmup_s=warmup_s,
                        ticks=Series(int(run_s * 1000 / TIMER_MS), 2),
                        engine_ms=Series(int(run_s * 120), 1))
    if baseline_window:  # what Qt and BLAS make once per process exists before the count
        _run_window(video, tabbed, lambda window: wait_for_result(window.live))
    result.before = (native_threads(), open_files(), python_threads())

    def run(window) -> None:
        window.session.message.connect(
            lambda level, text: result.errors.append(text) if level == "error" else None)
        if not wait_for_result(window.live):
            result.errors.append("no frame was processed")
            return
        _measure(window, result, sample_s)

    _run_window(video, tabbed, run)
    result.after = (native_threads(), open_files(), python_threads())
    return result


def _run_window(video: Path, tabbed: bool, body) -> None:
    """Open the window on ``video`` with every dock, call ``body(window)``, close it."""
    from PySide6.QtCore import QEventLoop, QTimer

    from benchmarks.live import open_every_dock, widest_layer
    from gui.heap import HeapSettler
    from gui.live import LiveResults
    from gui.main_window import MainWindow
    from gui.session import Session, SourceSpec

    session = Session()
    session.set_display(resolution=640)  # 480 x 640 frames pass unscaled
    session.set_source(SourceSpec(kind="video", path=str(video)))
    session.set_selected_layer(widest_layer(session.pipeline))
    window = MainWindow(session, live := LiveResults(session))  # persist: autosave as in use
    window.heap = HeapSettler(session, live, window)  # as gui/app.py does
    window.show()
    open_every_dock(window, tabbed)
    try:
        body(window)
    finally:
        window.close()  # joins the capture, engine and autosave threads
        window.deleteLater()
        loop = QEventLoop()  # let the deletions run
        QTimer.singleShot(200, loop.quit)
        loop.exec()
        gc.unfreeze()  # the window is gone: its objects may be collected again (gui.heap)


def _measure(window, result: SoakResult, sample_s: float) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    from benchmarks.stall_watch import StallWatch, causes_table

    # Stalls of the warm-up are left out below, as in the table; the watch records from here.
    loop_frame = "benchmarks/soak.py _measure"  # where the stack stands while Qt works
    watch = StallWatch(stall_ms=STALL_MS / 2, loop_frame=loop_frame, interval_ms=TIMER_MS)
    start = time.perf_counter()
    last = [start]

    def on_result(r) -> None:
        if time.perf_counter() - start >= result.warmup_s:
            result.frames += 1
            result.engine_ms.append(r.total_ms)

    def on_tick() -> None:
        now = time.perf_counter()
        watch.beat()
        result.ticks.append((now - start, (now - last[0]) * 1000.0 - TIMER_MS))
        last[0] = now

    def on_sample() -> None:
        t = time.perf_counter() - start
        result.samples.append((t, resident_mb(), native_threads(), open_files()))

    window.live.resultUpdated.connect(on_result)
    ticker, sampler = QTimer(), QTimer()
    ticker.setInterval(TIMER_MS)
    ticker.timeout.connect(on_tick)
    sampler.setInterval(int(sample_s * 1000))
    sampler.timeout.connect(on_sample)
    on_sample()
    ticker.start()
    sampler.start()
    watch.start()
    loop = QEventLoop()
    QTimer.singleShot(int((result.warmup_s + result.seconds) * 1000), loop.quit)
    loop.exec()
    watch.stop()
    ticker.stop()
    sampler.stop()
    on_sample()
    window.live.resultUpdated.disconnect(on_result)
    watch.stalls = [s for s in watch.stalls if s.t >= result.warmup_s]
    result.diagnosis = watch.summary()
    result.causes = causes_table(watch.stalls, STALL_MS, loop_frame)
    result.collections = watch.gc_table()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0,
                        help="measuring time after the warm-up (default 30)")
    parser.add_argument("--warmup", type=float, default=60.0,
                        help="seconds left out of the slope and the stalls (default 60)")
    parser.add_argument("--sample", type=float, default=5.0,
                        help="seconds between memory samples (default 5)")
    parser.add_argument("--tabbed", action="store_true",
                        help="leave docks that share a place as tabs (only the front one paints)")
    parser.add_argument("--json", metavar="PATH", help="also write every sample as JSON")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cnn-explorer-soak-") as folder:
        result = soak(Path(folder), opts.minutes * 60.0, opts.warmup, opts.sample, opts.tabbed)
    print(f"video 480x640 at 60 fps, default pipeline, widest layer, every dock open"
          f"{' (tabs)' if opts.tabbed else ' (tabs floated)'}; {opts.minutes:g} min after a"
          f" {opts.warmup:g} s warm-up; {os.cpu_count()} CPUs, load average"
          f" {os.getloadavg()[0]:.2f} at the end")
    print(result.table())
    if opts.json:
        Path(opts.json).write_text(json.dumps(result.as_json()))
    return 2 if result.errors or not result.frames else 0


if __name__ == "__main__":
    sys.exit(main())
