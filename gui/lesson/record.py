"""Recording the window's view as a lesson step: what :func:`gui.lesson.apply.apply_step` sets.

The source, the network, the selected layer and map, every display setting, the panels on show
(column by column, with their sizes and the one that has the focus) and the players' positions.
A network is referred to by what it came from when it is still that: a bundled name, a pipeline
file, or the network the step on show set up; an edited one is kept in memory and written
beside the lesson when it is saved.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow

from engine.graph.spec import BUNDLED, BUNDLED_MODELS
from engine.lecture.lesson import (
    DISPLAY_KEYS,
    Action,
    ConvPlayerState,
    Layout,
    PoolPlayerState,
    SourceRef,
    Step,
)
from gui.lesson.apply import LESSON_KEY, step_network

__all__ = ["record_step"]

_SLACK = 8  # pixels: docks whose left edges are this close stand in one column


def record_step(window: QMainWindow, title: dict[str, str], text: dict[str, str],
                shown: Step | None = None, last_focus: str | None = None) -> Step:
    """The window's view as a step with ``title`` and ``text``; ``shown`` is the lesson step
    on show, whose network reference is kept while the window still runs that network;
    ``last_focus`` the panel that had the focus before the lesson panel took it."""
    session = window.session
    source = session.source
    ref = None
    if source.kind == "sample":
        ref = SourceRef("sample", sample=source.sample)
    elif source.kind in ("image", "video") and source.path:
        ref = SourceRef(source.kind, path=Path(source.path).resolve())
    step = Step(title=dict(title), text=dict(text), source=ref,
                layer=session.selected_layer, selected_map=session.selected_map,
                display={key: value for key, value in dataclasses.asdict(session.display).items()
                         if key in DISPLAY_KEYS},
                layout=_layout(window, last_focus),
                conv=_conv(window), pool=_pool(window), actions=_actions(window))
    return dataclasses.replace(step, **_network(session, shown))


def _network(session, shown: Step | None) -> dict:
    """How the step names the session's network: pipeline, pipeline_file or network."""
    from engine.resolve import resolve_pipeline

    pipeline = session.pipeline
    if shown is not None:
        try:
            if step_network(shown) == pipeline:
                return {"pipeline": shown.pipeline, "pipeline_file": shown.pipeline_file,
                        "network": shown.network}
        except (OSError, ValueError):
            pass
    candidates = [pipeline.name] if pipeline.name in (*BUNDLED, *BUNDLED_MODELS) else []
    for name in candidates:
        try:
            if resolve_pipeline(name) == pipeline:
                return {"pipeline": name}
        except (OSError, ValueError):
            pass
    path = session.pipeline_path
    if path and Path(path).suffix.lower() == ".json":
        try:
            if resolve_pipeline(path) == pipeline:
                return {"pipeline_file": Path(path).resolve()}
        except (OSError, ValueError):
            pass
    return {"network": pipeline}


def _layout(window: QMainWindow, last_focus: str | None) -> Layout:
    """The docked, visible panels as columns left to right, their widths and heights."""
    docks = [(key, dock) for key, dock in window.docks.items()
             if key != LESSON_KEY and dock.isVisible() and not dock.isFloating()]
    docks.sort(key=lambda item: (item[1].x(), item[1].y()))
    columns: list[list[tuple[str, QDockWidget]]] = []
    for key, dock in docks:
        if columns and abs(columns[-1][0][1].x() - dock.x()) <= _SLACK:
            columns[-1].append((key, dock))
        else:
            columns.append([(key, dock)])
    for column in columns:
        column.sort(key=lambda item: item[1].y())
    heights = tuple((key, dock.height()) for column in columns if len(column) > 1
                    for key, dock in column[:-1])
    return Layout(columns=tuple(tuple(key for key, _dock in column) for column in columns),
                  widths=tuple(max(dock.width() for _key, dock in column) for column in columns),
                  heights=heights, focus=_focused(window, docks, last_focus))


def _focused(window: QMainWindow, docks, last_focus: str | None) -> str | None:
    """The panel holding the keyboard focus, else ``last_focus`` when it is on show."""
    widget = QApplication.focusWidget()
    for key, dock in docks:
        if widget is not None and dock.isAncestorOf(widget):
            return key
    return last_focus if last_focus in dict(docks) else None


def _visible_panel(window: QMainWindow, key: str):
    dock = window.docks.get(key)
    if dock is None or not dock.isVisible():
        return None
    return dock.widget()


def _conv(window: QMainWindow) -> ConvPlayerState | None:
    player = _visible_panel(window, "conv_player")
    if player is None:
        return None
    kernel = player.kernel.currentData()
    custom = None
    if kernel == "custom":
        custom = tuple(tuple(tuple(float(v) for v in row) for row in channel)
                       for channel in player.weight())
    return ConvPlayerState(
        source=player.source.currentData(), kernel=kernel, stride=player.stride.value(),
        padding=player.padding.value(), dilation=player.dilation.value(),
        bias=float(player.bias.value()), filter=player.filter.value(),
        channel=player.channel.value(), step=player.controls.step, custom=custom)


def _pool(window: QMainWindow) -> PoolPlayerState | None:
    player = _visible_panel(window, "pool_player")
    if player is None:
        return None
    return PoolPlayerState(
        source=player.source.currentData(), mode=player.mode.currentData(),
        kernel=player.kernel.value(), stride=player.stride.value(),
        padding=player.padding.value(), channel=player.channel.value(),
        step=player.controls.step)


def _actions(window: QMainWindow) -> tuple[Action, ...]:
    """The lecture example the "Why convolutions" panel shows, when it shows one."""
    panel = _visible_panel(window, "parameters")
    mode = getattr(panel, "mode", "layer")
    if panel is None or mode == "layer":
        return ()
    return (Action("parameters.show_example", mode),)
