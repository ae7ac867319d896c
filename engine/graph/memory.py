"""How much memory running a pipeline on an input takes, checked against the budget first.

``Pipeline.forward`` keeps every node's output (the app shows them all), so the ledger's
activation memory is what a run holds at its end; the input and a working buffer the size of
the largest map (padding, a temporary of the layer being computed) come on top.

Examples
--------
>>> from engine.resolve import resolve_pipeline
>>> forward_bytes(resolve_pipeline("lecture"), (3, 32, 32)) > 10 * 32 * 32 * 4
True
"""

from __future__ import annotations

from engine.graph.ledger import Ledger
from engine.i18n import _
from engine.io.budget import check_allocation
from engine.ops.shapes import activation_bytes

__all__ = ["check_forward_memory", "forward_bytes"]


def forward_bytes(pipeline, input_shape, ledger: Ledger | None = None) -> int:
    """Bytes a ``forward`` of ``pipeline`` on an input of ``input_shape`` needs at its peak.

    ``ledger``: the pipeline's summary for that shape, when it is already at hand.
    """
    ledger = pipeline.summary(tuple(input_shape)) if ledger is None else ledger
    given = activation_bytes(tuple(input_shape))
    largest = max([given, *(row.memory_bytes for row in ledger.rows)])
    return given + ledger.total_memory_bytes + 2 * largest


def check_forward_memory(pipeline, input_shape, ledger: Ledger | None = None) -> None:
    """Raise :class:`engine.io.budget.BudgetError` when the run would exceed the budget.

    The message names the input size and points at ``summary``'s Memory column.
    """
    shape = " x ".join(str(int(n)) for n in input_shape)
    check_allocation(_("running the pipeline on a {shape} input (every layer's output is kept;"
                       " see the Memory column of `summary`)").format(shape=shape),
                     forward_bytes(pipeline, input_shape, ledger))
