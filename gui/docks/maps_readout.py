"""The activation maps dock's readout: what it says about the value under the mouse."""

from __future__ import annotations

import numpy as np

from engine.i18n import N_, _
from gui.widgets.mosaic_view import as_maps

__all__ = ["HOVER_HINT", "HOVER_HINT_BARS", "readout_text"]

HOVER_HINT = N_("Hover over a map to read its values; click a map to enlarge it.")
HOVER_HINT_BARS = N_("Hover over a bar to read its value.")


def readout_text(name: str, activation: np.ndarray, hover: tuple[int, int, int]) -> str | None:
    """The readout for ``hover`` (map or feature index, x, y; index -1: nothing hovered) over
    layer ``name``'s ``activation``; None when it points outside (the readout keeps its text)."""
    index, x, y = hover
    maps = as_maps(activation)
    if index < 0:
        return _(HOVER_HINT if maps is not None else HOVER_HINT_BARS)
    if maps is None:
        if index >= activation.size:
            return None
        value = float(activation.ravel()[index])
        return _("{name} · feature {index} · value {value:.5g}").format(
            name=name, index=index, value=value)
    if index < maps.shape[0] and 0 <= y < maps.shape[1] and 0 <= x < maps.shape[2]:
        value = float(maps[index, y, x])
        return _("{name} · map {index} · x {x}, y {y} · value {value:.5g}").format(
            name=name, index=index, x=x, y=y, value=value)
    return None
