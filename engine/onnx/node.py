"""What the ONNX importer's converters and folders share: one node's context and the errors.

:class:`NodeContext` wraps one ``onnx.NodeProto`` while it is converted
(``engine.onnx.converters``) or folded (``engine.onnx.constants``): its attributes with
defaults, its inputs as constants or as activations, and the batch-axis bookkeeping. Every
attribute a converter does not read is refused afterwards, so no part of a node's meaning is
silently dropped. :class:`GraphTables` is what the importer knows of the graph so far.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper

from engine.graph.spec_arrays import short_float
from engine.i18n import _, ngettext

__all__ = ["BATCH", "PREPROCESS_KEY", "GraphTables", "NodeContext", "Unsupported"]

# The model metadata key under which an exported pipeline's preprocessing travels (JSON).
PREPROCESS_KEY = "cnn_explorer.preprocess"

# Stands for the batch size in folded shape arithmetic when the file leaves it open.
BATCH = -(2**40)


class Unsupported(Exception):
    """Raised inside the importer with one short reason; the importer wraps it into an
    OnnxImportError that names the file, the operator and the node (the reason need not)."""


class GraphTables:
    """What the importer knows of the graph so far, which every node's converter reads.

    The importer fills these tables while it walks the graph; converters see them through
    :attr:`NodeContext.imp`. Kept here, not in the importer, so that converters depend on the
    tables and the importer on the converters, never the other way round.
    """

    opset: int
    consts: dict[str, np.ndarray]  # folded constants by name
    shapes: dict[str, tuple[int, ...]]  # activations, without the batch axis
    taken: set[str]  # every tensor name in use
    input_name: str
    nhwc: bool  # the model's input is channels-last (Keras); the engine's is channels-first
    batch: int | None  # the batch size the file fixes, None when left open

    def fresh_name(self, base: str) -> str:
        """``base``, or ``base2``, ``base3``, ...: a tensor name no other tensor has."""
        name, n = base, 1
        while name in self.taken:
            n += 1
            name = f"{base}{n}"
        self.taken.add(name)
        return name


class NodeContext:
    """One node being converted: its attributes (with defaults) and typed access to inputs."""

    def __init__(self, proto: onnx.NodeProto, imp: GraphTables):
        self.proto, self.imp, self.opset = proto, imp, imp.opset
        self.op, self.out = proto.op_type, proto.output[0]
        self.attrs = {}
        for a in proto.attribute:
            value = helper.get_attribute_value(a)
            if isinstance(value, float):  # a float32: 1e-4, not 9.99999974e-05
                value = short_float(np.float32(value))
            elif isinstance(value, list) and value and isinstance(value[0], float):
                value = [short_float(np.float32(v)) for v in value]
            self.attrs[a.name] = value.decode() if isinstance(value, bytes) else value
        self.read: set[str] = set()

    def attr(self, name: str, default=None):
        self.read.add(name)
        return self.attrs.get(name, default)

    def check_attributes(self) -> None:
        """Refuse attributes the converter never read: their meaning would be lost."""
        # no effect on inference outputs (consumed_inputs: an opset < 6 bookkeeping attribute)
        ignored = {"storage_order", "momentum", "seed", "consumed_inputs", "saturate"}
        unknown = sorted(set(self.attrs) - self.read - ignored)
        if unknown:
            raise Unsupported(ngettext("attribute {names} is not supported",
                                       "attributes {names} are not supported", len(unknown))
                              .format(names=", ".join(unknown)))

    def input(self, i: int) -> str | None:
        names = self.proto.input
        return names[i] if i < len(names) and names[i] else None

    def const(self, i: int, what: str, required: bool = True) -> np.ndarray | None:
        name = self.input(i)
        if name is None:
            if required:
                raise Unsupported(_("its {what} input is missing").format(what=what))
            return None
        if name not in self.imp.consts:
            raise Unsupported(_("its {what} must be a constant stored in the file, not the"
                                " computed {name!r}").format(what=what, name=name))
        return self.imp.consts[name]

    def act(self, i: int) -> str:
        name = self.input(i)
        if name is None or name not in self.imp.shapes:
            raise Unsupported(_("its input {i} must come from the image, not a constant")
                              .format(i=i))
        return name

    def shape(self, i: int) -> tuple[int, ...]:
        return self.imp.shapes[self.act(i)]

    def axis(self, value: int, rank: int, what: str) -> int:
        """An ONNX axis of a batched tensor -> the unbatched axis; the batch axis is refused."""
        full = rank + 1
        if not -full <= value < full:
            raise Unsupported(_("{what} {value} does not exist in a tensor with {n} axes")
                              .format(what=what, value=value, n=full))
        if value % full == 0:
            raise Unsupported(_("{what} {value} runs along the batch axis and would mix the"
                                " images of a batch; the engine needs 1 or more")
                              .format(what=what, value=value))
        value %= full
        return value - 1

    def extra(self, suffix: str) -> str:
        return self.imp.fresh_name(f"{self.out}:{suffix}")

