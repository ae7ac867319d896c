"""Writing a lesson: the JSON file, and beside it every picture, video and network it uses.

A saved lesson's folder is complete: zip it, send it, and a student's copy of CNN Explorer opens
it with every step working. :func:`save_lesson` copies each image or video from outside the
folder into ``media/``, writes each network that is not bundled into ``pipelines/`` (through the
pipeline-file writer, so a network edited in the window and never saved gets a file too), then
writes the lesson itself atomically.

Examples
--------
>>> import tempfile
>>> from engine.lecture.lesson import Lesson, Step
>>> from engine.lecture.lesson_file import load_lesson
>>> folder = Path(tempfile.mkdtemp())
>>> saved = save_lesson(Lesson(steps=(Step(title={"en": "Edges"}, pipeline="edges"),)),
...                     folder / "edges.lesson.json")
>>> load_lesson(folder / "edges.lesson.json").steps[0].pipeline
'edges'
"""

from __future__ import annotations

import dataclasses
import filecmp
import shutil
from pathlib import Path
from typing import Any

from engine.graph.spec import SpecError, dump_json, load_pipeline, save_pipeline
from engine.i18n import _
from engine.io.files import write_atomic
from engine.lecture.lesson import FORMAT, VERSION, Lesson, SourceRef, Step
from engine.lecture.lesson_file import LessonError

__all__ = ["lesson_to_dict", "save_lesson"]

MEDIA, PIPELINES = "media", "pipelines"


def save_lesson(lesson: Lesson, path: str | Path) -> Lesson:
    """Write ``lesson`` to ``path`` with its files beside it; return the lesson as saved.

    Raises
    ------
    LessonError
        A file cannot be copied or written, or a network cannot be written to a pipeline file
        (an imported ONNX model); the message names the step.
    """
    path = Path(path)
    folder = path.parent.resolve()
    steps = []
    for number, step in enumerate(lesson.steps, start=1):
        try:
            steps.append(_gather(step, folder, number))
        except (OSError, SpecError) as error:
            raise LessonError(_("step {n}: {problem}").format(n=number, problem=error)) from None
    saved = dataclasses.replace(lesson, steps=tuple(steps), folder=folder)
    try:
        write_atomic(folder / path.name, (dump_json(lesson_to_dict(saved)) + "\n").encode())
    except OSError as error:
        raise LessonError(_("cannot write {name}: {problem}").format(
            name=path.name, problem=error.strerror or error)) from None
    return saved


def _gather(step: Step, folder: Path, number: int) -> Step:
    """``step`` with its files inside ``folder``: copied or written there when they are not."""
    source = step.source
    if source is not None and source.path is not None and not _within(source.path, folder):
        source = SourceRef(source.kind, path=_copy(source.path, folder / MEDIA))
    network, pipeline_file = step.network, step.pipeline_file
    if pipeline_file is not None and not _within(pipeline_file, folder):
        network = load_pipeline(pipeline_file)
    if network is not None:
        target = folder / PIPELINES / f"step-{number}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        save_pipeline(network, target)
        pipeline_file = target
    return dataclasses.replace(step, source=source, network=None, pipeline_file=pipeline_file,
                               pipeline=None if pipeline_file is not None else step.pipeline)


def _within(path: Path, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder)


def _copy(path: Path, into: Path) -> Path:
    """Copy ``path`` into ``into`` under its own name, or a numbered one when another file
    has taken it; a file already there with the same content is used as it is."""
    into.mkdir(parents=True, exist_ok=True)
    path = Path(path)
    target, n = into / path.name, 1
    while target.exists():
        if filecmp.cmp(path, target, shallow=False):
            return target
        n += 1
        target = into / f"{path.stem}-{n}{path.suffix}"
    shutil.copyfile(path, target)
    return target


def lesson_to_dict(lesson: Lesson) -> dict[str, Any]:
    """The lesson file's content; every path relative to ``lesson.folder``."""
    folder = Path(lesson.folder or ".").resolve()
    data: dict[str, Any] = {"format": FORMAT, "version": VERSION}
    if lesson.title:
        data["title"] = dict(lesson.title)
    data["steps"] = [_step_dict(step, folder) for step in lesson.steps]
    return data


def _relative(path: Path, folder: Path) -> str:
    return Path(path).resolve().relative_to(folder).as_posix()


def _step_dict(step: Step, folder: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"title": dict(step.title)}
    for name in ("text", "formula"):
        if getattr(step, name):
            out[name] = dict(getattr(step, name))
    if step.source is not None:
        kind = step.source.kind
        out["source"] = {kind: step.source.sample if kind == "sample"
                         else _relative(step.source.path, folder)}
    if step.pipeline_file is not None:
        out["pipeline"] = _relative(step.pipeline_file, folder)
    elif step.pipeline is not None:
        out["pipeline"] = step.pipeline
    if step.layer is not None:
        out["layer"] = step.layer
    if step.selected_map is not None:
        out["map"] = step.selected_map
    if step.display:
        out["display"] = dict(step.display)
    if step.layout is not None:
        layout = step.layout
        docks: dict[str, Any] = {"columns": [list(c) for c in layout.columns]}
        if layout.widths:
            docks["widths"] = list(layout.widths)
        if layout.heights:
            docks["heights"] = dict(layout.heights)
        if layout.focus:
            docks["focus"] = layout.focus
        out["docks"] = docks
    if step.conv is not None:
        conv = dataclasses.asdict(step.conv)
        if conv["custom"] is None:
            del conv["custom"]
        else:
            conv["custom"] = [[list(row) for row in channel] for channel in step.conv.custom]
        out["conv_player"] = conv
    if step.pool is not None:
        out["pool_player"] = dataclasses.asdict(step.pool)
    if step.actions:
        out["actions"] = [{"name": a.name, **({"argument": a.argument} if a.argument else {})}
                          for a in step.actions]
    return out
