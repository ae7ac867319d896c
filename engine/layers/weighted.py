"""What the layers with a weight array and an optional bias share: Conv2d and Linear."""

from __future__ import annotations

from typing import ClassVar

import numpy as np


class _Weighted:
    """Mixin for a Layer with a ``weight`` array and a ``bias`` vector or None.

    The ``bias`` field is a bool (is there a bias?) while the array lives in ``self.bias``, so
    the field value and the rebuilding arguments are read from the array here. Put it before
    the Layer base so that these methods win.
    """

    weight: np.ndarray
    bias: np.ndarray | None
    trainable = ("weight", "bias")
    differentiable = True
    _parameter_kwargs: ClassVar[dict[str, str]] = {"bias": "bias_values"}

    def _value(self, name):
        return self.bias is not None if name == "bias" else getattr(self, name)

    def parameters(self):
        out = {"weight": self.weight}
        if self.bias is not None:
            out["bias"] = self.bias
        return out

    def _kwargs(self):
        return {**super()._kwargs(), "weight": self.weight, "bias_values": self.bias}
