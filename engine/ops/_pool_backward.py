"""The backward passes of max and average pooling (see :mod:`engine.ops._pool` for the forward).

Both work on the forward's padded source and write a gradient of that padded shape, cropped at
the end. The maps of all images are one axis (N*C); each piece of work is a run of maps that
no other piece touches, so the threads need no locks even where windows overlap.

Speed: numpy runs an element-wise op on a strided view whose rows are shorter than about 2,000
values 3-4x slower than on a contiguous array (it copies the rows through small buffers), but
``np.copyto`` between such views stays fast. So each window's tap is first copied into a
contiguous "tap plane" (N*C, H_out, W_out), the arithmetic runs on tap planes, and the results
go back into place with ``copyto`` (a masked one for max pooling) wherever no two windows share
a cell. Only overlapping windows (stride below the kernel) add into strided views.
"""

from __future__ import annotations

import numpy as np

from engine.ops._conv import _all_finite
from engine.ops._parallel import quietly, run, workspace
from engine.ops._pool import _pool_source, avg_divisors

# A piece: about this many output values (256 KiB of float32), so its tap planes stay in L2.
_PIECE = 1 << 16


def _tap(a: np.ndarray, ij, s, d, out_hw) -> np.ndarray:
    """The (i, j)-th tap of every window of ``a`` (..., H_pad, W_pad): (..., H_out, W_out)."""
    (i, j), (ho, wo), (sh, sw), (dh, dw) = ij, out_hw, s, d
    rows = slice(i * dh, i * dh + (ho - 1) * sh + 1, sh)
    return a[..., rows, j * dw : j * dw + (wo - 1) * sw + 1 : sw]


def _disjoint(k, s, d) -> bool:
    """Whether no two windows share a cell (each cell is then written by one tap at most)."""
    return all(si >= di * (ki - 1) + 1 for ki, si, di in zip(k, s, d, strict=True))


def _maps(a: np.ndarray) -> np.ndarray:
    """(N, C, H, W) as (N*C, H, W): a view of a contiguous array."""
    return a.reshape(-1, *a.shape[2:])


def _crop(gxp, p, n, c, hw) -> np.ndarray:
    """The input's part of a gradient over the padded source, as (N, C, H, W)."""
    (h, w), (ph, pw) = hw, p
    gxp = gxp.reshape(n, c, *gxp.shape[1:])  # (N, C, H_src, W_src)
    if gxp.shape[2:] == (h, w):
        return gxp
    return np.ascontiguousarray(gxp[:, :, ph : ph + h, pw : pw + w])


def _first_real(n, o, k, s, p, d) -> np.ndarray:
    """Along one axis: each window's first tap on a real (not padded) cell, or -1 if none."""
    start = np.arange(o) * s - p  # the window's first cell, in input coordinates
    first = np.where(start < 0, -(start // d), 0)  # ceil(-start / d) taps to reach cell 0
    ok = (first < k) & (start + first * d < n)
    return np.where(ok, first, -1)


def _phases(k, s, d, out_hw):
    """Overlapping windows: each tap's (phase, offset); the planes' (rows, row length)."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = k, s, d, out_hw
    hq, wq = ho + (kh - 1) * dh // sh, wo + (kw - 1) * dw // sw
    planes = {}
    for a in range(kh):
        for b in range(kw):
            (qa, pa), (qb, pb) = divmod(a * dh, sh), divmod(b * dw, sw)
            planes[a, b] = (pa * sw + pb, qa * wq + qb)
    return planes, (hq, wq)


class _PhaseAdder:
    """Adds the taps' shares of overlapping windows in long contiguous runs.

    The cell a tap (a, b) of window (y, x) reaches is ``((y + qa) s + pa, (x + qb) s + pb)``
    with ``a d = qa s + pa``: taps of one phase (pa, pb) fill one plane, each at an offset
    (qa, qb). Laid out with the plane's row length, a tap's share adds into its plane as one
    run per map, where a strided view of the gradient took 3-4x longer (its rows are short,
    see the module docstring); each plane goes into place with one copy at the end.
    """

    def __init__(self, maps, s, planes, reach, out_hw):
        (self.ho, self.wo), (self.hq, self.wq), self.s = out_hw, reach, s
        self.planes = planes
        size = self.hq * self.wq + self.wq  # a row of slack: a share's last row runs over
        self.acc = workspace(("maxpool-planes", maps, s, size), (maps, s[0] * s[1], size))
        self.acc.fill(0.0)
        # the share in the planes' row length; the columns past W_out are created zero and
        # never written (the key holds every size that places them)
        self.row = workspace(("maxpool-share", maps, self.ho, self.wq, self.wo),
                             (maps, self.ho, self.wq), 0.0)  # fmt: skip

    def add(self, ij, share):
        phase, offset = self.planes[ij]
        np.copyto(self.row[..., : self.wo], share)
        dst = self.acc[:, phase, offset : offset + self.ho * self.wq]
        dst += self.row.reshape(len(self.row), -1)  # (maps, H_out*W_plane)

    def write(self, gxp):
        """Each plane into its cells of ``gxp`` (maps, H_src, W_src)."""
        (sh, sw), maps = self.s, len(self.acc)
        for pa in range(sh):
            for pb in range(sw):
                cells = gxp[:, pa::sh, pb::sw]
                rows, cols = min(self.hq, cells.shape[1]), min(self.wq, cells.shape[2])
                # (maps, H_plane, W_plane)
                plane = self.acc[:, pa * sw + pb, : self.hq * self.wq].reshape(maps, self.hq, -1)
                np.copyto(cells[:, :rows, :cols], plane[:, :rows, :cols])


def max_pool_backward(g4, x4, k, s, p, d, out_hw) -> np.ndarray:
    """Each window's gradient to the cell that won it, as in PyTorch.

    The winner is the first maximum in the window's row-major order, except that a NaN wins
    over everything and a later NaN over an earlier one (PyTorch's test is ``v > best or
    isnan(v)``). A window whose real cells are all ``-inf`` gives its gradient to its first
    real cell; padding never wins, and a window on padding only (dilation allows it) passes
    no gradient, as in PyTorch. Where windows overlap, a cell's gradients add up.

    Vectorized over the taps: a running maximum and the tap that set it (``idx``), then each
    tap's share of the gradient (zero where it did not win) copied (or added) into place. NaN
    costs an extra pass per tap, so a piece is first done without that test and redone with it
    only if its maximum came out NaN.
    """
    (kh, kw), (ho, wo) = k, out_hw
    n, c, h, w = x4.shape
    src = _maps(_pool_source(x4, k, s, p, d, out_hw, -np.inf))  # (N*C, H_src, W_src)
    grads = _maps(g4)  # (N*C, H_out, W_out)
    gxp = np.zeros(src.shape, np.float32)
    taps = [(a, b) for a in range(kh) for b in range(kw)]
    index_type = np.int8 if len(taps) < 1 << 7 else np.int32  # -1: no real cell
    first = None
    if any(p):  # a window's first tap may be padding: start from its first real one instead
        fa, fb = (_first_real(*args) for args in zip((h, w), out_hw, k, s, p, d, strict=True))
        first = np.where((fa[:, None] >= 0) & (fb[None, :] >= 0), fa[:, None] * kw + fb, -1)
    disjoint = _disjoint(k, s, d)
    step = max(1, _PIECE // (ho * wo))
    if not disjoint:
        planes, reach = _phases(k, s, d, out_hw)

    def winners(m0, m1, best, idx, upd, nan_wins):
        plane = workspace(("maxpool-tap", step, ho, wo), (step, ho, wo))[: m1 - m0]
        if first is None:
            np.copyto(best, _tap(src[m0:m1], taps[0], s, d, out_hw))
            idx.fill(0)
        else:
            best.fill(-np.inf)
            np.copyto(idx, first.astype(index_type))
        for t in range(0 if first is not None else 1, len(taps)):
            np.copyto(plane, _tap(src[m0:m1], taps[t], s, d, out_hw))
            np.greater(plane, best, out=upd)
            if nan_wins:
                upd |= np.isnan(plane)
            # idx = t where updated: taps only ever update upwards, so a maximum does it
            # without a branch (a masked copy ran 30x slower on a random mask)
            np.maximum(idx, np.multiply(upd.view(np.int8), t, dtype=index_type), out=idx)
            np.maximum(best, plane, out=best)  # NaN stays NaN: the check below sees it

    def work(m0):
        m1 = min(m0 + step, len(src))
        best = workspace(("maxpool-best", step, ho, wo), (step, ho, wo))[: m1 - m0]
        idx = np.empty((m1 - m0, ho, wo), index_type)
        upd = np.empty((m1 - m0, ho, wo), bool)
        winners(m0, m1, best, idx, upd, False)
        if not _all_finite(best):  # a NaN (or an infinity): redo with NaN's rule
            winners(m0, m1, best, idx, upd, True)
        grad = grads[m0:m1]
        finite = _all_finite(grad)  # then grad * False is 0, as a dropped gradient must be
        share = best  # no longer needed: each tap's share of the gradient goes here
        adder = None if disjoint else _PhaseAdder(m1 - m0, s, planes, reach, out_hw)
        for t, ij in enumerate(taps):
            np.equal(idx, t, out=upd)
            if finite:
                np.multiply(grad, upd, out=share)
            else:
                share[...] = np.where(upd, grad, np.float32(0))
            if disjoint:  # each cell in one window at most: a plain (strided) copy
                np.copyto(_tap(gxp[m0:m1], ij, s, d, out_hw), share)
            else:
                adder.add(ij, share)
        if adder is not None:
            adder.write(gxp[m0:m1])

    run(range(0, len(src), step), quietly(work), n * c * ho * wo * len(taps) * 8)
    return _crop(gxp, p, n, c, (h, w))


def avg_pool_backward(g4, x_shape, k, s, p, out_hw, count_include_pad) -> np.ndarray:
    """Each window's gradient divided by its divisor and spread over its cells.

    Disjoint windows: each tap's plane is copied into place. Overlapping ones: the adjoint of
    the forward's separable sum, spread across the columns of each window row (kw strided
    adds into a (rows, width) buffer), then down its rows (kh strided adds).
    """
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (ho, wo) = k, s, out_hw
    div = avg_divisors((h, w), k, s, p, out_hw, count_include_pad).astype(np.float32)
    width = (wo - 1) * sw + kw  # the columns the windows touch
    rows = (ho - 1) * sh + kh
    # the padded source's shape, with ceil_mode's room for a last window (as _pool_source)
    gxp = np.zeros((n * c, max(h + 2 * p[0], rows), max(w + 2 * p[1], width)), np.float32)
    grads = _maps(g4)
    disjoint = _disjoint(k, s, (1, 1))
    step = max(1, _PIECE // (ho * width))

    def work(m0):
        m1 = min(m0 + step, n * c)
        # PyTorch divides each gradient by its divisor (no reciprocal): the same float32 values
        spread = workspace(("avgpool-g", step, ho, wo), (step, ho, wo))[: m1 - m0]
        np.divide(grads[m0:m1], div, out=spread)
        if disjoint:
            for ij in np.ndindex(kh, kw):
                np.copyto(_tap(gxp[m0:m1], ij, s, (1, 1), out_hw), spread)
            return
        across = workspace(("avgpool-across", step, ho, width), (step, ho, width))[: m1 - m0]
        across.fill(0.0)
        for b in range(kw):  # (maps, H_out, width)
            cells = across[..., b : b + (wo - 1) * sw + 1 : sw]
            cells += spread
        for a in range(kh):
            cells = gxp[m0:m1, a : a + (ho - 1) * sh + 1 : sh, :width]
            cells += across

    run(range(0, n * c, step), quietly(work), n * c * ho * width * (kh + kw) * 4)
    return _crop(gxp, p, n, c, (h, w))
