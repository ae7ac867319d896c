"""The app's state without Qt: pipeline, source, selected layer and display options.

Every view mirrors a :class:`Session` and writes edits back through its setters; the setters
emit psygnal signals only when a value really changes, so views never echo each other.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from psygnal import Signal

from engine.i18n import _
from gui.session_file import (
    FILE_NAME,
    STATE_VERSION,
    SavedState,
    SessionFileError,
    StateWriter,
    parse_state,
    read_state,
    remove_stale_files,
    set_aside,
)
from gui.session_state import (
    COLORMAPS,
    CONFIG_ENV,
    DATA_ENV,
    DEFAULT_SAMPLE,
    NORMALIZATIONS,
    PHOTOGRAPHS,
    SAMPLE_SUFFIXES,
    SOURCE_KINDS,
    DisplayOptions,
    PresenterOptions,
    SourceSpec,
    config_dir,
    data_dir,
    default_sample_name,
    is_photograph,
    list_samples,
    sample_path,
)

__all__ = ["COLORMAPS", "CONFIG_ENV", "DATA_ENV", "DEFAULT_SAMPLE", "HISTORY_LIMIT",
           "NORMALIZATIONS", "PHOTOGRAPHS", "SAMPLE_SUFFIXES", "SOURCE_KINDS", "DisplayOptions",
           "PresenterOptions", "Session", "SourceSpec", "config_dir", "data_dir",
           "default_sample_name", "is_photograph", "list_samples", "sample_path"]

HISTORY_LIMIT = 100  # undo steps kept; older edits fall off the bottom
KEEP_PATH = object()  # set_pipeline's default: an edit keeps the pipeline's file path


def _same(a, b) -> bool:
    """Equal pipelines (an edit that changed nothing must not add an undo step)."""
    if a is b:
        return True
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # an object whose == compares arrays element-wise
        return False


def _default_pipeline():
    from engine.resolve import resolve_pipeline

    return resolve_pipeline("default")


class Session:
    """The single source of truth for what the app shows.

    Parameters
    ----------
    pipeline : Pipeline, optional
        The starting pipeline; the bundled ``default`` one when omitted.
    """

    pipeline_changed = Signal(object)
    source_changed = Signal(object)
    selected_layer_changed = Signal(int)
    selected_map_changed = Signal(int)
    display_changed = Signal(object)
    paused_changed = Signal(bool)
    presenter_changed = Signal(object)
    message = Signal(str, str)

    def __init__(self, pipeline=None) -> None:
        self.pipeline = pipeline if pipeline is not None else _default_pipeline()
        self.pipeline_path: str | None = None
        self.source = SourceSpec()
        self.selected_layer = 0
        self.selected_map = -1
        self.display = DisplayOptions()
        self.presenter = PresenterOptions()
        self.paused = False
        self._undo: list[tuple[Any, str | None]] = []
        self._redo: list[tuple[Any, str | None]] = []

    # -- pipeline and history -------------------------------------------------------------
    def set_pipeline(self, pipeline, *, undoable: bool = True, path=KEEP_PATH) -> None:
        """Replace the pipeline.

        ``undoable=False`` also clears the history (a new start). ``path`` is the file the
        pipeline came from (None: not from a file); an edit leaves it out to keep the current.
        """
        path = self.pipeline_path if path is KEEP_PATH else (str(path) if path else None)
        if _same(pipeline, self.pipeline) and path == self.pipeline_path:
            return
        if undoable:
            self._undo.append((self.pipeline, self.pipeline_path))
            del self._undo[:-HISTORY_LIMIT]
        else:
            self._undo.clear()
        self._redo.clear()
        self._apply_pipeline(pipeline, path)

    def _apply_pipeline(self, pipeline, path: str | None) -> None:
        # A shorter pipeline may leave the selection past its end: bring it back first, so no
        # view ever sees the new pipeline with an index it does not have.
        last = max(len(pipeline.nodes) - 1, 0)
        moved = self.selected_layer > last
        if moved:
            self.selected_layer = last
        self.pipeline, self.pipeline_path = pipeline, path
        self.pipeline_changed.emit(pipeline)
        if moved:
            self.selected_layer_changed.emit(last)
            self.set_selected_map(-1)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> None:
        """Go back one pipeline edit; nothing happens when there is none."""
        if self._undo:
            self._redo.append((self.pipeline, self.pipeline_path))
            self._apply_pipeline(*self._undo.pop())

    def redo(self) -> None:
        """Re-apply the edit last undone; nothing happens when there is none."""
        if self._redo:
            self._undo.append((self.pipeline, self.pipeline_path))
            self._apply_pipeline(*self._redo.pop())

    # -- simple setters -------------------------------------------------------------------
    def set_source(self, spec: SourceSpec) -> None:
        if spec != self.source:
            self.source = spec
            self.source_changed.emit(spec)

    def set_selected_layer(self, index: int) -> None:
        """Select a layer by its index in ``pipeline.nodes`` (clamped to the valid range)."""
        index = max(0, min(int(index), len(self.pipeline.nodes) - 1))
        if index != self.selected_layer:
            self.selected_layer = index
            self.selected_layer_changed.emit(index)
            self.set_selected_map(-1)

    def set_selected_map(self, index: int) -> None:
        index = max(-1, int(index))
        if index != self.selected_map:
            self.selected_map = index
            self.selected_map_changed.emit(index)

    def set_display(self, **changes: Any) -> None:
        """Change display options by name, e.g. ``set_display(resolution=320)``."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(DisplayOptions)}
        if unknown:
            raise ValueError(f"unknown display options: {', '.join(sorted(unknown))}")
        new = dataclasses.replace(self.display, **changes)
        if new != self.display:
            self.display = new
            self.display_changed.emit(new)

    def set_presenter(self, **changes: Any) -> None:
        """Change presenter mode or zoom by name, e.g. ``set_presenter(on=True, scale=2.0)``."""
        new = dataclasses.replace(self.presenter, **changes)
        if new != self.presenter:
            self.presenter = new
            self.presenter_changed.emit(new)

    def set_paused(self, paused: bool) -> None:
        if bool(paused) != self.paused:
            self.paused = bool(paused)
            self.paused_changed.emit(self.paused)

    # -- saving ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The state as JSON-able data, every array inline (session files keep large ones in
        an .npz beside them: :mod:`gui.session_file`)."""
        from engine.graph.spec import pipeline_to_dict

        return {
            "version": STATE_VERSION,
            "pipeline": pipeline_to_dict(self.pipeline),
            "pipeline_path": self.pipeline_path,
            "source": dataclasses.asdict(self.source),
            "selected_layer": self.selected_layer,
            "selected_map": self.selected_map,
            "display": dataclasses.asdict(self.display),
            "presenter": dataclasses.asdict(self.presenter),
        }

    def apply_state(self, state: SavedState) -> None:
        """Show a checked saved state (the pipeline too, when it holds one)."""
        if state.pipeline is not None:
            self.set_pipeline(state.pipeline, undoable=False, path=state.pipeline_path)
        self.set_source(state.source)
        self.set_display(**dataclasses.asdict(state.display))
        self.set_presenter(**dataclasses.asdict(state.presenter))
        self.set_selected_layer(state.selected_layer)
        self.set_selected_map(state.selected_map)

    def from_dict(self, data: Any, source: str = "saved session") -> list[str]:
        """Apply saved state, all of it or, when any part does not fit, none of it.

        Returns the problem found (also sent as one warning ``message``), or an empty list.
        """
        try:
            state = parse_state(data, source)
        except SessionFileError as error:
            self.message.emit("warning", _("The saved session could not be used: {problem}."
                                           " Started with the defaults.").format(problem=error))
            return [str(error)]
        self.apply_state(state)
        return []

    @staticmethod
    def default_state_path() -> Path:
        """The file where the session is kept between runs."""
        return config_dir() / FILE_NAME

    def save(self, path: str | Path | None = None, running: bool = False) -> None:
        """Write the state (to :meth:`default_state_path` when no path is given): temporary
        file, fsync, rename. ``running`` marks an autosave of a window still open."""
        path = Path(path) if path is not None else self.default_state_path()
        StateWriter().job(self, path, running).write()

    def load(self, path: str | Path | None = None) -> bool:
        """Restore state saved by :meth:`save`; False when there was none or it was unusable.

        An unusable file (not JSON, a value of the wrong type or range, arrays missing) is
        renamed ``session.json.bad-<time>`` and the defaults stay; one warning ``message``
        says so and where the file went. A restored session is announced with an ``info``
        message naming its pipeline, layer and source.
        """
        path = Path(path) if path is not None else self.default_state_path()
        if path.parent.is_dir():
            remove_stale_files(path.parent)
        if not os.path.lexists(path):
            return False
        try:
            state = read_state(path)
        except SessionFileError as error:
            try:
                where = _("it was kept as {path}").format(path=set_aside(path))
            except OSError as move:
                where = _("it could not be moved aside ({reason})").format(
                    reason=move.strerror or move)
            self.message.emit("warning", _(
                "The last session could not be read and was not restored: {problem}. Started"
                " with the defaults; {where}.").format(problem=error, where=where))
            return False
        self.apply_state(state)
        self.message.emit("info", describe_restored(self, state))
        return True


def describe_restored(session: Session, state: SavedState) -> str:
    """One sentence saying what a restored session brought back, and whether the last run
    ended without closing the window (then the state is its last autosave)."""
    nodes = session.pipeline.nodes
    layer = nodes[session.selected_layer].name if nodes else "-"
    what = _("pipeline {pipeline}, layer {index} ({layer}), source {source}").format(
        pipeline=getattr(session.pipeline, "name", "") or _("unnamed"),
        index=session.selected_layer, layer=layer, source=session.source.describe())
    if state.pipeline is None:
        what = _("{what}; the imported network was not kept and must be opened again").format(
            what=what)
    if state.running:
        return _("The last run ended without closing the window; restored its autosaved"
                 " session: {what}.").format(what=what)
    return _("Restored the last session: {what}.").format(what=what)
