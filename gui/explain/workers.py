"""The Explain panel's threads: a live worker (latest wins) and a runner for long methods.

Neither touches Qt: the panel's timer reads their one-slot holders in the GUI thread.

- :class:`LiveWorker` takes the newest :class:`~gui.explain.jobs.Request` (a newer one
  overwrites an unread one: no queue grows) and overwrites its one-slot :attr:`latest` outcome.
- :class:`TaskRunner` runs one long job at a time (occlusion, SmoothGrad, maximization, top
  patches) in its own thread, with the newest progress in a one-slot holder and a stop flag
  that :meth:`TaskRunner.cancel` sets and the job's ``stop()`` callback reads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.explain import Cancelled
from gui.explain.jobs import Failure, Request, run_live, sentence

__all__ = ["JOIN_TIMEOUT_S", "LiveWorker", "TaskDone", "TaskRunner"]

JOIN_TIMEOUT_S = 5.0


class LiveWorker(threading.Thread):
    """Serves the newest request, one at a time; :attr:`latest` holds the newest outcome."""

    def __init__(self, compute: Callable[[Request], Any] = run_live) -> None:
        super().__init__(name="cnn-explorer-explain", daemon=True)
        self._compute = compute
        self._changed = threading.Condition()
        self._request: Request | None = None
        self._stopping = False
        self._latest: tuple[int, Any] | None = None  # (number, outcome)
        self._count = 0

    def submit(self, request: Request) -> None:
        """Ask for ``request``; an older one not started yet is dropped."""
        with self._changed:
            self._request = request
            self._changed.notify_all()

    @property
    def latest(self) -> tuple[int, Any] | None:
        """``(number, outcome)`` of the newest finished request (the number grows by one)."""
        with self._changed:
            return self._latest

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._request = None
            self._changed.notify_all()

    def run(self) -> None:
        while True:
            with self._changed:
                while not self._stopping and self._request is None:
                    self._changed.wait()
                if self._stopping:
                    return
                request, self._request = self._request, None
            try:
                outcome = self._compute(request)
            except Exception as exc:  # compute functions return failures; this is a last net
                outcome = Failure(request, sentence(exc))
            with self._changed:
                self._count += 1
                self._latest = (self._count, outcome)


@dataclass(frozen=True, eq=False)
class TaskDone:
    """How a long job ended: its result, or that it was cancelled, or why it failed."""

    job: int
    name: str
    result: Any = None
    cancelled: bool = False
    error: str | None = None


class TaskRunner:
    """Runs one long job at a time, each in a thread of its own.

    ``start(name, fn)`` calls ``fn(progress, stop)`` in a new thread: ``progress(value)``
    overwrites the one-slot progress, ``stop()`` says whether Cancel was pressed. Starting a new
    job cancels the one running (its late result is dropped). :meth:`take` returns the newest
    progress and, once, how the job ended.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._job = 0
        self._name = ""
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._progress: Any = None
        self._done: TaskDone | None = None

    @property
    def running(self) -> str:
        """The name of the job running now, or ""."""
        with self._lock:
            return self._name

    def start(self, name: str, fn: Callable[[Callable, Callable], Any]) -> int:
        """Run ``fn(progress, stop)`` in a new thread; returns the job's number."""
        self.cancel()
        with self._lock:
            self._job += 1
            job, stop = self._job, threading.Event()
            self._stop, self._name, self._progress, self._done = stop, name, None, None
        thread = threading.Thread(target=self._run, args=(job, name, fn, stop),
                                  name="cnn-explorer-explain-task", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return job

    def cancel(self) -> None:
        """Ask the running job to stop (it ends at its next check)."""
        self._stop.set()

    def take(self) -> tuple[Any, TaskDone | None]:
        """``(newest progress or None, how the job ended or None)``; each is returned once."""
        with self._lock:
            progress, self._progress = self._progress, None
            done, self._done = self._done, None
            return progress, done

    def shutdown(self, timeout: float = JOIN_TIMEOUT_S) -> None:
        """Cancel the running job and wait for every job thread to end."""
        self.cancel()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = [t for t in self._threads if t.is_alive()]

    def _run(self, job: int, name: str, fn, stop: threading.Event) -> None:
        def progress(*value) -> None:
            with self._lock:
                if job == self._job:
                    self._progress = value if len(value) != 1 else value[0]

        try:
            result = fn(progress, stop.is_set)
            done = TaskDone(job, name, result, cancelled=stop.is_set())
        except Cancelled:
            done = TaskDone(job, name, cancelled=True)
        except Exception as exc:  # a message, never a dead thread
            done = TaskDone(job, name, error=sentence(exc))
        with self._lock:
            if job == self._job:
                self._done, self._name = done, ""
