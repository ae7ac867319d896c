"""What the pipeline-editor tests share: a fake live loop and the dock as built in tests."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from gui.docks.pipeline_editor import PipelineDock


class FakeResult:
    """Only what the dock reads from a live Result: the input array."""

    def __init__(self, shape):
        self.input = np.zeros(shape, np.float32)


class FakeLive(QObject):
    """LiveResults' contract without threads: ``latest`` and ``resultUpdated``."""

    resultUpdated = Signal(object)

    def __init__(self, shape=None):
        super().__init__()
        self.latest = FakeResult(shape) if shape is not None else None

    def push(self, shape):
        self.latest = FakeResult(shape)
        self.resultUpdated.emit(self.latest)


def types(pipeline):
    return [node.layer.type_name for node in pipeline.nodes]


def make_dock(qtbot, session, live):
    dock = PipelineDock(session, live)
    qtbot.addWidget(dock)
    dock.resize(400, 700)
    return dock
