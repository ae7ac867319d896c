"""Run folders in the user data folder: ``<data>/runs/<date-time>/``. Qt-free.

A run folder holds the engine's checkpoint (``model.json`` + ``.npz``, ``optimizer.npz``,
``trainer.json``, ``metrics.json``, written atomically after every epoch), the network it
started from (``start.json``), the class names beside the model (``model.labels.txt``, so the
Predictions panel names them) and ``run.json``: the plan and the run's status. A run whose
status is still "running" or "paused" when the window starts did not finish (the window was
closed or crashed): the Train workspace offers to resume it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from gui.session import data_dir

__all__ = ["RunInfo", "new_run", "read_run", "resume", "runs_dir", "set_status",
           "unfinished_run"]

RUN_FILE = "run.json"
UNFINISHED = ("running", "paused")


def runs_dir() -> Path:
    """Where training runs are kept."""
    return data_dir() / "runs"


@dataclass(frozen=True)
class RunInfo:
    """What ``run.json`` and ``trainer.json`` say about a run."""

    folder: Path
    plan: dict  # TrainPlan.to_dict()
    status: str
    classes: tuple[str, ...]
    step: int  # of the last checkpoint (0: none written yet)
    epoch: int

    @property
    def resumable(self) -> bool:
        return self.status in UNFINISHED and (self.folder / "trainer.json").is_file()


def _write_json(path: Path, data: dict) -> None:
    from engine.train.checkpoint import write_atomic

    write_atomic(path, (json.dumps(data, indent=1) + "\n").encode())


def new_run(plan, classes, start, root: Path | None = None) -> Path:
    """Make a fresh run folder for ``plan`` (a TrainPlan) starting from the network ``start``."""
    from engine.graph.spec import save_pipeline

    root = runs_dir() if root is None else Path(root)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder, n = root / stamp, 1
    while folder.exists():
        n += 1
        folder = root / f"{stamp}-{n}"
    folder.mkdir(parents=True)
    save_pipeline(start, folder / "start.json")
    (folder / "model.labels.txt").write_text("".join(f"{c}\n" for c in classes),
                                             encoding="utf-8")
    _write_json(folder / RUN_FILE, {"plan": plan.to_dict(), "status": "running",
                                    "classes": list(classes)})
    return folder


def set_status(folder: Path, status: str) -> None:
    """Record the run's status ("running", "paused", "finished", "stopped", "failed")."""
    path = Path(folder) / RUN_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if data.get("status") != status:
        data["status"] = status
        _write_json(path, data)


def read_run(folder: Path) -> RunInfo | None:
    """The run in ``folder``, or None when it has no readable ``run.json``."""
    folder = Path(folder)
    try:
        run = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
        plan, status = dict(run["plan"]), str(run["status"])
        classes = tuple(str(c) for c in run.get("classes", ()))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    step = epoch = 0
    try:
        state = json.loads((folder / "trainer.json").read_text(encoding="utf-8"))
        step, epoch = int(state["step"]), int(state["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return RunInfo(folder, plan, status, classes, step, epoch)


def unfinished_run(root: Path | None = None) -> RunInfo | None:
    """The newest run that did not finish and has a checkpoint to resume from, or None.

    Only the newest run counts: an older unfinished one was left behind on purpose.
    """
    root = runs_dir() if root is None else Path(root)
    if not root.is_dir():
        return None
    folders = sorted((p for p in root.iterdir() if p.is_dir() and (p / RUN_FILE).is_file()),
                     key=lambda p: p.name)
    if not folders:
        return None
    info = read_run(folders[-1])
    return info if info is not None and info.resumable else None


def resume(folder: Path, progress=None) -> tuple:
    """The run in ``folder`` ready to go on from its last checkpoint:
    ``(Prepared, TrainPlan, (data key, data set))``; ValueError (a DatasetError) when it cannot.
    """
    from engine.graph.spec import load_pipeline
    from engine.i18n import _
    from engine.train.checkpoint import read_checkpoint
    from engine.train.config import TrainConfig
    from gui.train.plan import Prepared, TrainPlan, data_key, load_data, prepare

    info = read_run(folder)
    if info is None or not info.resumable:
        raise ValueError(_("The run in {folder} cannot be resumed.").format(folder=folder))
    pipeline, optimizer, state, metrics = read_checkpoint(folder)
    plan = TrainPlan.from_dict(info.plan)
    plan = plan.replace(config=TrainConfig.from_dict(state["config"]))
    start = load_pipeline(Path(folder) / "start.json")
    data = load_data(plan, start, progress)
    ready = prepare(plan, start, data, network=pipeline)
    ready.trainer.restore(optimizer, state, metrics)
    return (Prepared(ready.trainer, ready.train, ready.val, start), plan,
            (data_key(plan, start), data))
