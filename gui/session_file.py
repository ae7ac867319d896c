"""session.json on disk: read strictly, written atomically, set aside when it cannot be used.

The file is the app's own, but it lives in a folder that a crash, a full disk, another program
or a curious user can change. Every field is read with its type and range
(:class:`engine.io.fields.Fields`) after the JSON itself passed the size and depth limits
(:func:`engine.io.safe_json.load_file`); the first field that does not fit makes the whole file
unusable (:class:`SessionFileError`, one sentence naming the file and the field), because half
a session restored is a state nobody chose. The caller then starts with the defaults and moves
the file aside as ``session.json.bad-<time>`` (:func:`set_aside`) for inspection.

Large arrays (a trained network's weights) go to ``session-<token>.npz`` beside the JSON, so
that an autosave writes a few kilobytes of JSON and rewrites the arrays only when the network
changes. Both files are written with :func:`engine.io.files.write_atomic`.
"""

from __future__ import annotations

import dataclasses
import io
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.graph.spec import dump_json, pipeline_from_dict, pipeline_to_dict
from engine.i18n import _
from engine.io.fields import FieldError, Fields
from engine.io.files import TEMPORARY_SUFFIX, write_atomic
from engine.io.safe_json import JsonError, load_file
from gui.session_state import (
    COLORMAPS,
    NORMALIZATIONS,
    PRESENTER_SCALES,
    SOURCE_KINDS,
    ZOOM_STEPS,
    DisplayOptions,
    PresenterOptions,
    SourceSpec,
    default_sample_name,
    list_samples,
)

__all__ = ["STATE_VERSION", "SavedState", "SessionFileError", "StateWriter", "parse_state",
           "read_state", "remove_stale_files", "set_aside"]

STATE_VERSION = 1
FILE_NAME = "session.json"
MAX_BYTES = 8 << 20  # the JSON holds small arrays only; large ones are in the .npz
NPZ_PREFIX = "session-"
BAD_INFIX = ".bad-"
KEEP_BAD = 3  # bad files kept for inspection; older ones are removed
STALE_S = 60.0  # a temporary file older than this was left by a run that died mid-write
MAX_LAYERS = 100_000
MAX_SIDE = 1 << 16
MAX_CAMERA = 63


class SessionFileError(ValueError):
    """A session file that cannot be used as a whole; the message names the file and field."""


@dataclass(frozen=True)
class SavedState:
    """What a session file holds, every value checked."""

    pipeline: Any  # Pipeline, or None: the file kept no network (an imported model)
    pipeline_path: str | None
    source: SourceSpec
    selected_layer: int
    selected_map: int
    display: DisplayOptions
    presenter: PresenterOptions
    running: bool  # written by an autosave of an open window: that run did not end normally


def _source(fields: Fields) -> SourceSpec:
    kind = fields.text("kind", choices=SOURCE_KINDS)
    path = fields.path("path", default=None)
    if kind in ("image", "video") and path is None:
        fields.fail("path", _("is required for a {kind} source").format(kind=kind))
    sample = fields.text("sample", default=default_sample_name(), max_length=256)
    if kind == "sample" and sample not in list_samples():
        sample = default_sample_name()  # a sample of another version: show the default one
    return SourceSpec(kind=kind, path=path, sample=sample,
                      camera_index=fields.integer("camera_index", default=0, low=0,
                                                  high=MAX_CAMERA))


def _display(fields: Fields) -> DisplayOptions:
    return DisplayOptions(
        colormap=fields.text("colormap", default="viridis", choices=COLORMAPS),
        normalization=fields.text("normalization", default="map", choices=NORMALIZATIONS),
        resolution=fields.integer("resolution", default=None, low=16, high=MAX_SIDE),
        show_channels=fields.boolean("show_channels", default=False),
        flip_kernels=fields.boolean("flip_kernels", default=False),
        adapt_speed=fields.boolean("adapt_speed", default=False),
        shown_layers_only=fields.boolean("shown_layers_only", default=False),
    )


def _presenter(fields: Fields | None) -> PresenterOptions:
    if fields is None:  # a session saved before presenter mode existed
        return PresenterOptions()
    scale = fields.number("scale", default=PRESENTER_SCALES[0], low=PRESENTER_SCALES[0],
                          high=PRESENTER_SCALES[-1])
    return PresenterOptions(
        on=fields.boolean("on", default=False),
        scale=min(PRESENTER_SCALES, key=lambda s: abs(s - scale)),
        zoom=fields.number("zoom", default=1.0, low=ZOOM_STEPS[0], high=ZOOM_STEPS[-1]),
    )


def parse_state(data: Any, source: str = FILE_NAME, base_dir: Path | None = None) -> SavedState:
    """Check every field of a parsed session file; :class:`SessionFileError` for the first
    one that does not fit. Keys this version does not know are ignored (a newer version's)."""
    try:
        top = Fields(data, source)
        top.integer("version", low=STATE_VERSION, high=STATE_VERSION)
        pipeline = None
        if top.data.get("pipeline") is not None:
            top.child("pipeline")  # an object, or the message says what it is instead
            where = _("{source}, field 'pipeline'").format(source=source)
            pipeline = pipeline_from_dict(top.data["pipeline"], where, base_dir)
        layers = len(pipeline.nodes) if pipeline is not None else MAX_LAYERS
        state = SavedState(
            pipeline=pipeline,
            pipeline_path=top.path("pipeline_path", default=None),
            source=_source(top.child("source")),
            selected_layer=top.integer("selected_layer", default=0, low=0,
                                       high=max(layers - 1, 0)),
            selected_map=top.integer("selected_map", default=-1, low=-1, high=1 << 20),
            display=_display(top.child("display")),
            presenter=_presenter(top.child("presenter", default=None)),
            running=top.boolean("running", default=False),
        )
    except (FieldError, OSError, ValueError) as error:  # SpecError and BudgetError too
        raise SessionFileError(str(error)) from None
    return state


def read_state(path: Path) -> SavedState:
    """Read and check ``path``; :class:`SessionFileError` when it cannot be used."""
    try:
        data = load_file(path, path.name, max_bytes=MAX_BYTES)
    except JsonError as error:
        raise SessionFileError(str(error)) from None
    return parse_state(data, path.name, path.parent)


def set_aside(path: Path) -> Path:
    """Rename an unusable ``path`` to ``<name>.bad-<time>``; keep the newest :data:`KEEP_BAD`.

    Raises OSError when it cannot be moved.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}{BAD_INFIX}{stamp}")
    n = 1
    while os.path.lexists(target):
        n += 1
        target = path.with_name(f"{path.name}{BAD_INFIX}{stamp}-{n}")
    os.replace(path, target)
    kept = sorted(path.parent.glob(f"{path.name}{BAD_INFIX}*"), key=_mtime, reverse=True)
    for old in kept[KEEP_BAD:]:
        _remove(old)
    return target


def _mtime(path: Path) -> float:
    try:
        return path.lstat().st_mtime
    except OSError:
        return 0.0


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            return  # never a whole folder: only files the app wrote itself
        path.unlink(missing_ok=True)
    except OSError:
        pass


def remove_stale_files(folder: Path, keep_npz: str | None = None,
                       stale_s: float = STALE_S) -> None:
    """Remove temporary files a killed run left (older than ``stale_s``) and the session
    ``.npz`` files no session file refers to (all but ``keep_npz``)."""
    now = time.time()
    for temporary in folder.glob(f".{NPZ_PREFIX}*{TEMPORARY_SUFFIX}"):
        if now - _mtime(temporary) > stale_s:
            _remove(temporary)
    for temporary in folder.glob(f".{FILE_NAME}.*{TEMPORARY_SUFFIX}"):
        if now - _mtime(temporary) > stale_s:
            _remove(temporary)
    if keep_npz is not None:
        for npz in folder.glob(f"{NPZ_PREFIX}*.npz"):
            if npz.name != keep_npz:
                _remove(npz)


@dataclass(frozen=True)
class _Encoded:
    """One pipeline as the session file holds it."""

    pipeline: Any
    data: dict | None  # None: the pipeline cannot be written (an imported model's layers)
    npz_name: str | None
    arrays: dict


@dataclass(frozen=True)
class SaveJob:
    """Everything one save writes, made in the GUI thread; :meth:`write` may run elsewhere."""

    path: Path
    text: bytes
    npz_name: str | None
    arrays: dict

    def write(self) -> None:
        """Write the .npz (when it is not there yet), then the JSON; OSError on failure."""
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True)
        if self.npz_name is not None and not (folder / self.npz_name).is_file():
            buffer = io.BytesIO()
            np.savez(buffer, **self.arrays)
            write_atomic(folder / self.npz_name, buffer.getvalue())
        write_atomic(self.path, self.text)
        remove_stale_files(folder, keep_npz=self.npz_name or "")


class StateWriter:
    """Turns a Session's values into :class:`SaveJob` s; remembers the last pipeline's
    encoding, so that a new selection or colormap costs a few kilobytes of JSON only."""

    def __init__(self) -> None:
        self._last: _Encoded | None = None

    def _encode(self, pipeline) -> _Encoded:
        if self._last is not None and self._last.pipeline is pipeline:
            return self._last
        npz_name = f"{NPZ_PREFIX}{secrets.token_hex(6)}.npz"
        arrays: dict = {}
        try:
            data = pipeline_to_dict(pipeline, npz_name, arrays)
        except ValueError:
            data, arrays = None, {}
        self._last = _Encoded(pipeline, data, npz_name if arrays else None, arrays)
        return self._last

    def job(self, session, path: Path, running: bool) -> SaveJob:
        """The save of ``session``'s current values to ``path``."""
        encoded = self._encode(session.pipeline)
        kept = encoded.data is not None
        state = {
            "version": STATE_VERSION,
            "running": running,
            "pipeline": encoded.data,
            "pipeline_path": session.pipeline_path if kept else None,
            "source": dataclasses.asdict(session.source),
            "selected_layer": session.selected_layer if kept else 0,
            "selected_map": session.selected_map if kept else -1,
            "display": dataclasses.asdict(session.display),
            "presenter": dataclasses.asdict(session.presenter),
        }
        text = (dump_json(state) + "\n").encode("utf-8")
        return SaveJob(Path(path), text, encoded.npz_name, encoded.arrays)
