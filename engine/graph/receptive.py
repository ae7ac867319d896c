"""Receptive fields: which input pixels can influence one unit of a pipeline.

Pure arithmetic on the graph (nothing runs), shared by the lecture panels
(:mod:`engine.lecture.receptive` re-exports it) and the explanations (the top-9 patches).

The walk goes backwards from the unit through the graph. Every node keeps the set of its
channels and the box of its rows and columns that matter; a window layer (conv, pooling) maps
an output box to the input rows ``y*S - P`` to ``y*S - P + D(F-1)``. Boxes are clipped to each
layer's real extent, because positions in a zero border do not depend on anything. Where paths
meet (Add, Concat, or a node used twice) the boxes are joined into their bounding box.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.i18n import N_, _
from engine.ops.shapes import pair

__all__ = ["ReceptiveField", "Region", "receptive_field"]

# A channel, row or column outside the node's map, in the order receptive_field takes them.
_OUTSIDE = (
    N_("{node} has {top} channels (0 to {last}); {value} is outside"),
    N_("{node} has {top} rows (0 to {last}); {value} is outside"),
    N_("{node} has {top} columns (0 to {last}); {value} is outside"),
)

# Layers that act on each value alone: they keep channels and positions.
_POINTWISE = {
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Hardtanh", "ReLU6", "BatchNorm2d", "Identity",
    "Dropout", "Clip",
}
_WINDOWED = {"Conv2d", "MaxPool2d", "AvgPool2d"}


@dataclass(frozen=True)
class Region:
    """A box of rows ``y0..y1`` and columns ``x0..x1`` (inclusive) on one layer's map."""

    y0: int
    y1: int
    x0: int
    x1: int

    @property
    def height(self) -> int:
        return self.y1 - self.y0 + 1

    @property
    def width(self) -> int:
        return self.x1 - self.x0 + 1

    def join(self, other: Region | None) -> Region:
        if other is None:
            return self
        return Region(min(self.y0, other.y0), max(self.y1, other.y1),
                      min(self.x0, other.x0), max(self.x1, other.x1))


@dataclass(frozen=True)
class ReceptiveField:
    """The answer of :func:`receptive_field`."""

    node: str
    channel: int
    y: int
    x: int
    input_region: Region | None  # on the input image, clipped; None: only padding reaches it
    size: tuple[int, int]        # (h, w) the unclipped field, as the textbook formula gives it
    regions: dict[str, Region]   # every node that can influence the unit (and the input)

    def describe(self) -> str:
        r = self.input_region
        if r is None:
            return (f"{self.node}[{self.channel}, {self.y}, {self.x}] sees only zero padding: "
                    f"no input pixel changes it")
        return (f"{self.node}[{self.channel}, {self.y}, {self.x}] sees input rows {r.y0}-{r.y1}, "
                f"columns {r.x0}-{r.x1} ({r.height} x {r.width} pixels; "
                f"the full field is {self.size[0]} x {self.size[1]})")


@dataclass
class _State:
    channels: set[int] | None    # None: every channel
    box: Region


def _geometry(layer) -> tuple[tuple[int, int], ...]:
    k = pair(getattr(layer, "kernel_size", 1), "kernel_size")
    s = getattr(layer, "stride", None)
    s = k if s is None else pair(s, "stride")
    d = pair(getattr(layer, "dilation", 1), "dilation")
    p = getattr(layer, "padding", 0)
    if p == "valid":
        p = (0, 0)
    elif p == "same":
        # PyTorch puts the odd pixel of an even total on the bottom/right: the top gets half.
        p = tuple(d[i] * (k[i] - 1) // 2 for i in range(2))
    else:
        p = pair(p, "padding")
    return k, s, p, d


def _window_back(box: Region, layer, in_hw, clip: bool) -> Region | None:
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = _geometry(layer)
    y0, y1 = box.y0 * sh - ph, box.y1 * sh - ph + dh * (kh - 1)
    x0, x1 = box.x0 * sw - pw, box.x1 * sw - pw + dw * (kw - 1)
    if clip:
        y0, y1 = max(y0, 0), min(y1, in_hw[0] - 1)
        x0, x1 = max(x0, 0), min(x1, in_hw[1] - 1)
        if y0 > y1 or x0 > x1:  # the windows lie wholly in the zero border
            return None
    return Region(y0, y1, x0, x1)


def _whole(shape) -> Region:
    h, w = (shape[1], shape[2]) if len(shape) == 3 else (1, 1)
    return Region(0, h - 1, 0, w - 1)


def _conv_channels(layer, channels, in_c, out_c) -> set[int] | None:
    groups = int(getattr(layer, "groups", 1) or 1)
    if groups == 1 or channels is None:
        return None
    in_per, out_per = in_c // groups, out_c // groups
    groups_hit = {c // out_per for c in channels}
    return {g * in_per + i for g in groups_hit for i in range(in_per)}


def _back(node, state: _State, shapes, clip: bool) -> list[tuple[str, _State | None]]:
    """Map a node's state onto each of its inputs (None: that input does not matter)."""
    layer, kind = node.layer, node.layer.type_name
    in_shapes = [shapes[name] for name in node.inputs]
    out_shape = shapes[node.name]
    first = in_shapes[0]
    if kind in _POINTWISE:
        return [(node.inputs[0], _State(state.channels, state.box))]
    if kind in _WINDOWED and len(first) == 3:
        box = _window_back(state.box, layer, first[1:], clip)
        channels = state.channels
        if kind == "Conv2d":
            channels = _conv_channels(layer, channels, first[0], out_shape[0])
        return [(node.inputs[0], None if box is None else _State(channels, box))]
    if kind == "Add":
        return [(name, _State(state.channels, state.box)) for name in node.inputs]
    if kind == "Concat" and getattr(layer, "dim", 0) in (0, -3) and len(first) == 3:
        out, offset = [], 0
        for name, shape in zip(node.inputs, in_shapes, strict=True):
            wanted = range(offset, offset + shape[0]) if state.channels is None else [
                c - offset for c in state.channels if offset <= c < offset + shape[0]]
            offset += shape[0]
            out.append((name, _State(set(wanted), state.box) if wanted else None))
        return out
    if kind == "Flatten" and len(first) == 3 and state.channels is not None:
        _, h, w = first
        cells = [divmod(f, h * w) for f in state.channels]  # (channel, y*w + x)
        box = None
        for _, yx in cells:
            y, x = divmod(yx, w)
            box = Region(y, y, x, x).join(box)
        return [(node.inputs[0], _State({ch for ch, _ in cells}, box))]
    if kind == "GlobalAvgPool2d":
        return [(node.inputs[0], _State(state.channels, _whole(first)))]
    # Linear, Softmax and anything unknown: assume every input value matters.
    return [(name, _State(None, _whole(shape))) for name, shape in zip(node.inputs, in_shapes,
                                                                         strict=True)]


def _walk(pipeline, shapes, unit: _State, start: str, clip: bool) -> dict[str, _State]:
    states: dict[str, _State] = {start: unit}
    for node in reversed(tuple(pipeline.nodes)):
        state = states.get(node.name)
        if state is None:
            continue
        for name, new in _back(node, state, shapes, clip):
            if new is None:
                continue
            old = states.get(name)
            if old is None:
                states[name] = new
            else:
                channels = None if old.channels is None or new.channels is None else \
                    old.channels | new.channels
                states[name] = _State(channels, old.box.join(new.box))
    return states


def receptive_field(pipeline, input_shape, node: str, channel: int, y: int,
                    x: int) -> ReceptiveField:
    """The input region that can influence one unit of a pipeline, and its trace on every layer.

    Parameters
    ----------
    pipeline : engine.graph.pipeline.Pipeline
        A chain or a graph.
    input_shape : (C, H, W)
    node : str
        The unit's node name.
    channel, y, x : int
        The unit; for a vector output (Linear, Flatten) ``channel`` is the feature, y = x = 0.

    Returns
    -------
    ReceptiveField
    """
    shapes = dict(pipeline.shapes(tuple(input_shape)))
    shapes[pipeline.input_name] = tuple(input_shape)
    if node not in shapes:
        raise ValueError(_("there is no layer called {node!r} in this pipeline").format(node=node))
    shape = shapes[node]
    limits = (shape[0], shape[1], shape[2]) if len(shape) == 3 else (shape[0], 1, 1)
    for message, value, top in zip(_OUTSIDE, (channel, y, x), limits, strict=True):
        if not 0 <= value < top:
            raise ValueError(_(message).format(node=node, top=top, last=top - 1, value=value))
    regions, size = {}, None
    for clip in (True, False):
        states = _walk(pipeline, shapes, _State({channel}, Region(y, y, x, x)), node, clip)
        if clip:
            regions = {name: s.box for name, s in states.items()}
        else:
            box = states[pipeline.input_name].box
            size = (box.height, box.width)
    return ReceptiveField(node, channel, y, x, regions.get(pipeline.input_name), size, regions)
