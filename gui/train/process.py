"""The training worker in a process of its own, so that training never holds the window's GIL.

Measured first (``benchmarks/train_window.py``): with the worker as a thread of the window's
process, every redraw of the Train panels (some 9,000 Python calls in pyqtgraph and the panels)
waited for the interpreter lock the trainer's Python code held, and the event loop stalled for
60-220 ms several times a second. In a child process (started with "spawn": no Qt, no copied
threads) the window's thread never waits for it. On two cores the trainer's two threads still
took the CPU from the window now and then (stalls of 50-150 ms on a loaded machine); the child
runs at a lower priority (nice 3), which costs nothing when the machine is otherwise idle and
keeps the window's turns short when it is not.

:class:`TrainProcess` has the interface of :class:`~gui.train.worker.TrainWorker` (``command``,
``latest``, ``has_commands``, ``shutdown``). The child runs a TrainWorker and relays: commands
down a pipe; each new snapshot up the pipe with only the curve points the window has not had yet
(and the validation pictures only when they change). The window drains the pipe and keeps the
newest snapshot, so what it shows can lag by one message at most, never by a queue. If the
window dies, the child sees the pipe close, saves a resumable checkpoint and ends.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing

from engine.i18n import _
from gui.train.snapshot import Snapshot

__all__ = ["TrainProcess"]

NICE = 3  # below the window's priority: it gets a core when it needs one (see above)
NICE_ENV = "CNN_EXPLORER_TRAIN_NICE"  # benchmarks/train_window.py measures other values
RELAY_S = 0.02  # how often the child looks for commands and new snapshots
JOIN_S = 15.0
_SAME = "same"  # placeholder for a value the window already has


def _serve(conn, persist: bool) -> None:
    """The child process: a TrainWorker thread and the relay loop."""
    import os

    import engine

    nice = int(os.environ.get(NICE_ENV, NICE))
    if nice and hasattr(os, "nice"):
        os.nice(nice)
    engine.configure()
    from gui.train.worker import TrainWorker

    worker = TrainWorker(persist)
    worker.start()
    seq = generation = handled = points = 0
    sent_val = sent_eval = None
    try:
        while True:
            if conn.poll(RELAY_S):
                name, args = conn.recv()
                if name == "shutdown":
                    break
                worker.command(name, *args)
            done = worker._handled  # first: the snapshot read next already shows their outcome
            s = worker.latest
            if s.seq != seq:
                seq = s.seq
                if s.generation != generation:
                    generation, points, sent_val, sent_eval = s.generation, 0, None, None
                new = s.curve[points:s.curve_len]
                points = s.curve_len
                val = _SAME if s.val is sent_val else s.val
                evaluation = _SAME if s.evaluation is sent_eval else s.evaluation
                sent_val, sent_eval = s.val, s.evaluation
                conn.send(("snapshot", dataclasses.replace(
                    s, curve=new, val=val, evaluation=evaluation)))
            if done != handled:  # sent after the snapshot that shows what they did
                handled = done
                conn.send(("handled", handled))
    except (EOFError, OSError):  # the window is gone: keep what can be resumed
        pass
    finally:
        worker.shutdown()
        with contextlib.suppress(OSError, ValueError):
            conn.send(("closed", None))
        conn.close()


class TrainProcess:
    """A training worker in a child process; read :attr:`latest` from one thread only."""

    def __init__(self, persist: bool = True) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, persist),
                                        name="cnn-explorer-train", daemon=True)
        self._child_end = child
        self._latest = Snapshot(0, 0, "idle")
        self._curve: list = []
        self._generation = 0
        self._val = self._evaluation = None
        self._sent = self._handled = 0
        self._started = self._stopping = False

    def start(self) -> None:
        self._process.start()
        self._started = True
        self._child_end.close()  # the child has its own copy

    def is_alive(self) -> bool:
        return self._process.is_alive()

    def command(self, name: str, *args) -> None:
        self._sent += 1
        self._conn.send((name, args))

    @property
    def has_commands(self) -> bool:
        """Commands sent whose outcome has not arrived yet."""
        self._drain()
        return self._handled != self._sent

    @property
    def latest(self) -> Snapshot:
        """The newest snapshot (all curve points so far in ``curve``)."""
        self._drain()
        return self._latest

    def _drain(self) -> None:
        try:
            while self._conn.poll():
                kind, value = self._conn.recv()
                if kind == "snapshot":
                    self._take(value)
                elif kind == "handled":
                    self._handled = value
        except (EOFError, OSError):
            pass
        if not self._stopping and not self._process.is_alive() and self._started:
            self._died()

    def _died(self) -> None:
        """The child ended without being asked (killed, out of memory): say so, once."""
        self._stopping, self._handled = True, self._sent
        code = self._process.exitcode
        self._latest = dataclasses.replace(
            self._latest, seq=self._latest.seq + 1, state="error",
            message=_("The training process ended unexpectedly (exit code {code}); the last"
                      " epoch's checkpoint can be resumed.").format(code=code))

    def _take(self, s: Snapshot) -> None:
        if s.generation != self._generation:
            self._generation, self._curve = s.generation, []
            self._val = self._evaluation = None
        self._curve.extend(s.curve)
        if s.val is not _SAME and not isinstance(s.val, str):
            self._val = s.val
        if not isinstance(s.evaluation, str):
            self._evaluation = s.evaluation
        self._latest = dataclasses.replace(s, curve=self._curve, curve_len=len(self._curve),
                                           val=self._val, evaluation=self._evaluation)

    def shutdown(self, timeout: float = JOIN_S) -> None:
        """Ask the child to stop (it saves a resumable checkpoint) and wait for it."""
        self._stopping = True
        if self._process.is_alive():
            with contextlib.suppress(OSError, ValueError):
                self._conn.send(("shutdown", ()))
            self._process.join(timeout)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout)
        self._conn.close()
