"""What the lecture-panel tests share: feeding a result, the panels' environment."""

from __future__ import annotations

import pytest

from tests.gui.conftest import make_result, show_dock


def feed(live, result):
    """Hand a Result to LiveResults where the engine worker leaves it, then publish it (these
    docks also read ``live.latest``, which only this path sets)."""
    live.engine._result = result
    live.poll()


@pytest.fixture
def env(idle_live):
    session, live = idle_live()
    result = make_result(session.pipeline)
    feed(live, result)
    return session, live, result


def build(qtbot, cls, session, live):
    return show_dock(qtbot, cls(session, live), 800, 600)


def index_of(pipeline, name):
    return [n.name for n in pipeline.nodes].index(name)
