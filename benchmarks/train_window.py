"""Training in the window: the GUI's longest stall and the steps per second, against the
command line's training loop on the same data, network and settings.

The window runs the Train workspace as a user sees it (curves, filters, maps, histograms and the
confusion matrix all redrawn from the worker's snapshots); a 5 ms timer measures how late the
event loop answers, as ``benchmarks/live.py`` does. The command line's loop is
:func:`engine.train.run.train_and_save` (what ``cnn-explorer train`` runs, checkpoints included)
in this process without a window. The two alternate, ``--rounds`` times each, because the
machine is shared. Targets: no stall over 50 ms; the window at >= 80% of the CLI's steps/s.

    QT_QPA_PLATFORM=offscreen python -m benchmarks.train_window [--samples 4000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

WARMUP_S = 1.5
TIMER_MS = 5


def plan_for(samples: int, epochs: int):
    from engine.train.config import TrainConfig
    from gui.train.plan import TrainPlan

    return TrainPlan(data="shapes", samples=samples, network="small",
                     config=TrainConfig(epochs=epochs, batch_size=64, lr=2e-3))


def cli_rate(plan, data, folder: Path) -> float:
    """Steps per second of the command line's loop (train_and_save), first step left out."""
    from engine.train.run import train_and_save
    from engine.train.trainer import StepMetrics
    from gui.train.plan import prepare

    trainer = prepare(plan, data=data).trainer
    times: list[float] = []
    trainer.subscribe(lambda e: times.append(time.perf_counter())
                      if isinstance(e, StepMetrics) else None)
    train_and_save(trainer, folder)
    return (len(times) - 1) / (times[-1] - times[0])


def window_run(window, plan) -> tuple[float, float]:
    """Train ``plan`` in the shown window; (steps per second, longest stall in ms)."""
    from PySide6.QtCore import QEventLoop, QTimer

    from gui.train.controller import controller_for

    c = controller_for(window.session, window.live)
    c.reset()
    c.set_plan(data=plan.data, samples=plan.samples, network=plan.network, config=plan.config)
    seen: list[tuple[float, int]] = []
    c.snapshotUpdated.connect(lambda s: seen.append((time.perf_counter(), s.step))
                              if s.state == "running" else None)
    stalls: list[tuple[float, float]] = []
    last = [time.perf_counter()]

    def on_tick() -> None:
        now = time.perf_counter()
        stalls.append((now, now - last[0] - TIMER_MS / 1000.0))
        last[0] = now

    ticker = QTimer()
    ticker.setInterval(TIMER_MS)
    ticker.timeout.connect(on_tick)
    ticker.start()
    c.start()
    loop = QEventLoop()
    while c.state != "done" or c.pending:
        QTimer.singleShot(50, loop.quit)
        loop.exec()
    ticker.stop()
    running = [(t, s) for t, s in seen if s >= 1]
    (t0, s0), (t1, s1) = running[0], running[-1]
    start = t0 + WARMUP_S
    lags = [lag * 1000.0 for t, lag in stalls if start <= t <= t1]
    return (s1 - s0) / (t1 - t0), lags


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=4000, help="drawn shapes (default 4000)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per run (default 2)")
    parser.add_argument("--rounds", type=int, default=2, help="CLI/window pairs (default 2)")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cnn-explorer-bench-") as folder:
        os.environ["CNN_EXPLORER_CONFIG_DIR"] = folder  # never touch the user's saved state
        return run(Path(folder), opts)


def run(tmp: Path, opts) -> int:
    import engine
    from benchmarks.machine import cpu_model
    from gui.app import _application, wait_for_result
    from gui.live import LiveResults
    from gui.main_window import MainWindow
    from gui.session import Session
    from gui.train.controller import set_persist
    from gui.train.plan import load_data

    engine.configure()
    app = _application()
    plan = plan_for(opts.samples, opts.epochs)
    data = load_data(plan)
    session = Session()
    set_persist(session, False)
    live = LiveResults(session)
    window = MainWindow(session, live, persist=False)
    window.show()
    window.show_workspace("train")
    wait_for_result(live)
    cli, gui, stalls = [], [], []
    try:
        for i in range(opts.rounds):
            cli.append(cli_rate(plan, data, tmp / f"cli{i}"))
            rate, lags = window_run(window, plan)
            gui.append(rate)
            stalls += lags
            print(f"round {i + 1}: CLI {cli[-1]:.2f} steps/s, window {rate:.2f} steps/s,"
                  f" longest stall {max(lags):.1f} ms, {sum(x > 50 for x in lags)} of"
                  f" {len(lags)} ticks late by more than 50 ms", flush=True)
    finally:
        window.close()
        app.processEvents()
    steps = plan.config.epochs * -(-int(len(data) * 0.9) // plan.config.batch_size)
    print(f"\n{opts.samples} drawn shapes at 64x64, the small network (shapes classifier's"
          f" layers), batch 64, {plan.config.epochs} epochs (~{steps} steps) per run;"
          f" {cpu_model()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print("| measure | value | target |")
    print("| --- | --- | --- |")
    print(f"| CLI steps/s (median of {opts.rounds}) | {statistics.median(cli):.2f} | |")
    print(f"| window steps/s (median) | {statistics.median(gui):.2f} | |")
    ratio = statistics.median(g / c for g, c in zip(gui, cli, strict=True))
    print(f"| window / CLI (median of the pairs) | {ratio:.0%} | >= 80% |")
    print(f"| longest event-loop stall while training (ms) | {max(stalls):.1f} | <= 50 |")
    print(f"| 99th percentile of the 5 ms timer's lateness (ms) | "
          f"{np.percentile(stalls, 99):.1f} | |")
    print(f"| ticks more than 50 ms late | {sum(x > 50 for x in stalls)} of {len(stalls)} | 0 |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
