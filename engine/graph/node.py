"""The parts of a pipeline's graph: :class:`Node` (a named layer and its inputs), the
:class:`InputSpec` of what enters it, automatic names and the topological order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.i18n import _
from engine.io.preprocess import Preprocess
from engine.layers import Layer

__all__ = ["COLOR_OF_CHANNELS", "InputSpec", "Node", "auto_names", "topological"]

COLOR_OF_CHANNELS = {3: "rgb", 1: "gray"}  # any other count is "none"


@dataclass(frozen=True)
class Node:
    """One layer in the graph: its unique name, the layer and the names of its inputs."""

    name: str
    layer: Layer
    inputs: tuple[str, ...] = field(default=())

    def __post_init__(self):
        object.__setattr__(self, "inputs", tuple(self.inputs))


@dataclass(frozen=True)
class InputSpec:
    """What enters the pipeline: its channels, colour mode, size hints and preprocessing.

    Any number of channels >= 1 is allowed. The colour mode follows from it unless given:
    ``"rgb"`` for 3 channels, ``"gray"`` for 1, ``"none"`` otherwise (a network whose input is
    not a picture, or a picture plus extra planes: it runs on arrays, not on camera frames).
    ``height``/``width`` are hints. ``preprocess``: how a frame becomes the input of a trained
    network (size, channel order, scale, mean, std); None means the app's own convention, RGB
    or gray in [0, 1].

    Examples
    --------
    >>> InputSpec(channels=1).color, InputSpec(channels=5).color
    ('gray', 'none')
    """

    channels: int = 3
    color: str | None = None
    height: int | None = None
    width: int | None = None
    preprocess: Preprocess | None = None

    def __post_init__(self):
        channels = self.channels
        if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
            raise ValueError(_("input channels must be a whole number 1 or more, not "
                               "{channels!r}").format(channels=channels))
        derived = COLOR_OF_CHANNELS.get(channels, "none")
        if self.color is None:
            object.__setattr__(self, "color", derived)
        elif self.color not in ("rgb", "gray", "none"):
            raise ValueError(_("input color must be rgb, gray or none, not {color!r}").format(
                color=self.color))
        elif self.color != derived:
            raise ValueError(_("a {color} input cannot have {channels} channel(s); "
                               "{channels} channel(s) make a {derived} input").format(
                color=self.color, channels=channels, derived=derived))
        for label, value in (("height", self.height), ("width", self.width)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 1):
                raise ValueError(_("input {label} must be a positive whole number, not "
                                   "{value!r}").format(label=label, value=value))
        if self.preprocess is not None:
            if not isinstance(self.preprocess, Preprocess):
                raise ValueError(_("preprocess must be a Preprocess, not {preprocess!r}").format(
                    preprocess=self.preprocess))
            self.preprocess.check_channels(self.channels)

    @property
    def shape(self) -> tuple[int, int, int] | None:
        """``(C, H, W)`` when height and width are given, else None."""
        if self.height is None or self.width is None:
            return None
        return self.channels, self.height, self.width


def auto_names(layers: Sequence[Layer]) -> list[str]:
    """Type-based names numbered per prefix: conv1, relu1, pool1, conv2, ..."""
    counts: dict[str, int] = {}
    names = []
    for layer in layers:
        counts[layer.name_prefix] = counts.get(layer.name_prefix, 0) + 1
        names.append(f"{layer.name_prefix}{counts[layer.name_prefix]}")
    return names


def _topological(nodes: list[Node], input_name: str) -> tuple[Node, ...]:
    """Nodes ordered so every input comes first, keeping the given order where it is free."""
    known = {input_name}
    pending = list(nodes)
    ordered = []
    while pending:
        ready = next((n for n in pending if all(i in known for i in n.inputs)), None)
        if ready is None:
            names = ", ".join(n.name for n in pending)
            raise ValueError(_("the pipeline has a cycle: nodes {names} wait on each other").format(
                names=names))
        pending.remove(ready)
        ordered.append(ready)
        known.add(ready.name)
    return tuple(ordered)


topological = _topological
