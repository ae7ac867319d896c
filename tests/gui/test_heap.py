"""gui/heap.py: the heap is settled (collected once, frozen) after the first frame, and again
after the first frame of a new pipeline."""

from __future__ import annotations

import gc

from engine.graph.pipeline import Pipeline
from engine.layers import ReLU
from gui.heap import HeapSettler
from tests.gui.conftest import make_result, publish


def test_the_heap_settles_after_the_first_frame_and_after_a_new_pipeline(qtbot, idle_live):
    session, live = idle_live()
    settler = HeapSettler(session, live)
    try:
        assert settler.settled == 0  # nothing before a frame is shown
        publish(live, make_result(session.pipeline))
        qtbot.waitUntil(lambda: settler.settled == 1, timeout=2000)
        assert gc.get_freeze_count() > 0  # start-up's objects are out of the collector's way
        publish(live, make_result(session.pipeline, seq=2))
        qtbot.wait(20)
        assert settler.settled == 1  # not for every frame
        session.set_pipeline(Pipeline.chain([ReLU()]))
        publish(live, make_result(session.pipeline, seq=3))
        qtbot.waitUntil(lambda: settler.settled == 2, timeout=2000)
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual
