"""Explanations on the CPU: live rates on the bundled network, and ResNet-18 against PyTorch.

Run from the repository root (torch is a benchmark extra: ``pip install -e .[bench]``)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.explain

1. Live (issue 12: >= 15 fps displayed on 2 cores): saliency and Grad-CAM of the bundled shapes
   classifier at 64x64, batch 1. "map" is one call of the explanation; "displayed" adds what
   a frame costs around it: a 480x640 webcam frame cropped and scaled to the network's input
   (``engine.frame_to_input``) and the map upsampled, coloured and blended over the 480x480
   crop (``engine.explain.overlay``).
2. ResNet-18 at 224x224 with random weights (torchvision's when it imports, else the same
   architecture built with torch.nn as ``benchmarks.models`` does), exported to ONNX in a
   temporary folder and opened with ``engine.load_onnx``: one saliency map against one PyTorch
   forward+backward of the same model (d logit_k / d x with the parameters requiring gradients,
   as a module has them by default; the input-only variant is printed too). Both sides are
   checked to agree, then timed in alternating blocks (``benchmarks.engine.interleaved``) on
   the same thread count. Target: engine / PyTorch <= 3.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import types
from pathlib import Path

import numpy as np

import benchmarks.engine as timing
import engine
from benchmarks.engine import interleaved
from benchmarks.machine import cpu_model, load_average
from benchmarks.models import _randomize_bn, build_resnet18, export
from engine.explain import grad_cam, saliency
from engine.explain.overlay import overlay


def webcam_frame() -> np.ndarray:
    """The bundled shapes sample as a 480x640 frame."""
    from assets import asset_path
    from engine.io.media import read_image, resize_to

    return resize_to(read_image(asset_path("samples", "shapes.png")), 480, 640)


def live_rows(repeats: int) -> list[tuple[str, float]]:
    pipeline = engine.resolve_pipeline("shapes")
    frame = webcam_frame()
    crop = np.ascontiguousarray(frame[:, 80:560])  # what a 64x64 center crop of it shows
    x = engine.frame_to_input(frame, pipeline)
    rows = []
    for name, method in (("saliency", saliency), ("Grad-CAM", grad_cam)):
        def one_map(method=method):
            return method(pipeline, x)

        def displayed(method=method):
            e = method(pipeline, engine.frame_to_input(frame, pipeline))
            return overlay(crop, e.map, signed=e.signed)

        t_map, t_shown = interleaved([one_map, displayed], repeats)
        rows += [(f"{name}, shapes 64x64, map", t_map), (f"{name}, shapes, displayed", t_shown)]
    return rows


def resnet18(torch):
    """(model, where it came from): torchvision's ResNet-18, else the torch.nn copy."""
    # torchvision registers meta kernels at import that this torch build may lack
    sys.modules.setdefault("torchvision._meta_registrations",
                           types.ModuleType("torchvision._meta_registrations"))
    try:
        import torchvision

        model, source = torchvision.models.resnet18(weights=None), "torchvision"
    except Exception as error:  # not installed, or built for another torch
        model = build_resnet18(torch)
        source = f"torch.nn (torchvision: {type(error).__name__})"
    torch.manual_seed(0)
    return _randomize_bn(torch, model).eval(), source


def resnet_rows(torch, repeats: int) -> tuple[list[tuple[str, float]], str, float]:
    model, source = resnet18(torch)
    with tempfile.TemporaryDirectory() as folder:
        pipeline = engine.load_onnx(export(torch, model, Path(folder) / "resnet18.onnx"))
    x = np.random.default_rng(0).uniform(-2, 2, (3, 224, 224)).astype(np.float32)
    tx = torch.from_numpy(x[None].copy())

    def ours():
        return saliency(pipeline, x)

    def theirs():
        xi = tx.clone().requires_grad_(True)
        model.zero_grad(set_to_none=True)
        out = model(xi)
        out[0, int(out.argmax())].backward()
        return xi.grad

    def theirs_input_only():
        xi = tx.clone().requires_grad_(True)
        out = model(xi)
        return torch.autograd.grad(out[0, int(out.argmax())], xi)[0]

    e, g = ours(), theirs()[0].numpy()
    error = float(np.linalg.norm(e.attribution - g) / np.linalg.norm(g))
    t_ours, t_theirs, t_input = interleaved([ours, theirs, theirs_input_only], repeats)
    rows = [("ResNet-18 224x224: engine saliency map", t_ours),
            ("ResNet-18: PyTorch forward+backward", t_theirs),
            ("ResNet-18: PyTorch, input gradient only", t_input)]
    return rows, source, error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--stat", choices=sorted(timing.STAT), default="median",
                        help="median (default) or min of the timed calls: min shows what each"
                        " side does when the shared machine leaves it alone")
    args = parser.parse_args(argv)
    timing._stat = timing.STAT[args.stat]
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: pip install -e .[bench]")
        return 2
    engine.configure(threads=args.threads)
    torch.set_num_threads(args.threads)
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs, {platform.platform()}")
    print(f"numpy {np.__version__}, torch {torch.__version__}; threads: engine "
          f"{engine.ops.get_num_threads()}, torch {torch.get_num_threads()}; load {load_average()};"
          f" {args.stat} of {args.repeats} calls")
    print(f"\n{'case':<46} {'ms':>8} {'per s':>7}")
    live = live_rows(args.repeats)
    for label, seconds in live:
        print(f"{label:<46} {seconds * 1e3:>8.1f} {1 / seconds:>7.1f}")
    slowest = max(seconds for label, seconds in live if "displayed" in label)
    rows, source, error = resnet_rows(torch, max(6, args.repeats // 3))
    for label, seconds in rows:
        print(f"{label:<46} {seconds * 1e3:>8.1f} {1 / seconds:>7.1f}")
    ratio = rows[0][1] / rows[1][1]
    print(f"\nlive: slowest displayed rate {1 / slowest:.0f} fps (target >= 15)")
    print(f"ResNet-18 ({source}): engine / PyTorch forward+backward = {ratio:.2f} (target <= 3);"
          f" / input-only = {rows[0][1] / rows[2][1]:.2f}; saliency gradients agree to"
          f" {error:.1e} (relative L2); load after: {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
