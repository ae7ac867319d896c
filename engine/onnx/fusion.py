"""Patterns of ONNX nodes that the engine reads as one layer.

ONNX before opset 24 has no SiLU: PyTorch writes ``x * sigmoid(x)`` as a Sigmoid and a Mul
(EfficientNet has 49 of them). The importer reads such a pair as one :class:`SiLU` layer named
after the Mul's output, so the network's layers read as PyTorch defines them and the activation
takes one pass over memory instead of five (see :func:`engine.ops.pointwise.silu`). A Sigmoid
whose output is used elsewhere too (a graph output, another node) stays as it is, so no value
that something reads disappears.
"""

from __future__ import annotations

from collections import Counter

from engine.graph.pipeline import Node
from engine.layers.unary import SiLU

__all__ = ["fuse_silu"]


def fuse_silu(nodes: list[Node], graph_outputs: set[str]) -> tuple[list[Node], int]:
    """``nodes`` with each ``Mul(x, Sigmoid(x))`` (either order) as one SiLU node; the count.

    Examples
    --------
    >>> from engine.layers import Sigmoid
    >>> from engine.layers.binary import Mul
    >>> fused, n = fuse_silu([Node("s", Sigmoid(), ("x",)), Node("y", Mul(), ("x", "s"))], set())
    >>> [(node.name, node.layer.type_name, node.inputs) for node in fused], n
    ([('y', 'SiLU', ('x',))], 1)
    """
    by_name = {node.name: node for node in nodes}
    readers = Counter(name for node in nodes for name in node.inputs)
    replaced: dict[str, Node] = {}
    dropped: set[str] = set()
    for node in nodes:
        layer = node.layer
        if layer.type_name != "Mul" or layer.constant is not None or len(node.inputs) != 2:
            continue
        a, b = node.inputs
        for x, gate in ((a, b), (b, a)):
            sig = by_name.get(gate)
            if (sig is not None and sig.layer.type_name == "Sigmoid" and sig.inputs == (x,)
                    and readers[gate] == 1 and gate not in graph_outputs and gate not in dropped):
                replaced[node.name] = Node(node.name, SiLU(), (x,))
                dropped.add(gate)
                break
    fused = [replaced.get(node.name, node) for node in nodes if node.name not in dropped]
    return fused, len(replaced)
