"""Typed fields of a parsed JSON object, each read with one clear error naming file and field.

A file's values can be anything JSON allows: a number where a path belongs, a list where a
number belongs, a number far outside any sensible range. :class:`Fields` reads one object's
fields with their types and limits and raises :class:`FieldError` for the first one that does
not fit, so that no ``TypeError`` or ``OverflowError`` ever leaves the code that uses the value.

Examples
--------
>>> f = Fields({"layer": 2, "path": "a.png"}, "session.json")
>>> f.integer("layer", low=0, high=99), f.path("path"), f.boolean("paused", default=False)
(2, 'a.png', False)
>>> f.integer("layer", low=0, high=1)
Traceback (most recent call last):
...
engine.io.fields.FieldError: session.json, field 'layer': must be a whole number from 0 to 1, not 2
"""

from __future__ import annotations

import difflib
import math
import reprlib
from collections.abc import Iterable
from typing import Any

from engine.i18n import _

__all__ = ["MISSING", "FieldError", "Fields", "shown"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""Default of a required field: leaving it out is an error."""

MAX_TEXT = 4096
"""Longest text (and path) a field may hold, in characters."""


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict = 3, 4, 4
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = 36


def shown(value: Any, limit: int = 40) -> str:
    """A short, one-line picture of a value for a message: ``'abc'``, ``[1, 2, ...]``, ``12``.

    Never recursive beyond three levels, so a deeply nested value cannot overflow the stack.
    """
    if isinstance(value, float) and math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    text = _REPR.repr(value)
    return text if len(text) <= limit else text[: limit - 4] + " ..." + text[-1]


class FieldError(ValueError):
    """A field of a file that is missing, of the wrong type or out of range."""

    def __init__(self, source: str, field: str | None, reason: str):
        where = source if field is None else _("{source}, field {field!r}").format(
            source=source, field=field)
        super().__init__(f"{where}: {reason}")
        self.source, self.field, self.reason = source, field, reason


class Fields:
    """The fields of one JSON object from ``source``; ``prefix`` names nested objects.

    Every reader takes the field's ``name`` and a ``default``; without a default the field is
    required. A field given as ``null`` counts as left out.
    """

    def __init__(self, data: Any, source: str, prefix: str = ""):
        self.source, self.prefix = source, prefix
        if not isinstance(data, dict):
            raise FieldError(source, prefix.rstrip(".") or None, _(
                "must be an object {{...}}, not {value}").format(value=shown(data)))
        self.data = data

    def fail(self, name: str | None, reason: str):
        """Raise the :class:`FieldError` for field ``name`` (None: the object itself)."""
        field = None if name is None else self.prefix + name
        raise FieldError(self.source, field or self.prefix.rstrip(".") or None, reason)

    def only(self, allowed: Iterable[str]) -> Fields:
        """Refuse keys other than ``allowed`` (with the closest allowed key as a hint)."""
        allowed = list(allowed)
        for key in self.data:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, 1)
                hint = _(" (did you mean {key!r}?)").format(key=close[0]) if close else ""
                self.fail(str(key), _("unknown key{hint}; allowed: {keys}").format(
                    hint=hint, keys=", ".join(allowed)))
        return self

    def _get(self, name: str, default: Any) -> tuple[bool, Any]:
        """(given, value): the field's value, or the default when it is left out or null."""
        value = self.data.get(name)
        if value is None:
            if default is MISSING:
                self.fail(name, _("is required"))
            return False, default
        return True, value

    def text(self, name: str, default: Any = MISSING, choices: Iterable[str] | None = None,
             max_length: int = MAX_TEXT) -> Any:
        """A string of at most ``max_length`` characters, one of ``choices`` when given."""
        given, value = self._get(name, default)
        if not given:
            return value
        if not isinstance(value, str):
            self.fail(name, _("must be text, not {value}").format(value=shown(value)))
        if len(value) > max_length:
            self.fail(name, _("is {n:,} characters long; at most {limit:,} are allowed").format(
                n=len(value), limit=max_length))
        if choices is not None and value not in (choices := list(choices)):
            self.fail(name, _("must be one of {choices}, not {value}").format(
                choices=", ".join(choices), value=shown(value)))
        return value

    def path(self, name: str, default: Any = MISSING) -> Any:
        """A file path: non-empty text without NUL characters."""
        value = self.text(name, default)
        if name in self.data and self.data[name] is not None and (not value or "\0" in value):
            self.fail(name, _("must be a file path, not {value}").format(value=shown(value)))
        return value

    def integer(self, name: str, default: Any = MISSING, low: int | None = None,
                high: int | None = None) -> Any:
        """A whole number (not a bool, not a float) within ``low`` .. ``high``."""
        given, value = self._get(name, default)
        if not given:
            return value
        if isinstance(value, bool) or not isinstance(value, int) or (
                low is not None and value < low) or (high is not None and value > high):
            self.fail(name, _("must be a whole number{range}, not {value}").format(
                range=_range(low, high), value=shown(value)))
        return value

    def number(self, name: str, default: Any = MISSING, low: float | None = None,
               high: float | None = None) -> Any:
        """A finite number (whole or not, never a bool) within ``low`` .. ``high``."""
        given, value = self._get(name, default)
        if not given:
            return value
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        try:
            number = float(value) if ok else math.nan
        except OverflowError:
            number = math.nan
        if not math.isfinite(number) or (low is not None and number < low) or (
                high is not None and number > high):
            self.fail(name, _("must be a finite number{range}, not {value}").format(
                range=_range(low, high), value=shown(value)))
        return number

    def boolean(self, name: str, default: Any = MISSING) -> Any:
        """true or false."""
        given, value = self._get(name, default)
        if given and not isinstance(value, bool):
            self.fail(name, _("must be true or false, not {value}").format(value=shown(value)))
        return value

    def items(self, name: str, default: Any = MISSING, max_length: int = 10_000) -> Any:
        """A list of at most ``max_length`` items (their types are the caller's to check)."""
        given, value = self._get(name, default)
        if not given:
            return value
        if not isinstance(value, list):
            self.fail(name, _("must be a list [...], not {value}").format(value=shown(value)))
        if len(value) > max_length:
            self.fail(name, _("has {n:,} items; at most {limit:,} are allowed").format(
                n=len(value), limit=max_length))
        return value

    def child(self, name: str, default: Any = MISSING) -> Any:
        """The nested object ``name`` as :class:`Fields` (``default`` when left out)."""
        given, value = self._get(name, default)
        return Fields(value, self.source, f"{self.prefix}{name}.") if given else value


def _range(low, high) -> str:
    if low is not None and high is not None:
        return _(" from {low} to {high}").format(low=low, high=high)
    if low is not None:
        return _(" of at least {low}").format(low=low)
    if high is not None:
        return _(" of at most {high}").format(high=high)
    return ""
