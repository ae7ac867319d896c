"""The ``default`` pipeline's layers one by one, on a 480x640 frame: where its time goes.

Run from the repository root::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.pipeline_layers

Two views of the same layers, with ``engine.configure(threads)``: each layer alone, called again
and again on its own input (``alone``: its input and output stay warm in the caches), and each
layer inside whole-pipeline runs (``in the pipeline``: ``Pipeline.forward``'s own timings, the
input just written by the layer before). Each figure is the minimum over ``--rounds`` rounds
(alone: of the best of 10 calls a round). The gap between the two columns is what cold caches
and the hand-offs between layers cost.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

import numpy as np

import engine
from benchmarks.machine import cpu_model, load_average
from engine.resolve import resolve_pipeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="the engine's threads (default 2)")
    parser.add_argument("--rounds", type=int, default=30, help="rounds per layer (default 30)")
    args = parser.parse_args()
    engine.configure(threads=args.threads)
    pipeline = resolve_pipeline("default")
    x = np.random.default_rng(3).random((3, 480, 640), dtype=np.float32)
    print(f"machine: {cpu_model()}; threads: {args.threads}; load average {load_average()}")

    inputs, a = [], x  # each layer's input, from one pass of the pipeline
    for node in pipeline.nodes:
        inputs.append(a)
        a = node.layer(a)
    alone: dict[str, list[float]] = defaultdict(list)
    inside: dict[str, list[float]] = defaultdict(list)
    for _ in range(args.rounds):
        for node, src in zip(pipeline.nodes, inputs, strict=True):
            best = float("inf")
            for _ in range(10):
                start = time.perf_counter()
                node.layer(src)
                best = min(best, time.perf_counter() - start)
            alone[node.name].append(best * 1000.0)
        for _ in range(10):
            timings: dict[str, float] = {}
            start = time.perf_counter()
            pipeline.forward(x, timings)
            inside["total"].append((time.perf_counter() - start) * 1000.0)
            for name, ms in timings.items():
                inside[name].append(ms)

    print("\n| layer | alone ms | in the pipeline ms |\n| --- | ---: | ---: |")
    for node in pipeline.nodes:
        print(f"| {node.name} ({node.layer}) | {min(alone[node.name]):.2f} | "
              f"{min(inside[node.name]):.2f} |")  # fmt: skip
    print(f"| sum of the layers | {sum(min(v) for v in alone.values()):.2f} | "
          f"{sum(min(inside[n.name]) for n in pipeline.nodes):.2f} |")  # fmt: skip
    print(f"| whole pipeline (forward) | - | {min(inside['total']):.2f} |")
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
