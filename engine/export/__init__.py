"""Export a pipeline: ONNX (:mod:`engine.onnx.export`), PyTorch source
(:mod:`engine.export.pytorch`) or a numpy-only script (:mod:`engine.export.numpy_script`).

The program formats write the source file and its weights, an ``.npz`` beside it.
"""

from __future__ import annotations

from pathlib import Path

from engine.export.code import ExportError, write_program
from engine.graph.pipeline import Pipeline
from engine.i18n import _

__all__ = ["FORMATS", "ExportError", "export_pipeline"]

FORMATS = ("onnx", "pytorch", "numpy")


def export_pipeline(pipeline: Pipeline, fmt: str, out, input_shape=None) -> list[Path]:
    """Write ``pipeline`` in format ``fmt`` to ``out``; returns the files written.

    Examples
    --------
    >>> import tempfile
    >>> from engine.resolve import resolve_pipeline
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     files = export_pipeline(resolve_pipeline("lecture"), "numpy", f"{folder}/net.py")
    ...     [f.name for f in files]
    ['net.py', 'net.npz']
    """
    path = Path(out)
    if fmt == "onnx":
        from engine.onnx.export import export_onnx

        return [export_onnx(pipeline, path, input_shape)]
    if fmt == "pytorch":
        from engine.export.pytorch import pytorch_source as source
    elif fmt == "numpy":
        from engine.export.numpy_script import numpy_source as source
    else:
        raise ExportError(_("unknown export format {fmt!r}; choose one of {formats}")
                          .format(fmt=fmt, formats=", ".join(FORMATS)))
    text, arrays = source(pipeline, input_shape, weights=path.with_suffix(".npz").name)
    return list(write_program(text, arrays, path))
