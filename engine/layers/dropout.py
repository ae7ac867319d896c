"""Dropout: the identity when the network runs, random zeros while it trains."""

from __future__ import annotations

from engine import ops as F
from engine.i18n import N_
from engine.layers.base import Field, Layer


class Dropout(Layer):
    """Zero each value with probability ``p`` while training, scaling the rest by 1 / (1 - p).

    When the network runs (and in the ledger) it passes its input through unchanged, as
    PyTorch's ``nn.Dropout`` in ``eval()`` mode.

    Examples
    --------
    >>> Dropout(0.25)
    Dropout(p=0.25)
    """

    type_name = "Dropout"
    name_prefix = "dropout"
    FIELDS = (Field("p", "float", 0.5, 0.0, 1.0, N_("probability of zeroing a value in training")),)
    _repr_always = ("p",)
    differentiable = True

    def __init__(self, p=0.5):
        self._store(p=p)

    def forward(self, x):
        return x

    def forward_train(self, xs, params, train, rng):
        (x,) = xs
        if not train or self.p == 0:
            return x, None, {}
        y, mask = F.dropout(x, self.p, rng)
        return y, mask, {}

    def backward(self, grad, saved, params, need_input=True):
        return (grad if saved is None else F.dropout_backward(grad, saved),), {}
