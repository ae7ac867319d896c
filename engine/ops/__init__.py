"""Pure array ops with PyTorch's names: ``conv2d``, ``max_pool2d``, ``relu``, ...

Functions of numpy arrays and numbers only: no layers, no graphs. Each op's backward pass lives
beside it. The machinery behind them is private: ``_checks`` (argument checks and their
messages), ``_conv`` and ``_pool`` (the vectorized routines), ``_parallel`` (the engine's threads
and reused workspaces). :mod:`engine.ops.shapes` holds the output-size and counting arithmetic.
"""

from engine.ops.functional import *  # noqa: F403  (the ops, listed in functional.__all__)
from engine.ops.functional import __all__ as __all__
