"""JSON from files a user names, with limits: size, nesting depth, numbers JSON allows.

Python's ``json`` parses nested arrays and objects by recursion, so a file of 100,000 ``[``
ends in RecursionError (or worse, a crash of the interpreter's stack). :func:`nesting_depth`
measures the depth first with no recursion at all: strings are blanked out with one regular
expression, then the brackets are counted with numpy in chunks. A depth hook inside the decoder
would come too late, because the decoder recurses before it calls any hook.

``NaN``, ``Infinity`` and numbers too large for a float (``1e999``) are refused, as JSON itself
does, and so is an object that gives the same key twice. Every problem is one
:class:`JsonError` whose message names the file.

Examples
--------
>>> loads('{"a": [1, 2.5]}', "x.json")
{'a': [1, 2.5]}
>>> nesting_depth('{"a": [[1], "]]]"]}')
3
"""

from __future__ import annotations

import json
import math
import os
import re
from typing import Any

import numpy as np

from engine.i18n import _
from engine.io.files import FileProblem, read_regular

__all__ = ["MAX_BYTES", "MAX_DEPTH", "JsonError", "load_file", "loads", "nesting_depth"]

MAX_BYTES = 32 << 20
"""Files larger than this are refused before they are read (32 MiB)."""
MAX_DEPTH = 64
"""Deepest nesting of arrays and objects accepted; the app's own files need fewer than 10."""

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_CHUNK = 1 << 20
_OPEN = (ord("["), ord("{"))
_CLOSE = (ord("]"), ord("}"))


class JsonError(ValueError):
    """A JSON file that cannot be used; ``source`` is the file, ``reason`` what is wrong."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source, self.reason = source, reason


def nesting_depth(text: str) -> int:
    """How deeply arrays and objects nest in ``text`` (brackets inside strings do not count).

    Linear time, constant memory per chunk, no recursion; malformed text gives some number and
    the decoder then says what is wrong with it.
    """
    data = np.frombuffer(_STRING.sub('""', text).encode("utf-8", "replace"), np.uint8)
    depth = deepest = 0
    for start in range(0, data.size, _CHUNK):
        part = data[start : start + _CHUNK]
        step = ((part == _OPEN[0]) | (part == _OPEN[1])).astype(np.int32)
        step -= (part == _CLOSE[0]) | (part == _CLOSE[1])
        if not step.any():
            continue
        running = np.cumsum(step, dtype=np.int64) + depth
        deepest = max(deepest, int(running.max()))
        depth = int(running[-1])
    return deepest


def _no_constant(name: str):
    raise ValueError(_("{name} is not a number JSON allows").format(name=name))


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(_("{text} is too large for a number").format(text=text[:40]))
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        twice = next(key for key, _value in pairs if key in seen or seen.add(key))
        raise ValueError(_("the key {key!r} is given twice in one object").format(key=twice))
    return out


def loads(text: str, source: str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``text``; :class:`JsonError` naming ``source`` for anything JSON does not allow.

    Parameters
    ----------
    text : str
        The file's content.
    source : str
        The file's name, for the message.
    max_depth : int
        Deepest nesting of arrays and objects accepted.
    """
    depth = nesting_depth(text)
    if depth > max_depth:
        raise JsonError(source, _("not valid here: arrays and objects nest {depth} levels deep;"
                                  " at most {limit} are allowed").format(depth=depth,
                                                                         limit=max_depth))
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite,
                          object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as error:
        ends = error.pos >= len(text.rstrip())
        hint = _(" (the file ends early: truncated?)") if ends else ""
        raise JsonError(source, _("not valid JSON: {problem} at line {line}, column"
                                  " {column}{hint}").format(problem=error.msg, line=error.lineno,
                                                            column=error.colno,
                                                            hint=hint)) from None
    except RecursionError:  # not expected after the depth check; kept as a last line
        raise JsonError(source, _("not valid here: arrays and objects nest too deeply")) from None
    except ValueError as error:  # a constant, a huge number, a key given twice, 4300+ digits
        raise JsonError(source, _("not valid JSON: {problem}").format(
            problem=str(error).split(";")[0])) from None


def load_file(path: str | os.PathLike, source: str | None = None, max_bytes: int = MAX_BYTES,
              max_depth: int = MAX_DEPTH) -> Any:
    """Read and parse a JSON file: a regular file of at most ``max_bytes``, UTF-8, limited depth.

    Parameters
    ----------
    path : path-like
        The file.
    source : str, optional
        How messages name it; default the path as given.

    Raises
    ------
    JsonError
        Missing, not a regular file, too large, not UTF-8 text, not valid JSON, too deep.
    """
    source = str(path) if source is None else source
    try:
        data = read_regular(path, max_bytes)
    except FileProblem as problem:
        raise JsonError(source, problem.reason) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise JsonError(source, _("not a text file (expected JSON)")) from None
    return loads(text, source, max_depth)
