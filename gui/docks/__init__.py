"""The dock registry: every panel of the main window, declared once as data.

A new panel is one more line in :data:`DOCKS`. Each factory is a ``"module:Class"`` string,
imported only when the window is built, for a ``QWidget`` subclass constructed as
``Class(session, live, parent=None)``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

AREAS = ("left", "right", "top", "bottom")


@dataclass(frozen=True)
class DockSpec:
    """One panel: its key (also its saved-layout name), title, default area and factory."""

    key: str
    title: str
    area: str  # "left" | "right" | "top" | "bottom"
    factory: str  # "package.module:ClassName"
    tooltip: str
    shortcut: str = ""  # toggles the panel from the View menu

    def load(self) -> type:
        """Import and return the dock's widget class."""
        module_name, _, class_name = self.factory.partition(":")
        return getattr(importlib.import_module(module_name), class_name)


DOCKS: tuple[DockSpec, ...] = (
    DockSpec(
        "source", "Input", "left", "gui.docks.source:SourceDock",
        "The frame that enters the network, and on request its R, G, B and gray channels",
        "Ctrl+1",
    ),
    DockSpec(
        "maps", "Activation maps", "left", "gui.docks.maps:MapsDock",
        "Every map of the selected layer; hover for values, click a map to enlarge it",
        "Ctrl+2",
    ),
    DockSpec(
        "pipeline", "Pipeline", "right", "gui.docks.pipeline_editor:PipelineDock",
        "The layers of the network: add, remove, reorder and edit them",
        "Ctrl+3",
    ),
    DockSpec(
        "kernels", "Kernels", "right", "gui.docks.kernels:KernelsDock",
        "The filters of the selected convolution layer; edit a weight and watch the maps change",
        "Ctrl+4",
    ),
    DockSpec(
        "stepper", "Layer by layer", "top", "gui.docks.stepper:StepperDock",
        "Every layer with its output shape; step through them and compare input and output",
        "Ctrl+5",
    ),
    DockSpec(
        "ledger", "Ledger", "bottom", "gui.docks.ledger:LedgerDock",
        "Output size, parameters, multiply-adds, memory and time of every layer",
        "Ctrl+6",
    ),
)


def dock_spec(key: str, docks: tuple[DockSpec, ...] = DOCKS) -> DockSpec:
    """Return the registered dock called ``key``."""
    for spec in docks:
        if spec.key == key:
            return spec
    raise KeyError(f"no dock called {key!r}; known: {', '.join(s.key for s in docks)}")
