"""A lesson: an ordered list of steps, each a text to read and the app state it shows.

Teachers write lessons by using the app (the window records the view on show as a step) or by
hand (``docs/lessons.md``). This module holds the model only, Qt-free and without any file: what
a step holds, and which text of several languages to show. Reading, checking and writing the
``.json`` file are in :mod:`engine.lecture.lesson_file`.

Paths in the model are absolute (resolved against the lesson's folder when read); the file
holds them relative to its folder. Nothing in a lesson is code: panel actions are names from
the fixed table :data:`ACTIONS`.

Examples
--------
>>> step = Step(title={"en": "Edges", "pt_BR": "Bordas"}, text={"en": "A *kernel*."})
>>> localized(step.title, "pt_BR"), localized(step.text, "pt_BR")
('Bordas', 'A *kernel*.')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ACTIONS", "DISPLAY_KEYS", "FORMAT", "VERSION", "Action", "ConvPlayerState", "Layout",
           "Lesson", "PoolPlayerState", "SourceRef", "Step", "localized"]

FORMAT = "cnn-explorer-lesson"
VERSION = 1

#: The display settings a step shows; the machine's own choices (speed adaptation) are not
#: part of a lesson.
DISPLAY_KEYS = ("colormap", "normalization", "resolution", "show_channels", "flip_kernels")

#: The panel actions a step may ask for, as "panel.method": the arguments each one takes
#: (None: it takes none). A lesson names one of these; it can never name anything else.
ACTIONS: dict[str, tuple[str, ...] | None] = {
    "parameters.show_example": ("conv32", "mlp200", "layer"),
    "explain.show_channel": None,
    "train_filters.learn_for_tour": None,
}


def localized(texts: dict[str, str], language: str) -> str:
    """The text of ``texts`` (language -> text) for ``language``: that language, the same
    language of another country (``pt`` for ``pt_BR``), English, or the first one given."""
    if not texts:
        return ""
    if language in texts:
        return texts[language]
    base = language.split("_")[0]
    for key, text in texts.items():
        if key.split("_")[0] == base:
            return text
    return texts.get("en", next(iter(texts.values())))


@dataclass(frozen=True)
class SourceRef:
    """What a step shows as input: a bundled sample by name, or an image or video file."""

    kind: str  # "sample" | "image" | "video"
    sample: str = ""
    path: Path | None = None  # absolute, for "image" and "video"


@dataclass(frozen=True)
class Layout:
    """The panels a step shows, as columns left to right (each stacked top to bottom), their
    widths and some heights in pixels at 1280 x 800, and the panel that has the focus."""

    columns: tuple[tuple[str, ...], ...] = ()
    widths: tuple[int, ...] = ()
    heights: tuple[tuple[str, int], ...] = ()
    focus: str | None = None

    def dock_keys(self) -> tuple[str, ...]:
        """Every panel the step shows, in column order."""
        return tuple(key for column in self.columns for key in column)


@dataclass(frozen=True)
class ConvPlayerState:
    """Where the convolution player stands: its example, filter, settings and step."""

    source: str = "lecture_7x7"  # "lecture_7x7" | "lecture_volume" | "crop"
    kernel: str | None = None  # a preset, "lecture filter", "custom"; None: the example's
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    bias: float | None = None  # None: the example's own
    filter: int = 0
    channel: int = 0
    step: int = 0  # -1: the last step, the whole output filled in
    custom: tuple | None = None  # (C, kh, kw) nested tuples of the custom kernel's weights


@dataclass(frozen=True)
class PoolPlayerState:
    """Where the pooling player stands: its example, settings and step."""

    source: str = "lecture_4x4"  # "lecture_4x4" | "lecture_7x7" | "crop"
    mode: str = "max"  # "max" | "avg"
    kernel: int = 2
    stride: int = 2
    padding: int = 0
    channel: int = 0
    step: int = 0


@dataclass(frozen=True)
class Action:
    """A panel action of :data:`ACTIONS`, run once the step is set up."""

    name: str  # "panel.method"
    argument: str | None = None

    @property
    def panel(self) -> str:
        return self.name.partition(".")[0]

    @property
    def method(self) -> str:
        return self.name.partition(".")[2]


@dataclass(frozen=True)
class Step:
    """One step of a lesson; every state field left as None keeps what the window shows.

    Attributes
    ----------
    title, text, formula : dict of str
        Language code ("en", "pt_BR") -> text; ``text`` is Markdown, ``formula`` plain text
        shown in a fixed-width box.
    source : SourceRef or None
    pipeline : str or None
        A bundled pipeline's name.
    pipeline_file : Path or None
        A pipeline file (absolute path), instead of a bundled name.
    network : Pipeline or None
        A network held in memory only (recorded from an edited session); saving the lesson
        writes it as a pipeline file beside it.
    layer, selected_map : int or None
    display : dict
        Display settings to set (colormap, normalization, resolution, show_channels,
        flip_kernels); those left out are kept.
    layout : Layout or None
    conv, pool : ConvPlayerState, PoolPlayerState or None
    actions : tuple of Action
    """

    title: dict[str, str] = field(default_factory=dict)
    text: dict[str, str] = field(default_factory=dict)
    formula: dict[str, str] = field(default_factory=dict)
    source: SourceRef | None = None
    pipeline: str | None = None
    pipeline_file: Path | None = None
    network: Any = None
    layer: int | None = None
    selected_map: int | None = None
    display: dict[str, Any] = field(default_factory=dict)
    layout: Layout | None = None
    conv: ConvPlayerState | None = None
    pool: PoolPlayerState | None = None
    actions: tuple[Action, ...] = ()


@dataclass(frozen=True)
class Lesson:
    """A lesson: its title (language -> text), its steps in order, and the folder its paths
    are relative to (None for a lesson never saved)."""

    title: dict[str, str] = field(default_factory=dict)
    steps: tuple[Step, ...] = ()
    folder: Path | None = None

    def __len__(self) -> int:
        return len(self.steps)
