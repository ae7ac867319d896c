"""The error function and exact GELU in float32, in chunks shared by the threads.

ConvNeXt's GELU is exported as ``x * 0.5 * (1 + erf(x / sqrt 2))``, its Erf over 1.2 million
values at the first stage. Computed in float64 (a Chebyshev fit of erfc with an ``exp``) it took
25 ms a node, more than onnxruntime's whole network. Here ``erf(x) = x P(x^2) / Q(x^2)`` on
``x`` clamped to [-4, 4] (beyond, erf is +-1 in float32), the rational fit Eigen and XLA use
(odd numerator of degree 13, even denominator of degree 8; relative error below 4.3e-7,
measured against ``math.erf``): about twenty in-place passes over a chunk, the chunks shared
by the threads (numpy's loops release the GIL): 21 -> 1.5 ms on two threads. A NaN stays NaN
(the clamp keeps it).
"""

from __future__ import annotations

import numpy as np

from engine.ops._parallel import map_chunks, workspace

# Most values a chunk. Larger chunks won although four of their arrays outgrow L2: with many
# small calls the two threads wait on each other for the GIL (ConvNeXt's 384x56x56 on two
# threads, ms at 16k / 64k / 128k / 256k values a chunk: 4.5 / 2.0 / 1.54 / 1.48).
_CHUNK = 1 << 17
_ALPHA = tuple(np.float32(v) for v in (  # the numerator's odd coefficients, x^13 first
    -2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
    -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03,
    -1.60960333262415e-02))
_BETA = tuple(np.float32(v) for v in (  # the denominator's even coefficients, x^8 first
    -1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
    -7.37332916720468e-03, -1.42647390514189e-02))
_SQRT_HALF = np.float32(np.sqrt(0.5))


def erf32(x: np.ndarray) -> np.ndarray:
    """erf of a float32 array (any shape), as a new float32 array."""
    return _chunked(x, _erf_into)


def gelu32(x: np.ndarray) -> np.ndarray:
    """``x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))`` of a float32 array, as a new array."""
    return _chunked(x, _gelu_into)


def _chunked(x: np.ndarray, fn) -> np.ndarray:
    with np.errstate(invalid="ignore", over="ignore"):  # NaN in, NaN out, quietly
        return map_chunks(x, fn, _CHUNK, 32)


def _erf_into(x: np.ndarray, out: np.ndarray, chunk: int, scale=None) -> None:
    """out = erf(scale * x) (``scale`` None: 1); ``x`` is only read."""
    n = x.size
    z = workspace(("erf-z", chunk), (chunk,))[:n]
    x2 = workspace(("erf-x2", chunk), (chunk,))[:n]
    q = workspace(("erf-q", chunk), (chunk,))[:n]
    if scale is None:
        np.clip(x, -4.0, 4.0, out=z)
    else:
        np.multiply(x, scale, out=z)
        np.clip(z, -4.0, 4.0, out=z)
    np.multiply(z, z, out=x2)
    _horner(x2, _ALPHA, out)  # P(x^2)
    out *= z
    _horner(x2, _BETA, q)  # Q(x^2)
    np.divide(out, q, out=out)


def _horner(x2: np.ndarray, coefficients: tuple, out: np.ndarray) -> None:
    """out = the polynomial in ``x2`` with these coefficients, highest power first."""
    np.multiply(x2, coefficients[0], out=out)
    for c in coefficients[1:-1]:
        out += c
        out *= x2
    out += coefficients[-1]


def _gelu_into(x: np.ndarray, out: np.ndarray, chunk: int) -> None:
    """out = 0.5 x (1 + erf(x / sqrt 2)); ``x`` is only read."""
    _erf_into(x, out, chunk, _SQRT_HALF)
    out += np.float32(1.0)
    out *= x
    out *= np.float32(0.5)
