"""Reading an ``.onnx`` file: a regular file within the memory budget, external data only from
inside the model's own folder.

An ONNX model may keep large weights in other files ("external data") named by a path inside the
model. A hostile model could name ``../../home/user/.ssh/id_rsa`` or ``/dev/zero``; here every
such path must be relative, stay inside the model's folder (symbolic links resolved), name a
regular file and fit in the budget before any of it is read.
"""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx.external_data_helper import (
    ExternalDataInfo,
    load_external_data_for_model,
    uses_external_data,
)

from engine.i18n import _
from engine.io.budget import BudgetError, check_allocation
from engine.io.files import FileProblem, check_regular, read_regular

__all__ = ["ModelFileError", "read_model"]

PARSE_FACTOR = 3
"""Memory for a parsed model, in multiples of its file size (the bytes, the protobuf, arrays)."""


class ModelFileError(ValueError):
    """A model file that is refused before it is parsed; the message has no path."""


def read_model(path: Path) -> onnx.ModelProto:
    """The parsed model at ``path`` with its external data, every size and path checked first.

    Raises
    ------
    ModelFileError
        Not a regular file, too large for the budget, or external data outside the folder.
    Exception
        Whatever protobuf raises for bytes that are not a model (the caller words it).
    """
    try:
        size = check_regular(path).st_size
        check_allocation(_("reading the model"), size * PARSE_FACTOR)
        data = read_regular(path)
    except FileProblem as problem:
        raise ModelFileError(problem.reason) from None
    except BudgetError as error:
        raise ModelFileError(str(error)) from None
    model = onnx.load_model_from_string(data)
    del data
    external = [t for t in _tensors(model) if uses_external_data(t)]
    if external:
        _check_external(external, path.parent)
        try:
            load_external_data_for_model(model, str(path.parent))
        except (OSError, ValueError) as error:
            raise ModelFileError(_("its external data cannot be read: {reason}").format(
                reason=error)) from None
    return model


def _tensors(model: onnx.ModelProto) -> list[onnx.TensorProto]:
    """Every tensor of the model: initializers and tensor attributes, subgraphs included.

    A loop over a stack, not recursion: a file can nest subgraphs as deep as it likes.
    """
    found, graphs = [], [model.graph]
    while graphs:
        graph = graphs.pop()
        found.extend(graph.initializer)
        for node in graph.node:
            for attribute in node.attribute:
                if attribute.HasField("t"):
                    found.append(attribute.t)
                found.extend(attribute.tensors)
                if attribute.HasField("g"):
                    graphs.append(attribute.g)
                graphs.extend(attribute.graphs)
    return found


def _check_external(tensors: list[onnx.TensorProto], folder: Path) -> None:
    root = folder.resolve()
    total = 0
    for tensor in tensors:
        try:
            info = ExternalDataInfo(tensor)
        except ValueError as error:
            raise ModelFileError(str(error)) from None
        location = Path(info.location or "")
        escapes = (not info.location or location.is_absolute() or location.drive
                   or ".." in location.parts or "\0" in info.location)
        target = folder / location
        try:
            escapes = escapes or not target.resolve().is_relative_to(root)
        except (OSError, RuntimeError):  # a symbolic link loop
            escapes = True
        if escapes:
            raise ModelFileError(_("tensor {tensor!r} keeps its data in {location!r}, outside the"
                                   " model's folder; external data must be in the folder of the"
                                   " .onnx file or below it").format(tensor=tensor.name,
                                                                    location=info.location))
        try:
            size = check_regular(target).st_size
        except FileProblem as problem:
            raise ModelFileError(_("the external data {location!r} of tensor {tensor!r} cannot"
                                   " be read: {reason}").format(
                                       location=info.location, tensor=tensor.name,
                                       reason=problem.reason)) from None
        offset = info.offset or 0
        length = size - offset if info.length is None else info.length
        if offset + length > size:
            raise ModelFileError(_("tensor {tensor!r} reads bytes {start:,} to {end:,} of"
                                   " {location!r}, which has only {size:,}").format(
                                       tensor=tensor.name, start=offset, end=offset + length,
                                       location=info.location, size=size))
        total += length
    try:
        check_allocation(_("the model's external data"), total * 2)
    except BudgetError as error:
        raise ModelFileError(str(error)) from None
