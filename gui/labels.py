"""Class names for a network's output vector: a label file, one class a line.

Where the names come from, first match wins:

1. ``<model>.labels.txt`` beside the model or pipeline file (``net.onnx`` -> ``net.labels.txt``),
2. a bundled list named like the network (``assets/labels/shapes.txt`` for "shapes"),
3. the bundled 1000 ImageNet classes for a 1000-class output (1001: "background" first, as
   TensorFlow's slim models have it),
4. otherwise "class 0", "class 1", ...

A list whose length does not match the output is not used (a message says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from assets import asset_path
from engine.i18n import N_, _

SUFFIX = ".labels.txt"


@dataclass(frozen=True)
class ClassNames:
    """The names of the classes and where they came from (shown in the predictions panel)."""

    names: tuple[str, ...]
    source: str  # "ImageNet class names", "net.labels.txt", "no label file", ...
    note: str = ""  # why a label file found was not used

    def __getitem__(self, index: int) -> str:
        return self.names[index]

    def __len__(self) -> int:
        return len(self.names)


def labels_path(model_path: str | Path) -> Path:
    """``net.onnx`` -> ``net.labels.txt`` beside it."""
    path = Path(model_path)
    return path.with_name(path.stem + SUFFIX)


def read_labels(path: str | Path) -> tuple[str, ...]:
    """The non-empty lines of a label file, stripped; OSError / ValueError when unreadable."""
    path = Path(path)
    return _read(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=16)
def _read(path: str, _mtime: int) -> tuple[str, ...]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(_("{name} is not a UTF-8 text file").format(
            name=Path(path).name)) from None
    return tuple(line.strip() for line in text.splitlines() if line.strip())


IMAGENET = N_("ImageNet class names")  # the source of the bundled ImageNet list


def _candidates(n_classes: int, name: str, model_path: str | Path | None):
    if model_path:
        path = labels_path(model_path)
        yield path, path.name
    if name:
        path = asset_path("labels", f"{Path(name).stem.lower()}.txt")
        yield path, _("bundled {name}").format(name=path.name)
    if n_classes in (1000, 1001):
        yield asset_path("labels", "imagenet.txt"), _(IMAGENET)


def class_names(n_classes: int, pipeline=None, model_path: str | Path | None = None
                ) -> ClassNames:
    """Names for an output of ``n_classes`` scores.

    Parameters
    ----------
    n_classes : int
        Length of the network's output vector.
    pipeline : Pipeline, optional
        Its ``name`` picks a bundled list ("shapes").
    model_path : str or Path, optional
        The model or pipeline file; a ``.labels.txt`` beside it wins.

    Examples
    --------
    >>> class_names(3).names
    ('class 0', 'class 1', 'class 2')
    """
    name = getattr(pipeline, "name", "") or ""
    notes = []
    for path, source in _candidates(n_classes, name, model_path):
        if not path.is_file():
            continue
        try:
            names = read_labels(path)
        except (OSError, ValueError) as error:
            notes.append(_("{name} cannot be read ({error})").format(name=path.name, error=error))
            continue
        if n_classes == 1001 and len(names) == 1000 and source == _(IMAGENET):
            names = ("background", *names)
        if len(names) == n_classes:
            return ClassNames(names, source, "; ".join(notes))
        notes.append(_("{name} has {n} names for {outputs} outputs").format(
            name=path.name, n=len(names), outputs=n_classes))
    return ClassNames(tuple(_("class {i}").format(i=i) for i in range(n_classes)),
                      _("no label file"), "; ".join(notes))


def model_path_of(pipeline, session_path: str | None = None) -> str | None:
    """The file a network was opened from: an ONNX model records it as ``source_path``
    (see gui.dialogs.preprocess.open_model_flow); else the session's pipeline file."""
    return getattr(pipeline, "source_path", None) or session_path
