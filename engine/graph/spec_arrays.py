"""Arrays in pipeline files: reading inline values or the .npz beside the file, writing them
back, and the JSON layout.

Writing keeps the shortest decimal that reads back as the same float32, so that
save -> load -> save gives the same bytes. :class:`SpecError` lives here because both this
module and :mod:`engine.graph.spec` raise it; import it from :mod:`engine.graph.spec`.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import numpy as np

from engine.i18n import _
from engine.io.budget import BudgetError, check_allocation
from engine.io.npz import NpzArchive, NpzError

INLINE_LIMIT = 1024  # arrays with more values go to the .npz beside the file


class SpecError(ValueError):
    """A pipeline file that cannot be loaded: names the file, the layer and the field."""

    def __init__(self, source: str, message: str, index: int | None = None,
                 type_name: str | None = None, field: str | None = None):
        where = source
        if index is not None and type_name:
            where = _("{source}: layer {index} ({type_name})").format(
                source=source, index=index, type_name=type_name)
        elif index is not None:
            where = _("{source}: layer {index}").format(source=source, index=index)
        if field is not None:
            where = _("{source}, field {field!r}").format(source=where, field=field)
        super().__init__(f"{where}: {message}")
        self.source, self.index, self.type_name, self.field = source, index, type_name, field


def check_keys(source: str, d: Any, what: str, allowed, required, index=None, type_name=None):
    """Check that ``d`` is an object with only ``allowed`` keys and every ``required`` one.

    Parameters
    ----------
    source : str
        The file's name, for the message.
    d : Any
        The parsed object.
    what : str
        What ``d`` is, in words already translated (``_("the layer")``) or a key ("input").
    allowed, required : sequence of str
        The keys it may hold and the keys it must hold.
    index, type_name : optional
        The layer's position and type, when ``d`` belongs to a layer.

    Raises
    ------
    SpecError
        Not an object, an unknown key (with the closest allowed one), or a missing key.
    """
    if not isinstance(d, dict):
        raise SpecError(source, _("{what} must be an object, not {type_name}").format(
            what=what, type_name=type(d).__name__), index,
                        type_name)
    for key in d:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), list(allowed), 1)
            hint = _(" (did you mean {key!r}?)").format(key=close[0]) if close else ""
            raise SpecError(source, _("unknown key in {what}{hint}; allowed: "
                              "{values}").format(
                what=what, hint=hint, values=', '.join(allowed)), index, type_name, str(key))
    for key in required:
        if key not in d:
            raise SpecError(source, _("{what} lacks the required key").format(
                what=what), index, type_name, key)


# Reading -------------------------------------------------------------------------------------


def read_array(source, value, key, base_dir, index, type_name) -> np.ndarray:
    """Read ``{"values": nested lists}`` or ``{"npz": file, "key": name}`` as float32.

    Parameters
    ----------
    source : str
        The file's name, for the message.
    value : Any
        The array's entry in the file.
    key : str
        The layer's key that holds it ("weights", "bias_values", ...).
    base_dir : path-like or None
        The folder of the file, where the .npz is; None when there is no file.
    index, type_name
        The layer's position and type, for the message.

    Raises
    ------
    SpecError
        Malformed or non-finite values, or an .npz that is missing, damaged or lacks the key.
    """
    check_keys(source, value, key, ("values", "npz", "key"), (), index, type_name)
    if "values" in value:
        if set(value) != {"values"}:
            raise SpecError(source, _("give either values or npz + key"), index, type_name, key)
        try:
            array = _float32(np.array(value["values"], dtype=np.float64))
        except (TypeError, ValueError, OverflowError):
            raise SpecError(source, _("values must be nested lists of numbers of equal length"),
                            index, type_name, key) from None
        if not np.isfinite(array).all():
            raise SpecError(source, _("values must be finite numbers within float32's range"),
                            index, type_name, key)
        return array
    if set(value) != {"npz", "key"}:
        raise SpecError(source, _("an array needs values, or npz and key"), index, type_name, key)
    if base_dir is None:
        raise SpecError(source, _("an npz reference needs a file location"), index, type_name,
                        key)
    name, member = value["npz"], value["key"]
    if not isinstance(name, str) or not isinstance(member, str) or not name or not member:
        raise SpecError(source, _("npz and key must be non-empty text"), index, type_name, key)
    path = _beside(source, Path(base_dir), name, index, type_name, key)
    try:
        with NpzArchive(path, path.name) as archive:
            if member not in archive:
                raise SpecError(source, _("{npz} has no array {member!r}").format(
                    npz=path.name, member=member), index, type_name, key)
            array = archive.read(member)
    except NpzError as error:
        raise SpecError(source, _("cannot read {npz}: {reason}").format(
            npz=path.name, reason=error.reason), index, type_name, key) from None
    except BudgetError as error:
        raise SpecError(source, str(error), index, type_name, key) from None
    array = _float32(array)
    if not np.isfinite(array).all():
        raise SpecError(source, _("{npz}: array {member!r} holds NaN or infinite values (or"
                                  " values beyond float32's range); weights must be finite"
                                  " numbers").format(npz=path.name, member=member),
                        index, type_name, key)
    return array


def _float32(array: np.ndarray) -> np.ndarray:
    """``array`` as float32; values beyond float32's range become infinite, without a warning
    (the caller refuses them with a message)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(array, dtype=np.float32)


def _beside(source, base_dir: Path, name: str, index, type_name, key) -> Path:
    """The .npz ``name`` in the pipeline file's folder or below it; SpecError for the rest."""
    relative = Path(name)
    if relative.is_absolute() or relative.drive or ".." in relative.parts or "\0" in name:
        raise SpecError(source, _("the npz file {name!r} must be in the pipeline file's folder"
                                  " or below it (no absolute path, no '..')").format(name=name),
                        index, type_name, key)
    path = base_dir / relative
    try:
        inside = path.resolve().is_relative_to(base_dir.resolve())
    except (OSError, RuntimeError):  # a symbolic link loop
        inside = False
    if not inside:
        raise SpecError(source, _("the npz file {name!r} leads out of the pipeline file's folder"
                                  " (through a symbolic link)").format(name=name),
                        index, type_name, key)
    return path


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def check_weight_memory(source: str, type_name: str, kwargs: dict, index: int) -> None:
    """Refuse weights to be drawn that would not fit in the memory budget, before drawing them.

    A 300-byte file can declare a Linear layer of 2^24 x 2^24 weights; arrays read from a file
    are checked by the .npz reader instead.
    """
    if "weight" in kwargs or type_name not in ("Conv2d", "Linear"):
        return
    if type_name == "Linear":
        count = kwargs.get("in_features", 1) * kwargs.get("out_features", 1)
    else:
        kh, kw = _pair(kwargs.get("kernel_size", 1))
        groups = kwargs.get("groups", 1)
        count = kwargs.get("out_channels", 1) * max(1, kwargs.get("in_channels", 1) // groups)
        count *= kh * kw
    try:  # drawn in float64, kept in float32
        check_allocation(_("its weights ({count:,} values)").format(count=count), count * 12)
    except BudgetError as error:
        raise SpecError(source, str(error), index, type_name) from None


# Writing -------------------------------------------------------------------------------------


def short_float(value: np.float32) -> float:
    """The shortest decimal that reads back as the same float32 (0.1, not 0.10000000149...)."""
    text = np.format_float_positional(value, unique=True, trim="-")
    short = float(text)
    return short if np.float32(short) == value else float(value)


def values_list(array: np.ndarray) -> list:
    """Nested lists of the array's values as short decimals (see :func:`short_float`)."""
    flat = [short_float(v) for v in np.asarray(array, dtype=np.float32).ravel()]
    return np.array(flat, dtype=object).reshape(array.shape).tolist()


def plain_copy(value):
    """JSON-able copy of a weight source (arrays inside become nested lists)."""
    if isinstance(value, dict):
        return {k: plain_copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_copy(v) for v in value]
    if isinstance(value, np.ndarray):
        return values_list(value)
    return value


def write_array(array: np.ndarray, key: str, npz_name: str | None, store: dict,
                source: str) -> dict:
    """The file entry for one array: its values inline, or a reference into the .npz.

    Parameters
    ----------
    array : numpy.ndarray
        The layer's parameter.
    key : str
        Its key in the .npz, ``"<layer name>.<parameter>"``.
    npz_name : str or None
        The .npz beside the file; None keeps every array inline.
    store : dict
        Collects the arrays that go to the .npz, by key.
    source : str
        The pipeline's name, for the error message.

    Returns
    -------
    dict
        ``{"values": nested lists}`` or ``{"npz": npz_name, "key": key}``.
    """
    if npz_name is None or (array.size <= INLINE_LIMIT and np.isfinite(array).all()):
        if not np.isfinite(array).all():
            raise SpecError(source, _("{key} holds NaN or infinity, which JSON cannot; save to"
                              " a file").format(key=key))
        return {"values": values_list(array)}
    store[key] = array
    return {"npz": npz_name, "key": key}


def dump_json(value, indent: int = 0) -> str:
    """JSON with two-space indents, short objects and lists of numbers kept on one line."""
    flat = json.dumps(value, ensure_ascii=False, allow_nan=False)
    nested = isinstance(value, dict | list) and any(
        isinstance(v, dict) or (isinstance(v, list) and v and isinstance(v[0], dict | list))
        for v in (value.values() if isinstance(value, dict) else value))
    if not isinstance(value, dict | list) or (len(flat) + indent <= 96 and not (
            isinstance(value, dict) and nested)):
        return flat
    pad = "  " * (indent // 2 + 1)
    if isinstance(value, dict):
        items = [f"{pad}{json.dumps(k)}: {dump_json(v, indent + 2)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad[:-2] + "}" if items else "{}"
    if all(not isinstance(v, dict | list) for v in value):
        # A long list of numbers: several to a line rather than one per line.
        lines, line = [], ""
        for v in value:
            text = json.dumps(v, allow_nan=False)
            if line and len(pad) + len(line) + len(text) + 2 > 96:
                lines.append(line.rstrip())
                line = ""
            line += text + ", "
        lines.append(line.rstrip(", "))
        return "[\n" + ",\n".join(pad + li.rstrip(",") for li in lines) + "\n" + pad[:-2] + "]"
    items = [f"{pad}{dump_json(v, indent + 2)}" for v in value]
    return "[\n" + ",\n".join(items) + "\n" + pad[:-2] + "]" if items else "[]"
