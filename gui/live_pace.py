"""Is the live loop keeping up, and if not, which stage limits it? No Qt here.

:class:`PaceMonitor` is fed what the status bar shows twice a second. When the frames shown
per second stay under the pace the source sets (30 fps at most) for :attr:`PaceMonitor.slow_s`
seconds, it reports a :class:`Slowdown` naming the limiting stage (the engine, with its
slowest layer, or the display, i.e. the GUI thread); once the loop keeps up again for as long,
it reports None. What to do about it (a lower working resolution, running only the layers
the open panels show) is offered by :mod:`gui.live_offer`.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.i18n import _

__all__ = ["TARGET_FPS", "PaceMonitor", "Slowdown", "deepest_needed", "lower_resolution"]

TARGET_FPS = 30.0  # the shown rate the app aims at; a slower source sets its own
KEEP_UP = 0.85  # shown fps under this share of the target counts as not keeping up
# What each panel needs of a run: "selected" (up to the selected layer), "all", or nothing.
# A panel not listed that is visible counts as needing every layer.
LAYER_NEEDS = {
    "source": None, "pipeline": None, "kernels": None, "ledger": None, "filters": None,
    "canvas": None, "tour": None, "conv_player": None, "pool_player": None,
    "parameters": None, "translation": None, "maps": "selected", "stepper": "selected",
    "receptive_field": "selected", "channel_mixing": "selected",
}
RESOLUTION_STEPS = (640, 480, 320, 240, 160)  # lower working resolutions, in order


@dataclass(frozen=True)
class Slowdown:
    """The loop does not keep up: what limits it, in words and as a key."""

    stage: str  # "engine" | "display"
    text: str  # for the status bar, e.g. "engine (45 ms per frame; slowest layer conv2)"
    shown_fps: float
    target_fps: float


class PaceMonitor:
    """Decides from periodic readings whether the loop keeps up (see the module's text)."""

    def __init__(self, slow_s: float = 3.0) -> None:
        self.slow_s = slow_s
        self.slowdown: Slowdown | None = None
        self._since: float | None = None  # when the current (other) state began

    def reset(self) -> None:
        """Back to "keeping up", as at the start."""
        self.slowdown, self._since = None, None

    def update(self, now: float, shown_fps: float, capture_fps: float, engine_ms: float,
               gui_ms: float, slowest_layer: str = "") -> Slowdown | None:
        """Feed one reading; returns the current Slowdown, or None while the loop keeps up.

        ``capture_fps`` 0 means a still image (nothing to keep up with); ``engine_ms`` is the
        engine thread's time per frame, ``gui_ms`` the GUI thread's per shown frame.
        """
        target = min(TARGET_FPS, capture_fps) if capture_fps > 0 else 0.0
        slow = target > 0 and shown_fps < KEEP_UP * target
        if slow == (self.slowdown is not None):
            self._since = None  # no change of state under way
            if slow:  # keep the named stage current
                self.slowdown = self._describe(shown_fps, target, engine_ms, gui_ms,
                                               slowest_layer)
            return self.slowdown
        if self._since is None:
            self._since = now
        if now - self._since >= self.slow_s:
            self._since = None
            self.slowdown = (self._describe(shown_fps, target, engine_ms, gui_ms, slowest_layer)
                             if slow else None)
        return self.slowdown

    @staticmethod
    def _describe(shown_fps, target, engine_ms, gui_ms, slowest_layer) -> Slowdown:
        if engine_ms >= gui_ms:
            if slowest_layer:
                text = _("engine ({ms:.0f} ms per frame; slowest layer {layer})").format(
                    ms=engine_ms, layer=slowest_layer)
            else:
                text = _("engine ({ms:.0f} ms per frame)").format(ms=engine_ms)
            return Slowdown("engine", text, shown_fps, target)
        text = _("display ({ms:.0f} ms of window work per frame)").format(ms=gui_ms)
        return Slowdown("display", text, shown_fps, target)


def lower_resolution(current: int | None, frame_side: int) -> int | None:
    """The next working resolution below the one in use (``frame_side``: the longest side of
    the frames worked on now), or None when there is no lower step."""
    side = min(current or frame_side, frame_side)
    return next((r for r in RESOLUTION_STEPS if r < side), None)


def deepest_needed(visible_keys, selected_layer: int, n_layers: int) -> int | None:
    """How many layers a run needs for the visible panels (a prefix of the pipeline), or None
    for all of them.

    Examples
    --------
    >>> deepest_needed(["source", "maps"], 2, 9)
    3
    >>> deepest_needed(["maps", "predictions"], 2, 9) is None
    True
    """
    depth = 1
    for key in visible_keys:
        need = LAYER_NEEDS.get(key, "all")
        if need == "all":
            return None
        if need == "selected":
            depth = max(depth, selected_layer + 1)
    return None if depth >= n_layers else depth
