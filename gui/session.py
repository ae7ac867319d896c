"""The app's state without Qt: pipeline, source, selected layer and display options.

Every view mirrors a :class:`Session` and writes edits back through its setters; the setters
emit psygnal signals only when a value really changes, so views never echo each other.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psygnal import Signal

from assets import asset_path

STATE_VERSION = 1
HISTORY_LIMIT = 100  # undo steps kept; older edits fall off the bottom
SOURCE_KINDS = ("sample", "image", "video", "camera", "canvas")
NORMALIZATIONS = ("map", "layer", "global")
CONFIG_ENV = "CNN_EXPLORER_CONFIG_DIR"
KEEP_PATH = object()  # set_pipeline's default: an edit keeps the pipeline's file path


SAMPLE_SUFFIXES = (".jpg", ".png")  # photographs are JPEG (small), drawings PNG
# The photographs, in menu order; the others are drawn by tools/make_samples.py.
PHOTOGRAPHS = ("cat", "coffee", "astronaut", "rocket", "brick", "grass")


def list_samples() -> list[str]:
    """Return the names (file stems) of the bundled sample images: photographs first, in
    :data:`PHOTOGRAPHS` order, then the drawn ones sorted."""
    folder = asset_path("samples")
    if not folder.is_dir():
        return []
    names = {p.stem for p in folder.iterdir() if p.suffix.lower() in SAMPLE_SUFFIXES}
    return [n for n in PHOTOGRAPHS if n in names] + sorted(names - set(PHOTOGRAPHS))


def is_photograph(name: str) -> bool:
    """True for the bundled photographs, False for the drawn samples."""
    return name in PHOTOGRAPHS


def sample_path(name: str) -> Path:
    """Return the file of the bundled sample image called ``name``."""
    for suffix in SAMPLE_SUFFIXES:
        path = asset_path("samples", f"{name}{suffix}")
        if path.is_file():
            return path
    return asset_path("samples", f"{name}.png")


DEFAULT_SAMPLE = "coffee"


def default_sample_name() -> str:
    """Return the sample shown on a first start: the ``coffee`` photograph (a red cup on wood:
    strong colour channels, round edges, texture), else the first."""
    names = list_samples()
    if DEFAULT_SAMPLE in names:
        return DEFAULT_SAMPLE
    return names[0] if names else ""


def config_dir() -> Path:
    """Return the folder for saved state: ``$CNN_EXPLORER_CONFIG_DIR`` or ~/.config/cnn-explorer."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override)
    return Path.home() / ".config" / "cnn-explorer"


@dataclass(frozen=True)
class SourceSpec:
    """Where frames come from: a bundled sample, an image or video file, or a camera."""

    kind: str = "sample"
    path: str | None = None
    camera_index: int = 0
    sample: str = field(default_factory=default_sample_name)

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            raise ValueError(f"source kind {self.kind!r} is not one of {', '.join(SOURCE_KINDS)}")
        if self.kind in ("image", "video") and not self.path:
            raise ValueError(f"a {self.kind} source needs a file path")

    def describe(self) -> str:
        """A short label such as ``"video clip.avi"`` or ``"camera 0"``."""
        if self.kind == "camera":
            return f"camera {self.camera_index}"
        if self.kind == "canvas":
            return "drawing canvas"
        if self.kind == "sample":
            return f"sample {self.sample}"
        return f"{self.kind} {Path(self.path or '').name}"


@dataclass(frozen=True)
class DisplayOptions:
    """How activations are drawn and at what size frames are processed."""

    colormap: str = "viridis"
    normalization: str = "map"  # every map's structure visible; the colorbar says so
    resolution: int | None = 480  # longest side of the working frame; None = full size
    show_channels: bool = False  # the input panel also shows R, G, B and gray
    flip_kernels: bool = False  # true convolution instead of cross-correlation

    def __post_init__(self) -> None:
        if self.normalization not in NORMALIZATIONS:
            raise ValueError(
                f"normalization {self.normalization!r} is not one of {', '.join(NORMALIZATIONS)}"
            )
        if self.resolution is not None and (
            not isinstance(self.resolution, int) or self.resolution < 16
        ):
            raise ValueError(f"working resolution must be 16 pixels or more, not {self.resolution}")


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
    message = Signal(str, str)

    def __init__(self, pipeline=None) -> None:
        self.pipeline = pipeline if pipeline is not None else _default_pipeline()
        self.pipeline_path: str | None = None
        self.source = SourceSpec()
        self.selected_layer = 0
        self.selected_map = -1
        self.display = DisplayOptions()
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

    def set_paused(self, paused: bool) -> None:
        if bool(paused) != self.paused:
            self.paused = bool(paused)
            self.paused_changed.emit(self.paused)

    # -- saving ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The state as JSON-able data; the pipeline is kept inline so edits are never lost."""
        from engine.graph.spec import pipeline_to_dict

        return {
            "version": STATE_VERSION,
            "pipeline": pipeline_to_dict(self.pipeline),
            "pipeline_path": self.pipeline_path,
            "source": dataclasses.asdict(self.source),
            "selected_layer": self.selected_layer,
            "selected_map": self.selected_map,
            "display": dataclasses.asdict(self.display),
        }

    def from_dict(self, data: Any) -> list[str]:
        """Apply saved state; parts that are bad keep their current value.

        Returns the problems found (also sent as one warning ``message``).
        """
        from engine.graph.spec import pipeline_from_dict

        problems: list[str] = []
        if not isinstance(data, dict):
            data = {}
            problems.append("the saved state is not a JSON object")
        try:
            pipeline = pipeline_from_dict(data["pipeline"], source="saved session")
            self.set_pipeline(pipeline, undoable=False, path=data.get("pipeline_path"))
        except (KeyError, TypeError, ValueError) as exc:
            if "pipeline" in data:
                problems.append(f"pipeline: {exc}")
        for key, cls, setter in (
            ("source", SourceSpec, self.set_source),
            ("display", DisplayOptions, lambda d: self.set_display(**dataclasses.asdict(d))),
        ):
            if key in data:
                try:
                    setter(cls(**data[key]))
                except (TypeError, ValueError) as exc:
                    problems.append(f"{key}: {exc}")
        if self.source.kind == "sample" and self.source.sample not in list_samples():
            self.set_source(SourceSpec())
        for key, setter in (
            ("selected_layer", self.set_selected_layer),
            ("selected_map", self.set_selected_map),
        ):
            if key in data:
                try:
                    setter(int(data[key]))
                except (TypeError, ValueError):
                    problems.append(f"{key}: {data[key]!r} is not a whole number")
        if problems:
            self.message.emit(
                "warning", "Parts of the last session could not be restored: " + "; ".join(problems)
            )
        return problems

    @staticmethod
    def default_state_path() -> Path:
        """The file where the session is kept between runs."""
        return config_dir() / "session.json"

    def save(self, path: str | Path | None = None) -> None:
        """Write the state as JSON (to :meth:`default_state_path` when no path is given)."""
        path = Path(path) if path is not None else self.default_state_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        # Write then rename, so a crash mid-write never leaves half a file behind.
        tmp.write_text(json.dumps(self.to_dict(), indent=1), encoding="utf-8")
        tmp.replace(path)

    def load(self, path: str | Path | None = None) -> bool:
        """Restore state saved by :meth:`save`; returns False when there was none to read."""
        path = Path(path) if path is not None else self.default_state_path()
        if not path.is_file():
            return False
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            self.message.emit("warning", f"The last session could not be read ({exc}).")
            return False
        self.from_dict(data)
        return True
