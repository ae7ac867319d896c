"""Running a hostile case: the command line in this process (file descriptors captured, so that
a C library writing to stderr is seen too), the Python API, or a child process with a capped
address space for the memory bombs."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import main

ROOT = Path(__file__).resolve().parents[2]
CAP_ABOVE_BASELINE = 3 << 29  # 1.5 GiB of address space above what the child maps at start
PEAK_ALLOWED = 300 << 20  # a refused bomb may not grow the child's resident memory by more


@dataclass(frozen=True)
class Case:
    """One hostile input: ``make(tmp_path)`` writes its files and returns the command line's
    arguments and the Python API call; both must fail with ``error`` saying ``fragment``."""

    id: str
    make: Callable[[Path], tuple[list[str], Callable[[], Any]]]
    fragment: str
    error: type[BaseException] = ValueError


def params(cases: list[Case]):
    import pytest

    return [pytest.param(case, id=case.id) for case in cases]


@contextlib.contextmanager
def deadline(seconds: float = 10.0):
    """Fail instead of hanging: opening a FIFO blocks until a writer comes, which never does."""

    def expire(*_args):
        raise TimeoutError(f"still running after {seconds} s: the input made it hang")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_cli(capfd, argv: list[str]) -> tuple[int, str, str]:
    """``main.main(argv)`` in this process; stdout and stderr read at the descriptor level."""
    capfd.readouterr()
    with deadline():
        try:
            code = main.main(list(argv))
        except SystemExit as exc:  # argparse's own errors
            code = exc.code
    out, err = capfd.readouterr()
    return code, out, err


def assert_one_line(code: int, err: str, fragment: str) -> str:
    """Exit code 2 and exactly one line on stderr, the app's, saying ``fragment``."""
    lines = err.splitlines()
    assert code == 2, err
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{err}"
    assert lines[0].startswith("cnn-explorer: error: "), lines[0]
    assert fragment in lines[0], lines[0]
    assert "\x1b" not in lines[0] and "Traceback" not in err
    return lines[0]


def assert_api(call: Callable[[], Any], error: type[BaseException], fragment: str) -> None:
    with deadline():
        try:
            call()
        except error as exc:
            message = str(exc)
        else:
            raise AssertionError(f"no {error.__name__} raised")
    assert fragment in message, message


_CHILD = """
import json, resource, sys
import main
code = main.main(json.loads(sys.argv[1]))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
sys.stdout.write("\\nPEAK " + str(peak) + "\\n")
sys.exit(code)
"""

_BASELINE = """
import resource, sys
import main, engine.resolve, engine.io.media, engine.onnx.importer
vm = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
print(vm, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def child_baseline() -> tuple[int, int]:
    """(address space, resident peak) of a fresh child that imported the app, in bytes."""
    done = subprocess.run([sys.executable, "-c", _BASELINE], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    vm, rss = done.stdout.split()
    return int(vm), int(rss)


def run_capped(argv: list[str], baseline: tuple[int, int], env: dict | None = None,
               ) -> tuple[int, str, int]:
    """Run the command line in a child whose address space is capped 1.5 GiB above its start.

    Returns the exit code, stderr and how far the child's resident memory grew over the
    baseline's (bytes).
    """
    cap = baseline[0] + CAP_ABOVE_BASELINE

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    environment = dict(os.environ)
    environment.pop("CNN_EXPLORER_MEMORY_BUDGET", None)  # the cap alone sets the budget
    environment.update(env or {})
    done = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(argv)], cwd=ROOT,
                          capture_output=True, text=True, preexec_fn=limit, timeout=60,
                          env=environment)
    peak = next((int(line.split()[1]) for line in done.stdout.splitlines()
                 if line.startswith("PEAK ")), 1 << 62)
    return done.returncode, done.stderr, peak - baseline[1]
