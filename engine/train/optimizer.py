"""What every optimizer shares: argument checks, state per parameter name, scratch arrays,
``state_dict`` / ``load_state_dict`` and a readable ``repr``.

The update rules themselves are in :mod:`engine.train.optim`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping

import numpy as np

from engine.i18n import _

__all__ = ["Optimizer", "OptimizerError"]


class OptimizerError(ValueError):
    """A hyperparameter, parameter, gradient or saved state that does not fit, in words."""


def _number(value, message: str, low: float = 0.0, below: float | None = None) -> float:
    """``value`` as a finite float with ``low <= value`` (and ``value < below`` when given);
    else :class:`OptimizerError` with ``message`` (a whole sentence with ``{value!r}``)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or number < low or (
            below is not None and number >= below):
        raise OptimizerError(message.format(value=value))
    return number


def _lr(value) -> float:
    return _number(value, _("The learning rate must be a number of 0 or more, not {value!r}"))


def _weight_decay(value) -> float:
    return _number(value, _("The weight decay must be a number of 0 or more, not {value!r}"))


def _flag(value, message: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise OptimizerError(message.format(value=value))
    return bool(value)


class Optimizer(ABC):
    """The shared part: checks, per-name state and scratch arrays, ``state_dict``, ``repr``.

    Subclasses define ``_hyper()`` (their settings, in constructor order), ``_set_hyper(**h)``
    and ``_update(name, param, grad, lr)``.
    """

    def __init__(self, lr: float):
        self.lr = _lr(lr)
        self.state: dict[str, dict] = {}
        self._scratch: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    # -- the step ---------------------------------------------------------------------------
    def step(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray],
             lr: float | None = None) -> None:
        """Update every parameter that has a gradient, in place.

        Parameters
        ----------
        params : dict of str to numpy.ndarray
            Floating-point arrays (float32 in the engine), changed in place.
        grads : dict of str to numpy.ndarray
            A gradient of the same shape for some or all of the names in ``params``; a name
            that is missing (or maps to None) is skipped, as PyTorch skips ``grad is None``.
        lr : float, optional
            The learning rate for this step (from a schedule); it also becomes ``self.lr``.

        Examples
        --------
        >>> from engine.train.optim import Adam, SGD
        >>> w = {"conv1.weight": np.zeros(2, np.float32)}
        >>> Adam(lr=0.5).step(w, {"conv1.weight": np.array([1.0, -3.0], np.float32)})
        >>> w["conv1.weight"].round(6).tolist()
        [-0.5, 0.5]
        """
        if lr is not None:
            self.lr = _lr(lr)
        unknown = [name for name in grads if name not in params]
        if unknown:
            raise OptimizerError(_("There is a gradient for {names} but no parameter of that"
                                   " name; the parameters are {known}")
                                 .format(names=", ".join(map(repr, unknown)),
                                         known=", ".join(map(repr, params)) or "none"))
        for name, param in params.items():
            grad = grads.get(name)
            if grad is None:
                continue
            self._check(name, param, grad)
            self._update(name, param, grad, self.lr)

    def _check(self, name: str, param, grad) -> None:
        if (not isinstance(param, np.ndarray) or not np.issubdtype(param.dtype, np.floating)
                or not param.flags.writeable):
            raise OptimizerError(_("Parameter {name!r} must be a writable floating-point array,"
                                   " not {kind}").format(name=name, kind=type(param).__name__))
        if np.shape(grad) != param.shape:
            raise OptimizerError(_("The gradient of {name!r} has shape {grad} but the parameter"
                                   " has shape {param}")
                                 .format(name=name, grad=np.shape(grad), param=param.shape))

    def _buffers(self, name: str, param: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Two scratch arrays like ``param``, made once and reused on every step."""
        pair = self._scratch.get(name)
        if pair is None or pair[0].shape != param.shape or pair[0].dtype != param.dtype:
            pair = (np.empty_like(param), np.empty_like(param))
            self._scratch[name] = pair
        return pair

    def _zeros(self, name: str, key: str, param: np.ndarray) -> np.ndarray:
        """The state array ``key`` of ``name``, zeros on the first step."""
        state = self.state.setdefault(name, {})
        array = state.get(key)
        if array is None:
            array = state[key] = np.zeros_like(param)
        elif array.shape != param.shape:
            raise OptimizerError(_("The saved {key} of {name!r} has shape {saved} but the"
                                   " parameter has shape {param}")
                                 .format(key=key, name=name, saved=array.shape,
                                         param=param.shape))
        return array

    @abstractmethod
    def _update(self, name: str, param: np.ndarray, grad: np.ndarray, lr: float) -> None:
        """Change ``param`` in place by one step of this optimizer's rule."""

    # -- settings and checkpoints -----------------------------------------------------------
    @abstractmethod
    def _hyper(self) -> dict:
        """The settings, in constructor order (saved with the state)."""

    @abstractmethod
    def _set_hyper(self, **hyper) -> None:
        """Check and set the settings that :meth:`_hyper` returns."""

    def state_dict(self) -> dict:
        """A flat dict of copies that ``np.savez`` can store: settings and per-name state.

        Keys: ``"type"``, the settings (``"lr"``, ``"betas"``, ...), and
        ``"state.<param name>.<key>"`` for every state entry (``step``, ``exp_avg``, ...).

        Examples
        --------
        >>> from engine.train.optim import SGD
        >>> opt = SGD(lr=0.1, momentum=0.5)
        >>> opt.step({"b": np.zeros(1)}, {"b": np.ones(1)})
        >>> d = opt.state_dict()
        >>> d["type"], d["lr"], d["state.b.momentum_buffer"].tolist()
        ('SGD', 0.1, [1.0])
        """
        out: dict = {"type": type(self).__name__, **self._hyper()}
        for name, entries in self.state.items():
            for key, value in entries.items():
                out[f"state.{name}.{key}"] = (value.copy() if isinstance(value, np.ndarray)
                                              else value)
        return out

    def load_state_dict(self, d: Mapping) -> None:
        """Restore settings and state from :meth:`state_dict` (or the same keys read back by
        ``np.load``); raise :class:`OptimizerError` when it belongs to another optimizer."""
        kind = str(np.asarray(d["type"]).item()) if "type" in d else ""
        if kind != type(self).__name__:
            raise OptimizerError(_("This saved state belongs to a {saved} optimizer, not to"
                                   " {this}").format(saved=kind or "unknown", this=type(self)
                                                     .__name__))
        hyper = {}
        for key, value in self._hyper().items():
            if key not in d:
                raise OptimizerError(_("The saved optimizer state has no {key!r} setting")
                                     .format(key=key))
            saved = np.asarray(d[key])
            hyper[key] = tuple(saved.tolist()) if isinstance(value, tuple) else saved.item()
        state: dict[str, dict] = {}
        for key, value in d.items():
            if not key.startswith("state."):
                continue
            name, _sep, entry = key[len("state."):].rpartition(".")
            if not name:
                raise OptimizerError(_("The saved optimizer state has a malformed key {key!r}")
                                     .format(key=key))
            value = np.asarray(value)
            state.setdefault(name, {})[entry] = (int(value.item()) if entry == "step"
                                                 else value.copy())
        self._set_hyper(**hyper)  # checks every value before anything changes
        self.state = state
        self._scratch = {}

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self._hyper().items())
        return f"{type(self).__name__}({settings})"
