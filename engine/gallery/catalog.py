"""The gallery's catalog: which models, from where, how large, under which licence, and how
their input is prepared. One JSON file in the assets (``assets/gallery.json``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from assets import asset_path
from engine.i18n import _
from engine.io.preprocess import PRESETS, Preprocess

__all__ = ["CatalogError", "GalleryModel", "load_catalog"]

FORMAT = "cnn-explorer-gallery"


class CatalogError(ValueError):
    """A catalog that cannot be read; names the file and the entry."""


@dataclass(frozen=True)
class GalleryModel:
    """One downloadable model of the catalog."""

    id: str
    name: str
    url: str
    page: str
    size_mb: float  # as published; the exact size is recorded on first download
    licence: str
    input: tuple[int, int, int]  # (C, H, W)
    output_values: int  # scores per image
    preprocess: Preprocess
    class_names: tuple[str, ...]
    sha256: str | None = None  # when published; else recorded on first download

    @property
    def file_name(self) -> str:
        return f"{self.id}.onnx"


def _entry(source: str, d: dict, classes: dict, base: Path) -> GalleryModel:
    try:
        labels = classes[d["classes"]]
        names = tuple((base / labels).read_text(encoding="utf-8").splitlines())
        preprocess = d["preprocess"]
        recipe = PRESETS[preprocess] if isinstance(preprocess, str) else Preprocess.from_dict(
            preprocess)
        return GalleryModel(
            id=str(d["id"]), name=str(d["name"]), url=str(d["url"]), page=str(d.get("page", "")),
            size_mb=float(d["size_mb"]), licence=str(d["licence"]),
            input=tuple(int(n) for n in d["input"]), output_values=int(d["output_values"]),
            preprocess=recipe, class_names=names, sha256=d.get("sha256"))
    except (KeyError, TypeError, ValueError, OSError) as error:
        raise CatalogError(_("{source}: entry {entry!r} is not valid ({error})").format(
            source=source, entry=d.get("id") if isinstance(d, dict) else d,
            error=error)) from None


def load_catalog(path=None) -> list[GalleryModel]:
    """The models of the catalog at ``path`` (default: the bundled one).

    >>> [m.id for m in load_catalog()][:2]
    ['squeezenet1.1', 'mobilenetv2']
    """
    path = Path(path) if path is not None else asset_path("gallery.json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CatalogError(_("{path}: the model catalog cannot be read ({error})")
                           .format(path=path, error=error)) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CatalogError(_("{path}: not a model catalog").format(path=path))
    models = [_entry(str(path), d, data.get("classes", {}), path.parent)
              for d in data.get("models", [])]
    if len({m.id for m in models}) != len(models):
        raise CatalogError(_("{path}: two models share an id").format(path=path))
    return models
