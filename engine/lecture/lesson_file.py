"""Reading a lesson file: every field checked, every path kept inside the lesson's folder.

A lesson comes from a teacher, a zip sent by e-mail, a USB stick: its values can be anything
JSON allows. The text passes the size and depth limits of :mod:`engine.io.safe_json`; each field
is read with its type and range by :class:`engine.io.fields.Fields`, and the first one that does
not fit makes the lesson unusable with one sentence naming the file and the field
(:class:`LessonError`). A path must be relative, without ``..``, and stay inside the lesson's
folder once symbolic links are followed: a lesson can only show files it brought along.

Files that a valid path names but that are missing or broken are not checked here: the window
says so on the step that uses them, and the other steps keep working.

Examples
--------
>>> data = {"format": "cnn-explorer-lesson", "version": 1,
...         "steps": [{"title": "Edges", "text": "A kernel.", "pipeline": "edges"}]}
>>> lesson = parse_lesson(data, "edges.json", Path("/tmp"))
>>> lesson.steps[0].pipeline, lesson.steps[0].title
('edges', {'en': 'Edges'})
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from engine.graph.spec import BUNDLED, BUNDLED_MODELS
from engine.i18n import _
from engine.io.fields import FieldError, Fields, shown
from engine.io.safe_json import JsonError, load_file
from engine.lecture.lesson import (
    ACTIONS,
    DISPLAY_KEYS,
    FORMAT,
    VERSION,
    Action,
    ConvPlayerState,
    Layout,
    Lesson,
    PoolPlayerState,
    SourceRef,
    Step,
)

__all__ = ["MAX_BYTES", "LessonError", "load_lesson", "parse_lesson"]

MAX_BYTES = 4 << 20  # texts and settings only; pictures and networks are files beside it
MAX_DEPTH = 12  # a lesson nests 6 levels at most (custom kernel weights)
MAX_STEPS = 500
MAX_TEXT = 20_000  # characters of one step's Markdown
MAX_TITLE = 300
MAX_COLUMNS, MAX_PER_COLUMN = 8, 8
MAX_PIXELS = 10_000
NORMALIZATIONS = ("map", "layer", "global")
CONV_SOURCES = ("lecture_7x7", "lecture_volume", "crop")
POOL_SOURCES = ("lecture_4x4", "lecture_7x7", "crop")
_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")
_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_ -]{0,63}")

_TOP_KEYS = ("format", "version", "title", "steps")
_STEP_KEYS = ("title", "text", "formula", "source", "pipeline", "layer", "map", "display",
              "docks", "conv_player", "pool_player", "actions")


class LessonError(ValueError):
    """A lesson file that cannot be used; the message names the file and the field."""


def load_lesson(path: str | Path) -> Lesson:
    """Read and check the lesson file ``path``; :class:`LessonError` when it cannot be used."""
    path = Path(path)
    try:
        data = load_file(path, path.name, max_bytes=MAX_BYTES, max_depth=MAX_DEPTH)
    except JsonError as error:
        raise LessonError(str(error)) from None
    return parse_lesson(data, path.name, path.parent)


def parse_lesson(data: Any, source: str, folder: Path) -> Lesson:
    """Check every field of a parsed lesson file whose paths are relative to ``folder``."""
    try:
        top = Fields(data, source).only(_TOP_KEYS)
        fmt = top.text("format", max_length=64)
        if fmt != FORMAT:
            top.fail("format", _("must be {expected!r}: this is not a CNN Explorer lesson").format(
                expected=FORMAT))
        version = top.data.get("version")
        if version != VERSION or isinstance(version, bool):
            top.fail("version", _("this lesson is of version {found}; this CNN Explorer reads"
                                  " version {known}").format(found=shown(version), known=VERSION))
        title = _texts(top, "title", MAX_TITLE, required=False)
        items = top.items("steps", max_length=MAX_STEPS)
        if not items:
            top.fail("steps", _("must list at least one step"))
        steps = tuple(_step(Fields(item, source, f"steps[{i}]."), folder)
                      for i, item in enumerate(items))
    except FieldError as error:
        raise LessonError(str(error)) from None
    return Lesson(title=title, steps=steps, folder=Path(folder))


def _texts(fields: Fields, name: str, limit: int, required: bool = True) -> dict[str, str]:
    """Text in one language (a string, taken as English) or several ({"en": ..., ...})."""
    value = fields.data.get(name)
    if value is None:
        if required:
            fields.fail(name, _("is required"))
        return {}
    if isinstance(value, str):
        return {"en": fields.text(name, max_length=limit)}
    texts = fields.child(name)
    if not texts.data:
        fields.fail(name, _("must give the text in at least one language"))
    out = {}
    for language in texts.data:
        if not _LANGUAGE.fullmatch(str(language)):
            texts.fail(str(language), _("is not a language code such as 'en' or 'pt_BR'"))
        out[language] = texts.text(language, max_length=limit)
    return out


def _inside(fields: Fields, name: str, folder: Path, text: str) -> Path:
    """``text`` as an absolute path inside ``folder``; a FieldError when it would leave it."""
    if "\\" in text or PureWindowsPath(text).drive or PurePosixPath(text).is_absolute():
        fields.fail(name, _("{path!r} is not a path relative to the lesson's folder (write"
                            " folders with '/'); a lesson may only use files in its own"
                            " folder").format(path=text))
    if ".." in PurePosixPath(text).parts:
        fields.fail(name, _("{path!r} leaves the lesson's folder; a lesson may only use files"
                            " in its own folder").format(path=text))
    root = Path(folder).resolve()
    path = (root / text).resolve()
    if not path.is_relative_to(root):
        fields.fail(name, _("{path!r} leads out of the lesson's folder through a link; a lesson"
                            " may only use files in its own folder").format(path=text))
    return path


def _source(fields: Fields, folder: Path) -> SourceRef:
    fields.only(("sample", "image", "video"))
    kinds = [k for k in ("sample", "image", "video") if fields.data.get(k) is not None]
    if len(kinds) != 1:
        fields.fail(None, _("must name one of sample, image or video"))
    kind = kinds[0]
    if kind == "sample":
        name = fields.text("sample", max_length=64)
        if not _NAME.fullmatch(name):
            fields.fail("sample", _("{name!r} is not a sample's name").format(name=name))
        return SourceRef("sample", sample=name)
    return SourceRef(kind, path=_inside(fields, kind, folder, fields.path(kind)))


def _layout(fields: Fields) -> Layout:
    fields.only(("columns", "widths", "heights", "focus"))
    columns = []
    for i, column in enumerate(fields.items("columns", max_length=MAX_COLUMNS)):
        name = f"columns[{i}]"
        if not isinstance(column, list) or not 1 <= len(column) <= MAX_PER_COLUMN:
            fields.fail(name, _("must be a list of 1 to {n} panel names, not {value}").format(
                n=MAX_PER_COLUMN, value=shown(column)))
        columns.append(tuple(_key(fields, f"{name}[{j}]", key) for j, key in enumerate(column)))
    widths = []
    for i, width in enumerate(fields.items("widths", default=[], max_length=MAX_COLUMNS)):
        if isinstance(width, bool) or not isinstance(width, int) or not 0 <= width <= MAX_PIXELS:
            fields.fail(f"widths[{i}]", _("must be a whole number from 0 to {high}, not {value}")
                        .format(high=MAX_PIXELS, value=shown(width)))
        widths.append(width)
    heights = fields.child("heights", default=None)
    pairs = ()
    if heights is not None:
        pairs = tuple((_key(heights, key, key), heights.integer(key, low=0, high=MAX_PIXELS))
                      for key in heights.data)
    focus = fields.text("focus", default=None, max_length=40)
    if focus is not None:
        _key(fields, "focus", focus)
    return Layout(tuple(columns), tuple(widths), pairs, focus)


def _key(fields: Fields, name: str, key: Any) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        fields.fail(name, _("{key} is not a panel's name (such as 'maps' or 'conv_player')")
                    .format(key=shown(key)))
    return key


def _display(fields: Fields) -> dict[str, Any]:
    fields.only(DISPLAY_KEYS)
    out: dict[str, Any] = {}
    if "colormap" in fields.data:
        out["colormap"] = fields.text("colormap", max_length=32)
    if "normalization" in fields.data:
        out["normalization"] = fields.text("normalization", choices=NORMALIZATIONS)
    if "resolution" in fields.data:  # null: full size
        out["resolution"] = fields.integer("resolution", default=None, low=16, high=1 << 16)
    for flag in ("show_channels", "flip_kernels"):
        if flag in fields.data:
            out[flag] = fields.boolean(flag)
    return out


def _conv(fields: Fields) -> ConvPlayerState:
    fields.only(("source", "kernel", "stride", "padding", "dilation", "bias", "filter",
                 "channel", "step", "custom"))
    custom = None
    if fields.data.get("custom") is not None:
        custom = _weights(fields)
    return ConvPlayerState(
        source=fields.text("source", default="lecture_7x7", choices=CONV_SOURCES),
        kernel=fields.text("kernel", default=None, max_length=40),
        stride=fields.integer("stride", default=1, low=1, high=5),
        padding=fields.integer("padding", default=0, low=0, high=4),
        dilation=fields.integer("dilation", default=1, low=1, high=4),
        bias=fields.number("bias", default=None, low=-99, high=99),
        filter=fields.integer("filter", default=0, low=0, high=63),
        channel=fields.integer("channel", default=0, low=0, high=63),
        step=fields.integer("step", default=0, low=-1, high=1 << 20),
        custom=custom)


def _weights(fields: Fields) -> tuple:
    """A custom kernel: (C, kh, kw) nested lists of finite numbers, at most 64 x 7 x 7."""
    channels = fields.items("custom", max_length=64)
    try:
        rows = [[[float(v) for v in row] for row in channel] for channel in channels]
        side = (len(rows[0]), len(rows[0][0]))
        ok = all(len(c) == side[0] and all(len(r) == side[1] for r in c) for c in rows)
        ok = ok and 1 <= side[0] <= 7 and 1 <= side[1] <= 7 and all(
            abs(v) < 1e6 for c in rows for r in c for v in r)
        bools = any(isinstance(v, bool) for c in channels for r in c for v in r)
    except (TypeError, ValueError, IndexError):
        ok, bools = False, False
    if not ok or bools:
        fields.fail("custom", _("must be a list of channels, each a grid of 1 to 7 rows of 1 to"
                                " 7 numbers, every grid of one size"))
    return tuple(tuple(tuple(r) for r in c) for c in rows)


def _pool(fields: Fields) -> PoolPlayerState:
    fields.only(("source", "mode", "kernel", "stride", "padding", "channel", "step"))
    return PoolPlayerState(
        source=fields.text("source", default="lecture_4x4", choices=POOL_SOURCES),
        mode=fields.text("mode", default="max", choices=("max", "avg")),
        kernel=fields.integer("kernel", default=2, low=1, high=5),
        stride=fields.integer("stride", default=2, low=1, high=5),
        padding=fields.integer("padding", default=0, low=0, high=2),
        channel=fields.integer("channel", default=0, low=0, high=63),
        step=fields.integer("step", default=0, low=-1, high=1 << 20))


def _actions(fields: Fields) -> tuple[Action, ...]:
    out = []
    for i, item in enumerate(fields.items("actions", default=[], max_length=8)):
        action = Fields(item, fields.source, fields.prefix + f"actions[{i}].").only(
            ("name", "argument"))
        name = action.text("name", choices=ACTIONS, max_length=64)
        choices = ACTIONS[name]
        if choices is None:
            if action.data.get("argument") is not None:
                action.fail("argument", _("{name} takes no argument").format(name=name))
            out.append(Action(name))
        else:
            out.append(Action(name, action.text("argument", choices=choices)))
    return tuple(out)


def _step(fields: Fields, folder: Path) -> Step:
    fields.only(_STEP_KEYS)
    pipeline = fields.text("pipeline", default=None, max_length=1024)
    pipeline_file = None
    if pipeline is not None and pipeline not in (*BUNDLED, *BUNDLED_MODELS):
        if not pipeline.lower().endswith(".json"):
            fields.fail("pipeline", _("{name!r} is neither a bundled pipeline ({names}) nor a"
                                      " pipeline file (.json) in the lesson's folder").format(
                name=pipeline, names=", ".join((*BUNDLED, *BUNDLED_MODELS))))
        pipeline_file, pipeline = _inside(fields, "pipeline", folder, pipeline), None
    sub = {name: fields.child(name, default=None)
           for name in ("source", "display", "docks", "conv_player", "pool_player")}
    return Step(
        title=_texts(fields, "title", MAX_TITLE),
        text=_texts(fields, "text", MAX_TEXT, required=False),
        formula=_texts(fields, "formula", MAX_TEXT, required=False),
        source=None if sub["source"] is None else _source(sub["source"], folder),
        pipeline=pipeline, pipeline_file=pipeline_file,
        layer=fields.integer("layer", default=None, low=0, high=100_000),
        selected_map=fields.integer("map", default=None, low=-1, high=1 << 20),
        display={} if sub["display"] is None else _display(sub["display"]),
        layout=None if sub["docks"] is None else _layout(sub["docks"]),
        conv=None if sub["conv_player"] is None else _conv(sub["conv_player"]),
        pool=None if sub["pool_player"] is None else _pool(sub["pool_player"]),
        actions=_actions(fields))
