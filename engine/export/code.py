"""What the PyTorch and numpy exporters share: names that are Python identifiers, the arrays a
program needs (saved as one ``.npz``), and the walk over the pipeline's nodes."""

from __future__ import annotations

import builtins
import keyword
import re
from pathlib import Path

import numpy as np

from engine.graph.pipeline import Pipeline
from engine.i18n import _
from engine.onnx.export_layers import ExportError

__all__ = ["ExportError", "Program", "identifiers", "input_shape_of", "outputs_of",
           "write_program"]


_RESERVED = {"self", "np", "torch", "nn", "F", "w", "sys", *dir(builtins)}


def identifiers(names) -> dict[str, str]:
    """Each name as a distinct Python identifier: ``"/features/0/Conv_output_0"`` ->
    ``"features_0_conv_output_0"``."""
    out, taken = {}, set()
    for name in names:
        base = re.sub(r"\W+", "_", name).strip("_").lower() or "x"
        if base[0].isdigit() or keyword.iskeyword(base) or base in _RESERVED:
            base = f"t_{base}"
        ident, n = base, 1
        while ident in taken:
            n += 1
            ident = f"{base}_{n}"
        taken.add(ident)
        out[name] = ident
    return out


class Program:
    """The lines of a generated program and the arrays it loads, by key."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, key: str, value) -> str:
        """Keep ``value`` under ``key`` for the .npz; returns the key."""
        self.arrays[key] = np.asarray(value)
        return key


def input_shape_of(pipeline: Pipeline, input_shape) -> tuple[int, int, int]:
    if input_shape is not None:
        return tuple(int(n) for n in input_shape)
    if pipeline.input_spec.shape is None:
        raise ExportError(_("the pipeline declares no input size; give one (C,H,W) to export"
                            " it"))
    return pipeline.input_spec.shape


def outputs_of(pipeline: Pipeline) -> list[str]:
    """The nodes no other node reads: what the program returns."""
    consumed = {s for node in pipeline for s in node.inputs}
    return [n.name for n in pipeline if n.name not in consumed]


def write_program(source: str, arrays: dict[str, np.ndarray], out) -> tuple[Path, Path]:
    """Write ``source`` to ``out`` and the arrays to ``out`` with suffix .npz, each through a
    temporary file; returns both paths."""
    path = Path(out)
    weights = path.with_suffix(".npz")
    for target, write in ((weights, lambda f: np.savez(f, **arrays)),
                          (path, lambda f: f.write(source.encode()))):
        temporary = target.with_name(target.name + ".tmp")
        with open(temporary, "wb") as handle:
            write(handle)
        temporary.replace(target)
    return path, weights
