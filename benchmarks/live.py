"""Live-loop benchmark: the real window on a 480x640 video, default pipeline, widest layer.

Reports the displayed frame rate, the latency from capture to the moment the maps dock has set
its image (p50 / p95), and the longest stall of the GUI event loop (a 5 ms timer measuring
how late it fires). Targets on 2 cores: >= 30 fps shown, p95 <= 80 ms, no stall over 50 ms.

    QT_QPA_PLATFORM=offscreen python benchmarks/live.py [--seconds 10] [--all-docks] [--stages]

``--all-docks`` opens every panel (panels sharing a place as tabs are floated, so each one
paints); ``--stages`` adds where the time goes, stage by stage (:mod:`benchmarks.live_stages`).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

WARMUP_S = 1.5  # the first frames pay for imports, first layouts and buffer allocation
TIMER_MS = 5
STALL_MS = 50.0  # the target: no stall of the event loop over this


def write_video(path: Path, fps: float = 60.0, n_frames: int = 120) -> Path:
    """A 480 x 640 MJPG clip: a bundled sample sliding sideways, so every frame differs."""
    import cv2

    from engine.io.media import read_image, resize_to
    from gui.session import default_sample_name, sample_path

    base = resize_to(read_image(sample_path(default_sample_name())), 480, 640)[:, :, ::-1]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (640, 480))
    for i in range(n_frames):
        writer.write(np.ascontiguousarray(np.roll(base, 5 * i, axis=1)))
    writer.release()
    return path


def widest_layer(pipeline) -> int:
    """Index of the first layer with the most output maps at 480 x 640."""
    shapes = list(pipeline.shapes((3, 480, 640)).values())
    return int(np.argmax([s[0] for s in shapes]))


def open_every_dock(window, tabbed: bool = False) -> None:
    """Show every panel; of the panels sharing a place as tabs, float all but the first, so
    that each one is on screen and paints every frame."""
    docked: set = set()
    for dock in window.docks.values():
        dock.show()
        if not tabbed and docked.intersection(window.tabifiedDockWidgets(dock)):
            dock.setFloating(True)
            dock.resize(420, 320)
        else:
            docked.add(dock)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring time (default 10)")
    parser.add_argument("--all-docks", action="store_true",
                        help="open every panel (tabs floated, so that each one paints)")
    parser.add_argument("--stages", action="store_true",
                        help="also print where the time goes, stage by stage")
    parser.add_argument("--engine-threads", type=int, default=None, metavar="N",
                        help="the engine's threads for large ops (default: as the app, up to 2)")
    opts = parser.parse_args()
    # The video and the config folder live only as long as the run: removed on every exit.
    with tempfile.TemporaryDirectory(prefix="cnn-explorer-bench-") as folder:
        return run(Path(folder), opts.seconds, opts.all_docks, opts.stages, opts.engine_threads)


def run(tmp: Path, seconds: float, all_docks: bool = False, stages: bool = False,
        engine_threads: int | None = None) -> int:
    """Measure for ``seconds`` (after the warm-up) with scratch files in ``tmp``; print a table;
    ``engine_threads``: the engine's threads (None: as the app chooses).

    Returns the exit status: 0, or 2 when no frame was processed.
    """
    os.environ["CNN_EXPLORER_CONFIG_DIR"] = str(tmp)  # never touch the user's saved state

    import engine
    from gui.app import _application
    from gui.heap import HeapSettler
    from gui.live import LiveResults
    from gui.main_window import MainWindow
    from gui.session import Session, SourceSpec

    engine.configure(engine_threads)  # as the app does at start (main.py)
    app = _application()
    video = write_video(tmp / "bench.avi")
    session = Session()
    session.set_display(resolution=640)  # 480 x 640 frames pass unscaled
    session.set_source(SourceSpec(kind="video", path=str(video)))
    layer = widest_layer(session.pipeline)
    session.set_selected_layer(layer)
    alone = _engine_alone(session.pipeline, video) if stages else None
    live = LiveResults(session)
    window = MainWindow(session, live, persist=False)
    window.heap = HeapSettler(session, live, window)  # as gui/app.py does
    window.show()
    if all_docks:
        open_every_dock(window)
    try:
        return measure(window, layer, seconds, alone, all_docks)
    finally:
        window.close()  # stops the threads before the temporary folder goes
        app.processEvents()


def _engine_alone(pipeline, video: Path) -> dict[str, float]:
    """The engine's ms per layer on the video's first frame, nothing else running."""
    from benchmarks.live_stages import engine_alone
    from engine.io.media import VideoReader

    reader = VideoReader(str(video))
    try:
        frame = reader.read()
    finally:
        reader.close()
    return engine_alone(pipeline, frame)


def measure(window, layer: int, seconds: float, alone: dict[str, float] | None = None,
            all_docks: bool = False) -> int:
    """Run the shown ``window`` for the warm-up plus ``seconds`` and print the results;
    ``alone``: the engine's own times, to print the stage breakdown beside."""
    from PySide6.QtCore import QEventLoop, QTimer

    import engine
    from benchmarks.stall_watch import StallWatch, causes_table
    from gui.app import wait_for_result

    live, session = window.live, window.session
    if not wait_for_result(live):
        print("no frame was processed", file=sys.stderr)
        return 2

    shown: list[tuple[float, float]] = []  # (time shown, latency)
    stalls: list[tuple[float, float]] = []  # (tick time, how late it came)
    engine_ms: list[float] = []
    # Connected after the docks, so it runs after the maps dock has set its image.
    def on_result(result) -> None:
        now = time.perf_counter()
        shown.append((now, now - result.captured_at))
        engine_ms.append(result.total_ms)

    live.resultUpdated.connect(on_result)
    last = [time.perf_counter()]
    # What the GUI thread was doing in each stall over 50 ms (benchmarks/stall_watch.py).
    loop_frame = "benchmarks/live.py measure"
    watch = StallWatch(stall_ms=STALL_MS, loop_frame=loop_frame, interval_ms=TIMER_MS)

    def on_tick() -> None:
        now = time.perf_counter()
        watch.beat()
        stalls.append((now, now - last[0] - TIMER_MS / 1000.0))
        last[0] = now

    ticker = QTimer()
    ticker.setInterval(TIMER_MS)
    ticker.timeout.connect(on_tick)
    ticker.start()
    loop = QEventLoop()
    QTimer.singleShot(int((WARMUP_S + seconds) * 1000), loop.quit)
    probe = None
    if alone is not None:
        from benchmarks.live_stages import StageProbe

        probe = StageProbe(window)
        QTimer.singleShot(int(WARMUP_S * 1000), probe.attach)
    start = time.perf_counter()
    watch.start()
    loop.exec()
    watch.stop()
    ticker.stop()
    if probe is not None:
        probe.detach()
    dropped = live._slot.dropped

    t0 = start + WARMUP_S
    kept = [(t, lat) for t, lat in shown if t >= t0]
    if not kept:
        print("no frame was shown after the warm-up", file=sys.stderr)
        return 2
    lat_ms = np.array([lat for _, lat in kept]) * 1000.0
    fps = (len(kept) - 1) / (kept[-1][0] - kept[0][0]) if len(kept) > 1 else 0.0
    # By time, not by tick count: on a loaded machine fewer ticks than planned come in.
    stall_ms = max((late for t, late in stalls if t >= t0), default=0.0) * 1000.0
    node = session.pipeline.nodes[layer]
    docks = "every dock open" if all_docks else "default docks"
    print(f"video 480x640 at 60 fps, pipeline default, maps of layer {layer} ({node.name}), "
          f"{docks}, "
          f"{seconds:.0f} s after {WARMUP_S} s warm-up; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f} at the end")
    print("| measure | value | target |")
    print("| --- | --- | --- |")
    print(f"| displayed fps | {fps:.1f} | >= 30 |")
    print(f"| latency p50 (ms) | {np.percentile(lat_ms, 50):.1f} | |")
    print(f"| latency p95 (ms) | {np.percentile(lat_ms, 95):.1f} | <= 80 |")
    print(f"| longest event-loop stall (ms) | {stall_ms:.1f} | <= 50 |")
    print(f"| engine ms per frame (median) | {np.median(engine_ms):.1f} | |")
    print(f"| engine threads | {engine.configuration().threads} | |")
    print(f"| frames dropped (whole run) | {dropped} | |")
    watch.stalls = [s for s in watch.stalls if s.t >= WARMUP_S]
    print()
    print(causes_table(watch.stalls, STALL_MS, loop_frame))
    if probe is not None:
        print()
        print(probe.table(alone))
    return 0


if __name__ == "__main__":
    sys.exit(main())
