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

import numpy as np

from engine.i18n import _
from engine.train.optimizer import (
    Optimizer,
    OptimizerError,
    _flag,
    _lr,
    _number,
    _weight_decay,
)

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "OptimizerError"]


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
