"""torchvision's classification networks: the engine against onnxruntime, side by side.

Run from the repository root (torch, torchvision and onnxruntime are benchmark extras)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.zoo [--models a,b]

Each network is built by torchvision with random seeded weights (and random batch-norm
statistics), exported by ``torch.onnx.export`` (opset 17) into a temporary folder, opened with
``engine.load_onnx`` and with onnxruntime (2 intra-op threads each, batch 1, 224x224 unless the
network needs 299), checked to agree, and timed in interleaved runs (median). The table is the
one in docs/benchmarks.md. Target (issue 13): every network within 2.0x of onnxruntime.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import warnings
from pathlib import Path

import engine
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
    """torchvision, even where its compiled detection ops do not load (a wheel built for
    another torch): the classification models need none of them."""
    import torch

    try:
        import torchvision
    except RuntimeError:  # "operator torchvision::nms does not exist"
        library = torch.library.Library("torchvision", "DEF")
        for op in ("nms", "qnms"):
            library.define(f"{op}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        import torchvision
        import_torchvision.library = library
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
    args = parser.parse_args(argv)
    import torch

    torchvision = import_torchvision()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    engine.configure(threads=args.threads)
    names = args.models.split(",") if args.models else list(ZOO)
    rows, failed = [], []
    with tempfile.TemporaryDirectory() as folder, torch.no_grad():
        for name in names:
            kwargs = {"aux_logits": False, "init_weights": True} if name in (
                "googlenet", "inception_v3") else {}
            model = _randomize_bn(torch, getattr(torchvision.models, name)(**kwargs))
            path = export(torch, model, Path(folder) / f"{name}.onnx", ZOO[name])
            try:
                rows.append(measure(name, path, args.threads, args.repeats, statistics.median))
            except ValueError as error:  # a refusal: one line
                failed.append(f"{name}: {error}")
            print(f"  {name}: done", flush=True)
    print("\n".join(table(rows)))
    for line in failed:
        print(f"not loaded: {line}")
    if rows:
        worst = max(r["ours"] / r["theirs"] for r in rows)
        print(f"\nworst ratio engine/onnxruntime: {worst:.2f} (target <= 2.0)")
    bad = [r["name"] for r in rows if r["err"] > TOLERANCE]
    return 1 if bad or failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
