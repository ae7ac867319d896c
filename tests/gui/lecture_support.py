"""What the lecture-panel tests share: building a panel and finding a layer by name."""

from __future__ import annotations

from tests.gui.conftest import feed as feed  # re-exported for the lecture tests
from tests.gui.conftest import show_dock


def build(qtbot, cls, session, live):
    return show_dock(qtbot, cls(session, live), 800, 600)


def index_of(pipeline, name):
    return [n.name for n in pipeline.nodes].index(name)
