"""Optimizers with PyTorch's update rules and defaults: SGD, Adam and AdamW.

An optimizer holds its hyperparameters and, for every parameter *name*, its state (momentum
buffer, moment estimates, step count), the way ``torch.optim`` keys state by parameter. Each
:meth:`Optimizer.step` takes the parameters and their gradients as dicts keyed
``"<node>.<param>"`` and updates the parameter arrays in place. State and two scratch arrays per
parameter are allocated on the first step and reused after, so a step allocates nothing of a
parameter's size.

The order of the floating-point operations follows ``torch.optim``'s single-tensor code (for
example Adam divides ``sqrt(v)`` by ``sqrt(1 - beta2^t)`` and adds ``eps`` after), so a float32
run stays within rounding of PyTorch's.

Examples
--------
>>> import numpy as np
>>> params = {"fc.weight": np.ones(3, np.float32)}
>>> opt = SGD(lr=0.1, momentum=0.9)
>>> opt.step(params, {"fc.weight": np.full(3, 2.0, np.float32)})
>>> params["fc.weight"].tolist()
[0.800000011920929, 0.800000011920929, 0.800000011920929]
>>> opt
SGD(lr=0.1, momentum=0.9, dampening=0.0, nesterov=False, weight_decay=0.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from engine.i18n import _

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "OptimizerError"]


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


def _betas(value) -> tuple[float, float]:
    try:
        b1, b2 = (float(b) for b in value)
    except (TypeError, ValueError):
        raise OptimizerError(_("The betas must be two numbers, not {value!r}").format(
            value=value)) from None
    return (_number(b1, _("Beta1 must be a number from 0 up to (not including) 1, not {value!r}"),
                    0.0, 1.0),
            _number(b2, _("Beta2 must be a number from 0 up to (not including) 1, not {value!r}"),
                    0.0, 1.0))


class Optimizer:
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

    def _update(self, name: str, param: np.ndarray, grad: np.ndarray, lr: float) -> None:
        raise NotImplementedError

    # -- settings and checkpoints -----------------------------------------------------------
    def _hyper(self) -> dict:
        raise NotImplementedError

    def _set_hyper(self, **hyper) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        """A flat dict of copies that ``np.savez`` can store: settings and per-name state.

        Keys: ``"type"``, the settings (``"lr"``, ``"betas"``, ...), and
        ``"state.<param name>.<key>"`` for every state entry (``step``, ``exp_avg``, ...).

        Examples
        --------
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


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay.

    torch.optim.SGD's rule, for each step t (b is the momentum buffer)::

        g = grad + weight_decay * p
        b = g                                  at the first step
        b = momentum * b + (1 - dampening) * g after it
        g = g + momentum * b  (nesterov)   or   g = b
        p = p - lr * g

    Parameters
    ----------
    lr : float
        Learning rate (PyTorch's default 1e-3).
    momentum, dampening, weight_decay : float
        As in PyTorch, all 0 by default. Nesterov needs momentum > 0 and dampening 0.
    nesterov : bool

    Examples
    --------
    >>> p = {"w": np.array([1.0], np.float32)}
    >>> SGD(lr=0.5, weight_decay=1.0).step(p, {"w": np.array([0.0], np.float32)})
    >>> p["w"].tolist()
    [0.5]
    """

    def __init__(self, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0):
        super().__init__(lr)
        self._set_hyper(lr=self.lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                        weight_decay=weight_decay)

    def _hyper(self) -> dict:
        return {"lr": self.lr, "momentum": self.momentum, "dampening": self.dampening,
                "nesterov": self.nesterov, "weight_decay": self.weight_decay}

    def _set_hyper(self, *, lr, momentum, dampening, nesterov, weight_decay) -> None:
        lr = _lr(lr)
        momentum = _number(momentum, _("The momentum must be a number of 0 or more, not"
                                        " {value!r}"))
        try:
            dampening = float(dampening)
        except (TypeError, ValueError):
            dampening = math.nan
        if not math.isfinite(dampening):  # PyTorch takes any dampening; only refuse nonsense
            raise OptimizerError(_("The dampening must be a number, not {value!r}")
                                 .format(value=dampening))
        nesterov = _flag(nesterov, _("The nesterov setting must be true or false, not"
                                     " {value!r}"))
        weight_decay = _weight_decay(weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise OptimizerError(_("Nesterov momentum needs a momentum above 0 and a dampening"
                                   " of 0"))
        self.lr, self.momentum, self.dampening = lr, momentum, dampening
        self.nesterov, self.weight_decay = nesterov, weight_decay

    def _update(self, name, param, grad, lr) -> None:
        tmp, tmp2 = self._buffers(name, param)
        g = grad
        if self.weight_decay != 0:
            np.multiply(param, self.weight_decay, out=tmp)
            np.add(grad, tmp, out=tmp)  # g + wd * p
            g = tmp
        if self.momentum != 0:
            state = self.state.setdefault(name, {})
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, dtype=param.dtype)  # b_1 = g_1
            else:
                if buf.shape != param.shape:
                    raise OptimizerError(_("The saved momentum of {name!r} has shape {saved} but"
                                           " the parameter has shape {param}")
                                         .format(name=name, saved=buf.shape, param=param.shape))
                buf *= self.momentum
                if self.dampening == 0:
                    buf += g
                else:
                    np.multiply(g, 1 - self.dampening, out=tmp2)
                    buf += tmp2
            if self.nesterov:
                np.multiply(buf, self.momentum, out=tmp2)
                np.add(g, tmp2, out=tmp)  # g + momentum * b
                g = tmp
            else:
                g = buf
        np.multiply(g, lr, out=tmp2)
        param -= tmp2


class Adam(Optimizer):
    """Adam (and AMSGrad) with torch.optim.Adam's rule; ``weight_decay`` is the L2 penalty.

    For each step t, with bias corrections ``bc1 = 1 - beta1^t`` and ``bc2 = 1 - beta2^t``::

        g = grad + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        v_max = max(v_max, v)                  (amsgrad; then v_max replaces v below)
        p = p - (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)

    Examples
    --------
    >>> Adam()
    Adam(lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0, amsgrad=False)
    """

    _decoupled = False

    def __init__(self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False):
        super().__init__(lr)
        self._set_hyper(lr=self.lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad)

    def _hyper(self) -> dict:
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps,
                "weight_decay": self.weight_decay, "amsgrad": self.amsgrad}

    def _set_hyper(self, *, lr, betas, eps, weight_decay, amsgrad) -> None:
        lr, betas, weight_decay = _lr(lr), _betas(betas), _weight_decay(weight_decay)
        eps = _number(eps, _("Epsilon must be a number of 0 or more, not {value!r}"))
        amsgrad = _flag(amsgrad, _("The amsgrad setting must be true or false, not {value!r}"))
        self.lr, self.betas, self.eps = lr, betas, eps
        self.weight_decay, self.amsgrad = weight_decay, amsgrad

    def _update(self, name, param, grad, lr) -> None:
        beta1, beta2 = self.betas
        tmp, tmp2 = self._buffers(name, param)
        m = self._zeros(name, "exp_avg", param)
        v = self._zeros(name, "exp_avg_sq", param)
        state = self.state[name]
        state["step"] = t = int(state.get("step", 0)) + 1
        g = grad
        if self.weight_decay != 0:
            if self._decoupled:
                param *= 1 - lr * self.weight_decay  # AdamW: p = p - lr * wd * p
            else:
                np.multiply(param, self.weight_decay, out=tmp)
                np.add(grad, tmp, out=tmp)  # g + wd * p
                g = tmp
        np.subtract(g, m, out=tmp2)  # m.lerp_(g, 1 - beta1) = m + (1 - beta1) (g - m)
        tmp2 *= 1 - beta1
        m += tmp2
        v *= beta2
        np.multiply(g, g, out=tmp2)
        tmp2 *= 1 - beta2
        v += tmp2
        if self.amsgrad:
            v_max = self._zeros(name, "max_exp_avg_sq", param)
            np.maximum(v_max, v, out=v_max)
            v = v_max
        step_size = lr / (1 - beta1**t)
        np.sqrt(v, out=tmp2)
        tmp2 /= math.sqrt(1 - beta2**t)
        tmp2 += self.eps  # denominator
        np.divide(m, tmp2, out=tmp2)
        tmp2 *= step_size
        param -= tmp2


class AdamW(Adam):
    """Adam with decoupled weight decay, torch.optim.AdamW's rule and defaults.

    Each step first shrinks the parameter, ``p = p - lr * weight_decay * p``, then takes
    Adam's step without weight decay in the gradient.

    Examples
    --------
    >>> AdamW(lr=3e-4)
    AdamW(lr=0.0003, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.01, amsgrad=False)
    """

    _decoupled = True

    def __init__(self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(lr, betas, eps, weight_decay, amsgrad)
