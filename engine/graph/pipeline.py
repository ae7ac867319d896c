"""Pipeline: a graph of layers (usually a chain) that returns every node's activation.

A pipeline is immutable; every edit (``replace_layer``, ``insert_layer``, ...) builds a new one,
so a worker thread can keep running the old one safely.

Examples
--------
>>> from engine.layers import Conv2d, MaxPool2d, ReLU
>>> p = Pipeline.chain([Conv2d(3, 8, 3, padding=1), ReLU(), MaxPool2d(2)])
>>> [node.name for node in p]
['conv1', 'relu1', 'pool1']
>>> p.shapes((3, 32, 32))["pool1"]
(8, 16, 16)
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Iterable, Sequence

import numpy as np

from engine.graph.ledger import Ledger, LedgerRow
from engine.graph.node import InputSpec, Node, _topological, auto_names
from engine.graph.output import describe_output, kind_of_shape
from engine.i18n import _
from engine.io.preprocess import Preprocess
from engine.layers import Conv2d, Layer
from engine.ops.shapes import ShapeError, activation_bytes, fc_equivalent_params

__all__ = ["InputSpec", "Ledger", "LedgerRow", "Node", "Pipeline", "auto_names"]


_RGB = InputSpec()  # the default input: RGB of any size


class Pipeline:
    """An immutable graph of named layers fed by one input image."""

    def __init__(self, nodes: Iterable[Node], input_spec: InputSpec = _RGB, name: str = "",
                 description: str = "", input_name: str = "input"):
        nodes = list(nodes)
        seen = {input_name}
        for node in nodes:
            if not isinstance(node.name, str) or not node.name:
                raise ValueError(_("a node needs a non-empty name, not {name!r}").format(
                    name=node.name))
            if not isinstance(node.layer, Layer):
                raise ValueError(_("node {name!r} holds {layer!r}, not a Layer").format(
                    name=node.name, layer=node.layer))
            if node.name in seen:
                message = (_("duplicate node name {name!r}: it is the input's name")
                           if node.name == input_name
                           else _("duplicate node name {name!r}: it is another node's name"))
                raise ValueError(message.format(name=node.name))
            seen.add(node.name)
        for node in nodes:
            for source in node.inputs:
                if source not in seen:
                    raise ValueError(_("node {name!r} takes input {source!r}, which does not"
                                       " exist").format(name=node.name, source=source))
            wanted = node.layer.n_inputs
            count = len(node.inputs)
            if (wanted is None and count < 2) or (wanted is not None and count != wanted):
                message = (_("node {name!r} ({type_name}) takes at least 2 input(s), got"
                             " {count}") if wanted is None
                           else _("node {name!r} ({type_name}) takes {wanted} input(s), got"
                                  " {count}"))
                raise ValueError(message.format(name=node.name, type_name=node.layer.type_name,
                                                wanted=wanted, count=count))
        self.nodes: tuple[Node, ...] = _topological(nodes, input_name)
        self.input_spec = input_spec
        self.name = name
        self.description = description
        self.input_name = input_name
        self._index = {node.name: i for i, node in enumerate(self.nodes)}
        # Input shapes already checked by forward: the pipeline never changes, so one check
        # per shape is enough (a live stream sends the same shape frame after frame).
        self._fitting_shapes: set[tuple[int, ...]] = set()

    @classmethod
    def chain(cls, layers: Sequence[Layer], names: Sequence[str] | None = None, **kw) -> Pipeline:
        """A chain: each layer takes the previous one's output; names default to conv1, ..."""
        layers = list(layers)
        names = auto_names(layers) if names is None else list(names)
        if len(names) != len(layers):
            raise ValueError(_("{names} names for {layers} layers").format(
                names=len(names), layers=len(layers)))
        previous = kw.get("input_name", "input")
        nodes = []
        for name, layer in zip(names, layers, strict=True):
            nodes.append(Node(name, layer, (previous,)))
            previous = name
        return cls(nodes, **kw)

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self):
        return iter(self.nodes)

    def __getitem__(self, key: int | str) -> Node:
        if isinstance(key, str):
            if key not in self._index:
                raise KeyError(_("no node named {key!r}").format(key=key))
            return self.nodes[self._index[key]]
        return self.nodes[key]

    def index(self, name: str) -> int:
        """Position of the node ``name``."""
        return self._index[self[name].name]

    @property
    def layers(self) -> list[Layer]:
        return [node.layer for node in self.nodes]

    @property
    def is_chain(self) -> bool:
        """Every node takes exactly the output of the node before it (the first: the input)."""
        previous = self.input_name
        for node in self.nodes:
            if node.inputs != (previous,):
                return False
            previous = node.name
        return True

    def __repr__(self) -> str:
        lines = [f"Pipeline({self.name!r}, input={self.input_name}"
                 f" {self.input_spec.color} {self.input_spec.channels}ch)"]
        chain = self.is_chain
        for node in self.nodes:
            source = "" if chain else f"  <- {', '.join(node.inputs)}"
            lines.append(f"  ({node.name}): {node.layer!r}{source}")
        return "\n".join(lines)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Pipeline):
            return NotImplemented
        return (self.nodes == other.nodes and self.input_spec == other.input_spec
                and self.name == other.name and self.description == other.description
                and self.input_name == other.input_name)

    __hash__ = None  # type: ignore[assignment]

    def with_preprocess(self, preprocess: Preprocess | None) -> Pipeline:
        """The same network with ``preprocess`` attached to its input (None removes it)."""
        new = copy.copy(self)  # keeps a subclass and its extra attributes (ONNX models)
        new.input_spec = dataclasses.replace(self.input_spec, preprocess=preprocess)
        return new

    def _fail(self, index: int, error: ShapeError) -> ShapeError:
        node = self.nodes[index]
        wrapped = ShapeError(_("layer {index} ({name}, {type_name}): {error}").format(
            index=index, name=node.name, type_name=node.layer.type_name, error=error),
                             error.field)
        wrapped.node_index, wrapped.node_name = index, node.name
        return wrapped

    def _input_shape(self, input_shape) -> tuple[int, ...]:
        shape = tuple(int(s) for s in input_shape)
        if len(shape) != 3:
            raise ShapeError(_("the input must be a (C, H, W) shape, got {shape}").format(
                shape=shape))
        if shape[0] != self.input_spec.channels:
            raise ShapeError(_("the pipeline takes {channels} input channel(s)"
                               " ({color}), got {shape}").format(
                channels=self.input_spec.channels, color=self.input_spec.color, shape=shape[0]))
        return shape

    def shapes(self, input_shape, strict: bool = False) -> dict[str, tuple[int, ...]]:
        """Every node's unbatched output shape, from arithmetic only (nothing runs).

        ``strict``: a stride that does not tile its input exactly is an error, not a floor.
        Raises :class:`ShapeError` naming the first layer that does not fit.
        """
        known = {self.input_name: self._input_shape(input_shape)}
        out = {}
        for i, node in enumerate(self.nodes):
            try:
                shape = node.layer.out_shape(*(known[s] for s in node.inputs), strict=strict)
            except ShapeError as error:
                raise self._fail(i, error) from None
            known[node.name] = out[node.name] = shape
        return out

    def forward(self, x, timings: dict[str, float] | None = None) -> dict[str, np.ndarray]:
        """Run the pipeline on ``x`` ((C, H, W) or (N, C, H, W)); every node's output by name.

        When ``timings`` is a dict it is filled with milliseconds per node.
        """
        x = np.asarray(x, dtype=np.float32)
        if x.ndim not in (3, 4):
            raise ShapeError(_("the input must be (C, H, W) or (N, C, H, W), got shape "
                               "{shape}").format(shape=x.shape))
        if x.shape[-3:] not in self._fitting_shapes:
            self.shapes(x.shape[-3:])  # a clear message naming the layer before any op runs
            self._fitting_shapes.add(x.shape[-3:])
        values = {self.input_name: x}
        clock = time.perf_counter
        # kept lean: on a small network (64x64) each op takes only 5-90 us
        for node in self.nodes:
            ins = node.inputs
            start = clock() if timings is not None else 0.0
            if len(ins) == 1:
                y = node.layer(values[ins[0]])
            else:
                y = node.layer(*[values[s] for s in ins])
            if timings is not None:
                timings[node.name] = (clock() - start) * 1000.0
            values[node.name] = y
        del values[self.input_name]
        return values

    def summary(self, input_shape) -> Ledger:
        """The ledger for ``input_shape`` (C, H, W): shapes, formulas, parameters, MACs, memory."""
        shape = self._input_shape(input_shape)
        shapes = {self.input_name: shape, **self.shapes(shape)}
        rows = []
        for i, node in enumerate(self.nodes):
            layer = node.layer
            ins = tuple(shapes[s] for s in node.inputs)
            floor = layer.floor_note(*ins)
            notes = []
            fc = None
            if isinstance(layer, Conv2d):
                fc = fc_equivalent_params(ins[0], layer.out_channels)
                notes.append(_("kernels: {source}").format(source=layer.kernel_source))
                if layer.flip:
                    notes.append(_("true convolution (kernel rotated 180 degrees)"))
            if floor:
                notes.append(floor)
            rows.append(LedgerRow(
                index=i, name=node.name, type_name=layer.type_name, inputs=node.inputs,
                in_shapes=ins, out_shape=shapes[node.name], size_formula=layer.size_formula(*ins),
                floored=bool(floor), params=layer.num_params,
                params_formula=layer.params_formula(*ins), fc_equivalent=fc,
                macs=layer.macs(*ins), memory_bytes=activation_bytes(shapes[node.name]),
                note="; ".join(notes)))
        return Ledger(
            input_shape=shape, rows=rows, total_params=sum(r.params for r in rows),
            total_macs=sum(r.macs for r in rows),
            total_memory_bytes=sum(r.memory_bytes for r in rows), name=self.name,
            is_chain=self.is_chain, input_name=self.input_name,
            output_kind=kind_of_shape(rows[-1].out_shape) if rows else "",
            output=describe_output(rows[-1].out_shape) if rows else "")

    # Parameters by name, as PyTorch's state_dict: "<node>.<parameter>".

    def state_dict(self) -> dict[str, np.ndarray]:
        """Every parameter and buffer as ``{"<node>.<parameter>": array}`` (read-only arrays).

        >>> from engine.layers import Conv2d, ReLU
        >>> sorted(Pipeline.chain([Conv2d(3, 2, 3), ReLU()]).state_dict())
        ['conv1.bias', 'conv1.weight']
        """
        return {f"{node.name}.{name}": value for node in self.nodes
                for name, value in node.layer.parameters().items()}

    def load_state_dict(self, state, strict: bool = True) -> Pipeline:
        """A new pipeline with the arrays of ``state`` (same names and shapes as state_dict).

        ``strict``: every name of :meth:`state_dict` must be given, and no other.
        """
        own = self.state_dict()
        unknown = sorted(set(state) - set(own))
        missing = sorted(set(own) - set(state)) if strict else []
        if unknown or missing:
            parts = [_("unknown: {names}").format(names=", ".join(unknown))] if unknown else []
            parts += [_("missing: {names}").format(names=", ".join(missing))] if missing else []
            raise ValueError(_("load_state_dict: the names do not match the pipeline's"
                               " ({parts})").format(parts="; ".join(parts)))
        nodes = []
        for node in self.nodes:
            arrays = {name: state[f"{node.name}.{name}"] for name in node.layer.parameters()
                      if f"{node.name}.{name}" in state}
            layer = node.layer.with_parameters(**arrays) if arrays else node.layer
            nodes.append(dataclasses.replace(node, layer=layer))
        return self._with_nodes(nodes)

    # Editing. Chains only, except replace_layer; every helper returns a new Pipeline.

    def _with_nodes(self, nodes) -> Pipeline:
        return Pipeline(nodes, self.input_spec, self.name, self.description, self.input_name)

    def _rechain(self, entries: list[tuple[Layer, str | None]]) -> Pipeline:
        """A chain of (layer, kept name or None); unnamed layers get fresh type-based names."""
        auto = auto_names([layer for layer, _ in entries])
        taken = {name for _, name in entries if name is not None} | {self.input_name}
        names = []
        for (_layer, kept), fresh in zip(entries, auto, strict=True):
            name = kept or fresh
            if kept is None:
                suffix = 2
                while name in taken:
                    name, suffix = f"{fresh}_{suffix}", suffix + 1
                taken.add(name)
            names.append(name)
        return Pipeline.chain([layer for layer, _ in entries], names, input_spec=self.input_spec,
                              name=self.name, description=self.description,
                              input_name=self.input_name)

    def _entries(self, action: str) -> list[tuple[Layer, str | None]]:
        if not self.is_chain:
            raise ValueError(_("{action} works on chains only; this pipeline has branches").format(
                action=action))
        auto = auto_names(self.layers)
        # A name the user chose is kept; a generated one is regenerated after the edit.
        return [(n.layer, None if n.name == a else n.name)
                for n, a in zip(self.nodes, auto, strict=True)]

    def _check_index(self, index: int, size: int, action: str) -> int:
        if isinstance(index, bool) or not isinstance(index, int | np.integer):
            raise ValueError(_("{action}: the position must be a whole number, not "
                               "{index!r}").format(action=action, index=index))
        if not 0 <= index < size:
            raise ValueError(_("{action}: position {index} is outside 0..{last}").format(
                action=action, index=index, last=size - 1))
        return int(index)

    def replace_layer(self, index: int, layer: Layer) -> Pipeline:
        """The pipeline with node ``index`` holding ``layer`` (same inputs)."""
        index = self._check_index(index, len(self), "replace_layer")
        if self.is_chain:
            entries = self._entries("replace_layer")
            kept = entries[index][1]
            entries[index] = (layer, kept)
            return self._rechain(entries)
        nodes = list(self.nodes)
        nodes[index] = Node(nodes[index].name, layer, nodes[index].inputs)
        return self._with_nodes(nodes)

    def insert_layer(self, index: int, layer: Layer) -> Pipeline:
        """The chain with ``layer`` inserted before position ``index`` (``len`` appends)."""
        entries = self._entries("insert_layer")
        index = self._check_index(index, len(entries) + 1, "insert_layer")
        entries.insert(index, (layer, None))
        return self._rechain(entries)

    def remove_layer(self, index: int) -> Pipeline:
        """The chain without the layer at ``index``."""
        entries = self._entries("remove_layer")
        del entries[self._check_index(index, len(entries), "remove_layer")]
        return self._rechain(entries)

    def move_layer(self, index: int, new_index: int) -> Pipeline:
        """The chain with the layer at ``index`` moved to position ``new_index``."""
        entries = self._entries("move_layer")
        entry = entries.pop(self._check_index(index, len(entries), "move_layer"))
        entries.insert(self._check_index(new_index, len(entries) + 1, "move_layer"), entry)
        return self._rechain(entries)

    def duplicate_layer(self, index: int) -> Pipeline:
        """The chain with a copy of the layer at ``index`` right after it."""
        return self.insert_layer(self._check_index(index, len(self), "duplicate_layer") + 1,
                                 self.nodes[index].layer)
