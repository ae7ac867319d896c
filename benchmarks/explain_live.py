"""Explain-panel benchmark: the real window, the shapes network on a webcam-rate video, the
Explain panel open on saliency and then on Grad-CAM.

Reports per method the maps shown per second (issue 12's target: >= 15 on 2 cores), the
latency from capture to the map being drawn (p50 / p95), the longest stall of the GUI event
loop (a 5 ms timer measuring how late it fires), and the explanation's median time.

    QT_QPA_PLATFORM=offscreen python benchmarks/explain_live.py [--seconds 10] [--fps 30]
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

from benchmarks.live import TIMER_MS, WARMUP_S, write_video
from benchmarks.machine import cpu_model

METHODS = ("saliency", "gradcam")




def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per method (default 10)")
    parser.add_argument("--fps", type=float, default=30.0, help="the video's rate (default 30)")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cnn-explorer-bench-") as folder:
        return run(Path(folder), opts.seconds, opts.fps)


def run(tmp: Path, seconds: float, fps: float) -> int:
    os.environ["CNN_EXPLORER_CONFIG_DIR"] = str(tmp)  # never touch the user's saved state

    import engine
    from engine.resolve import resolve_pipeline
    from gui.app import _application, wait_for_result
    from gui.live import LiveResults
    from gui.main_window import MainWindow
    from gui.session import Session, SourceSpec

    engine.configure()  # as the app does at start (main.py)
    app = _application()
    video = write_video(tmp / "bench.avi", fps=fps, n_frames=int(4 * fps))
    session = Session(resolve_pipeline("shapes"))
    session.set_display(resolution=640)  # 480 x 640 frames pass unscaled
    session.set_source(SourceSpec(kind="video", path=str(video)))
    live = LiveResults(session)
    window = MainWindow(session, live, persist=False)
    window.show()
    try:
        if not wait_for_result(live):
            print("no frame was processed", file=sys.stderr)
            return 2
        dock = window.docks["explain"]
        dock.show()
        dock.raise_()
        rows = [measure(dock.widget(), method, seconds) for method in METHODS]
    finally:
        window.close()  # stops the threads before the temporary folder goes
        app.processEvents()
    print(f"video 480x640 at {fps:.0f} fps, shapes network (64x64 crop), Explain panel open;"
          f" {seconds:.0f} s per method after {WARMUP_S} s warm-up; {cpu_model()},"
          f" {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end")
    print("| method | maps shown / s | latency p50 (ms) | latency p95 (ms) |"
          " longest stall (ms) | explanation ms (median) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for method, shown, p50, p95, stall, ms in rows:
        print(f"| {method} | {shown:.1f} | {p50:.1f} | {p95:.1f} | {stall:.1f} | {ms:.1f} |")
    print("targets: maps shown >= 15 per second (issue 12); stall <= 50 ms (benchmarks/live.py)")
    return 0


def measure(panel, method: str, seconds: float):
    """Show ``method`` for the warm-up plus ``seconds``: (method, rate, p50, p95, stall, ms)."""
    from PySide6.QtCore import QEventLoop, QTimer

    panel.class_tab.select_method(method)
    shown: list[tuple[float, float, float]] = []  # (time drawn, latency, explanation ms)

    def on_shown(outcome) -> None:
        now = time.perf_counter()
        if outcome.request.kind == method:
            shown.append((now, now - outcome.request.captured_at, outcome.ms))

    panel.mapShown.connect(on_shown)
    stalls: list[float] = []
    last = [time.perf_counter()]

    def on_tick() -> None:
        now = time.perf_counter()
        stalls.append(now - last[0] - TIMER_MS / 1000.0)
        last[0] = now

    ticker = QTimer()
    ticker.setInterval(TIMER_MS)
    ticker.timeout.connect(on_tick)
    ticker.start()
    loop = QEventLoop()
    QTimer.singleShot(int((WARMUP_S + seconds) * 1000), loop.quit)
    start = time.perf_counter()
    loop.exec()
    ticker.stop()
    panel.mapShown.disconnect(on_shown)
    kept = [s for s in shown if s[0] >= start + WARMUP_S]
    if len(kept) < 2:
        return method, 0.0, float("nan"), float("nan"), float("nan"), float("nan")
    rate = (len(kept) - 1) / (kept[-1][0] - kept[0][0])
    latency = np.array([lat for _t, lat, _ms in kept]) * 1000.0
    stall = max(stalls[int(WARMUP_S * 1000 / TIMER_MS):], default=0.0) * 1000.0
    return (method, rate, float(np.percentile(latency, 50)), float(np.percentile(latency, 95)),
            stall, float(np.median([ms for _t, _lat, ms in kept])))


if __name__ == "__main__":
    sys.exit(main())
