"""The values a session holds, without Qt or signals: source, display options, samples, folder.

:mod:`gui.session` (the Session and its signals) and :mod:`gui.session_file` (session.json on
disk) both build on these; ``gui.session`` re-exports them for the rest of the window.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from assets import asset_path
from engine.i18n import N_, _

SOURCE_KINDS = ("sample", "image", "video", "camera", "canvas")
# What each kind of source is called where the window names it.
SOURCE_KIND_NAMES = {"image": N_("image"), "video": N_("video"), "camera": N_("camera"),
                     "sample": N_("sample"), "canvas": N_("canvas")}
NORMALIZATIONS = ("map", "layer", "global")
#: Colormap names a session may hold, in menu order (gui.colormaps draws them).
COLORMAPS = ("gray", "viridis", "magma", "inferno", "coolwarm")
CONFIG_ENV = "CNN_EXPLORER_CONFIG_DIR"
DATA_ENV = "CNN_EXPLORER_DATA_DIR"


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


def data_dir() -> Path:
    """Return the folder for the user's own data (recorded classes, training runs).

    ``$CNN_EXPLORER_DATA_DIR`` when set; else ``data`` inside ``$CNN_EXPLORER_CONFIG_DIR`` when
    that is set (tests and benchmarks move the config away from home, the data goes with it);
    else the platform's user data folder (``~/.local/share/cnn-explorer`` on Linux).
    """
    override = os.environ.get(DATA_ENV)
    if override:
        return Path(override)
    config = os.environ.get(CONFIG_ENV)
    if config:
        return Path(config) / "data"
    import platformdirs  # only when the data folder is first needed

    return Path(platformdirs.user_data_dir("cnn-explorer", appauthor=False))


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
            return _("camera {index}").format(index=self.camera_index)
        if self.kind == "canvas":
            return _("drawing canvas")
        if self.kind == "sample":
            return _("sample {name}").format(name=self.sample)
        name = Path(self.path or "").name
        if self.kind == "video":
            return _("video {name}").format(name=name)
        return _("image {name}").format(name=name)


@dataclass(frozen=True)
class DisplayOptions:
    """How activations are drawn and at what size frames are processed."""

    colormap: str = "viridis"
    normalization: str = "map"  # every map's structure visible; the colorbar says so
    resolution: int | None = 480  # longest side of the working frame; None = full size
    show_channels: bool = False  # the input panel also shows R, G, B and gray
    flip_kernels: bool = False  # true convolution instead of cross-correlation
    adapt_speed: bool = False  # when the live view cannot keep up, lower its cost unasked
    shown_layers_only: bool = False  # run the pipeline only as deep as the open panels show

    def __post_init__(self) -> None:
        if self.normalization not in NORMALIZATIONS:
            raise ValueError(
                f"normalization {self.normalization!r} is not one of {', '.join(NORMALIZATIONS)}"
            )
        if self.resolution is not None and (
            not isinstance(self.resolution, int) or self.resolution < 16
        ):
            raise ValueError(f"working resolution must be 16 pixels or more, not {self.resolution}")


@dataclass(frozen=True)
class SourceInfo:
    """What the source panel says about the open source."""

    kind: str
    label: str  # file name, sample name or "camera 0"
    width: int  # full size of the source's frames
    height: int
    fps: float | None  # None for a still image

    def describe(self) -> str:
        rate = _(", {fps:.0f} fps").format(fps=self.fps) if self.fps else ""
        kind = _(SOURCE_KIND_NAMES.get(self.kind, self.kind)).capitalize()
        return _("{kind}: {label} ({width} x {height}{rate})").format(
            kind=kind, label=self.label, width=self.width, height=self.height, rate=rate)


PRESENTER_SCALES = (1.5, 2.0)  # View > Presenter scale
ZOOM_STEPS = (0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0)  # Ctrl+= / Ctrl+- walk these


@dataclass(frozen=True)
class PresenterOptions:
    """Presenter mode and zoom: the interface is drawn ``zoom`` times larger, and ``scale``
    times larger again while presenter mode is on."""

    on: bool = False
    scale: float = 1.5
    zoom: float = 1.0

    def __post_init__(self) -> None:
        if self.scale not in PRESENTER_SCALES:
            raise ValueError(f"presenter scale {self.scale} is not one of "
                             f"{', '.join(map(str, PRESENTER_SCALES))}")
        if not ZOOM_STEPS[0] <= self.zoom <= ZOOM_STEPS[-1]:
            raise ValueError(f"zoom {self.zoom} is not from {ZOOM_STEPS[0]} to {ZOOM_STEPS[-1]}")

    @property
    def factor(self) -> float:
        """The interface scale these options ask for."""
        return self.zoom * (self.scale if self.on else 1.0)
