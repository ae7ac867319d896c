"""Showing a lesson step in the window: source, network, selection, display, panels, players.

:func:`apply_step` sets up whatever the step records and leaves the rest as it is. Nothing a
step names can break the window: a missing picture, a network file that does not open, a panel
this version lacks or a layer past the network's end each become one sentence in the list it
returns, which the lesson panel shows on that step; the other parts of the step are still set
up, and the other steps are not affected.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMainWindow

from engine.i18n import _
from engine.lecture.lesson import ConvPlayerState, PoolPlayerState, Step
from gui.session import SourceSpec, list_samples
from gui.session_state import COLORMAPS
from gui.tour import arrange_docks

__all__ = ["LESSON_KEY", "apply_step", "step_network"]

LESSON_KEY = "lesson"  # the lesson panel's key in the dock registry


def step_network(step: Step):
    """The step's network (a Pipeline), or None when it keeps the window's.

    Raises OSError or ValueError (SpecError) when its file cannot be opened.
    """
    from engine.resolve import resolve_pipeline

    if step.network is not None:
        return step.network
    if step.pipeline_file is not None:
        return resolve_pipeline(step.pipeline_file)
    if step.pipeline is not None:
        return resolve_pipeline(step.pipeline)
    return None


def apply_step(window: QMainWindow, step: Step, panel_key: str = LESSON_KEY,
               folder: Path | None = None) -> list[str]:
    """Set ``window`` up as ``step`` records; return the problems, one sentence each.

    ``folder`` is the lesson's: messages name its files relative to it.
    """
    problems: list[str] = []
    session = window.session
    _apply_source(session, step, problems, folder)
    try:
        network = step_network(step)
    except (OSError, ValueError) as error:
        problems.append(_("The network of this step cannot be opened: {problem}").format(
            problem=error))
        network = None
    if network is not None:
        session.set_pipeline(network, path=None)
    if step.layer is not None:
        count = len(session.pipeline.nodes)
        if step.layer < count:
            session.set_selected_layer(step.layer)
        else:
            problems.append(_("This step selects layer {layer}, but the network has layers 0 to"
                              " {last}").format(layer=step.layer, last=count - 1))
    if step.selected_map is not None:
        session.set_selected_map(step.selected_map)
    display = dict(step.display)
    if display.get("colormap", COLORMAPS[0]) not in COLORMAPS:
        problems.append(_("This step asks for the colormap {name!r}, which this version does not"
                          " have").format(name=display.pop("colormap")))
    if display:
        session.set_display(**display)
    if step.layout is not None:
        missing = [key for key in step.layout.dock_keys() if key not in window.docks]
        if missing:
            problems.append(_("Panels this version does not have: {keys}").format(
                keys=", ".join(missing)))
        arrange_docks(window, step.layout, panel_key)
        focus = window.docks.get(step.layout.focus or "")
        if focus is not None:
            focus.raise_()
            focus.widget().setFocus()
    if step.conv is not None and "conv_player" in window.docks:
        set_conv_player(window.docks["conv_player"].widget(), step.conv)
    if step.pool is not None and "pool_player" in window.docks:
        set_pool_player(window.docks["pool_player"].widget(), step.pool)
    for action in step.actions:
        if action.panel in window.docks:
            args = () if action.argument is None else (action.argument,)
            getattr(window.docks[action.panel].widget(), action.method)(*args)
    return problems


def _apply_source(session, step: Step, problems: list[str], folder: Path | None) -> None:
    source = step.source
    if source is None:
        return
    if source.kind == "sample":
        if source.sample in list_samples():
            session.set_source(SourceSpec(kind="sample", sample=source.sample))
        else:
            problems.append(_("The sample {name!r} is not bundled with this version").format(
                name=source.sample))
        return
    if not source.path.is_file():
        name = source.path.name
        if folder is not None and source.path.is_relative_to(Path(folder).resolve()):
            name = source.path.relative_to(Path(folder).resolve()).as_posix()
        problems.append(_("The file {name} is missing from the lesson's folder; the window keeps"
                          " its own picture").format(name=name))
        return
    session.set_source(SourceSpec(kind=source.kind, path=str(source.path)))


def set_conv_player(player, state: ConvPlayerState) -> None:
    """Put the convolution player where ``state`` says: example, filter, settings, step."""
    player.load_source(state.source)
    if state.kernel is not None:
        if state.kernel == "custom" and state.custom is not None:
            player.set_custom_kernel(state.custom)
        elif player.kernel.findData(state.kernel) >= 0:
            player.kernel.setCurrentIndex(player.kernel.findData(state.kernel))
    for name in ("stride", "padding", "dilation", "filter", "channel"):
        getattr(player, name).setValue(getattr(state, name))  # each re-traces at once
    if state.bias is not None:
        player.bias.setValue(state.bias)
    player.rebuild()
    if state.step < 0:
        player.controls.last()  # the whole output filled in
    else:
        player.controls.set_step(state.step)


def set_pool_player(player, state: PoolPlayerState) -> None:
    """Put the pooling player where ``state`` says: example, mode, settings, step."""
    player.load_source(state.source)
    player.mode.setCurrentIndex(max(player.mode.findData(state.mode), 0))
    for name in ("kernel", "stride", "padding", "channel"):
        getattr(player, name).setValue(getattr(state, name))
    player.rebuild()
    if state.step < 0:
        player.controls.last()
    else:
        player.controls.set_step(state.step)
