"""How the convolution backward passes split their work: pieces, waves and accumulators.

A piece is a run of whole images when they are small, or a band of rows of one image when they
are large, sized so that its workspaces stay in L2. The forward ops split only into row bands
of one image each; the backward passes of a 64x64 network at batch 64 ran 1.5-2x slower that
way, the time going to Python and to many small matmuls instead of one batched call per piece.
"""

from __future__ import annotations

import numpy as np

from engine.ops import _parallel
from engine.ops._parallel import padded, quietly, run, thread_count

# A piece's workspaces, in bytes: twice L2 (1 MiB a core here). On two threads every layer
# measured ran as fast or faster than at 1 MiB (ms): 3 -> 8 5x5 at 64x64, batch 64, 23 -> 16;
# 8 -> 16 at 32x32 4.6 -> 4.2; 16 -> 32 at 16x16 3.4 -> 3.3; 64 -> 128 s2 at 56x56 16.6 -> 15.5.
_PIECE_BYTES = 1 << 21


def pieces(n, rows, row_bytes, budget=None, min_band=1) -> list[tuple[int, int, int, int]]:
    """(first image, end image, first row, end row) for pieces of about ``budget`` bytes.

    ``row_bytes`` is what one row of one image costs. Whole images go together when they fit;
    otherwise each image is cut into bands of at least ``min_band`` rows. There is at least
    one piece per thread whenever there are enough images or rows.
    """
    budget = _PIECE_BYTES if budget is None else budget
    threads = thread_count()
    if row_bytes * rows <= budget:
        nb = max(1, min(budget // (row_bytes * rows), -(-n // threads)))
        # as many pieces as the threads can share evenly: 13 pieces meant 7 on one thread and
        # 6 on the other (16 -> 32 at 16x16, batch 64: 2.15 ms, 1.9 in 16 pieces)
        while nb > 1 and -(-n // nb) % threads:
            nb -= 1
        nb = -(-n // -(-n // nb))  # the same count of pieces, as even as they come
        return [(i, min(i + nb, n), 0, rows) for i in range(0, n, nb)]
    band = max(1, budget // row_bytes)
    if n < threads:  # one image: share its rows
        band = min(band, -(-rows // threads))
    band = max(band, min_band)
    return [(i, i + 1, r, min(r + band, rows)) for i in range(n) for r in range(0, rows, band)]


def extent(parts) -> tuple[int, int]:
    """The most images and the most rows of any piece: the size of its workspaces."""
    return max(i1 - i0 for i0, i1, _, _ in parts), max(r1 - r0 for _, _, r0, r1 in parts)


def waves(parts) -> list[list]:
    """The pieces in two waves: each image's even bands, then its odd ones.

    Neighbouring bands of a col2im add into shared rows where windows overlap, so they must
    not run at once; bands of at least the windows' reach (``min_band`` of :func:`pieces`) two
    apart never meet. Whole images all go in the first wave.
    """
    out: list[list] = [[], []]
    image, j = None, 0
    for p in parts:
        j = j + 1 if p[0] == image else 0
        image = p[0]
        out[j % 2].append(p)
    return [wave for wave in out if wave]


def run_waves(parts, fn, work) -> None:
    """``fn`` on every piece, the threads sharing one wave at a time, warnings quiet."""
    for wave in waves(parts):
        run(wave, quietly(fn), work)


def accumulate(parts, fn, shape, work) -> np.ndarray:
    """The sum of ``fn(piece, acc)`` over the pieces, each thread on a run of them.

    Each thread adds into an accumulator of its own, and those are added in a fixed order:
    the same result on every run for a given thread count.
    """
    threads = thread_count() if work >= _parallel._THREAD_MIN_WORK else 1
    t = max(1, min(threads, len(parts)))
    runs = [parts[j * len(parts) // t : (j + 1) * len(parts) // t] for j in range(t)]
    accs = [np.zeros(shape, np.float32) for _ in runs]

    def work_on(j):
        for piece in runs[j]:
            fn(piece, accs[j])

    run(range(t), quietly(work_on), work)
    total = accs[0]
    for acc in accs[1:]:
        total += acc
    return total


def slack(values: int) -> int:
    """``values`` plus a little, so rows of a workspace are not a multiple of 1 KiB apart
    (see :func:`engine.ops._conv._conv_im2col`: BLAS's packing then hits the same cache sets)."""
    return values + (16 if values % 256 == 0 else 0)


def flat_source(x4, pads) -> np.ndarray:
    """``x4`` zero-padded and C-contiguous: each tap's values are then one block of each map.

    "Flat shifted slices" (as :func:`engine.ops._conv._conv_flat`): at stride 1, the tap
    (a, b) of every output position (y, x) of a band sits at ``(y + a) W_pad + x + b`` of the
    flattened padded map, so one contiguous block of ``(rows - 1) W_pad + W_out`` values holds
    the tap for the whole band, at the price of ``W_pad - W_out`` values between rows that
    belong to no window.
    """
    xp = padded(x4, pads, 0.0)
    return xp if xp.flags.c_contiguous else np.ascontiguousarray(xp)
