"""torchvision's classification networks: the engine against onnxruntime, side by side.

Run from the repository root (torch, torchvision and onnxruntime are benchmark extras)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.zoo [--models a,b]

Where torchvision is not installed beside torch, a private copy serves (docs/benchmarks.md,
"The zoo", gives the commands): ``pip install --no-deps --target /tmp/tvlib
torchvision==0.28.0 pillow`` (torchvision imports PIL), then ``PYTHONPATH=/tmp/tvlib`` before the
command above.

Each network is built by torchvision with random seeded weights (and random batch-norm
statistics), exported by ``torch.onnx.export`` (opset 17) into a temporary folder, opened with
``engine.load_onnx`` and with onnxruntime (2 intra-op threads each, batch 1, 224x224 unless the
network needs 299), checked to agree, and timed in interleaved runs (median, or best with
``--stat min``). The table is the one in docs/benchmarks.md. Target (issue 13): every network
within 2.0x of onnxruntime.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import types
import warnings
from pathlib import Path

import engine
from benchmarks.machine import cpu_model, load_average
from benchmarks.models import TOLERANCE, _randomize_bn, measure, table

# (torchvision builder, input side); the classification zoo's convolutional networks
ZOO = {
    "alexnet": 224, "vgg11": 224, "resnet18": 224, "resnet50": 224, "squeezenet1_1": 224,
    "densenet121": 224, "googlenet": 224, "inception_v3": 299, "shufflenet_v2_x1_0": 224,
    "mobilenet_v2": 224, "mobilenet_v3_small": 224, "mobilenet_v3_large": 224,
    "mnasnet1_0": 224, "efficientnet_b0": 224, "regnet_x_400mf": 224, "regnet_y_400mf": 224,
    "resnext50_32x4d": 224, "convnext_tiny": 224,
}


def import_torchvision():
    """torchvision, even where its compiled operators do not load for the installed torch (a
    wheel built for another torch: "operator torchvision::nms does not exist").

    Its ``_meta_registrations`` module then fails at import, registering shape functions for
    those operators; the classification models need none of them, so a stand-in empty module
    takes its place and the import is tried again.
    """
    try:
        import torchvision
    except RuntimeError:
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]  # the half-imported package
        sys.modules["torchvision._meta_registrations"] = types.ModuleType(
            "torchvision._meta_registrations")
        import torchvision
    return torchvision






def export(torch, model, path: Path, size: int) -> Path:
    model.eval()
    x = torch.randn(1, 3, size, size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(path), input_names=["input"],
                          output_names=["logits"], opset_version=17, dynamo=False)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", help="comma-separated names (default: the whole zoo)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--stat", choices=("median", "min"), default="median",
                        help="min is steadier when other processes load the machine")
    args = parser.parse_args(argv)
    stat = statistics.median if args.stat == "median" else min
    import torch

    torchvision = import_torchvision()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    engine.configure(threads=args.threads)
    names = args.models.split(",") if args.models else list(ZOO)
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs; load average before:"
          f" {load_average()}; {args.stat} of {args.repeats} interleaved runs")
    rows, failed = [], []
    with tempfile.TemporaryDirectory() as folder, torch.no_grad():
        for name in names:
            kwargs = {"aux_logits": False, "init_weights": True} if name in (
                "googlenet", "inception_v3") else {}
            model = _randomize_bn(torch, getattr(torchvision.models, name)(**kwargs))
            path = export(torch, model, Path(folder) / f"{name}.onnx", ZOO[name])
            try:
                rows.append(measure(name, path, args.threads, args.repeats, stat))
            except ValueError as error:  # a refusal: one line
                failed.append(f"{name}: {error}")
            print(f"  {name}: done", flush=True)
    print(f"load average after: {load_average()}\n")
    print("\n".join(table(rows)))
    print()
    for r in rows:
        top = ", ".join(f"{k} {v:.1f}" for k, v in list(r["by_type"].items())[:5])
        print(f"{r['name']}: engine ms by layer type: {top}")
    for line in failed:
        print(f"not loaded: {line}")
    if rows:
        worst = max(r["ours"] / r["theirs"] for r in rows)
        print(f"\nworst ratio engine/onnxruntime: {worst:.2f} (target <= 2.0)")
    bad = [r["name"] for r in rows if r["err"] > TOLERANCE]
    return 1 if bad or failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
