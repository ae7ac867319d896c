"""Workspaces: View > Workspaces > Explore, Lecture, Train switch which panels are shown.

A workspace is data (:data:`gui.layout.WORKSPACES`): its panels column by column. Applying
one hides every other panel and lays its own out at the sizes it names; Explore is the default
layout (:meth:`gui.main_window.MainWindow.apply_default_layout`), unchanged.
"""

from __future__ import annotations

from itertools import pairwise

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QMainWindow

from gui.layout import WorkspaceSpec, workspace_spec

__all__ = ["apply_workspace", "current_workspace", "size_workspace"]


def apply_workspace(window: QMainWindow, key: str) -> WorkspaceSpec:
    """Show workspace ``key`` in ``window`` (a MainWindow: its ``docks`` by key)."""
    spec = workspace_spec(key)
    if not spec.columns:
        window.apply_default_layout()
        window.workspace = spec.key
        return spec
    wanted = set(spec.dock_keys())
    for dock_key, dock in window.docks.items():
        if dock_key not in wanted:
            dock.hide()
    columns = [[[window.docks[k] for k in place if k in window.docks] for place in column]
               for column in spec.columns]
    columns = [[place for place in column if place] for column in columns]
    columns = [column for column in columns if column]
    for column in columns:
        for place in column:
            for dock in place:
                dock.setFloating(False)
                window.removeDockWidget(dock)
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, columns[0][0][0])
    for before, column in pairwise(columns):
        window.splitDockWidget(before[0][0], column[0][0], Qt.Orientation.Horizontal)
    for column in columns:
        for above, below in pairwise(column):
            window.splitDockWidget(above[0], below[0], Qt.Orientation.Vertical)
        for place in column:
            for dock in place[1:]:
                window.tabifyDockWidget(place[0], dock)
    for column in columns:
        for place in column:
            for dock in place:
                dock.show()
            place[0].raise_()
    window.workspace = spec.key
    size_workspace(window, spec)
    # Docks just shown get their final sizes once the layout has run: size them again then.
    QTimer.singleShot(0, lambda: size_workspace(window, spec))
    return spec


def size_workspace(window: QMainWindow, spec: WorkspaceSpec) -> None:
    """Give the workspace's columns and named places their widths and heights."""
    if getattr(window, "workspace", None) != spec.key:
        return  # another workspace was chosen meanwhile
    tops = [window.docks[column[0][0]] for column in spec.columns
            if column[0][0] in window.docks]
    window.resizeDocks(tops, list(spec.widths[: len(tops)]), Qt.Orientation.Horizontal)
    heights = dict(spec.heights)
    for column in spec.columns:  # every place of a column in one call, or Qt guesses the rest
        places = [(window.docks[p[0]], heights[p[0]]) for p in column
                  if p[0] in heights and p[0] in window.docks]
        if places:
            window.resizeDocks([d for d, _h in places], [h for _d, h in places],
                               Qt.Orientation.Vertical)


def current_workspace(window: QMainWindow) -> str:
    """The key of the workspace last applied ("explore" at start)."""
    return getattr(window, "workspace", "explore")
