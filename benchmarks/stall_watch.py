"""Why the GUI event loop stalled: a watchdog thread, garbage-collection timing, a cause per stall.

The soak (:mod:`benchmarks.soak`) calls :meth:`StallWatch.beat` from a 5 ms timer in the GUI
thread. A watchdog thread looks every few milliseconds; once the GUI thread has not beaten for
``sample_after_ms`` it samples the GUI thread's Python stack (read by :mod:`faulthandler`), again
every ``resample_ms`` while the stall lasts. ``gc.callbacks`` times every garbage collection
(generation, duration, thread). Each beat also reads the GUI thread's scheduler figures
(``/proc/thread-self/schedstat``: time on a core, time waiting for one), so that a stall splits
into running, waiting for a core (the machine's load) and blocked (the GIL, or a lock).

When a stall ends (the next beat), :func:`classify` names its cause:

- "garbage collection of generation N" when collections overlapped most of it;
- "waiting for a core (machine load)" when the GUI thread mostly sat in the run queue;
- "waiting for the GIL (another thread held it)" when it was mostly blocked and the watchdog
  (which needs the GIL too) woke late; "blocked (a lock, I/O or a sleep) in ..." otherwise;
- "in Qt with no Python frame" when it ran but its stack stood at the event loop itself;
- otherwise "Python: <file:line function>", the innermost frame of the project seen most.
"""

from __future__ import annotations

import faulthandler
import gc
import os
import re
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["GcEvent", "Stall", "StallWatch", "causes_table", "classify"]

ROOT = str(Path(__file__).resolve().parent.parent)
GC_KEEP_MS = 2.0  # collections shorter than this are only counted (a stall needs 60+ ms)
MAX_SAMPLES = 10  # stack samples kept per stall (a 30-minute JSON stays small)


def _schedstat() -> tuple[float, float]:
    """(seconds on a core, seconds waiting for one) of the calling thread; zeros off Linux."""
    try:
        with open("/proc/thread-self/schedstat", encoding="ascii") as stat:
            run, wait = stat.read().split()[:2]
        return int(run) / 1e9, int(wait) / 1e9
    except (OSError, ValueError):
        return 0.0, 0.0


@dataclass
class GcEvent:
    """One garbage collection longer than :data:`GC_KEEP_MS`."""

    start: float  # time.perf_counter()
    ms: float
    generation: int
    thread: str
    collected: int


@dataclass
class Stall:
    """A gap between two beats longer than the watch's ``stall_ms``; times in ms."""

    t: float  # seconds since the watch started, at the stall's start
    ms: float
    on_core_ms: float  # the GUI thread running
    queued_ms: float  # the GUI thread waiting for a core
    blocked_ms: float  # neither: waiting for the GIL or a lock
    gc: list[tuple[int, float, str]] = field(default_factory=list)  # (generation, ms, thread)
    stacks: list[list[str]] = field(default_factory=list)  # innermost frame first
    watchdog_late_ms: float = 0.0  # the longest the watchdog itself woke late in the stall
    cause: str = ""


def _stack_of(ident: int, scratch) -> list[str]:
    """The Python stack of thread ``ident`` as "path:line function", innermost first.

    Read with :func:`faulthandler.dump_traceback` (C code, one step under the GIL) into the
    ``scratch`` file: walking ``sys._current_frames()`` in Python from another thread crashed
    the interpreter (3.11) when the watched thread returned from a frame meanwhile.
    """
    scratch.seek(0)
    scratch.truncate()
    faulthandler.dump_traceback(scratch, all_threads=True)
    scratch.seek(0)
    text = scratch.read().decode("utf-8", "replace")
    header = f"0x{ident:016x}"
    out: list[str] = []
    inside = False
    for line in text.splitlines():
        if line.startswith(("Thread ", "Current thread ")):
            inside = header in line
            continue
        if inside and line.strip().startswith("File "):
            match = _FRAME_LINE.match(line.strip())
            if match:
                out.append(f"{_short(match[1])}:{match[2]} {match[3]}")
    return out


_FRAME_LINE = re.compile(r'File "(.*)", line (\d+) in (.*)')


def _short(path: str) -> str:
    """A path relative to the project, or its last two parts for a library."""
    if path.startswith(ROOT):
        return path[len(ROOT) + 1:]
    return "/".join(Path(path).parts[-2:])


def classify(stall: Stall, loop_frame: str = "") -> str:
    """The one-line cause of ``stall`` (see the module's docstring); ``loop_frame``: the
    "path function" prefix of the frame that runs the event loop (no Python above it)."""
    gc_ms = sum(ms for _gen, ms, _thread in stall.gc)
    if stall.gc and gc_ms >= 0.5 * stall.ms:
        generation = max(gen for gen, _ms, _thread in stall.gc)
        threads = sorted({thread for _gen, _ms, thread in stall.gc})
        return (f"garbage collection of generation {generation} ({gc_ms:.0f} ms, "
                f"thread {', '.join(threads)})")
    if stall.queued_ms >= 0.5 * stall.ms:
        return "waiting for a core (machine load)"
    if stall.blocked_ms >= 0.5 * stall.ms:
        # The watchdog needs the GIL too: when it woke late as well, another thread held it.
        if stall.watchdog_late_ms >= 0.3 * stall.blocked_ms:
            return "waiting for the GIL (another thread held it)"
        frame = _most_seen(stall, loop_frame)
        return f"blocked (a lock, I/O or a sleep) in {frame or 'Qt'}"
    if not any(stall.stacks):
        return "busy, no stack sampled (shorter than the first sample)"
    frame = _most_seen(stall, loop_frame)
    return "in Qt with no Python frame" if frame is None else f"Python: {frame}"


def _most_seen(stall: Stall, loop_frame: str) -> str | None:
    """The frame named most often in the stall's samples (None: the event loop itself)."""
    innermost = Counter(_project_frame(stack, loop_frame) for stack in stall.stacks if stack)
    return innermost.most_common(1)[0][0] if innermost else None


def _project_frame(stack: list[str], loop_frame: str) -> str | None:
    """The innermost frame worth naming: None when the stack stands at the event loop call,
    else the first frame in the project (not a library), else the innermost one."""
    if loop_frame and stack[0].split(":")[0] + " " + stack[0].rsplit(" ", 1)[-1] == loop_frame:
        return None
    for line in stack:
        if line.startswith(("gui/", "engine/", "benchmarks/")):
            return line
    return stack[0]


def causes_table(stalls: list[Stall], over_ms: float, loop_frame: str = "") -> str:
    """Markdown: each cause of the stalls over ``over_ms``, how many, the longest (split into
    running, queued and blocked), and the frames the GUI thread was seen in most often."""
    kept = [s for s in stalls if s.ms > over_ms]
    if not kept:
        return f"no stall over {over_ms:g} ms"
    by_cause: dict[str, list[Stall]] = {}
    for s in kept:
        by_cause.setdefault(s.cause, []).append(s)
    lines = [f"| cause of the stalls over {over_ms:g} ms | stalls | longest (ms) | "
             "on a core / queued / blocked (ms, the longest) | GUI thread seen in (samples) |",
             "| --- | --- | --- | --- | --- |"]
    for cause, group in sorted(by_cause.items(), key=lambda kv: -len(kv[1])):
        worst = max(group, key=lambda s: s.ms)
        seen = Counter(_project_frame(stack, loop_frame) or "Qt (no Python frame)"
                       for s in group for stack in s.stacks if stack)
        shown = "; ".join(f"{frame} ({n})" for frame, n in seen.most_common(3))
        lines.append(f"| {cause} | {len(group)} | {worst.ms:.0f} | {worst.on_core_ms:.0f} / "
                     f"{worst.queued_ms:.0f} / {worst.blocked_ms:.0f} | {shown} |")
    return "\n".join(lines)


class StallWatch:
    """Watches the thread that calls :meth:`beat`; see the module's docstring.

    Parameters
    ----------
    stall_ms : float
        Beats later than this are recorded as stalls.
    sample_after_ms, resample_ms : float
        The first stack sample after this long without a beat, then one every ``resample_ms``.
    loop_frame : str
        "path function" of the frame that runs the event loop (see :func:`classify`).
    interval_ms : float
        The beats' own interval: a beat is late by the gap since the last one minus this.
    """

    def __init__(self, stall_ms: float = 50.0, sample_after_ms: float = 60.0,
                 resample_ms: float = 20.0, loop_frame: str = "", interval_ms: float = 0.0) -> None:
        self.stall_ms, self.loop_frame, self.interval_ms = stall_ms, loop_frame, interval_ms
        self.sample_after_s, self.resample_s = sample_after_ms / 1000.0, resample_ms / 1000.0
        self.stalls: list[Stall] = []
        self.gc_events: list[GcEvent] = []
        self.gc_counts: Counter = Counter()  # generation -> collections
        self.gc_total_ms: Counter = Counter()  # generation -> ms
        self._gc_start: dict[int, float] = {}  # thread ident -> start of its collection
        self._t0 = time.perf_counter()
        self._last = (self._t0, *_schedstat())  # (time, on core, queued) at the last beat
        self._samples: list[list[str]] = []
        self._late_s = 0.0
        self._ident: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- the watched thread ---------------------------------------------------------------
    def start(self) -> None:
        """Watch the calling thread from now on (it must call :meth:`beat` regularly)."""
        self._ident = threading.get_ident()
        self._t0 = time.perf_counter()
        self._last = (self._t0, *_schedstat())
        gc.callbacks.append(self._on_gc)
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="stall-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)

    def beat(self) -> None:
        """Called by the watched thread whenever its event loop runs."""
        now = time.perf_counter()
        on_core, queued = _schedstat()
        last, last_core, last_queued = self._last
        gap = now - last
        late_ms = gap * 1000.0 - self.interval_ms
        if late_ms > self.stall_ms:
            with self._lock:
                samples, self._samples = self._samples, []
                late, self._late_s = self._late_s, 0.0
            run_ms = (on_core - last_core) * 1000.0
            wait_ms = (queued - last_queued) * 1000.0
            stall = Stall(last - self._t0, late_ms, run_ms, wait_ms,
                          max(gap * 1000.0 - run_ms - wait_ms, 0.0),
                          self._gc_within(last, now), samples[:MAX_SAMPLES], late * 1000.0)
            stall.cause = classify(stall, self.loop_frame)
            self.stalls.append(stall)
        else:
            with self._lock:
                self._samples, self._late_s = [], 0.0
        self._last = (now, on_core, queued)

    # -- the watchdog ---------------------------------------------------------------------
    def _watch(self) -> None:
        period = min(self.resample_s, 0.01)
        with tempfile.TemporaryFile() as scratch:
            self._watch_with(scratch, period)

    def _watch_with(self, scratch, period: float) -> None:
        next_sample = 0.0
        while not self._stop.is_set():
            before = time.perf_counter()
            time.sleep(period)
            now = time.perf_counter()
            late = now - before - period  # the GIL or a busy machine kept the watchdog off
            last = self._last[0]
            since = now - last
            if since < self.sample_after_s:
                next_sample = 0.0
                continue
            with self._lock:
                if self._last[0] == last:  # still the same stall
                    self._late_s = max(self._late_s, late)
            if next_sample and now < next_sample:
                continue
            stack = _stack_of(self._ident, scratch)
            with self._lock:
                if self._last[0] == last:
                    self._samples.append(stack)
            next_sample = now + self.resample_s

    def _on_gc(self, phase: str, info: dict) -> None:
        ident = threading.get_ident()
        if phase == "start":
            self._gc_start[ident] = time.perf_counter()
            return
        start = self._gc_start.pop(ident, None)
        if start is None:
            return
        ms = (time.perf_counter() - start) * 1000.0
        generation = info.get("generation", -1)
        self.gc_counts[generation] += 1
        self.gc_total_ms[generation] += ms
        if ms >= GC_KEEP_MS:
            self.gc_events.append(GcEvent(start, ms, generation, threading.current_thread().name,
                                          info.get("collected", 0)))

    def _gc_within(self, start: float, end: float) -> list[tuple[int, float, str]]:
        """Collections overlapping ``start..end``: (generation, ms of the overlap, thread)."""
        out = []
        for event in reversed(self.gc_events):
            if event.start + event.ms / 1000.0 < start:
                break
            overlap = min(end, event.start + event.ms / 1000.0) - max(start, event.start)
            if overlap > 0:
                out.append((event.generation, overlap * 1000.0, event.thread))
        return out

    # -- report ---------------------------------------------------------------------------
    def summary(self) -> dict:
        """The stalls and the collections as plain data (for JSON)."""
        return {
            "stalls": [asdict(s) for s in self.stalls],
            "gc": {str(gen): {"collections": self.gc_counts[gen],
                              "total_ms": round(self.gc_total_ms[gen], 1),
                              "longest_ms": round(max((e.ms for e in self.gc_events
                                                       if e.generation == gen), default=0.0), 1)}
                   for gen in sorted(self.gc_counts)},
            "gc_long": [asdict(e) for e in self.gc_events if e.ms >= 10.0],
            "started": self._t0,  # time.perf_counter() of Stall.t == 0 (GcEvent.start's clock)
            "gc_frozen": gc.get_freeze_count(),
            "gc_threshold": list(gc.get_threshold()),
            "pid": os.getpid(),
        }

    def gc_table(self) -> str:
        lines = ["| garbage collections (every thread) | count | total ms | longest ms |",
                 "| --- | --- | --- | --- |"]
        for gen in sorted(self.gc_counts):
            longest = max((e.ms for e in self.gc_events if e.generation == gen), default=0.0)
            lines.append(f"| generation {gen} | {self.gc_counts[gen]} | "
                         f"{self.gc_total_ms[gen]:.0f} | {longest:.1f} |")
        lines.append(f"| objects frozen (gc.freeze) / thresholds | {gc.get_freeze_count()} | "
                     f"{gc.get_threshold()} | |")
        return "\n".join(lines)
