"""Learning-rate schedules and gradient clipping, with PyTorch's formulas.

A schedule is a callable ``lr_at(step) -> float``: the learning rate of optimizer step ``step``
(0 for the first), so the trainer asks for it once per step (``opt.step(p, g, lr=lr_at(i))``).
PyTorch's schedulers are stateful objects stepped once per epoch or per batch; the closed forms
here give the same numbers for any step without replaying the ones before it.

Examples
--------
>>> lr_at = cosine_lr(0.1, total_steps=100, warmup_steps=10)
>>> [round(lr_at(s), 4) for s in (0, 5, 10, 55, 100)]
[0.0333, 0.0667, 0.1, 0.05, 0.0]
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from engine.i18n import _

__all__ = [
    "Constant",
    "CosineLR",
    "StepLR",
    "clip_grad_norm",
    "constant",
    "cosine_lr",
    "global_norm",
    "step_lr",
]


def _number(value, message: str, low: float = 0.0, positive: bool = False) -> float:
    """``value`` as a finite float of at least ``low`` (above it when ``positive``); else
    ValueError with ``message``, a whole sentence with ``{value!r}``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if (isinstance(value, bool) or not math.isfinite(number) or number < low
            or (positive and number <= low)):
        raise ValueError(message.format(value=value))
    return number


def _lr(value) -> float:
    return _number(value, _("The learning rate must be a number of 0 or more, not {value!r}"))


def _count(value, message: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(message.format(value=value))
    return int(value)


def _step(step) -> int:
    if isinstance(step, bool) or not isinstance(step, int | np.integer) or step < 0:
        raise ValueError(_("A step is a whole number of 0 or more, not {step!r}").format(
            step=step))
    return int(step)


@dataclass(frozen=True)
class Constant:
    """The same learning rate at every step.

    Examples
    --------
    >>> constant(0.01)(1000)
    0.01
    """

    base_lr: float

    def __post_init__(self):
        object.__setattr__(self, "base_lr", _lr(self.base_lr))

    def __call__(self, step: int) -> float:
        _step(step)
        return self.base_lr


@dataclass(frozen=True)
class StepLR:
    """``base_lr * gamma ** (step // step_size)``: torch.optim.lr_scheduler.StepLR.

    Examples
    --------
    >>> lr_at = step_lr(0.1, step_size=30)
    >>> [round(lr_at(s), 6) for s in (0, 29, 30, 60)]
    [0.1, 0.1, 0.01, 0.001]
    """

    base_lr: float
    step_size: int
    gamma: float = 0.1

    def __post_init__(self):
        object.__setattr__(self, "base_lr", _lr(self.base_lr))
        object.__setattr__(self, "step_size", _count(self.step_size, _(
            "The step size must be a whole number of at least 1, not {value!r}"), 1))
        object.__setattr__(self, "gamma", _number(self.gamma, _(
            "Gamma must be a number of 0 or more, not {value!r}")))

    def __call__(self, step: int) -> float:
        return self.base_lr * self.gamma ** (_step(step) // self.step_size)


@dataclass(frozen=True)
class CosineLR:
    """Linear warm-up, then cosine annealing down to ``min_lr`` at ``total_steps``.

    During warm-up (step < W) the rate rises as torch's ``LinearLR``:
    ``base_lr * (f + (1 - f) * step / W)`` with ``f = warmup_start_factor``. After it, torch's
    ``CosineAnnealingLR`` closed form over the remaining ``T = total_steps - W`` steps:
    ``min_lr + (base_lr - min_lr) * (1 + cos(pi * (step - W) / T)) / 2``. Steps past the end
    keep ``min_lr`` (PyTorch's formula would start rising again).
    """

    base_lr: float
    total_steps: int
    warmup_steps: int = 0
    min_lr: float = 0.0
    warmup_start_factor: float = 1 / 3

    def __post_init__(self):
        object.__setattr__(self, "base_lr", _lr(self.base_lr))
        total = _count(self.total_steps, _("The number of steps must be a whole number of at"
                                           " least 1, not {value!r}"), 1)
        warmup = _count(self.warmup_steps, _("The number of warm-up steps must be a whole number"
                                             " of 0 or more, not {value!r}"), 0)
        if warmup >= total:
            raise ValueError(_("The warm-up ({warmup} steps) must be shorter than the whole"
                               " schedule ({total} steps)").format(warmup=warmup, total=total))
        min_lr = _number(self.min_lr, _("The minimum learning rate must be a number of 0 or"
                                        " more, not {value!r}"))
        if min_lr > self.base_lr:
            raise ValueError(_("The minimum learning rate {min_lr} is above the learning rate"
                               " {lr}").format(min_lr=min_lr, lr=self.base_lr))
        factor = _number(self.warmup_start_factor, _("The warm-up start factor must be above 0"
                                                     " and at most 1, not {value!r}"),
                         positive=True)
        if factor > 1:
            raise ValueError(_("The warm-up start factor must be above 0 and at most 1, not"
                               " {value!r}").format(value=self.warmup_start_factor))
        object.__setattr__(self, "total_steps", total)
        object.__setattr__(self, "warmup_steps", warmup)
        object.__setattr__(self, "min_lr", min_lr)
        object.__setattr__(self, "warmup_start_factor", factor)

    def __call__(self, step: int) -> float:
        step = _step(step)
        if step < self.warmup_steps:
            f = self.warmup_start_factor
            return self.base_lr * (f + (1 - f) * step / self.warmup_steps)
        t = step - self.warmup_steps
        span = self.total_steps - self.warmup_steps
        if t >= span:
            return self.min_lr
        return self.min_lr + (self.base_lr - self.min_lr) * (1 + math.cos(math.pi * t / span)) / 2


def constant(base_lr: float) -> Constant:
    """A schedule that always returns ``base_lr``."""
    return Constant(base_lr)


def step_lr(base_lr: float, step_size: int, gamma: float = 0.1) -> StepLR:
    """Multiply the rate by ``gamma`` every ``step_size`` steps (torch's StepLR)."""
    return StepLR(base_lr, step_size, gamma)


def cosine_lr(base_lr: float, total_steps: int, warmup_steps: int = 0, min_lr: float = 0.0,
              warmup_start_factor: float = 1 / 3) -> CosineLR:
    """Linear warm-up from ``warmup_start_factor * base_lr``, then cosine down to ``min_lr``.

    The start factor defaults to 1/3, torch's ``LinearLR`` default. See :class:`CosineLR`.

    Examples
    --------
    >>> cosine_lr(1.0, total_steps=4)(2)
    0.5
    """
    return CosineLR(base_lr, total_steps, warmup_steps, min_lr, warmup_start_factor)


def _arrays(grads) -> list[np.ndarray]:
    values = grads.values() if hasattr(grads, "values") else grads
    return [g for g in values if g is not None]


def global_norm(grads: dict[str, np.ndarray] | Iterable[np.ndarray],
                norm_type: float = 2.0) -> float:
    """The norm of all gradients together, as if they were one long vector.

    ``norm_type`` is 2 (the L2 norm, default) or ``inf`` (the largest absolute value).

    Examples
    --------
    >>> global_norm({"a": np.array([3.0]), "b": np.array([[4.0]])})
    5.0
    """
    arrays = _arrays(grads)
    if norm_type == math.inf:
        return max((float(np.max(np.abs(g))) for g in arrays if g.size), default=0.0)
    if norm_type != 2:
        raise ValueError(_("Only the L2 norm (2) and the largest value (inf) are supported,"
                           " not {norm_type!r}").format(norm_type=norm_type))
    # Per array a BLAS dot in the array's precision (as torch takes each tensor's norm), then
    # the norm of those norms in float64.
    return math.sqrt(sum(float(np.linalg.norm(g.reshape(-1))) ** 2 for g in arrays))


def clip_grad_norm(grads: dict[str, np.ndarray] | Iterable[np.ndarray], max_norm: float,
                   norm_type: float = 2.0, error_if_nonfinite: bool = False) -> float:
    """Scale all gradients in place so that their global norm is at most ``max_norm``.

    torch.nn.utils.clip_grad_norm_'s rule: ``coef = max_norm / (total_norm + 1e-6)``; when
    ``coef < 1`` every gradient is multiplied by it. A non-finite norm leaves the gradients
    alone, or raises ``ValueError`` when ``error_if_nonfinite``.

    Returns
    -------
    float
        The total norm before clipping (worth logging: it shows exploding gradients).

    Examples
    --------
    >>> g = {"w": np.array([3.0, 4.0])}
    >>> clip_grad_norm(g, max_norm=1.0)
    5.0
    >>> g["w"].round(5).tolist()
    [0.6, 0.8]
    """
    max_norm = _number(max_norm, _("The maximum gradient norm must be a number above 0, not"
                                    " {value!r}"), positive=True)
    arrays = _arrays(grads)
    total = global_norm(arrays, norm_type)
    if not math.isfinite(total):
        if error_if_nonfinite:
            raise ValueError(_("The gradients have a total norm of {norm}: the loss has become"
                               " infinite or not a number").format(norm=total))
        return total
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for g in arrays:
            g *= coef
    return total
