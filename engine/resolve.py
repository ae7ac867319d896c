"""One entry point for every network a user can name: a bundled name, a pipeline file, a model.

The command line, the window and the notebook all open networks through
:func:`resolve_pipeline`, so that a name means the same thing everywhere. It sits above both the
pipeline-file format (:mod:`engine.graph.spec`) and the ONNX importer (:mod:`engine.onnx`), which
know nothing of each other.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from engine.graph.pipeline import Pipeline
from engine.graph.spec import BUNDLED, BUNDLED_MODELS, SpecError, load_bundled, load_pipeline
from engine.i18n import _
from engine.io.files import FileProblem, check_regular
from engine.io.preprocess import PreprocessError, PreprocessWarning, load_beside

__all__ = ["resolve_pipeline"]


def resolve_pipeline(name_or_path) -> Pipeline:
    """A bundled pipeline ("default", "edges", "lecture") or model ("shapes"), or a file path.

    An ``.onnx`` path is read with :func:`engine.onnx.importer.load_onnx` (imported on first
    use), with the preprocessing saved beside it (``<model>.preprocess.json``) when there is one.
    A sidecar that cannot be read does not stop a valid model: it is left out with a
    :class:`~engine.io.preprocess.PreprocessWarning`, and the model gets the app's own input.
    Only regular files are read.

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
            warnings.warn(_("{problem}; the model is opened without it (the image in [0, 1] at"
                            " the model's input size)").format(problem=error),
                          PreprocessWarning, stacklevel=2)
            recipe = None
        return pipeline if recipe is None else pipeline.with_preprocess(recipe)
    try:
        check_regular(path)
    except FileProblem as problem:
        if path.is_dir():
            raise SpecError(text, _("is a folder, not a pipeline file (.json) or a model"
                                    " (.onnx)")) from None
        if os.path.lexists(path):
            raise SpecError(text, problem.reason) from None
        raise SpecError(text, _("no such file and not a bundled pipeline; bundled: {names}"
                                ).format(names=", ".join((*BUNDLED, *BUNDLED_MODELS)))) from None
    return load_pipeline(path)
