"""Importing the engine and calling its ops leaves the process as it was; configure() opts in.

Each check runs in a fresh interpreter: the test process itself has long since imported
everything, and an earlier test may have called ``engine.configure``.
"""

import json
import subprocess
import sys
import textwrap

SNAPSHOT = """
import json, os, sys, threading
import numpy as np
from threadpoolctl import threadpool_info

def blas():
    return sorted((i["internal_api"], i["num_threads"]) for i in threadpool_info())

def snapshot():
    return {"env": dict(os.environ), "blas": blas(), "threads": threading.active_count()}
"""


def _run(body: str) -> dict:
    code = SNAPSHOT + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_and_large_ops_change_nothing_outside_the_engine():
    out = _run("""
        before = snapshot()
        import engine
        rng = np.random.default_rng(0)
        x = rng.standard_normal((1, 16, 256, 256), dtype=np.float32)
        w = rng.standard_normal((32, 16, 3, 3), dtype=np.float32)
        y = engine.conv2d(x, w, padding=1)            # a large op: 1.2 G multiply-adds
        engine.max_pool2d(engine.relu(y), 2)
        engine.conv2d(x, w[:, :1].repeat(16, 0)[:16], groups=16, padding=1)  # depthwise
        heavy = [m for m in ("cv2", "onnx", "PySide6", "pyqtgraph") if m in sys.modules]
        print(json.dumps({"before": before, "after": snapshot(), "heavy": heavy}))
    """)
    assert out["after"]["env"] == out["before"]["env"]
    assert out["after"]["blas"] == out["before"]["blas"]
    assert out["after"]["threads"] == out["before"]["threads"]  # no pool was started
    assert out["heavy"] == []  # OpenCV, onnx and Qt load only when a function needs them


def test_configure_is_the_explicit_opt_in():
    out = _run("""
        import cv2  # configure() silences OpenCV; cv2's own loader edits LD_LIBRARY_PATH
        import engine
        before = snapshot()
        config = engine.configure(threads=2)
        rng = np.random.default_rng(0)
        x = rng.standard_normal((1, 16, 256, 256), dtype=np.float32)
        engine.conv2d(x, rng.standard_normal((32, 16, 3, 3), dtype=np.float32), padding=1)
        print(json.dumps({"before": before, "after": snapshot(), "threads": config.threads,
                          "engine_threads": engine.ops.get_num_threads(),
                          "blas_set": config.blas_single_thread}))
    """)
    assert out["threads"] == out["engine_threads"] == 2
    assert out["blas_set"] is True
    assert all(n == 1 for _, n in out["after"]["blas"])
    assert out["after"]["env"] == out["before"]["env"]  # settings through calls, not variables
