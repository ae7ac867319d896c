"""A progress bar for training on the command line (tqdm), fed by the trainer's events."""

from __future__ import annotations

from engine.i18n import _
from engine.train.trainer import EpochMetrics, StepMetrics, Trainer

__all__ = ["TrainingProgress"]


class TrainingProgress:
    """``with TrainingProgress(trainer):`` shows steps, loss, accuracy, speed and ETA.

    tqdm draws the bar (rate, elapsed time and ETA included) and redraws it at most ten times a
    second however fast the steps come; each epoch's scores are printed above it as a line.
    """

    def __init__(self, trainer: Trainer, stream):
        self.trainer, self.stream = trainer, stream
        self.bar = None

    def __enter__(self):
        from tqdm import tqdm

        t = self.trainer
        total = t.steps_per_epoch * t.config.epochs
        self.bar = tqdm(total=total, initial=min(t.step_count, total), file=self.stream,
                        unit=_("step"), dynamic_ncols=True, mininterval=0.1,
                        desc=_("training"), leave=True)
        t.subscribe(self._on_event)
        return self

    def _on_event(self, event) -> None:
        if isinstance(event, StepMetrics):
            self.bar.update(1)
            self.bar.set_postfix_str(_("loss {loss:.3f}, accuracy {accuracy:.0%}").format(
                loss=event.loss, accuracy=event.accuracy), refresh=False)
        elif isinstance(event, EpochMetrics):
            text = _("epoch {epoch}/{epochs}: loss {loss:.4f}, accuracy {accuracy:.2%}").format(
                epoch=event.epoch, epochs=self.trainer.config.epochs, loss=event.train_loss,
                accuracy=event.train_accuracy)
            if event.val_accuracy == event.val_accuracy:  # not NaN: there is a validation set
                text += _(", validation {accuracy:.2%} (loss {loss:.4f})").format(
                    accuracy=event.val_accuracy, loss=event.val_loss)
            self.bar.write(text, file=self.stream)

    def __exit__(self, *exc) -> None:
        self.bar.close()
