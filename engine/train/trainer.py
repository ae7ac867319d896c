"""The training loop: :class:`Trainer` steps a network through a data set and reports events.

Training is a producer: every step and every epoch end is an event (:class:`StepMetrics`,
:class:`EpochMetrics`) sent to the functions given to :meth:`Trainer.subscribe`, on the thread
that trains. A window draws the latest one; the command line prints a progress bar. The same
seed gives the same run: batch order, augmentation and dropout all draw from one generator.

Examples
--------
>>> from engine.train import open_dataset, split
>>> from engine.resolve import resolve_pipeline
>>> data = open_dataset("shapes", size=(64, 64), n=64, seed=0)
>>> trainer = Trainer(resolve_pipeline("shapes"), data, config=TrainConfig(batch_size=32))
>>> trainer.step().step, trainer.examples_seen
(1, 32)
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from engine.graph.autograd import forward_backward, trainable_parameters
from engine.graph.pipeline import Pipeline
from engine.i18n import _
from engine.train.augment import Augment
from engine.train.batching import to_batch
from engine.train.config import TrainConfig, make_optimizer, make_schedule
from engine.train.dataset import ArrayDataset, DatasetError
from engine.train.evaluation import Evaluation, evaluate
from engine.train.network import check_fits
from engine.train.schedules import clip_grad_norm, global_norm

__all__ = ["Augment", "EpochMetrics", "StepMetrics", "TrainConfig", "Trainer", "TrainingError"]


class TrainingError(DatasetError):
    """Training cannot go on (a loss that is not a number); the message names the step."""


@dataclass(frozen=True)
class StepMetrics:
    """One optimizer step: the batch's loss and accuracy, the learning rate, the gradient norm."""

    step: int
    epoch: int
    loss: float
    accuracy: float
    lr: float
    grad_norm: float
    examples: int  # seen so far
    elapsed: float  # seconds of training so far


@dataclass(frozen=True)
class EpochMetrics:
    """One epoch: the mean training loss and accuracy, and the validation scores (NaN: none)."""

    epoch: int
    step: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    elapsed: float
    evaluation: Evaluation | None = field(default=None, repr=False)


class Trainer:
    """Train ``pipeline`` on ``train_data`` (and score it on ``val_data`` after each epoch)."""

    def __init__(self, pipeline: Pipeline, train_data: ArrayDataset,
                 val_data: ArrayDataset | None = None, config: TrainConfig | None = None):
        self.config = config or TrainConfig()
        check_fits(pipeline, train_data)
        if len(train_data.class_names) < 2:
            raise DatasetError(_("Training needs at least two classes; the data has only"
                                 " {names}").format(names=", ".join(train_data.class_names)))
        self.train_data, self.val_data = train_data, val_data
        self._net = pipeline
        trainable = set(trainable_parameters(pipeline))
        state = pipeline.state_dict()
        # the trainer's own float32 copies, updated in place by the optimizer
        self.params = {k: np.array(v, np.float32) for k, v in state.items() if k in trainable}
        self.buffers = {k: np.array(v, np.float32) for k, v in state.items() if k not in trainable}
        self.optimizer = make_optimizer(self.config)
        per_epoch = math.ceil(len(train_data) / self.config.batch_size)
        self.steps_per_epoch = per_epoch
        self.schedule = make_schedule(self.config, per_epoch * self.config.epochs)
        self.rng = np.random.default_rng(self.config.seed)
        self.step_count = self.epoch = self.examples_seen = 0
        self.elapsed = 0.0
        self.history: list[EpochMetrics] = []
        self.curve: list[StepMetrics] = []
        self.last_grads: dict[str, np.ndarray] = {}  # the latest step's gradients (histograms)
        self._order = np.zeros(0, np.intp)
        self._position = 0
        self._sums = [0.0, 0, 0]  # this epoch's loss sum, correct answers, examples
        self._listeners: list[Callable[[object], None]] = []
        self._stop = threading.Event()
        self.interrupted = False  # set when a user asked to stop (Ctrl-C, the Stop button)

    # -- events --------------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[object], None]) -> None:
        """Call ``listener(event)`` with every StepMetrics and EpochMetrics from now on."""
        self._listeners.append(listener)

    def _emit(self, event) -> None:
        for listener in self._listeners:
            listener(event)

    # -- state -----------------------------------------------------------------------------------
    @property
    def pipeline(self) -> Pipeline:
        """The network with the weights trained so far (a new immutable pipeline)."""
        return self._net.load_state_dict({**self.params, **self.buffers})

    @property
    def done(self) -> bool:
        return self.epoch >= self.config.epochs

    def stop(self) -> None:
        """Ask :meth:`run` to return after the current step (from any thread)."""
        self._stop.set()

    # -- stepping --------------------------------------------------------------------------------
    def _next_indices(self) -> np.ndarray:
        if self._position >= len(self._order):
            self._order = self.rng.permutation(len(self.train_data))
            self._position = 0
        indices = self._order[self._position:self._position + self.config.batch_size]
        self._position += len(indices)
        return np.sort(indices)  # sorted: reads the image array in memory order

    def step(self) -> StepMetrics:
        """Train on one batch; at the last batch of an epoch also ends the epoch."""
        start = time.perf_counter()
        indices = self._next_indices()
        images = self.train_data.images[indices]
        labels = self.train_data.labels[indices]
        if not self.config.augment.is_identity:
            images = self.config.augment(images, self.rng)
        x = to_batch(images, self._net.input_spec)
        # A diverging run overflows somewhere before its loss does; the check below says so
        # in one message instead of numpy's warnings from the middle of an op.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            result = forward_backward(self._net, x, labels, train=True,
                                      params={**self.params, **self.buffers}, rng=self.rng,
                                      need_input=False)
        if not math.isfinite(result.loss):
            raise TrainingError(_("The loss became {value} at step {step} (epoch {epoch}):"
                                  " training stopped and the weights of step {last} are kept;"
                                  " try a smaller learning rate").format(
                value=result.loss, step=self.step_count + 1, epoch=self.epoch + 1,
                last=self.step_count))
        grads = result.grads
        if self.config.clip_norm:
            norm = clip_grad_norm(grads, self.config.clip_norm)
        else:
            norm = global_norm(grads)
        self.last_grads = grads
        lr = self.schedule(self.step_count)
        self.optimizer.step(self.params, grads, lr=lr)
        self.buffers.update(result.buffers)
        correct = int(np.sum(result.output.argmax(axis=1) == labels))
        self.step_count += 1
        self.examples_seen += len(labels)
        self.elapsed += time.perf_counter() - start
        sums = self._sums
        sums[0] += result.loss * len(labels)
        sums[1] += correct
        sums[2] += len(labels)
        metrics = StepMetrics(self.step_count, self.epoch, result.loss, correct / len(labels),
                              lr, float(norm), self.examples_seen, self.elapsed)
        self.curve.append(metrics)
        self._emit(metrics)
        if self._position >= len(self._order):
            self._end_epoch()
        return metrics

    def _end_epoch(self) -> EpochMetrics:
        start = time.perf_counter()
        loss_sum, correct, seen = self._sums
        scored = evaluate(self.pipeline, self.val_data) if self.val_data else None
        self.epoch += 1
        self.elapsed += time.perf_counter() - start
        metrics = EpochMetrics(
            self.epoch, self.step_count, loss_sum / max(seen, 1), correct / max(seen, 1),
            scored.loss if scored else math.nan, scored.accuracy if scored else math.nan,
            self.elapsed, scored)
        self.history.append(metrics)
        self._sums = [0.0, 0, 0]
        self._emit(metrics)
        return metrics

    def run_epoch(self) -> EpochMetrics:
        """Train until the current epoch ends; return its metrics."""
        epoch = self.epoch
        while self.epoch == epoch:
            self.step()
        return self.history[-1]

    def run(self, max_steps: int | None = None) -> None:
        """Train until the configured epochs are done, ``max_steps`` more steps were taken, or
        :meth:`stop` was called."""
        self._stop.clear()
        target = None if max_steps is None else self.step_count + max_steps
        while not self.done and not self._stop.is_set():
            if target is not None and self.step_count >= target:
                break
            self.step()

    # -- checkpoints ---------------------------------------------------------------------------
    def state(self) -> dict:
        """What resuming needs besides the weights and the optimizer (JSON-able)."""
        return {"config": self.config.to_dict(), "step": self.step_count, "epoch": self.epoch,
                "examples": self.examples_seen, "elapsed": self.elapsed,
                "rng": self.rng.bit_generator.state, "order": self._order.tolist(),
                "position": self._position, "sums": list(self._sums)}

    def metrics(self) -> dict:
        """The curves so far (JSON-able): per epoch, and per step."""
        return {"epochs": [{k: v for k, v in vars(m).items() if k != "evaluation"}
                           for m in self.history],
                "steps": [vars(m) for m in self.curve]}

    def restore(self, optimizer_state: dict, state: dict, metrics: dict | None = None) -> None:
        """Continue from a checkpoint's optimizer and trainer state and its curves (the weights
        come with the pipeline the trainer was made with)."""
        self.optimizer.load_state_dict(optimizer_state)
        if metrics:
            self.history = [EpochMetrics(**e) for e in metrics.get("epochs", [])]
            self.curve = [StepMetrics(**s) for s in metrics.get("steps", [])]
        self.step_count, self.epoch = int(state["step"]), int(state["epoch"])
        self.examples_seen, self.elapsed = int(state["examples"]), float(state["elapsed"])
        self.rng.bit_generator.state = state["rng"]
        self._order = np.asarray(state["order"], np.intp)
        self._position = int(state["position"])
        self._sums = [float(state["sums"][0]), int(state["sums"][1]), int(state["sums"][2])]
