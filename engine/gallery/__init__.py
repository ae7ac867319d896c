"""The model gallery: pretrained classifiers from the ONNX Model Zoo, downloaded on demand.

:mod:`engine.gallery.catalog` reads the catalog (``assets/gallery.json``);
:mod:`engine.gallery.download` fetches a model into the user's cache with progress and cancel,
verifies it and opens it as a pipeline.
"""

from engine.gallery.catalog import CatalogError, GalleryModel, load_catalog
from engine.gallery.download import (
    Cancelled,
    DownloadError,
    cache_dir,
    cached_path,
    cached_record,
    download_model,
    open_model,
)

__all__ = ["Cancelled", "CatalogError", "DownloadError", "GalleryModel", "cache_dir",
           "cached_path", "cached_record", "download_model", "load_catalog", "open_model"]
