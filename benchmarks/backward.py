"""Backward passes of convolution and pooling: the engine against PyTorch's autograd on the CPU.

Run from the repository root (torch is a benchmark extra: ``pip install -e .[bench]``)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.backward

Each case times ``engine.ops.conv2d_backward`` (grad_x, grad_w and grad_b) or a pooling
backward against ``torch.autograd.grad`` of the same forward (NCHW, channels first, the same
thread count), warm-up, then the median of repeats taken in alternating blocks; and checks the
engine's gradients against autograd's (max |engine - torch| over all three, and that over the
largest |torch|). Pooling rows also give forward + backward: PyTorch's max pooling keeps the
winners' indices in its forward, the engine finds them again in its backward.
Target ("Learning in the engine"): each convolution's backward within 2.0x of PyTorch's.
"""

from __future__ import annotations

import argparse
import math
import os
import platform

import numpy as np

import benchmarks.engine as house
from benchmarks.machine import cpu_model, load_average
from engine import ops as F

# name, input (N, C, H, W), weight (C_out, C_in / groups, kh, kw), stride, padding, groups
CONV_CASES = [
    ("shapes conv1 3->8 5x5 p2 at 64x64, batch 64", (64, 3, 64, 64), (8, 3, 5, 5), 1, 2, 1),
    ("shapes conv2 8->16 3x3 p1 at 32x32, batch 64", (64, 8, 32, 32), (16, 8, 3, 3), 1, 1, 1),
    ("shapes conv3 16->32 3x3 p1 at 16x16, batch 64", (64, 16, 16, 16), (32, 16, 3, 3), 1, 1, 1),
    ("ResNet 64->64 3x3 p1 at 56x56, batch 8", (8, 64, 56, 56), (64, 64, 3, 3), 1, 1, 1),
    ("ResNet 64->128 3x3 s2 p1 at 56x56, batch 8", (8, 64, 56, 56), (128, 64, 3, 3), 2, 1, 1),
    ("ResNet downsample 64->128 1x1 s2, batch 8", (8, 64, 56, 56), (128, 64, 1, 1), 2, 0, 1),
    ("depthwise 32 3x3 p1 at 112x112, batch 4", (4, 32, 112, 112), (32, 1, 3, 3), 1, 1, 32),
]
# name, kind, input (N, C, H, W), kernel, stride, padding
POOL_CASES = [
    ("shapes pool1 max 2x2 on 8x64x64, batch 64", "max", (64, 8, 64, 64), 2, 2, 0),
    ("shapes pool2 max 2x2 on 16x32x32, batch 64", "max", (64, 16, 32, 32), 2, 2, 0),
    ("shapes pool3 max 2x2 on 32x16x16, batch 64", "max", (64, 32, 16, 16), 2, 2, 0),
    ("ResNet stem max 3x3 s2 p1 on 64x112x112, batch 8", "max", (8, 64, 112, 112), 3, 2, 1),
    ("avg 2x2 on 8x64x64, batch 64", "avg", (64, 8, 64, 64), 2, 2, 0),
    ("global avg on 512x7x7, batch 64", "global", (64, 512, 7, 7), None, None, None),
]
TOLERANCE = 1e-4  # max |engine - torch| / max |torch|
TARGET = 2.0


def set_threads(threads: int) -> str:
    """The engine's thread count: ``engine.configure`` where it exists, else the ops' own."""
    import engine

    configure = getattr(engine, "configure", None)
    if configure is not None:
        configure(threads=threads)
        return "engine.configure(threads=...)"
    F.set_num_threads(threads)
    return "engine.ops.set_num_threads (engine.configure does not exist yet)"


def differences(ours, theirs) -> tuple[float, float]:
    """(max |ours - theirs|, that over max |theirs|) over several arrays."""
    worst, scale = 0.0, 1e-12
    for a, b in zip(ours, theirs, strict=True):
        if a.shape != b.shape:
            raise SystemExit(f"shape mismatch: engine {a.shape}, torch {b.shape}")
        worst = max(worst, float(np.max(np.abs(a - b))))
        scale = max(scale, float(np.max(np.abs(b))))
    return worst, worst / scale


def chosen(cases: list[tuple], only: str | None) -> list[tuple]:
    """The cases whose name contains one of the comma-separated words of ``only`` (or all)."""
    words = [w.strip().lower() for w in only.split(",")] if only else [""]
    return [case for case in cases if any(w in case[0].lower() for w in words)]


def conv_rows(torch, repeats: int, only: str | None = None) -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for name, xs, ws, stride, padding, groups in chosen(CONV_CASES, only):
        x = rng.standard_normal(xs).astype(np.float32)
        w = (rng.standard_normal(ws) * math.sqrt(2 / math.prod(ws[1:]))).astype(np.float32)
        b = np.zeros(ws[0], np.float32)
        args = (stride, padding, 1, groups)
        g = rng.standard_normal(F.conv2d(x, w, b, *args).shape).astype(np.float32)
        tx, tw, tb = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
        ty = torch.nn.functional.conv2d(tx, tw, tb, *args)
        tg = torch.from_numpy(g)

        def ours(g=g, x=x, w=w, args=args):
            return F.conv2d_backward(g, x, w, *args)

        def theirs(ty=ty, inputs=(tx, tw, tb), tg=tg):
            return torch.autograd.grad(ty, inputs, tg, retain_graph=True)

        worst, rel = differences(ours(), [t.numpy() for t in theirs()])
        t_ours, t_theirs = house.interleaved([ours, theirs], repeats)
        rows.append(dict(name=name, ours=t_ours, theirs=t_theirs, worst=worst, rel=rel))
    return rows


def pool_rows(torch, repeats: int, only: str | None = None) -> list[dict]:
    tf = torch.nn.functional
    rng = np.random.default_rng(1)
    rows = []
    for name, kind, xs, k, s, p in chosen(POOL_CASES, only):
        x = np.maximum(rng.standard_normal(xs), 0).astype(np.float32)  # after ReLU: many ties
        if kind == "max":
            fwd, bwd = (lambda x, k=k, s=s, p=p: F.max_pool2d(x, k, s, p)), (
                lambda g, x, k=k, s=s, p=p: F.max_pool2d_backward(g, x, k, s, p))
            tfwd = lambda tx, k=k, s=s, p=p: tf.max_pool2d(tx, k, s, p)  # noqa: E731
        elif kind == "avg":
            fwd, bwd = (lambda x, k=k, s=s, p=p: F.avg_pool2d(x, k, s, p)), (
                lambda g, x, k=k, s=s, p=p: F.avg_pool2d_backward(g, x.shape, k, s, p))
            tfwd = lambda tx, k=k, s=s, p=p: tf.avg_pool2d(tx, k, s, p)  # noqa: E731
        else:
            fwd, bwd = F.global_avg_pool2d, (
                lambda g, x: F.global_avg_pool2d_backward(g, x.shape))
            tfwd = lambda tx: tx.mean(dim=(2, 3), keepdim=True)  # noqa: E731
        g = rng.standard_normal(fwd(x).shape).astype(np.float32)
        tx, tg = torch.from_numpy(x).requires_grad_(), torch.from_numpy(g)
        ty = tfwd(tx)

        def ours(g=g, x=x, bwd=bwd):
            return bwd(g, x)

        def theirs(ty=ty, tx=tx, tg=tg):
            return torch.autograd.grad(ty, tx, tg, retain_graph=True)[0]

        def ours_both(g=g, x=x, fwd=fwd, bwd=bwd):
            fwd(x)
            return bwd(g, x)

        def theirs_both(tx=tx, tg=tg, tfwd=tfwd):
            return torch.autograd.grad(tfwd(tx), tx, tg)[0]

        worst, rel = differences([ours()], [theirs().numpy()])
        times = house.interleaved([ours, theirs, ours_both, theirs_both], repeats)
        rows.append(dict(name=name, ours=times[0], theirs=times[1], worst=worst, rel=rel,
                         both=(times[2], times[3])))  # fmt: skip
    return rows


def table(rows: list[dict], pools: bool) -> list[str]:
    extra = " engine fwd+bwd ms | torch fwd+bwd ms | ratio |" if pools else ""
    lines = [
        f"| case | engine ms | torch ms | ratio |{extra} max abs diff | rel diff |",
        "| --- | ---: | ---: | ---: |" + (" ---: | ---: | ---: |" if pools else "")
        + " ---: | ---: |",
    ]
    for r in rows:
        both = ""
        if pools:
            ours, theirs = r["both"]
            both = f" {1e3 * ours:.2f} | {1e3 * theirs:.2f} | {ours / theirs:.2f} |"
        flag = "" if r["rel"] <= TOLERANCE else " TOO LARGE"
        lines.append(
            f"| {r['name']} | {1e3 * r['ours']:.2f} | {1e3 * r['theirs']:.2f} | "
            f"{r['ours'] / r['theirs']:.2f} |{both} {r['worst']:.1e} | {r['rel']:.1e}{flag} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="threads for both (default 2)")
    parser.add_argument("--repeats", type=int, default=21, help="timed runs per case")
    parser.add_argument(
        "--stat", choices=sorted(house.STAT), default="median",
        help="statistic over the repeats (min is steadier on a busy machine)",
    )  # fmt: skip
    parser.add_argument(
        "--only", metavar="WORDS",
        help="only the cases whose name holds one of these comma-separated words, e.g. "
             "'conv3,depthwise'",
    )  # fmt: skip
    args = parser.parse_args(argv)
    house._stat = house.STAT[args.stat]
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: pip install -e .[bench]")
        return 2
    how = set_threads(args.threads)
    torch.set_num_threads(args.threads)

    print(f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs, {platform.platform()}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}")
    print(f"threads: engine {F.get_num_threads()} (set by {how}), torch "
          f"{torch.get_num_threads()}; {args.stat} of {args.repeats} runs in alternating blocks; "
          "torch NCHW (channels first)")  # fmt: skip
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS"):
        if var in os.environ:
            print(f"note: {var}={os.environ[var]} is set (it can slow numpy's BLAS)")
    print(f"load average before: {load_average()}\n")

    conv = conv_rows(torch, args.repeats, args.only)
    if conv:
        print("Convolution backward (grad_x, grad_w, grad_b) against torch.autograd.grad:")
        print("\n".join(table(conv, pools=False)))
    pools = pool_rows(torch, args.repeats, args.only)
    if pools:
        print("\nPooling backward (grad_x) against torch.autograd.grad:")
        print("\n".join(table(pools, pools=True)))
    print(f"\nload average after: {load_average()}")
    if conv:
        geo = math.exp(sum(math.log(r["ours"] / r["theirs"]) for r in conv) / len(conv))
        over = [r["name"] for r in conv if r["ours"] / r["theirs"] > TARGET]
        print(f"convolution backward, geometric-mean ratio engine/torch: {geo:.2f}; "
              f"over {TARGET:.1f}x: {', '.join(over) if over else 'none'}")  # fmt: skip
    bad = [r["name"] for r in conv + pools if r["rel"] > TOLERANCE]
    if bad:
        print(f"GRADIENTS DISAGREE with torch beyond {TOLERANCE:g}: {', '.join(bad)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
