"""Pure CNN ops in numpy, with PyTorch's names, arguments and results.

Image ops take float32 arrays shaped ``(C, H, W)`` or ``(N, C, H, W)`` and return float32 arrays
of the same batchedness. Convolution is cross-correlation, as in PyTorch and the lecture:
``g(x, y) = sum_s sum_t w(s, t) f(x + s, y + t)``. Every bad argument raises ``ValueError`` whose
message starts with the op's name and gives the numbers, e.g.
``"conv2d: input has 4 channels, weight expects 3"``.

The public ops live in one module per family (:mod:`~engine.ops.conv`,
:mod:`~engine.ops.pooling`, :mod:`~engine.ops.activations`, :mod:`~engine.ops.normalization`,
:mod:`~engine.ops.linear`, :mod:`~engine.ops.threads`), each op's backward pass beside it; the
machinery behind them is private:

- :mod:`engine.ops._checks`: argument checks and their messages;
- :mod:`engine.ops._conv`: the convolution routines (im2col bands, 1x1, depthwise and separable);
- :mod:`engine.ops._pool`: the pooling routines (separable max and sum);
- :mod:`engine.ops._parallel`: the thread pool, per-thread workspaces and reused padded buffers,
  and the one-time process set-up (OpenBLAS on one thread, glibc keeping freed memory).

Speed matters because the GUI runs these ops on live video; each module's docstring gives the
measured choices (see docs/benchmarks.md, "Engine"). Here: ReLU and hardtanh compare with a
vector of constants, not a scalar (numpy's loop for that is 3x slower), and large ``linear``
layers split their output features over the threads.
"""

from engine.ops.activations import (
    dropout,
    dropout_backward,
    hardtanh,
    hardtanh_backward,
    leaky_relu,
    leaky_relu_backward,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    softmax,
    softmax_backward,
    tanh,
    tanh_backward,
)
from engine.ops.conv import conv2d, conv2d_backward, pad
from engine.ops.linear import flatten, linear, linear_backward
from engine.ops.losses import cross_entropy, dot_loss, log_softmax, mse_loss
from engine.ops.normalization import (
    batch_norm,
    batch_norm_backward,
    batch_norm_train,
    local_response_norm,
)
from engine.ops.pooling import (
    avg_pool2d,
    avg_pool2d_backward,
    global_avg_pool2d,
    global_avg_pool2d_backward,
    max_pool2d,
    max_pool2d_backward,
)
from engine.ops.threads import get_num_threads, set_num_threads

__all__ = [
    "avg_pool2d",
    "avg_pool2d_backward",
    "batch_norm",
    "batch_norm_backward",
    "batch_norm_train",
    "conv2d",
    "conv2d_backward",
    "cross_entropy",
    "dot_loss",
    "dropout",
    "dropout_backward",
    "flatten",
    "get_num_threads",
    "global_avg_pool2d",
    "global_avg_pool2d_backward",
    "hardtanh",
    "hardtanh_backward",
    "leaky_relu",
    "leaky_relu_backward",
    "linear",
    "linear_backward",
    "local_response_norm",
    "log_softmax",
    "max_pool2d",
    "max_pool2d_backward",
    "mse_loss",
    "pad",
    "relu",
    "relu_backward",
    "set_num_threads",
    "sigmoid",
    "sigmoid_backward",
    "softmax",
    "softmax_backward",
    "tanh",
    "tanh_backward",
]
