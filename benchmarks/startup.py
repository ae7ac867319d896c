"""Start-up time: from launching ``cnn-explorer`` to the first processed frame on screen.

Each run is a new Python process doing what ``python main.py --fresh`` does (same imports, same
window, the bundled photograph through the default network) until the first result reaches the
window; then it closes. The first run warms the disk cache and is not counted ("warm" start).
The parent stamps each stage with the system-wide monotonic clock, so the time includes the
interpreter's own start.

    python -m benchmarks.startup                 # 5 warm runs, offscreen unless a display is set
    python -m benchmarks.startup --runs 9 --profile   # also: the slowest imports of one run
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("python", "imported", "window", "frame")
LIMIT_S = 1.0  # the goal: the first frame within a second, on 2 cores

# Runs in the child: main.main() as the command line does, with the event loop replaced by one
# that reports the first frame and closes the window.
CHILD = r"""
import sys, time
print("stage python", time.monotonic(), flush=True)
sys.argv = ["cnn-explorer", "--fresh"]
import main
import gui.app

print("stage imported", time.monotonic(), flush=True)


def first_frame_then_close(app):
    from gui.main_window import MainWindow
    print("stage window", time.monotonic(), flush=True)
    window = next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))
    gui.app.wait_for_result(window.live)
    print("stage frame", time.monotonic(), flush=True)
    window.close()
    return 0


gui.app.main_loop = first_frame_then_close
sys.exit(main.main(["--fresh"]))
"""


def child_env(config: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["CNN_EXPLORER_CONFIG_DIR"] = str(config)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if not env.get("QT_QPA_PLATFORM") and not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def one_run(config: Path, profile: bool = False) -> tuple[dict[str, float], str]:
    """Launch one app process; returns seconds from launch to each stage, and stderr."""
    cmd = [sys.executable, *(["-X", "importtime"] if profile else []), "-c", CHILD]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=child_env(config), capture_output=True, text=True,
                          timeout=120, check=False)
    stamps = {}
    for line in proc.stdout.splitlines():
        if line.startswith("stage "):
            _, name, value = line.split()
            stamps[name] = float(value) - start
    if proc.returncode != 0 or "frame" not in stamps:
        raise SystemExit(f"the app did not reach its first frame:\n{proc.stderr[-2000:]}")
    return stamps, proc.stderr


def slowest_imports(stderr: str, n: int = 15) -> list[tuple[int, str]]:
    """The top-level packages with the largest cumulative import time, in microseconds."""
    rows = []
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = line.split("|")
            if not name.startswith("  ") and cumulative.strip().isdigit():
                rows.append((int(cumulative), name.strip()))
    return sorted(rows, reverse=True)[:n]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="warm runs to time (default 5)")
    parser.add_argument("--profile", action="store_true", help="show the slowest imports")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp)
        # A returning user: the welcome window was seen on an earlier start.
        (config / "settings.ini").write_text("[welcome]\nseen=true\n")
        one_run(config)  # warm-up: disk cache, bytecode
        runs = [one_run(config)[0] for _ in range(args.runs)]
        profile = one_run(config, profile=True)[1] if args.profile else ""
    platform = child_env(Path()).get("QT_QPA_PLATFORM") or "xcb (DISPLAY)"
    print(f"start-up to the first processed frame, {args.runs} warm runs, "
          f"{os.cpu_count()} cores, Qt platform {platform}")
    print(f"{'stage':<10}{'median s':>10}{'min s':>8}{'max s':>8}")
    for stage in STAGES:
        values = [r[stage] for r in runs]
        print(f"{stage:<10}{statistics.median(values):>10.3f}{min(values):>8.3f}"
              f"{max(values):>8.3f}")
    median = statistics.median(r["frame"] for r in runs)
    verdict = "within" if median < LIMIT_S else "OVER"
    print(f"first frame after {median:.3f} s (median): {verdict} the {LIMIT_S:.1f} s goal")
    if profile:
        print("\nslowest top-level imports (cumulative ms):")
        for micros, name in slowest_imports(profile):
            print(f"  {micros / 1000:8.1f}  {name}")
    return 0 if median < LIMIT_S else 1


if __name__ == "__main__":
    sys.exit(main())
