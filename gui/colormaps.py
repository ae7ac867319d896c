"""Colormaps and display scaling for activation maps.

Lookup tables are built once with :mod:`pyqtgraph.colormap` and cached. The scaling helpers
turn a stack of maps into the array that is shown plus the levels that go with it, so that the
maps dock, the stepper and the tests all agree on what "per map", "per layer" and "global" mean.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pyqtgraph as pg

from engine.i18n import N_
from gui.session_state import COLORMAPS

__all__ = ["COLORMAPS", "DIVERGING", "DIVERGING_LUT", "NONFINITE_INDEX", "NONFINITE_RGB",
           "NORMALIZATIONS", "ColormapError", "diverging_rgb", "finite_range",
           "indexed_lookup_table", "is_signed", "levels_for", "lookup_table", "nonfinite_mask",
           "per_map_levels",
           "scale_maps", "suggest_colormap", "to_indices", "value_range"]

#: Where a value is NaN or infinite (finite weights can still overflow during a run), maps are
#: drawn in this colour, which no colormap here uses: the last entry of the indexed table.
NONFINITE_RGB = (255, 0, 255)
NONFINITE_INDEX = 255
_TOP = 254  # the highest colour index a finite value gets

#: Colormaps whose middle colour means zero: they get levels symmetric around zero.
DIVERGING: frozenset[str] = frozenset({"coolwarm"})

#: Normalization modes, as stored in the Session's DisplayOptions.
NORMALIZATIONS: tuple[str, ...] = ("map", "layer", "global")

COLORMAP_TIPS = {
    "gray": N_("Black for the lowest value, white for the highest."),
    "viridis": N_("Dark blue for low values through green to yellow for high ones."),
    "magma": N_("Black through purple and orange to pale yellow."),
    "inferno": N_("Black through red and orange to bright yellow."),
    "coolwarm": N_("Blue for negative, white for zero, red for positive: for signed values."),
}

NORMALIZATION_LABELS = {
    "map": N_("per map"),
    "layer": N_("per layer"),
    "global": N_("global"),
}

NORMALIZATION_TIPS = {
    "map": N_("Scale each map to its own range: shows the pattern inside every map, "
    "but hides which maps are strong."),
    "layer": N_("One scale for all maps of this layer: strong and weak maps can be compared."),
    "global": N_("One scale for every layer of the network: shows how values grow or shrink "
    "from layer to layer."),
}


class ColormapError(ValueError):
    """An unknown colormap or normalization name."""


# Moreland's "cool to warm" diverging map, the usual choice for signed data.
_COOLWARM = [(59, 76, 192), (141, 176, 254), (221, 221, 221), (244, 154, 123), (180, 4, 38)]


def _colormap(name: str) -> pg.ColorMap:
    if name == "gray":
        return pg.ColorMap([0.0, 1.0], [(0, 0, 0), (255, 255, 255)])
    if name == "coolwarm":
        return pg.ColorMap(np.linspace(0.0, 1.0, len(_COOLWARM)), _COOLWARM)
    if name in COLORMAPS:
        return pg.colormap.get(name)
    raise ColormapError(f"unknown colormap {name!r}; choose one of {', '.join(COLORMAPS)}")


def _frozen(lut: np.ndarray) -> np.ndarray:
    lut = np.ascontiguousarray(lut, dtype=np.uint8)
    lut.flags.writeable = False  # shared between all views
    return lut


@cache
def lookup_table(name: str) -> np.ndarray:
    """Return the 256-entry RGBA lookup table of a colormap.

    Parameters
    ----------
    name : str
        One of :data:`COLORMAPS`.

    Returns
    -------
    numpy.ndarray
        ``(256, 4)`` uint8, read-only.

    Examples
    --------
    >>> lookup_table("gray")[[0, -1], :3].tolist()
    [[0, 0, 0], [255, 255, 255]]
    """
    return _frozen(_colormap(name).getLookupTable(0.0, 1.0, 256, alpha=True))


@cache
def indexed_lookup_table(name: str) -> np.ndarray:
    """The table for images made by :func:`to_indices`: index 0 transparent, 1..254 the map,
    255 (:data:`NONFINITE_INDEX`) the colour of NaN and infinite values.

    Returns
    -------
    numpy.ndarray
        ``(256, 4)`` uint8, read-only.
    """
    lut = np.zeros((256, 4), dtype=np.uint8)
    lut[1:NONFINITE_INDEX] = _colormap(name).getLookupTable(0.0, 1.0, _TOP, alpha=True)
    lut[NONFINITE_INDEX] = (*NONFINITE_RGB, 255)
    return _frozen(lut)


# Kernels and weights are coloured with the diverging map the activation maps use, so a colour
# means the same sign everywhere.
DIVERGING_LUT = np.ascontiguousarray(lookup_table("coolwarm")[:, :3])  # (256, 3) uint8


def diverging_rgb(values: np.ndarray, scale: float) -> np.ndarray:
    """Map signed values to RGB with white at zero and +-scale at the ends.

    Parameters
    ----------
    values : np.ndarray
        Any shape.
    scale : float
        The magnitude shown as full blue / full red; values beyond it are clipped.

    Returns
    -------
    np.ndarray
        uint8 array of shape ``values.shape + (3,)``.

    Examples
    --------
    >>> diverging_rgb(np.array([-1.0, 1.0]), 1.0).tolist()
    [[59, 76, 192], [180, 4, 38]]
    """
    scale = float(scale) if np.isfinite(scale) and scale > 0 else 1.0
    values = np.asarray(values)
    mask = nonfinite_mask(values)
    if mask is not None:  # NaN or infinity: its own colour, never a wild index into the table
        values = np.where(mask, 0.0, values)
    idx = np.clip(np.round((values / scale + 1.0) * 127.5), 0, 255).astype(np.intp)
    colors = DIVERGING_LUT[idx]
    if mask is not None:
        colors[mask] = NONFINITE_RGB
    return colors


def nonfinite_mask(values: np.ndarray) -> np.ndarray | None:
    """Where ``values`` is NaN or infinite; None when every value is finite (the usual case,
    found with one summing pass and no mask).

    Examples
    --------
    >>> nonfinite_mask(np.array([1.0, 2.0])) is None
    True
    >>> nonfinite_mask(np.array([1.0, np.nan, -np.inf])).tolist()
    [False, True, True]
    """
    if values.size == 0:
        return None
    with np.errstate(all="ignore"):  # a huge sum overflows: then the mask decides
        total = np.add.reduce(values, axis=None)
    if np.isfinite(total):
        return None
    mask = ~np.isfinite(values)
    return mask if mask.any() else None


def finite_range(values: np.ndarray) -> tuple[float, float]:
    """Smallest and largest finite value; ``(0.0, 0.0)`` when there is none.

    Examples
    --------
    >>> finite_range(np.array([np.nan, -1.0, np.inf, 3.0]))
    (-1.0, 3.0)
    """
    bounds = _finite_bounds(values)
    return (0.0, 0.0) if bounds is None else bounds


def _finite_bounds(values: np.ndarray) -> tuple[float, float] | None:
    """(min, max) of the finite values, None when there is none; a mask only when needed."""
    if values.size == 0:
        return None
    lo, hi = float(np.min(values)), float(np.max(values))
    if np.isfinite(lo) and np.isfinite(hi):
        return lo, hi
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    return float(finite.min()), float(finite.max())


def to_indices(values: np.ndarray, levels: tuple[float, float],
               out: np.ndarray | None = None, nonfinite=True) -> np.ndarray:
    """Turn values into lookup-table indices 1..254 (as float32; index 0 is left for gaps).

    ``levels[0]`` maps to 1 and ``levels[1]`` to 254, values outside are clipped; NaN and
    infinite values get :data:`NONFINITE_INDEX` (255). The result is 0.5 above the index, so
    that a truncating cast to uint8 rounds. An 8-bit image with a 256-entry table is drawn by
    Qt as an indexed image: far cheaper per frame than a float image that pyqtgraph has to
    scan for NaNs and colour itself.

    ``nonfinite``: True finds the NaN and infinite values itself (:func:`nonfinite_mask`);
    a caller that already has the mask passes it, or False when every value is finite.

    Examples
    --------
    >>> to_indices(np.array([0.0, 0.5, 1.0, np.nan], dtype=np.float32), (0.0, 1.0)).astype(np.uint8)
    array([  1, 128, 254, 255], dtype=uint8)
    """
    mask = nonfinite_mask(values) if nonfinite is True else (
        nonfinite if isinstance(nonfinite, np.ndarray) else None)
    lo, hi = float(levels[0]), float(levels[1])
    scale = (_TOP - 1.0) / (hi - lo) if hi > lo else 0.0
    with np.errstate(invalid="ignore", over="ignore"):  # inf x 0 and overflow: masked below
        out = np.multiply(values, np.float32(scale), out=out, dtype=np.float32)
        out += np.float32(1.5 - lo * scale)
    np.clip(out, 1.0, _TOP + 0.49, out=out)
    if mask is not None:
        out[mask] = NONFINITE_INDEX + 0.5
    return out


def is_signed(array: np.ndarray) -> bool:
    """True when an activation holds clearly negative values (a diverging colormap suits it)."""
    if array.size == 0:
        return False
    lo, hi = finite_range(array)
    # A tiny negative tail (rounding) should not switch the colormap.
    return lo < 0.0 and -lo > 0.01 * max(abs(hi), abs(lo))


def suggest_colormap(signed: bool, current: str) -> str:
    """Pick a colormap for a layer: diverging for signed values, else keep a sequential one.

    Parameters
    ----------
    signed : bool
        Whether the layer's values go below zero.
    current : str
        The colormap in use now; kept when it already suits the data.
    """
    if signed:
        return "coolwarm"
    return current if current not in DIVERGING else "viridis"


def value_range(arrays) -> tuple[float, float]:
    """Smallest and largest finite value over several arrays; ``(0.0, 0.0)`` when empty."""
    lo, hi = np.inf, -np.inf
    for a in arrays:
        bounds = _finite_bounds(a)
        if bounds is not None:
            lo, hi = min(lo, bounds[0]), max(hi, bounds[1])
    if not np.isfinite(lo) or not np.isfinite(hi):
        return 0.0, 0.0
    return lo, hi


def levels_for(lo: float, hi: float, diverging: bool) -> tuple[float, float]:
    """Display levels for a value range: symmetric around zero for a diverging colormap.

    A flat range gets a small width so the image still renders (one colour) instead of
    dividing by zero.
    """
    if diverging:
        a = max(abs(lo), abs(hi))
        return (-a, a) if a > 0 else (-1.0, 1.0)
    if hi > lo:
        return lo, hi
    return lo - 0.5, lo + 0.5


def per_map_levels(m: np.ndarray, diverging: bool) -> tuple[float, float]:
    """The real values drawn at the two ends of the colour scale for one map scaled on its own.

    Matches :func:`scale_maps` in ``"map"`` mode: a diverging map spans
    -+ its largest magnitude; any other map spans min to max; a flat map sits at the first
    colour (or at white in the middle of a diverging scale).
    """
    lo, hi = finite_range(m)  # NaN and infinite values have their own colour
    if diverging:
        a = max(abs(lo), abs(hi))
        return (-a, a) if a > 0 else (-1.0, 1.0)
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def scale_maps(
    maps: np.ndarray,
    mode: str,
    diverging: bool,
    global_range: tuple[float, float] | None = None,
) -> tuple[np.ndarray, tuple[float, float]]:
    """Prepare a stack of maps for display under a normalization mode.

    Parameters
    ----------
    maps : numpy.ndarray
        ``(C, H, W)`` activation.
    mode : str
        ``"map"``: every map scaled to its own range (to [0, 1], or to [-1, 1] by its largest
        magnitude for a diverging colormap); ``"layer"``: the values themselves with the
        layer's range as levels; ``"global"``: the values themselves with ``global_range``.
    diverging : bool
        Whether the colormap is diverging (levels symmetric around zero).
    global_range : tuple of float, optional
        ``(min, max)`` over every layer of the result; required for ``"global"``.

    Returns
    -------
    shown : numpy.ndarray
        ``(C, H, W)`` float32, C-contiguous: what to tile and display.
    levels : tuple of float
        The levels that map ``shown`` onto the lookup table.
    """
    maps = np.ascontiguousarray(maps, dtype=np.float32)
    if mode == "layer":
        return maps, levels_for(*value_range([maps]), diverging)
    if mode == "global":
        if global_range is None:
            raise ColormapError("global normalization needs the range of every layer")
        return maps, levels_for(*global_range, diverging)
    if mode != "map":
        raise ColormapError(
            f"unknown normalization {mode!r}; choose one of {', '.join(NORMALIZATIONS)}"
        )
    if maps.size == 0:
        return maps, (0.0, 1.0)
    if diverging:
        scale = np.abs(maps).max(axis=(1, 2), keepdims=True)  # (C, 1, 1)
        if not np.isfinite(scale).all():  # NaN or infinity somewhere: the slower way
            return _per_map_nonfinite(maps, diverging)
        shown = maps / np.where(scale > 0, scale, 1.0)
        return shown.astype(np.float32, copy=False), (-1.0, 1.0)
    lo = maps.min(axis=(1, 2), keepdims=True)  # (C, 1, 1)
    span = maps.max(axis=(1, 2), keepdims=True) - lo
    if not np.isfinite(span).all():
        return _per_map_nonfinite(maps, diverging)
    shown = (maps - lo) / np.where(span > 0, span, 1.0)
    return shown.astype(np.float32, copy=False), (0.0, 1.0)


def _per_map_nonfinite(maps: np.ndarray, diverging: bool) -> tuple[np.ndarray, tuple]:
    """``scale_maps(..., "map")`` for maps holding NaN or infinity: every map scaled by its
    finite values; the others come out as NaN (drawn in :data:`NONFINITE_RGB`)."""
    finite = np.isfinite(maps)  # (C, H, W)
    with np.errstate(invalid="ignore", over="ignore"):
        if diverging:
            scale = np.where(finite, np.abs(maps), 0.0).max(axis=(1, 2), keepdims=True)
            shown = np.where(finite, maps / np.where(scale > 0, scale, 1.0), np.nan)
            return shown.astype(np.float32), (-1.0, 1.0)
        lo = np.where(finite, maps, np.inf).min(axis=(1, 2), keepdims=True)  # (C, 1, 1)
        hi = np.where(finite, maps, -np.inf).max(axis=(1, 2), keepdims=True)
        lo = np.where(np.isfinite(lo), lo, 0.0)  # a map with no finite value at all
        span = np.where(np.isfinite(hi), hi, lo) - lo
        shown = np.where(finite, (maps - lo) / np.where(span > 0, span, 1.0), np.nan)
    return shown.astype(np.float32), (0.0, 1.0)
