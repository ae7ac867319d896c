"""What the training worker publishes a few times a second: one immutable :class:`Snapshot`.

Built on the worker thread between two steps (so every array in it belongs to one moment of
training) and handed to the window through a one-slot holder: the window draws the newest one
and never a queue of them. Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["GRAD_RANGE", "Histograms", "Snapshot", "first_conv", "histograms", "nice_ceiling",
           "probe_outputs", "training_snapshot"]

BINS = 40
GRAD_RANGE = (-10.0, 1.0)  # log10 |gradient|: a vanishing layer sits at the left, exploding right


@dataclass(frozen=True)
class Histograms:
    """Per weight tensor: how its values and its gradients' sizes are spread.

    ``weights[i]`` and ``grads[i]`` are shares of the tensor ``names[i]`` per bin (they sum to
    1); weights over ``weight_edges`` (values), gradients over ``grad_edges`` (log10 |g|).
    """

    names: tuple[str, ...]
    weight_edges: np.ndarray  # (BINS + 1,)
    weights: np.ndarray  # (L, BINS)
    grad_edges: np.ndarray  # (BINS + 1,)
    grads: np.ndarray  # (L, BINS)
    weight_rms: np.ndarray  # (L,)
    grad_rms: np.ndarray  # (L,) NaN before the first step


def nice_ceiling(value: float, steps=(1, 2, 5, 10)) -> float:
    """The smallest of 1, 2, 5 times a power of ten (or ``steps``) that is >= ``value``: axis
    ranges that change now and then, not with every new point (each change redraws the axis).

    >>> nice_ceiling(0.37), nice_ceiling(2.3), nice_ceiling(120)
    (0.5, 5.0, 200.0)
    """
    if not value > 0 or not np.isfinite(value):
        return 1.0
    power = 10.0 ** np.floor(np.log10(value))
    return float(next(m * power for m in steps if m * power >= value * (1 - 1e-9)))


def histograms(params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> Histograms:
    """Histograms of every weight tensor (not the biases) and of its latest gradient.

    >>> h = histograms({"fc.weight": np.ones((2, 2), np.float32)}, {})
    >>> h.names, float(h.weights.sum()), bool(np.isnan(h.grad_rms[0]))
    (('fc.weight',), 1.0, True)
    """
    names = tuple(k for k, v in params.items() if k.endswith(".weight") and v.ndim >= 2)
    top = nice_ceiling(max((float(np.abs(params[k]).max()) for k in names), default=1.0),
                       (1, 1.5, 2, 3, 4, 5, 6, 8, 10))
    weight_edges = np.linspace(-top, top, BINS + 1)
    grad_edges = np.linspace(*GRAD_RANGE, BINS + 1)
    weights = np.zeros((len(names), BINS))
    grad_shares = np.zeros((len(names), BINS))
    weight_rms = np.zeros(len(names))
    grad_rms = np.full(len(names), np.nan)
    for i, name in enumerate(names):
        w = params[name].ravel()
        counts, _ = np.histogram(w, weight_edges)
        weights[i] = counts / max(w.size, 1)
        weight_rms[i] = float(np.sqrt(np.mean(np.square(w, dtype=np.float64))))
        g = grads.get(name)
        if g is None or not g.size:
            continue
        g = g.ravel()
        grad_rms[i] = float(np.sqrt(np.mean(np.square(g, dtype=np.float64))))
        g = g[g != 0]  # exact zeros (units a ReLU switched off) have no size to plot
        if not g.size:
            continue
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            sizes = np.log10(np.abs(g.astype(np.float64)))
        sizes = np.clip(np.nan_to_num(sizes, nan=GRAD_RANGE[1], posinf=GRAD_RANGE[1]),
                        *GRAD_RANGE)
        counts, _ = np.histogram(sizes, grad_edges)
        grad_shares[i] = counts / g.size
    return Histograms(names, weight_edges, weights, grad_edges, grad_shares, weight_rms,
                      grad_rms)


def first_conv(pipeline) -> str | None:
    """The name of the first convolution node, or None."""
    for node in pipeline:
        if node.layer.type_name == "Conv2d":
            return node.name
    return None


def probe_outputs(pipeline, probe: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every node's output for one (H, W, C) uint8 picture, and the class probabilities."""
    from engine.graph.autograd import logits_node
    from engine.train.batching import to_batch

    x = to_batch(probe[None], pipeline.input_spec)[0]  # (C, H, W), as training feeds it
    outputs = pipeline.forward(x)
    logits = np.asarray(outputs[logits_node(pipeline)], np.float64).ravel()
    if not np.isfinite(logits).all():
        return outputs, np.full(logits.shape, np.nan)
    e = np.exp(logits - logits.max())
    return outputs, e / e.sum()


@dataclass(frozen=True)
class Snapshot:
    """The state of training at one moment, for the window to draw.

    ``curve`` is the trainer's own append-only list of StepMetrics: read ``curve[:curve_len]``
    (the list only grows; the new items of one snapshot are the old items of the next).
    """

    seq: int
    generation: int  # a new run (or a reset, or a resumed run) gets a new generation
    state: str  # idle | preparing | ready | running | paused | done | stopped | error
    message: str = ""
    progress: tuple[int, int] | None = None  # pictures read, while preparing
    step: int = 0
    epoch: int = 0
    epochs: int = 0
    steps_per_epoch: int = 0
    examples: int = 0
    elapsed: float = 0.0  # seconds spent training
    rate: float = 0.0  # steps per second lately (wall clock)
    curve: list = field(default_factory=list, repr=False)
    curve_len: int = 0
    history: tuple = ()  # EpochMetrics
    pipeline: object = None  # the network with the weights of this moment
    class_names: tuple[str, ...] = ()
    filters: np.ndarray | None = field(default=None, repr=False)  # first conv's weight
    probe: np.ndarray | None = field(default=None, repr=False)  # (H, W, C) uint8
    probe_label: int = -1
    probe_probs: np.ndarray | None = field(default=None, repr=False)
    activations: dict = field(default_factory=dict, repr=False)  # of the probe, by node
    hist: Histograms | None = field(default=None, repr=False)
    val: object = field(default=None, repr=False)  # ArrayDataset the evaluation scored
    evaluation: object = field(default=None, repr=False)  # the latest epoch's Evaluation
    epoch_filters: tuple = field(default=(), repr=False)  # ((epoch, step, filters), ...)
    run_folder: Path | None = None
    plan: object = None  # TrainPlan
    max_steps: int | None = None  # the step a "--train-steps" run pauses at

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    @property
    def eta(self) -> float | None:
        """Seconds left at the recent rate, or None when unknown."""
        if self.rate <= 0 or not self.total_steps:
            return None
        return max(self.total_steps - self.step, 0) / self.rate

    @property
    def has_network(self) -> bool:
        return self.pipeline is not None and self.state not in ("idle", "preparing")


def training_snapshot(base: dict, trainer, val, filters, **extra) -> Snapshot:
    """The Snapshot of ``trainer`` now: ``base`` (seq, state, ...) plus the network, the probe
    picture's outputs, the histograms and the latest scores. Built on the training thread."""
    pipeline = trainer.pipeline
    probe, label = (val if val is not None else trainer.train_data)[0]
    try:
        with np.errstate(all="ignore"):  # a diverging network's probe: NaN, no warnings
            activations, probs = probe_outputs(pipeline, probe)
    except ValueError:
        activations, probs = {}, None
    history = tuple(trainer.history)
    evaluation = next((m.evaluation for m in reversed(history) if m.evaluation), None)
    return Snapshot(
        **base, step=trainer.step_count, epoch=trainer.epoch, epochs=trainer.config.epochs,
        steps_per_epoch=trainer.steps_per_epoch, examples=trainer.examples_seen,
        elapsed=trainer.elapsed, curve=trainer.curve, curve_len=len(trainer.curve),
        history=history, pipeline=pipeline, class_names=trainer.train_data.class_names,
        filters=filters, probe=probe, probe_label=label, probe_probs=probs,
        activations=activations, hist=histograms(trainer.params, trainer.last_grads), val=val,
        evaluation=evaluation, **extra)
