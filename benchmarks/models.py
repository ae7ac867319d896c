"""Whole networks: the engine against onnxruntime on the CPU, with the same thread count.

Run from the repository root (torch and onnxruntime are benchmark extras)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.models

It defines ResNet-18 and a VGG-11 with torch.nn (random seeded weights; torchvision is not
needed), exports them to ONNX in a temporary folder, opens each file with
``engine.load_onnx`` and with onnxruntime (2 intra-op threads, 1 inter-op thread), checks that
the outputs agree, then prints the median time of interleaved runs (onnxruntime's idle threads
told not to spin, so neither runtime slows the other) and the ratio. Any
``assets/models/*.onnx`` (the bundled network, when shipped as ONNX) is timed as well.
Target (issue 5): the engine within 2x of onnxruntime on each network.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

import engine
from engine import ops as F
from engine.onnx.importer import load_onnx

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "models"
TOLERANCE = 1e-3  # max |engine - onnxruntime| / max |onnxruntime| on the final output


def build_resnet18(torch):
    """ResNet-18 (He et al. 2015) as in torchvision, with random weights and BN statistics."""
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, c_in, c_out, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(c_out)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(c_out)
            self.down = None
            if stride != 1 or c_in != c_out:
                self.down = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                          nn.BatchNorm2d(c_out))

        def forward(self, x):
            y = torch.relu(self.bn1(self.conv1(x)))
            y = self.bn2(self.conv2(y))
            return torch.relu(y + (x if self.down is None else self.down(x)))

    class ResNet18(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                                      nn.ReLU(), nn.MaxPool2d(3, 2, 1))
            widths = [(64, 64, 1), (64, 128, 2), (128, 256, 2), (256, 512, 2)]
            self.layers = nn.Sequential(*[nn.Sequential(Block(a, b, s), Block(b, b, 1))
                                          for a, b, s in widths])
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(512, 1000)

        def forward(self, x):
            return self.fc(torch.flatten(self.pool(self.layers(self.stem(x))), 1))

    return _randomize_bn(torch, ResNet18())


def build_vgg11(torch):
    """VGG-11 (configuration A) with a smaller classifier: 512*7*7 -> 512 -> 512 -> 1000.

    The convolutions are the full VGG-11 at 224x224 (7.6 GMACs); the original 4096-wide
    classifier would add 120 million weights (480 MB) and little time.
    """
    nn = torch.nn
    layers, c_in = [], 3
    for c in (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"):
        if c == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.ReLU()]
            c_in = c
    head = [nn.Flatten(), nn.Linear(512 * 7 * 7, 512), nn.ReLU(), nn.Dropout(),
            nn.Linear(512, 512), nn.ReLU(), nn.Dropout(), nn.Linear(512, 1000)]
    return nn.Sequential(*layers, *head)


def _randomize_bn(torch, model):
    generator = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(0.1 * torch.randn(n, generator=generator))
            m.running_var.copy_(0.5 + torch.rand(n, generator=generator))
            m.weight.data.copy_(1 + 0.1 * torch.randn(n, generator=generator))
            m.bias.data.copy_(0.1 * torch.randn(n, generator=generator))
    return model


def export(torch, model, path: Path, size: int = 224) -> Path:
    """Export with the TorchScript exporter (the new one needs onnxscript, not installed)."""
    model.eval()
    x = torch.randn(1, 3, size, size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter announces its deprecation
        torch.onnx.export(model, (x,), str(path), input_names=["input"],
                          output_names=["logits"], opset_version=13, dynamo=False)
    return path


def onnxruntime_session(path: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    # Idle onnxruntime threads otherwise spin for a while after each run, stealing the cores
    # from the engine's run that follows (it doubled the engine's time here).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def interleaved(fns, repeats: int, warmup: int = 1, stat=statistics.median) -> list[float]:
    """Seconds of each function (median of the runs), timed in turn so that load hits all alike."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, bucket in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - start)
    return [stat(t) for t in times]


def measure(name: str, path: Path, threads: int, repeats: int, stat=statistics.median) -> dict:
    start = time.perf_counter()
    pipeline = load_onnx(path)
    load_s = time.perf_counter() - start
    session = onnxruntime_session(path, threads)
    spec = pipeline.input_spec
    x = np.random.default_rng(0).random((1, spec.channels, spec.height, spec.width),
                                        dtype=np.float32)
    feed = {session.get_inputs()[0].name: x}
    out_name = session.get_outputs()[0].name
    ours = pipeline.forward(x)[out_name]
    theirs = session.run([out_name], feed)[0]
    err = float(np.abs(ours - theirs).max() / max(float(np.abs(theirs).max()), 1e-12))
    t_ours, t_theirs = interleaved([lambda: pipeline.forward(x),
                                    lambda: session.run([out_name], feed)], repeats, stat=stat)
    timings: dict[str, float] = {}
    pipeline.forward(x, timings)
    by_type: dict[str, float] = defaultdict(float)
    for node in pipeline:
        by_type[node.layer.type_name] += timings[node.name]
    ledger = pipeline.summary(x.shape[1:])
    return {"name": f"{name} {spec.height}x{spec.width}", "nodes": len(pipeline),
            "params": ledger.total_params, "macs": ledger.total_macs, "ours": t_ours,
            "theirs": t_theirs, "err": err, "load": load_s,
            "by_type": dict(sorted(by_type.items(), key=lambda kv: -kv[1]))}


def _count(n: float) -> str:
    """12_300_000 -> "12.3 M", 1_810_000_000 -> "1.81 G"."""
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.0f}"


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:.0f}" if ms >= 10 else f"{ms:.2f}"


def table(rows: list[dict]) -> list[str]:
    lines = ["| network | nodes | params | MACs | engine ms | onnxruntime ms | ratio | "
             "max rel. error |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['nodes']} | {_count(r['params'])} | "
                     f"{_count(r['macs'])} | {_ms(r['ours'])} | {_ms(r['theirs'])} | "
                     f"{r['ours'] / r['theirs']:.2f} | {r['err']:.1e} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="threads for both runtimes")
    parser.add_argument("--repeats", type=int, default=15, help="timed runs per network")
    parser.add_argument("--stat", choices=("median", "min"), default="median",
                        help="min is steadier when other processes load the machine")
    args = parser.parse_args(argv)
    stat = statistics.median if args.stat == "median" else min
    try:
        import onnxruntime
        import torch
    except ImportError as error:
        print(f"{error.name} is not installed: pip install -e .[bench]")
        return 2
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    engine.configure(threads=args.threads)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical"
          f" CPUs, {platform.platform()}")
    print(f"numpy {np.__version__}, onnxruntime {onnxruntime.__version__}, torch"
          f" {torch.__version__}; threads: engine {F.get_num_threads()}, onnxruntime"
          f" {args.threads} intra-op + 1 inter-op; {args.stat} of {args.repeats} runs")
    rows = []
    with tempfile.TemporaryDirectory() as folder, torch.no_grad():
        networks = [("ResNet-18", build_resnet18), ("VGG-11", build_vgg11)]
        for name, build in networks:
            path = export(torch, build(torch), Path(folder) / f"{build.__name__[6:]}.onnx")
            rows.append(measure(name, path, args.threads, args.repeats, stat))
            print(f"  {name}: done")
        bundled = sorted(ASSETS.glob("*.onnx"))
        if not bundled:
            print(f"  bundled network: no {ASSETS.relative_to(ASSETS.parents[1])}/*.onnx found,"
                  " skipped")
        for path in bundled:
            rows.append(measure(f"bundled {path.stem}", path, args.threads, args.repeats, stat))
            print(f"  bundled {path.stem}: done")
    print()
    print("\n".join(table(rows)))
    print()
    for r in rows:
        top = ", ".join(f"{k} {_ms(v / 1e3)} ms" for k, v in list(r["by_type"].items())[:4])
        print(f"{r['name']}: engine time by layer type: {top}; import {_ms(r['load'])} ms")
    worst = max(r["ours"] / r["theirs"] for r in rows)
    print(f"\nworst ratio engine/onnxruntime: {worst:.2f} (target <= 2.0)")
    bad = [r["name"] for r in rows if r["err"] > TOLERANCE]
    if bad:
        print(f"OUTPUTS DISAGREE with onnxruntime beyond {TOLERANCE:g}: {', '.join(bad)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
