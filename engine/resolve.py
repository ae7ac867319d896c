"""One entry point for every network a user can name: a bundled name, a pipeline file, a model.

The command line, the window and the notebook all open networks through
:func:`resolve_pipeline`, so that a name means the same thing everywhere. It sits above both the
pipeline-file format (:mod:`engine.graph.spec`) and the ONNX importer (:mod:`engine.onnx`), which
know nothing of each other.
"""

from __future__ import annotations

from pathlib import Path

from engine.graph.pipeline import Pipeline
from engine.graph.spec import BUNDLED, BUNDLED_MODELS, SpecError, load_bundled, load_pipeline
from engine.io.preprocess import PreprocessError, load_beside

__all__ = ["resolve_pipeline"]


def resolve_pipeline(name_or_path) -> Pipeline:
    """A bundled pipeline ("default", "edges", "lecture") or model ("shapes"), or a file path.

    An ``.onnx`` path is read with :func:`engine.onnx.importer.load_onnx` (imported on first
    use), with the preprocessing saved beside it (``<model>.preprocess.json``) when there is one.

    >>> resolve_pipeline("edges").name
    'edges'
    """
    text = str(name_or_path)
    if text in BUNDLED or text in BUNDLED_MODELS:
        return load_bundled(text)
    path = Path(text)
    if path.suffix.lower() == ".onnx":
        from engine.onnx.importer import load_onnx

        pipeline = load_onnx(path)
        try:
            recipe = load_beside(path)
        except PreprocessError as error:
            raise SpecError(str(path), str(error), field="preprocess") from None
        return pipeline if recipe is None else pipeline.with_preprocess(recipe)
    if path.is_file():
        return load_pipeline(path)
    if path.is_dir():
        raise SpecError(text, "is a folder, not a pipeline file (.json) or a model (.onnx)")
    raise SpecError(text, f"no such file and not a bundled pipeline; bundled: "
                    f"{', '.join((*BUNDLED, *BUNDLED_MODELS))}")
