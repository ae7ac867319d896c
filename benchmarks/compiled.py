"""The engine, a compiled CNN runtime and the references of issues 13 and 16, side by side.

Run from the repository root (torch, torchvision and onnxruntime are benchmark extras; see
:mod:`benchmarks.zoo` for torchvision beside this torch)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE PYTHONPATH=/tmp/tvlib python -m benchmarks.compiled

The question it answers: how close to the performance targets can any engine get on this
machine, and how much of the gap is the engine's being numpy? OpenCV's ``dnn`` module (C++ with
hand-written SIMD kernels, already installed: opencv-python-headless is a dependency) runs the
same ONNX files as the engine and onnxruntime. The targets: the ``default`` pipeline at 480x640
within 1.3x PyTorch (issue 16), every torchvision classification network within 2.0x
onnxruntime (issue 13). Every runtime gets the same threads (2 by default); runs are
interleaved so that the machine's drift hits all alike, and the table shows the best of
``--repeats`` (or the median with ``--stat median``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

import engine
from benchmarks.engine import default_chain
from benchmarks.machine import cpu_model, load_average
from benchmarks.models import _randomize_bn, interleaved, onnxruntime_session

# mobile networks (the worst ratios) and the plain one every course shows
NETWORKS = ("mobilenet_v2", "mobilenet_v3_small", "mnasnet1_0", "efficientnet_b0", "resnet18")


def opencv_net(path: Path, threads: int):
    """OpenCV's dnn module on the ONNX file, its default (CPU) backend."""
    import cv2

    cv2.setNumThreads(threads)
    net = cv2.dnn.readNetFromONNX(str(path))
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    return net


def _rel(a: np.ndarray, ref: np.ndarray) -> float:
    return float(np.abs(a - ref).max() / max(float(np.abs(ref).max()), 1e-30))


def measure(name: str, path: Path, x: np.ndarray, args, torch_fn=None) -> dict:
    """Best (or median) ms of each runtime on ``x``; the reference is PyTorch when given."""
    pipeline = engine.load_onnx(path)
    session = onnxruntime_session(path, args.threads)
    feed_name, out_name = session.get_inputs()[0].name, session.get_outputs()[0].name
    net = opencv_net(path, args.threads)

    def ours():
        return pipeline.forward(x)[out_name]

    def theirs():
        return session.run([out_name], {feed_name: x})[0]

    def opencv():
        net.setInput(x)
        return net.forward()

    reference = theirs()
    errors = {"engine": _rel(ours(), reference), "opencv": _rel(opencv(), reference)}
    fns = [ours, opencv, theirs] + ([torch_fn] if torch_fn else [])
    stat = min if args.stat == "min" else statistics.median
    times = [t * 1e3 for t in interleaved(fns, args.repeats, stat=stat)]
    row = dict(name=name, engine=times[0], opencv=times[1], ort=times[2], errors=errors)
    row["torch"] = times[3] if torch_fn else None
    return row


def default_row(args) -> dict:
    """The ``default`` pipeline on a 480x640 frame, exported to ONNX by the engine itself."""
    import torch
    import torch.nn.functional as tf

    from engine.export import export_pipeline
    from engine.resolve import resolve_pipeline

    x = np.random.default_rng(3).random((1, 3, 480, 640), dtype=np.float32)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "default.onnx"
        export_pipeline(resolve_pipeline("default"), "onnx", path, input_shape=(3, 480, 640))
        _, params, _ = default_chain()
        tparams = [(torch.from_numpy(np.array(w)).contiguous(memory_format=torch.channels_last),
                    None if b is None else torch.from_numpy(np.array(b, np.float32)))
                   for w, b in params]  # fmt: skip
        tx = torch.from_numpy(x).contiguous(memory_format=torch.channels_last)

        def pytorch():  # as benchmarks/engine.py times it
            y = tx
            for w, b in tparams:
                y = tf.max_pool2d(tf.relu(tf.conv2d(y, w, b, padding=1)), 2)
            return y

        with torch.no_grad():
            return measure("default pipeline 480x640", path, x, args, pytorch)


def zoo_rows(names: list[str], args) -> list[dict]:
    import torch

    from benchmarks.zoo import ZOO, export, import_torchvision

    torchvision = import_torchvision()
    torch.manual_seed(0)
    rows = []
    with tempfile.TemporaryDirectory() as folder, torch.no_grad():
        for name in names:
            kwargs = {"aux_logits": False, "init_weights": True} if name in (
                "googlenet", "inception_v3") else {}
            model = _randomize_bn(torch, getattr(torchvision.models, name)(**kwargs))
            size = ZOO[name]
            path = export(torch, model, Path(folder) / f"{name}.onnx", size)
            x = np.random.default_rng(0).random((1, 3, size, size), dtype=np.float32)
            try:
                rows.append(measure(f"{name} {size}x{size}", path, x, args))
            except Exception as error:  # a runtime that cannot load it (cv2.error too): one line
                print(f"  {name}: not measured: {str(error).splitlines()[0][:200]}")
                continue
            print(f"  {name}: done", flush=True)
    return rows


def table(rows: list[dict]) -> list[str]:
    lines = ["| network | engine ms | OpenCV dnn ms | onnxruntime ms | PyTorch ms | target "
             "against | engine ratio | OpenCV ratio | OpenCV max rel. error |",
             "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |"]
    for r in rows:
        ref, against = (r["torch"], "PyTorch, <= 1.3") if r["torch"] else (
            r["ort"], "onnxruntime, <= 2.0")
        torch_ms = f"{r['torch']:.2f}" if r["torch"] else "-"
        lines.append(f"| {r['name']} | {r['engine']:.2f} | {r['opencv']:.2f} | {r['ort']:.2f} | "
                     f"{torch_ms} | {against} | {r['engine'] / ref:.2f} | "
                     f"{r['opencv'] / ref:.2f} | {r['errors']['opencv']:.1e} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(NETWORKS),
                        help="comma-separated torchvision networks ('' for none, 'zoo' for all"
                             " of benchmarks/zoo.py's; default: " + ", ".join(NETWORKS) + ")")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--stat", choices=("median", "min"), default="min")
    args = parser.parse_args(argv)
    import cv2
    import torch

    torch.set_num_threads(args.threads)
    engine.configure(threads=args.threads)
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs; OpenCV {cv2.__version__}, "
          f"torch {torch.__version__}; load average before: {load_average()}; {args.stat} of "
          f"{args.repeats} interleaved runs, {args.threads} threads each")
    rows = [default_row(args)]
    from benchmarks.zoo import ZOO

    names = list(ZOO) if args.models == "zoo" else [n for n in args.models.split(",") if n]
    if names:
        rows += zoo_rows(names, args)
    print(f"load average after: {load_average()}\n")
    print("\n".join(table(rows)))
    bad = [r["name"] for r in rows if max(r["errors"].values()) > 1e-3]
    for name in bad:
        print(f"outputs disagree: {name}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
