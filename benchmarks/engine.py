"""The engine's ops against PyTorch on the CPU, in one run.

Run from the repository root (torch is a benchmark extra: ``pip install -e .[bench]``)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.engine

For each case it times the engine and PyTorch (channels_last, the same thread count, warm-up,
then the median of repeats taken in alternating blocks), checks that the results agree, and
prints engine ms, torch ms, their ratio, the engine's GFLOP/s and its share of the float32
matmul peak measured in the same run. Targets (issue 16, "live at full speed on a modest
machine"): geometric-mean ratio <= 1.5 over cases (a)-(f), and the ``default`` pipeline on a
480x640 frame in <= 1.3x PyTorch's time (issue 2 asked for <= 2.0 and >= 60 frames per second).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

import engine
from benchmarks.machine import cpu_model, load_average
from engine import ops as F

# name, input (C, H, W), weight (C_out, C_in, kh, kw), stride, padding
CONV_CASES = [
    ("(a) 3x480x640 -> 8 3x3 s1 p1", (3, 480, 640), (8, 3, 3, 3), 1, 1),
    ("(b) 3x480x640 -> 32 5x5 p2", (3, 480, 640), (32, 3, 5, 5), 1, 2),
    ("(c) 32x240x320 -> 64 3x3 p1", (32, 240, 320), (64, 32, 3, 3), 1, 1),
    ("(d) 64x120x160 -> 64 3x3 s2 p1", (64, 120, 160), (64, 64, 3, 3), 2, 1),
    ("(e) 1x1 32 -> 16 at 240x320", (32, 240, 320), (16, 32, 1, 1), 1, 0),
    ("(f) Sobel X on 1x480x640 gray", (1, 480, 640), (1, 1, 3, 3), 1, 1),
]
SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)
TOLERANCE = 1e-4  # max |engine - torch| / max |torch|
GEO_TARGET = 1.5  # geometric-mean ratio engine / torch over (a)-(f), issue 16
PIPELINE_TARGET = 1.3  # the default pipeline's ratio engine / torch, issue 16


STAT = {"median": statistics.median, "min": min}
_stat = statistics.median


def interleaved(
    fns: list[Callable[[], object]], repeats: int, blocks: int = 3, warmup_s: float = 0.25
) -> list[float]:
    """Median (or --stat) seconds of each function over ``repeats`` timed calls.

    The functions take turns in blocks (engine x n, torch x n, engine x n, ...) so that load
    from other processes hits both alike. Each block first runs its function for ``warmup_s``
    untimed: Linux at first wakes a second thread on the core of the first and moves it only
    after some 50-100 ms of steady work (measured: the first ~25 calls of case (d) ran at
    one-core speed, the rest at two-core speed), and torch's threads spin for a while after
    their last call. The app runs frame after frame, so the steady state is what counts.
    """
    per_block = max(1, -(-repeats // blocks))
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(blocks):
        for fn, bucket in zip(fns, times, strict=True):
            start = time.perf_counter()
            while time.perf_counter() - start < warmup_s:
                fn()
            for _ in range(per_block):
                start = time.perf_counter()
                fn()
                bucket.append(time.perf_counter() - start)
    return [_stat(t) for t in times]


def rel_error(ours: np.ndarray, theirs: np.ndarray) -> float:
    if ours.shape != theirs.shape:
        raise SystemExit(f"shape mismatch: engine {ours.shape}, torch {theirs.shape}")
    return float(np.max(np.abs(ours - theirs)) / max(float(np.max(np.abs(theirs))), 1e-12))


def matmul_peak(torch, threads: int) -> float:
    """The best float32 GFLOP/s of a large matmul (numpy's BLAS and torch's) on ``threads``."""
    n = 2048
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    ta = torch.from_numpy(a)
    best = math.inf
    with _blas_limit(threads):
        for fn in (lambda: a @ a, lambda: torch.mm(ta, ta)):
            fn()
            best = min(best, *(_once(fn) for _ in range(5)))
    return 2 * n**3 / best / 1e9




def _once(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _blas_limit(threads: int):
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=threads, user_api="blas")


def blas_info() -> list[str]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ["threadpoolctl is not installed (pip install threadpoolctl)"]
    lines = []
    for lib in threadpool_info():
        lines.append(
            f"{lib.get('user_api')}: {lib.get('internal_api')} {lib.get('version')}, "
            f"{lib.get('num_threads')} threads, arch {lib.get('architecture', '?')}, "
            f"{os.path.basename(lib.get('filepath', ''))}"
        )
    return lines




def conv_rows(torch, tf, peak: float, repeats: int) -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for name, xs, ws, stride, padding in CONV_CASES:
        x = rng.random(xs, dtype=np.float32)
        if name.startswith("(f)"):
            w, b = SOBEL_X[None, None], None
        else:
            fan_in = ws[1] * ws[2] * ws[3]
            w = (rng.standard_normal(ws) * math.sqrt(2 / fan_in)).astype(np.float32)
            b = rng.standard_normal(ws[0]).astype(np.float32) * 0.1
        tx = torch.from_numpy(x)[None].contiguous(memory_format=torch.channels_last)
        tw = torch.from_numpy(w).contiguous(memory_format=torch.channels_last)
        tb = None if b is None else torch.from_numpy(b)

        def ours(x=x, w=w, b=b, stride=stride, padding=padding):
            return F.conv2d(x, w, b, stride, padding)

        def theirs(tx=tx, tw=tw, tb=tb, stride=stride, padding=padding):
            return tf.conv2d(tx, tw, tb, stride, padding)

        err = rel_error(ours(), theirs()[0].numpy())
        t_ours, t_theirs = interleaved([ours, theirs], repeats)
        out = ours().shape
        macs = out[0] * out[1] * out[2] * ws[1] * ws[2] * ws[3]
        gflops = 2 * macs / t_ours / 1e9
        rows.append(dict(name=name, ours=t_ours, theirs=t_theirs, gflops=gflops,
                         share=gflops / peak, err=err))  # fmt: skip
    return rows


def pool_row(torch, tf, repeats: int) -> dict:
    x = np.random.default_rng(1).random((32, 480, 640), dtype=np.float32)
    tx = torch.from_numpy(x)[None].contiguous(memory_format=torch.channels_last)
    err = rel_error(F.max_pool2d(x, 2), tf.max_pool2d(tx, 2)[0].numpy())
    t_ours, t_theirs = interleaved([lambda: F.max_pool2d(x, 2), lambda: tf.max_pool2d(tx, 2)],
                                   repeats)  # fmt: skip
    return dict(name="max pool 2x2 on 32x480x640", ours=t_ours, theirs=t_theirs, gflops=None,
                share=None, err=err)  # fmt: skip


def default_chain() -> tuple[str, list[tuple[np.ndarray, np.ndarray | None]], Callable]:
    """The bundled ``default`` pipeline, or the same three blocks built here if it is missing."""
    try:
        from engine.resolve import resolve_pipeline

        pipeline = resolve_pipeline("default")
        convs = [n.layer for n in pipeline.nodes if type(n.layer).__name__ == "Conv2d"]
        params = [(np.asarray(c.weight, np.float32), c.bias) for c in convs]
        return "engine.resolve resolve_pipeline('default')", params, pipeline.forward
    except (ImportError, ValueError, OSError) as exc:  # spec errors are ValueErrors
        reason = f"{type(exc).__name__}: {exc}"
    rng = np.random.default_rng(2)
    params = []
    for c_in, c_out in ((3, 8), (8, 16), (16, 32)):
        w = (rng.standard_normal((c_out, c_in, 3, 3)) * math.sqrt(2 / (9 * c_in))).astype(
            np.float32
        )
        params.append((w, np.zeros(c_out, np.float32)))

    def forward(x):
        outs = {}
        for i, (w, b) in enumerate(params, 1):
            x = outs[f"conv{i}"] = F.conv2d(x, w, b, padding=1)
            x = outs[f"relu{i}"] = F.relu(x)
            x = outs[f"pool{i}"] = F.max_pool2d(x, 2)
        return outs

    return f"fallback chain from engine.ops ({reason})", params, forward


def pipeline_row(torch, tf, repeats: int) -> tuple[dict, str]:
    source, params, forward = default_chain()
    x = np.random.default_rng(3).random((3, 480, 640), dtype=np.float32)
    tparams = [
        (torch.from_numpy(np.array(w)).contiguous(memory_format=torch.channels_last),
         None if b is None else torch.from_numpy(np.array(b, np.float32)))
        for w, b in params
    ]  # fmt: skip
    tx = torch.from_numpy(x)[None].contiguous(memory_format=torch.channels_last)

    def theirs():
        y = tx
        for w, b in tparams:
            y = tf.max_pool2d(tf.relu(tf.conv2d(y, w, b, padding=1)), 2)
        return y

    err = rel_error(list(forward(x).values())[-1], theirs()[0].numpy())
    t_ours, t_theirs = interleaved([lambda: forward(x), theirs], repeats)
    return dict(name="default pipeline, 480x640 frame", ours=t_ours, theirs=t_theirs,
                gflops=None, share=None, err=err), source  # fmt: skip


def table(rows: list[dict]) -> list[str]:
    lines = [
        "| case | engine ms | torch ms | ratio | engine GFLOP/s | share of peak | max rel err |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        gf = "-" if r["gflops"] is None else f"{r['gflops']:.0f}"
        share = "-" if r["share"] is None else f"{100 * r['share']:.0f}%"
        flag = "" if r["err"] <= TOLERANCE else " TOO LARGE"
        lines.append(
            f"| {r['name']} | {1e3 * r['ours']:.2f} | {1e3 * r['theirs']:.2f} | "
            f"{r['ours'] / r['theirs']:.2f} | {gf} | {share} | {r['err']:.1e}{flag} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--threads", type=int, default=min(2, os.cpu_count() or 1),
        help="threads for the engine and for torch (default: 2, or 1 on a one-core machine)",
    )  # fmt: skip
    parser.add_argument("--repeats", type=int, default=21, help="timed runs per case")
    parser.add_argument(
        "--stat", choices=sorted(STAT), default="median",
        help="statistic over the repeats (min is steadier on a busy machine)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    global _stat
    _stat = STAT[args.stat]
    try:
        import torch
        import torch.nn.functional as tf
    except ImportError:
        print("PyTorch is not installed: pip install -e .[bench]")
        return 2
    engine.configure(threads=args.threads)
    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)

    print(f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs, {platform.platform()}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}")
    print(f"threads: engine {F.get_num_threads()}, torch {torch.get_num_threads()}; "
          f"{args.stat} of {args.repeats} runs in alternating blocks")  # fmt: skip
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS"):
        if var in os.environ:
            print(f"note: {var}={os.environ[var]} is set (it can slow numpy's BLAS)")
    print(f"load average before: {load_average()}")
    peak = matmul_peak(torch, args.threads)
    print(f"float32 matmul peak on {args.threads} thread(s): {peak:.0f} GFLOP/s\n")

    rows = conv_rows(torch, tf, peak, args.repeats)
    geo = math.exp(statistics.mean(math.log(r["ours"] / r["theirs"]) for r in rows))
    rows.append(pool_row(torch, tf, args.repeats))
    pipe, source = pipeline_row(torch, tf, args.repeats)
    rows.append(pipe)
    # a busy machine lowers the peak measured before the cases: keep the better of two
    late_peak = matmul_peak(torch, args.threads)
    if late_peak > peak:
        for r in rows:
            if r["share"] is not None:
                r["share"] *= peak / late_peak
        peak = late_peak
    print("\n".join(table(rows)))
    print("\nthread pools in use after the run (threadpoolctl; the engine puts numpy's OpenBLAS "
          "on one thread per engine thread):")  # fmt: skip
    for line in blas_info():
        print(f"  {line}")
    print(
        f"\nfloat32 matmul peak (best of two measurements): {peak:.0f} GFLOP/s; "
        f"load average after: {load_average()}"
    )
    print(f"geometric-mean ratio engine/torch over (a)-(f): {geo:.2f} (target <= {GEO_TARGET})")
    print(f"default pipeline ({source}): engine {1 / pipe['ours']:.0f} fps, "
          f"torch {1 / pipe['theirs']:.0f} fps, ratio {pipe['ours'] / pipe['theirs']:.2f} "
          f"(target <= {PIPELINE_TARGET})")  # fmt: skip
    bad = [r["name"] for r in rows if r["err"] > TOLERANCE]
    if bad:
        print(f"RESULTS DISAGREE with torch beyond {TOLERANCE:g}: {', '.join(bad)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
