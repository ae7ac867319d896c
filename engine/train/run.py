"""One training run from the command line: set it up, train, checkpoint every epoch, stop well.

Ctrl-C asks the trainer to stop after the current step (never in the middle of an update), then
the checkpoint is written and the command exits with 130; a second Ctrl-C stops at once. A loss
that stops being a number ends the run with its message, keeping the weights from before it.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path

from engine.i18n import _
from engine.train.augment import Augment
from engine.train.checkpoint import write_checkpoint
from engine.train.config import TrainConfig
from engine.train.dataset import ArrayDataset, split
from engine.train.network import fit_head, reinitialize
from engine.train.trainer import EpochMetrics, Trainer, TrainingError

__all__ = ["LIGHT_AUGMENT", "prepare_run", "save_checkpoint", "train_and_save"]

LIGHT_AUGMENT = Augment(shift=0.1, rotate_degrees=10.0, brightness=0.2, contrast=0.2)
"""``--augment``: small shifts and rotations and lighting changes that keep every class
(mirroring is left out: it would turn an arrow or a digit into another)."""


def prepare_run(pipeline, data: ArrayDataset, args, optimizer_state=None,
                state=None, metrics=None) -> Trainer:
    """A Trainer for the command line's arguments, or resuming a checkpoint's state."""
    if state is not None:
        config = TrainConfig.from_dict({**state["config"], "epochs": args.epochs})
    else:
        config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                             optimizer=args.optimizer, seed=max(args.seed, 0),
                             augment=LIGHT_AUGMENT if args.augment else Augment())
        if args.init:
            pipeline = fit_head(reinitialize(pipeline, config.seed), len(data.class_names),
                                config.seed)
    train, val = split(data, args.val_split, seed=config.seed)
    trainer = Trainer(pipeline, train, val if len(val) else None, config)
    if state is not None:
        trainer.restore(optimizer_state, state, metrics)
    return trainer


def save_checkpoint(trainer: Trainer, out) -> Path:
    """Write the trainer's network, optimizer, state and curves into the folder ``out``."""
    return write_checkpoint(out, trainer.pipeline, trainer.optimizer.state_dict(),
                            trainer.state(), trainer.metrics())


@contextlib.contextmanager
def _stop_on_ctrl_c(trainer: Trainer):
    """The first Ctrl-C stops after the current step; the second one interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def ask_to_stop(signum, frame):
        trainer.interrupted = True
        trainer.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, ask_to_stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def train_and_save(trainer: Trainer, out, progress=None) -> str:
    """Train to the end (or Ctrl-C), writing the checkpoint after every epoch; the summary."""
    out = Path(out)
    trainer.subscribe(lambda event: save_checkpoint(trainer, out)
                      if isinstance(event, EpochMetrics) else None)
    try:
        with _stop_on_ctrl_c(trainer):
            trainer.run()
    except TrainingError:
        save_checkpoint(trainer, out)  # the weights from before the failed step
        raise
    model = save_checkpoint(trainer, out)
    if trainer.interrupted:
        return _("Stopped at step {step} (epoch {epoch}); the weights are in {model}; go on with"
                 " --resume").format(step=trainer.step_count, epoch=trainer.epoch + 1,
                                     model=model)
    last = trainer.history[-1] if trainer.history else None
    if last is None or last.val_accuracy != last.val_accuracy:  # no validation set
        return _("Trained {steps} steps in {seconds:.0f} s; the network is in {model}").format(
            steps=trainer.step_count, seconds=trainer.elapsed, model=model)
    return _("Validation accuracy {accuracy:.2%} after {epochs} epochs ({seconds:.0f} s); the"
             " network is in {model}").format(accuracy=last.val_accuracy, epochs=last.epoch,
                                              seconds=trainer.elapsed, model=model)
