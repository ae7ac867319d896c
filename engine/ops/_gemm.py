"""A shallow matrix product in column pieces small enough for OpenBLAS's unpacked kernel.

OpenBLAS (0.3.x, the one numpy bundles) has, on its AVX-512 cores (SkylakeX, Cooperlake,
SapphireRapids), a "small matrix" sgemm that reads A and B where they lie. Its
``gemm_small_kernel_permit`` takes it only while M * N * K <= 1e6; above that the general path
copies ("packs") B into a blocked buffer first. A convolution's im2col product
``(C_out x K) @ (K x columns)`` with a shallow K is all B: packing it is a second pass over the
columns, as costly as the product. So the product is cut into pieces of columns with
C_out * K * piece <= 1e6, and one batched ``np.matmul`` runs them all (numpy loops the pieces
in C; the pieces are views, strided in the batch axis, nothing is copied). Measured on one core
of an AVX-512 Xeon (a frame's worth of bands, minimum of many calls): 8 x 28 by 28 x N ran at
130 GFLOP/s with N = 4096, 60 at 8192, 41 at 65536; 8 -> 16 3x3 at 240x320 (16 x 73 by
73 x 5760 a band) took 1.73 ms in pieces against 2.19 whole, 3 -> 32 5x5 at 480x640 14.4
against 19.1, VGG's first layer (64 x 28) 1.86 against 2.64; 16 -> 32 at 120x160 (32 x 145,
pieces of 208) the same either way.

Other cores (Haswell's AVX2 kernels, used on AMD and older Intel) have no such path: every
piece is packed anyway and each call costs its setup. With ``OPENBLAS_CORETYPE=Haswell`` the
same products ran 7-14% slower in pieces, so there they stay whole. The core is read once from
threadpoolctl (a dependency already, see :mod:`engine.config`; the look-up takes about 8 ms).
"""

from __future__ import annotations

import numpy as np

# OpenBLAS's sgemm_small_kernel_permit (SkylakeX): at most 100 * 100 * 100 multiply-accumulates.
SMALL_GEMM = 1_000_000
_SMALL_KERNEL_CORES = {"skylakex", "cooperlake", "sapphirerapids"}
# Pieces are whole 64-byte lines (aligned like the rows they start in), and not narrower than
# 128 columns: ResNet's 7x7 stem (64 x 148) in pieces of 96 took 2.20 ms a frame instead of 1.90.
_ALIGN = 16
_MIN_PIECE = 128
_pieces_pay: bool | None = None


def pieces_pay() -> bool:
    """Whether numpy's BLAS has the unpacked small-matrix sgemm (looked up once)."""
    global _pieces_pay
    if _pieces_pay is None:
        try:
            from threadpoolctl import threadpool_info

            found = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
        except Exception:  # threadpoolctl could not read the libraries: keep products whole
            found = []
        numpy_blas = [lib for lib in found if "numpy" in str(lib.get("filepath", ""))] or found
        _pieces_pay = bool(numpy_blas) and all(
            lib.get("internal_api") == "openblas"
            and str(lib.get("architecture", "")).lower() in _SMALL_KERNEL_CORES
            for lib in numpy_blas
        )
    return _pieces_pay


def piece_columns(m: int, k: int) -> int:
    """Columns a piece for an (m x k) by (k x columns) product: 0 when it stays whole."""
    if not pieces_pay():
        return 0
    cols = SMALL_GEMM // max(1, m * k) // _ALIGN * _ALIGN
    return cols if cols >= _MIN_PIECE else 0


def matmul_into(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """out = a @ b, for 2-D a (M, K), b (K, N) and out (M, N) with unit column strides.

    ``b`` and ``out`` may be views whose rows are any distance apart (a band of an im2col
    workspace, a band of an output map); the product is run in pieces of columns when
    :func:`piece_columns` says so, the last, narrower piece on its own.
    """
    m, k = a.shape
    n = b.shape[1]
    step = piece_columns(m, k)
    if not step or n <= step:
        np.matmul(a, b, out=out)
        return
    count = n // step
    whole = count * step
    # (count, K, step) and (count, M, step): splitting the column axis is always a view
    b3 = b[:, :whole].reshape(k, count, step, copy=False).transpose(1, 0, 2)
    out3 = out[:, :whole].reshape(m, count, step, copy=False).transpose(1, 0, 2)
    np.matmul(a, b3, out=out3)
    if whole < n:
        np.matmul(a, b[:, whole:], out=out[:, whole:])
