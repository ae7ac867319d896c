'''The numpy functions a generated script carries (only those it uses), as source text.

Each is a plain, readable implementation on batched (N, C, H, W) arrays with PyTorch's
arguments: clarity over speed (the engine's own ops are the fast ones).
'''

from __future__ import annotations

__all__ = ["HELPERS", "NEEDS"]

HELPERS = {
    "windows": '''
def windows(x, kernel, stride, dilation):
    """Every k x k window of a padded (N, C, H, W) map: (N, C, H_out, W_out, kh, kw)."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    span = ((kh - 1) * dh + 1, (kw - 1) * dw + 1)
    view = np.lib.stride_tricks.sliding_window_view(x, span, axis=(2, 3))
    return view[:, :, ::sh, ::sw, ::dh, ::dw]
''',
    "conv2d": '''
def conv2d(x, weight, bias, stride, padding, dilation, groups):
    """Cross-correlation as PyTorch's conv2d, one einsum over the windows."""
    (ph, pw) = padding
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    c_out, c_in_g, kh, kw = weight.shape
    win = windows(x, (kh, kw), stride, dilation)  # (N, C, H_out, W_out, kh, kw)
    n, c, ho, wo = win.shape[:4]
    win = win.reshape(n, groups, c_in_g, ho, wo, kh, kw)
    w = weight.reshape(groups, c_out // groups, c_in_g, kh, kw)
    y = np.einsum("ngchwij,gocij->ngohw", win, w, optimize=True).reshape(n, c_out, ho, wo)
    return y if bias is None else y + bias[:, None, None]
''',
    "conv_transpose2d": '''
def conv_transpose2d(x, weight, bias, stride, padding, output_padding, dilation, groups):
    """Transposed convolution: every input value adds a scaled kernel into the output."""
    n, c_in, h, w = x.shape
    _, c_out_g, kh, kw = weight.shape
    (sh, sw), (dh, dw) = stride, dilation
    full = np.zeros((n, c_out_g * groups, (h - 1) * sh + (kh - 1) * dh + 1 + output_padding[0],
                     (w - 1) * sw + (kw - 1) * dw + 1 + output_padding[1]), np.float32)
    xg = x.reshape(n, groups, c_in // groups, h, w)
    wg = weight.reshape(groups, c_in // groups, c_out_g, kh, kw)
    for i in range(kh):
        for j in range(kw):
            tap = np.einsum("ngchw,gco->ngohw", xg, wg[..., i, j]).reshape(n, -1, h, w)
            full[:, :, i * dh : i * dh + (h - 1) * sh + 1 : sh,
                 j * dw : j * dw + (w - 1) * sw + 1 : sw] += tap
    ph, pw = padding
    y = full[:, :, ph : full.shape[2] - ph, pw : full.shape[3] - pw]
    return y if bias is None else y + bias[:, None, None]
''',
    "pool_size": '''
def pool_padding(n, k, s, p, d, ceil_mode):
    """Extra cells at the end so the last window fits, PyTorch's ceil-mode rule."""
    span = d * (k - 1) + 1
    out = (n + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out, max(0, (out - 1) * s + span - n - 2 * p)
''',
    "max_pool2d": '''
def max_pool2d(x, kernel, stride, padding, dilation, ceil_mode):
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    (ho, eh), (wo, ew) = (pool_padding(n, k, s, p, d, ceil_mode) for n, k, s, p, d in
                          ((x.shape[2], kh, sh, ph, dh), (x.shape[3], kw, sw, pw, dw)))
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph + eh), (pw, pw + ew)), constant_values=-np.inf)
    return windows(x, kernel, stride, dilation)[:, :, :ho, :wo].max(axis=(4, 5))
''',
    "avg_pool2d": '''
def avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad):
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    (ho, eh), (wo, ew) = (pool_padding(n, k, s, p, 1, ceil_mode) for n, k, s, p in
                          ((x.shape[2], kh, sh, ph), (x.shape[3], kw, sw, pw)))
    ones = np.pad(np.ones(x.shape[2:], np.float32), ((ph, ph), (pw, pw)),
                  constant_values=1.0 if count_include_pad else 0.0)
    ones = np.pad(ones, ((0, eh), (0, ew)))[None, None]
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph + eh), (pw, pw + ew)))
    total = windows(x, kernel, stride, (1, 1))[:, :, :ho, :wo].sum(axis=(4, 5))
    count = windows(ones, kernel, stride, (1, 1))[:, :, :ho, :wo].sum(axis=(4, 5))
    return total / count
''',
    "softmax": '''
def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
''',
    "erf": '''
def erf(x):
    """The error function (Numerical Recipes' erfc fit, relative error below 1.2e-7)."""
    z = np.abs(x).astype(np.float64)
    t = 1.0 / (1.0 + 0.5 * z)
    coefficients = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807,
                    -1.13520398, 1.48851587, -0.82215223, 0.17087277)
    poly = coefficients[-1]
    for c in coefficients[-2::-1]:
        poly = c + t * poly
    return np.copysign(1.0 - t * np.exp(-z * z + poly), x)
''',
    "normalize": '''
def normalize(x, axes, eps):
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps)
''',
    "lrn": '''
def local_response_norm(x, size, alpha, beta, k):
    squares = np.pad(x * x, ((0, 0), ((size - 1) // 2, size // 2), (0, 0), (0, 0)))
    window = sum(squares[:, i : i + x.shape[1]] for i in range(size))
    return x / (k + alpha / size * window) ** beta
''',
}

# helpers that call other helpers
NEEDS = {"conv2d": {"windows"}, "max_pool2d": {"windows", "pool_size"},
         "avg_pool2d": {"windows", "pool_size"}}
