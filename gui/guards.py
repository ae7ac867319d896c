"""Checks the window makes before it lets a file or a network in: nothing breaks, nothing is lost.

Without Qt, so that the engine worker and the docks share them. Every check returns one
sentence for the status bar (or None when all is well) and changes nothing: the previous image,
pipeline and session stay as they were until the new one is known to work.
"""

from __future__ import annotations

from pathlib import Path

from engine.graph.memory import check_forward_memory
from engine.i18n import _
from engine.io.budget import BudgetError
from engine.io.decode import MAX_PIXELS, check_header, read_file
from engine.io.files import FileProblem, check_regular
from engine.io.media import MediaError

__all__ = ["ForwardMemoryCheck", "MemoryBudgetError", "forward_memory_problem", "input_shape_for",
           "live_memory_problem", "open_problem", "sentence"]


def sentence(text: str) -> str:
    """``text`` as one status-bar sentence: a capital first letter, one line, one full stop."""
    text = " ".join(str(text).split()).rstrip(".")
    return f"{text[:1].upper()}{text[1:]}."


def open_problem(path: str | Path, kind: str) -> str | None:
    """Why ``path`` (an image, video, pipeline or model file by its name) cannot be opened, as
    far as a quick look tells: not a regular file (a folder, a FIFO named ``x.png``, a
    device), or for an image a header that is damaged, of an unread format, or that declares
    more pixels or memory than allowed. None when it looks openable.

    Pixels are decoded later by the capture thread; a failure there keeps the previous source
    too (:class:`gui.capture.CaptureWorker`).
    """
    path = Path(path)
    try:
        check_regular(path)
    except FileProblem as problem:
        return _("Cannot open {name}: {reason}").format(name=path.name, reason=problem.reason)
    if kind != "image":
        return None
    name = f"'{path}'"
    try:
        check_header(read_file(path, name), name, MAX_PIXELS)
    except MediaError as error:
        return str(error)
    return None


def input_shape_for(pipeline, frame_hw: tuple[int, int]) -> tuple[int, int, int]:
    """The (C, H, W) input ``pipeline`` gets from a frame of ``frame_hw`` (its preprocessing
    may resize it)."""
    spec = pipeline.input_spec
    h, w = frame_hw
    recipe = getattr(spec, "preprocess", None)
    if recipe is not None:
        h, w = recipe.output_size(h, w)
    return spec.channels, int(h), int(w)


def forward_memory_problem(pipeline, input_shape) -> str | None:
    """The budget's refusal when running ``pipeline`` on ``input_shape`` would need more
    memory than allowed (:func:`engine.graph.memory.check_forward_memory`); None when it fits.

    A pipeline whose shapes do not fit the input is not refused here: running it says why.
    Nor is one whose ledger cannot be computed (a stand-in without ``summary``): the check
    only ever prevents a run, it never breaks one.
    """
    try:
        check_forward_memory(pipeline, tuple(input_shape))
    except BudgetError as error:
        return str(error)
    except Exception:  # ShapeError and the like: the engine run reports it with its numbers
        return None
    return None


def live_memory_problem(pipeline, frame_hw: tuple[int, int] | None) -> str | None:
    """:func:`forward_memory_problem` for the live frame's size (None before any frame)."""
    if frame_hw is None:
        return None
    return forward_memory_problem(pipeline, input_shape_for(pipeline, frame_hw))


class MemoryBudgetError(ValueError):
    """Running the pipeline on this input would need more memory than the budget allows."""


class ForwardMemoryCheck:
    """Call with ``(pipeline, input_shape)`` before a run: raises :class:`MemoryBudgetError`
    when the run would not fit the memory budget. The answer is kept until the pipeline or
    the input size changes, so the live loop pays for the ledger once, not per frame."""

    def __init__(self) -> None:
        self._last: tuple = (None, None, None)  # (pipeline, input shape, problem or None)

    def __call__(self, pipeline, input_shape) -> None:
        shape = tuple(input_shape)
        if self._last[0] is not pipeline or self._last[1] != shape:
            self._last = (pipeline, shape, forward_memory_problem(pipeline, shape))
        if self._last[2] is not None:
            raise MemoryBudgetError(self._last[2])
