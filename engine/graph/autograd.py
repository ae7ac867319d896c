"""Reverse-mode gradients through any pipeline: :func:`value_and_grad` and its workhorse.

The graph owns the order. :func:`forward_backward` runs the nodes the loss depends on forward,
keeping what each layer's backward needs (``Layer.forward_train``), computes the loss on the
output, then walks the nodes in reverse topological order (``Layer.backward``), summing
gradients where an output feeds several nodes. Layers stay immutable: the arrays to train come
in as ``params`` (named ``"<node>.<parameter>"``, PyTorch's ``state_dict`` names) and the
gradients go out under the same names, so an optimizer can keep its state by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.graph.pipeline import Pipeline
from engine.i18n import _
from engine.layers import NotDifferentiable, Softmax
from engine.ops import cross_entropy, dot_loss, mse_loss
from engine.ops.shapes import ShapeError

__all__ = ["LOSSES", "GradResult", "ancestors", "forward_backward", "logits_node",
           "trainable_parameters", "value_and_grad"]

LOSSES = {"cross_entropy": cross_entropy, "mse": mse_loss, "dot": dot_loss}

Loss = Callable[[np.ndarray, Any], tuple[float, np.ndarray]]
"""A loss given as a function: ``loss(output, target) -> (value, d value / d output)``."""

BackwardRule = Callable[..., tuple[tuple[np.ndarray | None, ...], dict]]
"""``rule(layer, grad, saved, params, need_input)``: what ``layer.backward`` would return."""


@dataclass
class GradResult:
    """Everything one forward and backward pass produced.

    ``grads`` holds ``"input"`` (when asked) and ``"<node>.<parameter>"`` for every trainable
    parameter the loss depends on; ``activation_grads`` the gradients of the node outputs named
    in ``keep``; ``buffers`` the running statistics training mode moved (``"bn1.running_mean"``).
    """

    loss: float
    output: np.ndarray  # what the loss was computed on (the logits before a final Softmax)
    grads: dict[str, np.ndarray]
    outputs: dict[str, np.ndarray] = field(repr=False)
    activation_grads: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    buffers: dict[str, np.ndarray] = field(default_factory=dict, repr=False)


def logits_node(pipeline: Pipeline, loss: str = "cross_entropy") -> str:
    """The node whose output the loss reads: the last, or the one before a final Softmax.

    A classifier that ends in Softmax is trained (and explained) on its logits, as PyTorch
    trains on the scores before ``softmax``; only ``cross_entropy`` skips the Softmax.
    """
    last = pipeline.nodes[-1]
    if loss == "cross_entropy" and isinstance(last.layer, Softmax) and len(pipeline) > 1:
        return last.inputs[0]
    return last.name


def trainable_parameters(pipeline: Pipeline) -> dict[str, np.ndarray]:
    """``{"<node>.<parameter>": array}`` for every parameter training changes."""
    return {f"{node.name}.{name}": value for node in pipeline
            for name, value in node.layer.trainable_parameters().items()}


def ancestors(pipeline: Pipeline, output: str) -> set[str]:
    """The names of ``output`` and of every node it depends on (not the input)."""
    needed, stack = set(), [output]
    while stack:
        name = stack.pop()
        if name in needed or name == pipeline.input_name:
            continue
        needed.add(name)
        stack.extend(pipeline[name].inputs)
    return needed


def _ancestors(pipeline: Pipeline, output: str) -> list:
    """The nodes ``output`` depends on, in the pipeline's (topological) order."""
    needed = ancestors(pipeline, output)
    return [node for node in pipeline if node.name in needed]


def _accumulate(grads: dict[str, np.ndarray], name: str, g: np.ndarray) -> None:
    if name in grads:
        grads[name] = grads[name] + g  # a new array: a layer's backward may return views
    else:
        grads[name] = g


def _rule_for(rules: Mapping[type, BackwardRule], layer) -> BackwardRule | None:
    """The rule registered for the layer's class or its nearest base class, else None."""
    for cls in type(layer).__mro__:
        if cls in rules:
            return rules[cls]
    return None


def forward_backward(pipeline: Pipeline, x, target, loss: str | Loss = "cross_entropy",
                     train: bool = False, params: Mapping[str, np.ndarray] | None = None,
                     rng: np.random.Generator | None = None, need_input: bool = True,
                     output: str | None = None, keep: tuple[str, ...] = (),
                     backward_rules: Mapping[type, BackwardRule] | None = None) -> GradResult:
    """One forward and backward pass; see :func:`value_and_grad` for the arguments.

    ``params`` overrides parameters and buffers by name (a trainer's current values); ``rng``
    draws dropout masks; ``need_input=False`` skips the input's gradient (training does not
    need it); ``output`` picks the node the loss reads (default :func:`logits_node`; for a
    loss given as a function, the last node); ``keep`` names nodes whose output gradients to
    return (Grad-CAM reads a conv layer's).

    ``loss`` may also be a function ``loss(output, target) -> (value, d value / d output)``:
    a loss that depends on the output itself (the gradient of the top class, which is known
    only after the forward pass). ``backward_rules`` maps a layer class to a function
    ``rule(layer, grad, saved, params, need_input)`` used instead of that class's
    ``backward`` (subclasses included): guided backpropagation's ReLU, or a backward that
    skips the weight gradients an explanation does not need. A rule returns what
    ``Layer.backward`` returns.
    """
    if callable(loss):
        loss_fn, loss_name = loss, "dot"
    elif loss in LOSSES:
        loss_fn, loss_name = LOSSES[loss], loss
    else:
        raise ValueError(_("unknown loss {loss!r}; choose one of {values}").format(
            loss=loss, values=', '.join(LOSSES)))
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 4:
        raise ShapeError(_("gradients need a batch (N, C, H, W), got shape {shape}").format(
            shape=x.shape))
    pipeline.shapes(x.shape[1:])  # a clear message naming the layer before any op runs
    output = output or logits_node(pipeline, loss_name)
    nodes = _ancestors(pipeline, output)
    rules = backward_rules or {}
    for node in nodes:
        if not node.layer.differentiable and _rule_for(rules, node.layer) is None:
            raise NotDifferentiable(_("layer {index} ({name}, {type_name})").format(
                index=pipeline.index(node.name), name=node.name, type_name=node.layer.type_name))
    overrides = params or {}
    rng = rng if rng is not None else np.random.default_rng()
    values: dict[str, np.ndarray] = {pipeline.input_name: x}
    tape, buffers = [], {}
    for node in nodes:
        layer_params = {k: overrides.get(f"{node.name}.{k}", v)  # buffers too (running stats)
                        for k, v in node.layer.parameters().items()}
        y, saved, moved = node.layer.forward_train(tuple(values[s] for s in node.inputs),
                                                   layer_params, train, rng)
        values[node.name] = y
        tape.append((node, saved, layer_params))
        buffers.update({f"{node.name}.{k}": v for k, v in moved.items()})
    out = values[output]
    value, grad_out = loss_fn(out, target)
    grads: dict[str, np.ndarray] = {output: grad_out}
    param_grads: dict[str, np.ndarray] = {}
    kept: dict[str, np.ndarray] = {}
    first = {node.name for node in nodes if pipeline.input_name in node.inputs}
    for node, saved, layer_params in reversed(tape):
        g = grads.pop(node.name, None)
        if g is None:
            continue  # the loss does not depend on this node's output
        if node.name in keep:
            kept[node.name] = g
        wants_input = need_input or node.name not in first or len(node.inputs) > 1
        rule = _rule_for(rules, node.layer) if rules else None
        if rule is None:
            input_grads, own = node.layer.backward(g, saved, layer_params,
                                                   need_input=wants_input)
        else:
            input_grads, own = rule(node.layer, g, saved, layer_params, wants_input)
        for name, value_grad in own.items():
            param_grads[f"{node.name}.{name}"] = value_grad
        for source, gi in zip(node.inputs, input_grads, strict=True):
            if gi is not None:
                _accumulate(grads, source, gi)
    result = {}
    if need_input:
        result["input"] = grads.get(pipeline.input_name, np.zeros_like(x))
    result.update(param_grads)
    values.pop(pipeline.input_name)
    return GradResult(value, out, result, values, kept, buffers)


def value_and_grad(pipeline: Pipeline, x, target, loss: str = "cross_entropy",
                   train: bool = False) -> tuple[float, dict[str, np.ndarray]]:
    """The loss of ``pipeline`` on a batch and its gradients, by reverse-mode differentiation.

    Parameters
    ----------
    pipeline : Pipeline
    x : array (N, C, H, W), float32
    target : labels (N,) for ``"cross_entropy"`` (the last output taken as logits; a final
        Softmax is skipped), an array of the output's shape for ``"mse"`` (mean over all
        elements) and ``"dot"`` (the sum of output times target: a vector-Jacobian product).
    loss : "cross_entropy", "mse" or "dot"
    train : BatchNorm uses the batch's statistics and Dropout drops, as PyTorch's ``.train()``;
        else running statistics and no dropout.

    Returns
    -------
    (loss, grads)
        ``grads["input"]`` is dL/dx; ``grads["<node>.<parameter>"]`` the gradient of every
        trainable parameter (``conv1.weight``, ``conv1.bias``, ``bn1.weight``, ...).

    Examples
    --------
    >>> from engine.graph.node import InputSpec
    >>> from engine.layers import Flatten, Linear
    >>> p = Pipeline.chain([Flatten(), Linear(4, 2, weight=np.zeros((2, 4)))],
    ...                    input_spec=InputSpec(channels=1))
    >>> loss, grads = value_and_grad(p, np.ones((1, 1, 2, 2), np.float32), np.array([0]))
    >>> round(loss, 4), sorted(grads), grads["fc1.bias"].tolist()
    (0.6931, ['fc1.bias', 'fc1.weight', 'input'], [-0.5, 0.5])
    """
    result = forward_backward(pipeline, x, target, loss=loss, train=train)
    return result.loss, result.grads
