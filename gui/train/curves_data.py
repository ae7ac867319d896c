"""The training curves as numpy arrays, appended in place, and their smoothing. Qt-free.

Per step: the batch's loss and accuracy and the learning rate; per epoch: the training means
and the validation scores. Arrays are preallocated and doubled when full, so appending a few
points costs a copy of those points only; views ``[:n]`` go to the plots.

Examples
--------
>>> from engine.train.trainer import StepMetrics
>>> store = CurveStore()
>>> added = store.extend([StepMetrics(i + 1, 0, 2.0 - i / 10, 0.5, 1e-3, 1.0, 32 * i, 0.1 * i)
...                       for i in range(3)])
>>> store.n, store.step[:store.n].tolist()
(3, [1.0, 2.0, 3.0])
>>> smooth(np.array([1.0, 0.0, 0.0]), 0.5).round(3).tolist()
[1.0, 0.333, 0.143]
"""

from __future__ import annotations

import numpy as np

__all__ = ["CurveStore", "smooth"]

STEP_FIELDS = ("step", "loss", "accuracy", "lr")
EPOCH_FIELDS = ("step", "train_loss", "train_accuracy", "val_loss", "val_accuracy")


def _ema(values: np.ndarray, weight: float, state: tuple[float, float] = (0.0, 1.0)
         ) -> tuple[np.ndarray, tuple[float, float]]:
    out = np.empty(len(values))
    average, factor = state
    last = np.nan
    for i, v in enumerate(values.tolist()):
        if v == v and abs(v) != float("inf"):
            average = average * weight + (1 - weight) * v
            factor *= weight
            last = average / (1 - factor)
        out[i] = last
    return out, (average, factor)


def smooth(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's smoothing: an exponential moving average with its start-up bias removed.

    ``weight`` 0 returns the values; 0.99 averages over about the last hundred. NaN and inf
    (a diverged loss) are skipped.
    """
    if weight <= 0:
        return np.array(values, float)
    return _ema(np.asarray(values, float), weight)[0]


class CurveStore:
    """Growing per-step and per-epoch arrays of one run."""

    def __init__(self, capacity: int = 1024) -> None:
        self._capacity = capacity
        self.clear()

    def clear(self) -> None:
        self.n = 0
        for name in STEP_FIELDS:
            setattr(self, name, np.zeros(self._capacity))
        self.epochs = {name: np.zeros(0) for name in EPOCH_FIELDS}
        self._smoothed: dict[str, tuple[np.ndarray, int]] = {}  # name -> (buffer, filled)
        self._ema_state: dict[str, tuple[float, float]] = {}
        self.weight = -1.0  # the smoothing the cached curves were made with

    def extend(self, metrics) -> int:
        """Append StepMetrics (in step order); returns how many were added."""
        metrics = list(metrics)
        k = len(metrics)
        if not k:
            return 0
        if self.n + k > len(self.step):
            size = max(2 * len(self.step), self.n + k)
            for name in STEP_FIELDS:
                grown = np.zeros(size)
                grown[: self.n] = getattr(self, name)[: self.n]
                setattr(self, name, grown)
        rows = np.array([(m.step, m.loss, m.accuracy, m.lr) for m in metrics], float)  # (k, 4)
        for j, name in enumerate(STEP_FIELDS):
            getattr(self, name)[self.n : self.n + k] = rows[:, j]
        self.n += k
        return k

    def set_epochs(self, history) -> None:
        """Replace the per-epoch arrays with ``history`` (EpochMetrics, a few per run)."""
        rows = np.array([[m.step, m.train_loss, m.train_accuracy, m.val_loss, m.val_accuracy]
                         for m in history], float).reshape(-1, len(EPOCH_FIELDS))
        self.epochs = {name: rows[:, j].copy() for j, name in enumerate(EPOCH_FIELDS)}

    def smoothed(self, name: str, weight: float) -> np.ndarray:
        """The smoothed per-step ``name`` ("loss" or "accuracy"), length :attr:`n`.

        Only the new points are averaged when the weight is unchanged since the last call.
        """
        if weight != self.weight:
            self._smoothed, self._ema_state, self.weight = {}, {}, weight
        buffer, done = self._smoothed.get(name, (np.zeros(len(self.step)), 0))
        if done < self.n:
            if len(buffer) < len(self.step):
                grown = np.zeros(len(self.step))
                grown[:done] = buffer[:done]
                buffer = grown
            values = getattr(self, name)[done : self.n]
            if weight <= 0:
                buffer[done : self.n] = values
            else:
                new, self._ema_state[name] = _ema(values, weight,
                                                  self._ema_state.get(name, (0.0, 1.0)))
                buffer[done : self.n] = new
            self._smoothed[name] = (buffer, self.n)
        return buffer[: self.n]
