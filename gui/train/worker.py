"""The training thread: runs the engine's Trainer and publishes one latest Snapshot. Qt-free.

Commands (prepare, run, pause, step, epoch, stop, reset, resume) are taken between two steps,
so a pause or a stop never cuts an update in half. While running, a
:class:`~gui.train.snapshot.Snapshot` goes into a one-slot holder four times a second, and at
once after every command and epoch. Every epoch writes the run's checkpoint (atomically).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

import numpy as np

from engine.i18n import _
from gui.train import runs
from gui.train.plan import Prepared, TrainPlan, data_key, load_data, prepare
from gui.train.snapshot import Snapshot, first_conv, training_snapshot

__all__ = ["PUBLISH_S", "TrainWorker"]

PUBLISH_S = 0.25  # while running: a snapshot at most this often
RATE_WINDOW_S = 3.0  # steps per second over the last few seconds
ACTIVE = ("ready", "running", "paused")  # a run that can go on


class _Cancelled(Exception):  # the window closed while data was being read
    pass


class TrainWorker(threading.Thread):
    """The thread that trains: start it, send commands, read :attr:`latest`, :meth:`shutdown`.

    ``persist`` keeps run folders (resumable) in the user data folder; False puts them in a
    temporary folder removed at :meth:`shutdown` (screenshot runs keep nothing)."""

    def __init__(self, persist: bool = True) -> None:
        super().__init__(name="cnn-explorer-train", daemon=True)
        self.persist = persist
        self._wake = threading.Condition()
        self._commands: deque[tuple] = deque()
        self._sent = self._handled = 0  # commands sent, and handled with their outcome published
        self._stopping = False
        self._slot_lock = threading.Lock()
        self._latest = Snapshot(0, 0, "idle")
        self._scratch = None if persist else Path(tempfile.mkdtemp(prefix="cnn-explorer-run-"))
        # Below: the thread's own state, never touched by the window.
        self.state, self.message = "idle", ""
        self.prepared: Prepared | None = None
        self.plan, self.run_folder = None, None  # TrainPlan, Path
        self._seq = self._generation = 0
        self._data: tuple | None = None  # (key, dataset): reused while the data do not change
        self._epoch_filters: tuple = ()
        self._max_steps: int | None = None
        self._rates: deque[tuple[float, int]] = deque()
        self._published = 0.0

    # -- the window's side ------------------------------------------------------------------
    @property
    def latest(self) -> Snapshot:
        with self._slot_lock:  # the newest snapshot, from any thread
            return self._latest

    @property
    def has_commands(self) -> bool:
        """Commands sent whose outcome is not published yet."""
        return self._handled != self._sent

    def command(self, name: str, *args) -> None:
        """Queue a command; the thread takes it before its next step."""
        with self._wake:
            self._commands.append((name, *args))
            self._sent += 1
            self._wake.notify_all()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop after the current step (saving a resumable checkpoint) and join the thread."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self.is_alive():
            self.join(timeout)
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    # -- the thread ---------------------------------------------------------------------------
    def run(self) -> None:
        try:
            while True:
                with self._wake:
                    while not (self._commands or self._stopping or self.state == "running"):
                        self._wake.wait()
                    if self._stopping:
                        break
                    command = self._commands.popleft() if self._commands else None
                if command is not None:
                    self._handle(*command)
                else:
                    self._step_once()
        finally:
            self._leave()

    def _handle(self, name: str, *args) -> None:
        try:
            getattr(self, f"_do_{name}")(*args)
        except _Cancelled:
            self._handled += 1
            return
        except Exception as error:  # every failure becomes a message in the window
            self._fail(str(error) or type(error).__name__)
        self._publish()
        self._handled += 1

    def _fail(self, text: str) -> None:
        self.state, self.message = "error", text
        if self.run_folder is not None:
            runs.set_status(self.run_folder, "failed")

    @property
    def trainer(self):
        return self.prepared.trainer if self.prepared is not None else None

    # -- commands -------------------------------------------------------------------------------
    def _do_prepare(self, plan: TrainPlan, current=None) -> None:
        self._end_run("stopped")
        self.prepared, self.plan, self.run_folder = None, plan, None
        self.state, self.message, self._generation = "preparing", "", self._generation + 1
        self._publish()
        key = data_key(plan, current)
        if self._data is None or self._data[0] != key:
            self._data = None  # the old data go before the new are read
            self._data = (key, load_data(plan, current, self._progress))
        self._start(prepare(plan, current, self._data[1]), plan)

    def _start(self, prepared: Prepared, plan: TrainPlan, folder: Path | None = None) -> None:
        trainer = prepared.trainer
        trainer.subscribe(self._on_event)
        self.prepared, self.plan = prepared, plan
        if folder is None:
            folder = runs.new_run(plan, trainer.train_data.class_names, prepared.start,
                                  self._scratch)
        self.run_folder = folder
        filters = self._filters()
        self._epoch_filters = () if filters is None else ((trainer.epoch, trainer.step_count,
                                                           filters),)
        self.state, self._max_steps = "ready", None

    def _do_resume(self, folder: Path) -> None:
        self._end_run("stopped")
        self.state, self._generation = "preparing", self._generation + 1
        self._publish()
        prepared, plan, self._data = runs.resume(folder, self._progress)
        self._start(prepared, plan, Path(folder))
        self.state = "paused"
        self.message = _("Resumed at step {step}, epoch {epoch}.").format(
            step=prepared.trainer.step_count, epoch=prepared.trainer.epoch + 1)

    def _can_go_on(self) -> bool:  # a run that is not finished
        return self.trainer is not None and self.state in ACTIVE and not self.trainer.done

    def _do_run(self, max_steps: int | None = None) -> None:
        if not self._can_go_on():
            return
        self._max_steps = None if max_steps is None else self.trainer.step_count + max_steps
        self.state, self.message = "running", ""
        self._rates.clear()
        runs.set_status(self.run_folder, "running")

    def _do_pause(self) -> None:
        if self.state == "running":
            self.state = "paused"
            runs.set_status(self.run_folder, "paused")

    def _do_step(self) -> None:
        if self._can_go_on():
            self.state = "paused"
            self._step_once(force=True)

    def _do_epoch(self) -> None:
        if not self._can_go_on():
            return
        trainer, epoch, self.state = self.trainer, self.trainer.epoch, "running"
        while trainer.epoch == epoch and self.state == "running":
            self._step_once()
            with self._wake:
                if self._commands or self._stopping:
                    break  # a pause or stop pressed meanwhile wins
        if self.state == "running":
            self.state = "paused"

    def _do_stop(self) -> None:
        if self.trainer is not None and self.state in ACTIVE:
            self._save()
            self._end_run("stopped")
            self.state, self.message = "stopped", ""

    def _do_reset(self) -> None:
        self._end_run("stopped")
        self.prepared, self.run_folder, self._epoch_filters = None, None, ()
        self.state, self.message, self._generation = "idle", "", self._generation + 1

    # -- stepping -------------------------------------------------------------------------------
    def _step_once(self, force: bool = False) -> None:
        from engine.train.trainer import TrainingError

        trainer = self.trainer
        try:
            trainer.step()
        except TrainingError as error:
            self._save()  # the weights from before the failed step
            self._fail(str(error))
            self._publish()
            return
        except Exception as error:  # anything else: a message, never a dead thread
            self._fail(_("Training stopped at step {step}: {reason}").format(
                step=trainer.step_count + 1, reason=error))
            self._publish()
            return
        now = time.perf_counter()
        self._rates.append((now, trainer.step_count))
        while now - self._rates[0][0] > RATE_WINDOW_S:
            self._rates.popleft()
        if trainer.done:
            self._end_run("finished")
            self.state = "done"
            self.message = _("Training finished: {epochs} epochs, {steps} steps.").format(
                epochs=trainer.epoch, steps=trainer.step_count)
        elif self._max_steps is not None and trainer.step_count >= self._max_steps:
            self.state, self._max_steps = "paused", None
            runs.set_status(self.run_folder, "paused")
        if force or self.state != "running" or now - self._published >= PUBLISH_S:
            self._publish()

    def _on_event(self, event) -> None:
        from engine.train.trainer import EpochMetrics

        if isinstance(event, EpochMetrics):
            self._save()
            filters, t = self._filters(), self.trainer
            if filters is not None:
                self._epoch_filters += ((t.epoch, t.step_count, filters),)
            self._published = 0.0  # show the epoch's scores at once

    def _save(self) -> None:
        from engine.train.run import save_checkpoint

        if self.trainer is not None and self.run_folder is not None:
            save_checkpoint(self.trainer, self.run_folder)

    def _end_run(self, status: str) -> None:
        if self.run_folder is not None and self.state in ACTIVE:
            runs.set_status(self.run_folder, status)

    def _leave(self) -> None:
        """The window closes: a run that can go on keeps a checkpoint to resume from."""
        if self.trainer is not None and self.state in ("running", "paused"):
            with contextlib.suppress(OSError, ValueError):
                self._save()
                runs.set_status(self.run_folder, "paused")
        self.state = "closed"

    def _progress(self, done: int, total: int) -> None:
        if self._stopping:
            raise _Cancelled
        now = time.perf_counter()
        if now - self._published >= PUBLISH_S or done == total:
            self._publish(progress=(done, total))

    # -- publishing -----------------------------------------------------------------------------
    def _filters(self) -> np.ndarray | None:
        if self.prepared is None:
            return None
        name = first_conv(self.prepared.start)
        return None if name is None else self.trainer.params[f"{name}.weight"].copy()

    def _publish(self, progress: tuple[int, int] | None = None) -> None:
        self._seq += 1
        self._published = time.perf_counter()
        trainer = self.trainer
        base = {"seq": self._seq, "generation": self._generation, "state": self.state,
                "message": self.message, "progress": progress, "plan": self.plan,
                "run_folder": self.run_folder}
        if trainer is None:
            snapshot = Snapshot(**base)
        else:
            rate = 0.0  # of the latest stretch of running (kept while paused)
            if len(self._rates) > 1:
                (t0, s0), (t1, s1) = self._rates[0], self._rates[-1]
                rate = (s1 - s0) / max(t1 - t0, 1e-9)
            snapshot = training_snapshot(
                base, trainer, self.prepared.val, self._filters(), rate=rate,
                epoch_filters=self._epoch_filters, max_steps=self._max_steps)
        with self._slot_lock:
            self._latest = snapshot
