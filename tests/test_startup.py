"""Start-up loads only what the first window needs: no ONNX, no training code (the parser lists
`train` without loading it), no hidden panel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("onnx", "onnxruntime", "torch", "training", "tqdm", "engine.train.trainer",
         "engine.train.optim", "engine.train.dataset", "engine.train.run")

CHILD = """
import json, sys
import main
main.build_parser()  # lists every subcommand, train and evaluate too
from gui.app import _application
from gui.live import LiveResults
from gui.main_window import MainWindow
from gui.session import Session

app = _application()
session = Session()
live = LiveResults(session, start=False)
window = MainWindow(session, live, persist=False)
built = sorted(k for k, d in window.docks.items() if getattr(d, "is_built", True))
live.stop()
print(json.dumps({"modules": sorted(m for m in HEAVY if m in sys.modules), "built": built}))
""".replace("HEAVY", repr(HEAVY))


def test_the_window_opens_without_onnx_training_or_hidden_panels(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CNN_EXPLORER_CONFIG_DIR": str(tmp_path),
           "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    found = json.loads(out.strip().splitlines()[-1])
    assert found["modules"] == []
    assert found["built"] == ["kernels", "ledger", "maps", "pipeline", "source", "stepper"]
