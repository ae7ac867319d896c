"""One training step of the engine against PyTorch autograd on the CPU, in one run.

Run from the repository root (torch is a benchmark extra: ``pip install -e .[bench]``)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.train

A step is forward, backward and an Adam update, in training mode. Both sides start from the
same weights; the benchmark checks that their loss and weight gradients agree, then times them
in alternating blocks (benchmarks.engine.interleaved) on the same thread count. Target (issue
"Learning in the engine"): engine / PyTorch <= 2.0 for each case on 2 threads.
"""

from __future__ import annotations

import argparse
import os
import platform

import numpy as np

import engine
from benchmarks.engine import interleaved
from benchmarks.machine import cpu_model, load_average
from engine.graph.autograd import forward_backward, trainable_parameters
from engine.graph.node import InputSpec, Node
from engine.graph.pipeline import Pipeline
from engine.layers import (
    Add,
    BatchNorm2d,
    Conv2d,
    Flatten,
    GlobalAvgPool2d,
    Linear,
    ReLU,
)
from engine.resolve import resolve_pipeline
from engine.train import Adam


def shapes_case(batch: int):
    """The bundled classifier's architecture (3 conv blocks, 2 linear) at 64x64."""
    return resolve_pipeline("shapes"), (batch, 3, 64, 64), 8


def resnet_case(batch: int, channels: int = 64, side: int = 32):
    """A ResNet basic block (conv-BN-ReLU-conv-BN + identity, ReLU) with a small head."""
    c = channels
    nodes = [
        Node("conv1", Conv2d(3, c, 3, padding=1, bias=False, seed=1), ("input",)),
        Node("bn1", BatchNorm2d(c), ("conv1",)), Node("relu1", ReLU(), ("bn1",)),
        Node("conv2", Conv2d(c, c, 3, padding=1, bias=False, seed=2), ("relu1",)),
        Node("bn2", BatchNorm2d(c), ("conv2",)), Node("relu2", ReLU(), ("bn2",)),
        Node("conv3", Conv2d(c, c, 3, padding=1, bias=False, seed=3), ("relu2",)),
        Node("bn3", BatchNorm2d(c), ("conv3",)),
        Node("add", Add(), ("bn3", "relu1")), Node("relu3", ReLU(), ("add",)),
        Node("pool", GlobalAvgPool2d(), ("relu3",)), Node("flat", Flatten(), ("pool",)),
        Node("fc", Linear(c, 10, seed=4), ("flat",)),
    ]
    return Pipeline(nodes, InputSpec(channels=3)), (batch, 3, side, side), 10


def torch_module(torch, pipeline: Pipeline):
    """The same network in PyTorch, with the engine's weights (state_dict names match)."""
    nn = torch.nn

    class Graph(nn.Module):
        def __init__(self):
            super().__init__()
            self.order = []
            for node in pipeline:
                layer = node.layer
                if isinstance(layer, Conv2d):
                    module = nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                                       layer.stride, layer.padding, bias=layer.bias is not None)
                elif isinstance(layer, BatchNorm2d):
                    module = nn.BatchNorm2d(layer.num_features, eps=layer.eps)
                elif isinstance(layer, Linear):
                    module = nn.Linear(layer.in_features, layer.out_features)
                else:
                    module = None
                if module is not None:
                    self.add_module(node.name, module)
                self.order.append(node)

        def forward(self, x):
            values = {"input": x}
            for node in self.order:
                ins = [values[s] for s in node.inputs]
                layer, kind = node.layer, node.layer.type_name
                if hasattr(self, node.name):
                    y = getattr(self, node.name)(ins[0])
                elif kind == "ReLU":
                    y = torch.relu(ins[0])
                elif kind == "MaxPool2d":
                    y = torch.nn.functional.max_pool2d(ins[0], layer.kernel_size)
                elif kind == "GlobalAvgPool2d":
                    y = ins[0].mean(dim=(2, 3), keepdim=True)
                elif kind == "Flatten":
                    y = torch.flatten(ins[0], 1)
                elif kind == "Add":
                    y = ins[0] + ins[1]
                elif kind == "Softmax":
                    y = ins[0]  # trained on the logits, as the engine is
                else:
                    raise ValueError(kind)
                values[node.name] = y
            return values[self.order[-1].name]

    model = Graph()
    state = {k: torch.from_numpy(np.array(v)) for k, v in pipeline.state_dict().items()}
    model.load_state_dict(state, strict=False)
    return model


def compare(torch, pipeline, x, labels) -> tuple[float, float]:
    """(|loss difference|, max relative weight-gradient difference) between the two."""
    ours = forward_backward(pipeline, x, labels, train=True, need_input=False)
    model = torch_module(torch, pipeline).train()
    loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)),
                                             torch.from_numpy(labels))
    loss.backward()
    worst = 0.0
    for name, param in model.named_parameters():
        theirs = param.grad.numpy()
        diff = np.abs(ours.grads[name] - theirs).max() / (np.abs(theirs).max() + 1e-12)
        worst = max(worst, float(diff))
    return abs(ours.loss - loss.item()), worst


def time_steps(torch, pipeline, x, labels, repeats: int) -> tuple[float, float]:
    """Seconds of one training step (forward, backward, Adam) for the engine and for torch."""
    params = {k: np.array(v) for k, v in trainable_parameters(pipeline).items()}
    buffers = {k: np.array(v) for k, v in pipeline.state_dict().items() if k not in params}
    adam = Adam(lr=1e-3)

    def ours():
        result = forward_backward(pipeline, x, labels, train=True, need_input=False,
                                  params={**params, **buffers})
        adam.step(params, result.grads)
        buffers.update(result.buffers)

    model = torch_module(torch, pipeline).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    tx, ty = torch.from_numpy(x), torch.from_numpy(labels)

    def theirs():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(tx), ty).backward()
        opt.step()

    mine, torchs = interleaved([ours, theirs], repeats)
    return mine, torchs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: pip install -e .[bench]")
        return 2
    engine.configure(threads=args.threads)
    torch.set_num_threads(args.threads)
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs, {platform.platform()}")
    print(f"numpy {np.__version__}, torch {torch.__version__}; threads: engine "
          f"{engine.ops.get_num_threads()}, torch {torch.get_num_threads()}; load {load_average()}")
    print(f"\n{'case':<44} {'engine ms':>10} {'torch ms':>9} {'ratio':>6} "
          f"{'loss diff':>10} {'grad diff':>10}")
    cases = [("shapes classifier, batch 64, 3x64x64", shapes_case(64)),
             ("ResNet basic block, 64 ch, batch 16, 3x32x32", resnet_case(16))]
    worst_ratio = 0.0
    for label, (pipeline, shape, classes) in cases:
        rng = np.random.default_rng(0)
        x = rng.uniform(0, 1, shape).astype(np.float32)
        labels = rng.integers(0, classes, shape[0])
        loss_diff, grad_diff = compare(torch, pipeline, x, labels)

        mine, torchs = time_steps(torch, pipeline, x, labels, args.repeats)
        ratio = mine / torchs
        worst_ratio = max(worst_ratio, ratio)
        print(f"{label:<44} {mine * 1e3:>10.1f} {torchs * 1e3:>9.1f} {ratio:>6.2f} "
              f"{loss_diff:>10.1e} {grad_diff:>10.1e}")
    print(f"\nworst ratio {worst_ratio:.2f} (target <= 2.0); load after: {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
