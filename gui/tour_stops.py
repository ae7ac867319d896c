"""The guided tour's stops: the bundled lesson ``assets/lessons/tour``, read as tour stops.

The tour is a lesson like any teacher's (:mod:`engine.lecture.lesson`), in English and
Brazilian Portuguese, with its own small networks in ``pipelines/`` beside it. This module
turns its steps into :class:`TourStop` s in the language on show, for the tour panel
(:mod:`gui.docks.tour`) and ``--tour N``; the code that applies a stop is in :mod:`gui.tour`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from assets import asset_path
from engine.i18n import current_language
from engine.lecture.lesson import Lesson, Step, localized
from engine.lecture.lesson_file import load_lesson

__all__ = ["TOUR_LESSON", "ConvSetup", "PoolSetup", "TourStop", "stop_from_step", "stops",
           "tour_lesson"]

TOUR_LESSON = asset_path("lessons", "tour", "tour.lesson.json")


@dataclass(frozen=True)
class ConvSetup:
    """What the convolution player shows at a stop: a lecture example and its settings."""

    source: str = "lecture_7x7"  # a key of gui.docks.conv_player.SOURCES
    stride: int = 1
    padding: int = 0
    step: int = 0  # -1: the last step, with the whole output filled in


@dataclass(frozen=True)
class PoolSetup:
    """What the pooling player shows: the lecture's 4x4 example at a given step."""

    step: int = 0


@dataclass(frozen=True)
class TourStop:
    """One stop of the tour.

    Attributes
    ----------
    title, text, formula : str
        What the tour panel shows; the formula in plain text with Unicode symbols.
    pipeline : str or callable
        A bundled pipeline name or a pipeline file, or a function that builds the Pipeline.
    sample : str or None
        The bundled sample to show, unless the user asked to keep their own source;
        None keeps the live source whatever the option says.
    columns : tuple of tuples of str
        The panels to show, as columns left to right (each column stacked top to bottom),
        to the right of the tour panel. Every other panel is hidden.
    widths : tuple of int
        Width in pixels of each column at the default window size.
    layer, selected_map : int
        The layer to select (index into the pipeline) and the map within it (-1: none).
    show_channels : bool
        The input panel shows the R, G, B and gray channels.
    normalization : str
        Which values share one colour scale in the maps: "map", "layer" or "global".
    conv, pool : ConvSetup or PoolSetup or None
        The example the convolution and pooling players are set to.
    calls : tuple of (panel key, method name, arguments)
        Public methods of panels to call once the stop is set up, e.g.
        ``("parameters", "show_example", ("conv32",))``.
    heights : tuple of (panel key, pixels)
        Heights of stacked panels at the default window size.
    """

    title: str
    text: str
    formula: str
    pipeline: str | Callable
    sample: str | None
    columns: tuple[tuple[str, ...], ...]
    widths: tuple[int, ...] = ()
    layer: int = 0
    selected_map: int = -1
    show_channels: bool = False
    normalization: str = "layer"
    conv: ConvSetup | None = None
    pool: PoolSetup | None = None
    calls: tuple[tuple[str, str, tuple], ...] = ()
    heights: tuple[tuple[str, int], ...] = ()

    def build_pipeline(self):
        """The stop's Pipeline (a fresh one each time)."""
        from engine.resolve import resolve_pipeline

        if callable(self.pipeline):
            return self.pipeline()
        return resolve_pipeline(self.pipeline)

    def dock_keys(self) -> tuple[str, ...]:
        """Every panel the stop shows, in column order."""
        return tuple(key for column in self.columns for key in column)


@cache
def tour_lesson() -> Lesson:
    """The bundled tour lesson (read once; a broken copy raises LessonError)."""
    return load_lesson(TOUR_LESSON)


def stop_from_step(step: Step, language: str) -> TourStop:
    """A lesson step as a tour stop, its texts in ``language``."""
    layout = step.layout
    conv = step.conv
    return TourStop(
        title=localized(step.title, language),
        text=localized(step.text, language),
        formula=localized(step.formula, language),
        pipeline=str(step.pipeline_file) if step.pipeline_file else step.pipeline,
        sample=step.source.sample if step.source and step.source.kind == "sample" else None,
        columns=layout.columns if layout else (),
        widths=layout.widths if layout else (),
        layer=step.layer or 0,
        selected_map=-1 if step.selected_map is None else step.selected_map,
        show_channels=bool(step.display.get("show_channels", False)),
        normalization=step.display.get("normalization", "layer"),
        conv=None if conv is None else ConvSetup(conv.source, conv.stride, conv.padding,
                                                 conv.step),
        pool=None if step.pool is None else PoolSetup(step.pool.step),
        calls=tuple((a.panel, a.method, () if a.argument is None else (a.argument,))
                    for a in step.actions),
        heights=layout.heights if layout else (),
    )


@cache
def _stops(language: str) -> tuple[TourStop, ...]:
    return tuple(stop_from_step(step, language) for step in tour_lesson().steps)


def stops() -> tuple[TourStop, ...]:
    """The tour's stops, in the lecture's order, in the language on show."""
    return _stops(current_language())
