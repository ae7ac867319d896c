"""Worker threads a few steps nicer than the GUI thread, and the engine's pool threads following
the thread whose work they do (engine.config.background_thread, engine.ops._parallel)."""

import sys
import threading

import pytest

from engine.config import background_thread
from engine.ops import _parallel

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="a niceness per thread is Linux's")


@pytest.fixture
def fresh_pool():
    """Two engine threads on a pool of their own, shut down afterwards (its thread is niced)."""
    before = _parallel.thread_count()
    _parallel.set_thread_count(1)  # drops any existing pool
    _parallel.set_thread_count(2)
    yield
    _parallel.set_thread_count(1)
    _parallel.set_thread_count(before)


def _in_thread(fn):
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("value", fn()))
    t.start()
    t.join()
    return out["value"]


def test_background_thread_lowers_only_the_calling_thread():
    main_before = _parallel.niceness()

    def worker():
        start = _parallel.niceness()
        lowered = background_thread(3)
        return start, lowered, _parallel.niceness()

    start, lowered, after = _in_thread(worker)
    assert lowered and after == min(19, start + 3)
    assert _parallel.niceness() == main_before  # the caller of the test is untouched


def test_pool_threads_do_a_background_threads_work_at_its_priority(fresh_pool):
    seen = {}

    def fn(item):
        seen.setdefault(threading.get_native_id(), set()).add(_parallel.niceness())
        sum(range(20000))  # long enough that the pool thread takes items too

    def worker():
        background_thread(4)
        mine = _parallel.niceness()
        _parallel.run(list(range(64)), fn, _parallel._THREAD_MIN_WORK * 4)
        return mine, threading.get_native_id()

    mine, caller = _in_thread(worker)
    assert len(seen) == 2, "both threads took items"
    pool = next(ids for tid, ids in seen.items() if tid != caller)
    assert pool == {mine}


def test_a_pool_thread_never_goes_back_up(fresh_pool):
    """After background work, work from a normal thread leaves the pool thread where it was."""
    levels = []

    def record(item):
        levels.append((threading.get_native_id(), _parallel.niceness()))
        sum(range(20000))

    def background():
        background_thread(2)
        _parallel.run(list(range(32)), record, _parallel._THREAD_MIN_WORK * 4)
        return _parallel.niceness()

    low = _in_thread(background)
    levels.clear()
    _parallel.run(list(range(32)), record, _parallel._THREAD_MIN_WORK * 4)
    me = threading.get_native_id()
    assert {n for tid, n in levels if tid != me} <= {low}
