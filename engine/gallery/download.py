"""Download a gallery model into the user's cache: progress, cancel, verification, atomic writes.

The file is written to a hidden temporary file in the cache folder and renamed into place only
after every check passed: the transfer is complete (as long as the server said), the size is
plausible for the published one, the SHA-256 matches the one published or recorded on the
first download, ``onnx.checker`` accepts it, and its input and output have the catalog's
shapes. Whatever fails, nothing half-written stays in the cache; the error is one sentence.
The first successful download records the file's size and SHA-256 in ``recorded.json`` beside
it, and every later download must match them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import onnx
import platformdirs

from engine.gallery.catalog import GalleryModel
from engine.i18n import _
from engine.io.preprocess import save_beside

__all__ = ["Cancelled", "DownloadError", "cache_dir", "cached_path", "cached_record",
           "download_model", "open_model"]

CHUNK = 1 << 16
SIZE_FACTOR = 4  # a file this many times larger or smaller than published is refused
RECORD = "recorded.json"


class DownloadError(OSError):
    """A download that failed or a file that did not pass the checks; one sentence."""


class Cancelled(Exception):
    """The user cancelled the download; nothing was left in the cache."""


def cache_dir() -> Path:
    """Where downloaded models live: the user's cache folder (platformdirs), ``models``."""
    return Path(platformdirs.user_cache_dir("cnn-explorer")) / "models"


def _records(cache: Path) -> dict:
    try:
        return json.loads((cache / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_record(model: GalleryModel, cache=None) -> dict | None:
    """What the first download recorded ("size", "sha256", "url"), when the file is still there
    at that size; else None. Reads no more than the file's size: for listing, where hashing
    every cached model (up to 100 MB each) would keep a window waiting. :func:`cached_path`
    checks the SHA-256 too before a file is used."""
    cache = Path(cache) if cache is not None else cache_dir()
    record = _records(cache).get(model.id)
    try:
        size = (cache / model.file_name).stat().st_size
    except OSError:
        return None
    return dict(record) if isinstance(record, dict) and record.get("size") == size else None


def cached_path(model: GalleryModel, cache=None) -> Path | None:
    """The model's file when it is in the cache and still matches its record, else None."""
    cache = Path(cache) if cache is not None else cache_dir()
    path = cache / model.file_name
    record = _records(cache).get(model.id)
    if not path.is_file() or record is None:
        return None
    if path.stat().st_size != record.get("size") or _sha256(path) != record.get("sha256"):
        return None
    return path


def _fetch(model, temporary: Path, progress, cancelled, timeout, digest) -> int:
    """Stream the URL into ``temporary``; returns the bytes received."""
    limit = model.size_mb * SIZE_FACTOR * 1e6
    try:
        response = urllib.request.urlopen(model.url, timeout=timeout)
    except urllib.error.HTTPError as error:
        error.close()  # it holds the response's socket
        raise DownloadError(_("{name}: the server answered {code} {reason} for {url}").format(
            name=model.name, code=error.code, reason=error.reason, url=model.url)) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DownloadError(_("{name} cannot be downloaded ({reason}); check the internet"
                              " connection and try again").format(name=model.name,
                                                                  reason=reason)) from None
    with response, open(temporary, "wb") as out:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        if total is not None and total > limit:
            raise DownloadError(_("{name}: the server offers {size:.1f} MB, far from the"
                                  " {published:g} MB published").format(
                                      name=model.name, size=total / 1e6,
                                      published=model.size_mb))
        done = 0
        while True:
            if cancelled is not None and cancelled():
                raise Cancelled(model.name)
            try:
                block = response.read(CHUNK)
            except (OSError, ValueError) as error:  # a connection reset, IncompleteRead
                raise DownloadError(_("{name}: the transfer broke off after {done:,} bytes"
                                      " ({error})").format(name=model.name, done=done,
                                                           error=error)) from None
            if not block:
                break
            out.write(block)
            digest.update(block)
            done += len(block)
            if done > limit:
                raise DownloadError(_("{name}: the file grows past {limit:.0f} MB, far from"
                                      " the {published:g} MB published").format(
                                          name=model.name, limit=limit / 1e6,
                                          published=model.size_mb))
            if progress is not None:
                progress(done, total)
    if total is not None and done != total:
        raise DownloadError(_("{name}: the transfer stopped after {done:,} of {total:,} bytes")
                            .format(name=model.name, done=done, total=total))
    return done


def _check(model: GalleryModel, path: Path, size: int, sha: str, record: dict | None) -> None:
    low = model.size_mb / SIZE_FACTOR * 1e6
    if size < low:
        raise DownloadError(_("{name}: the file has {size:,} bytes, far from the {published:g}"
                              " MB published").format(name=model.name, size=size,
                                                      published=model.size_mb))
    expected = model.sha256 or (record or {}).get("sha256")
    if expected is not None and sha != expected:
        raise DownloadError(_("{name}: the file's SHA-256 {sha} differs from the expected"
                              " {expected}").format(name=model.name, sha=sha[:16] + "...",
                                                    expected=expected[:16] + "..."))
    try:
        onnx.checker.check_model(str(path))
        graph = onnx.load(str(path), load_external_data=False).graph
    except Exception as error:  # the checker raises ValidationError, protobuf DecodeError, ...
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DownloadError(_("{name}: the file is not a valid ONNX model ({error})").format(
            name=model.name, error=first)) from None
    inits = {t.name for t in graph.initializer}
    image = next((i for i in graph.input if i.name not in inits), None)
    dims = [] if image is None else [d.dim_value or None for d in image.type.tensor_type.shape.dim]
    outputs = [d.dim_value or None for d in graph.output[0].type.tensor_type.shape.dim]
    values = math.prod(outputs[1:]) if None not in outputs[1:] else model.output_values
    if tuple(dims[1:]) != model.input or values != model.output_values:
        raise DownloadError(_("{name}: the model takes {dims} and gives {outputs}, not a"
                              " (N, {c}, {h}, {w}) image and {n} scores").format(
                                  name=model.name, dims=dims, outputs=outputs,
                                  c=model.input[0], h=model.input[1], w=model.input[2],
                                  n=model.output_values))


def download_model(model: GalleryModel, cache=None,
                   progress: Callable[[int, int | None], None] | None = None,
                   cancelled: Callable[[], bool] | None = None, timeout: float = 30.0) -> Path:
    """Download ``model`` into the cache (unless it is there and intact); returns its path.

    Parameters
    ----------
    progress : called with (bytes received, total bytes or None) after each block
    cancelled : polled before each block; when it returns True the download stops

    Raises
    ------
    DownloadError
        Offline, a server error, an incomplete transfer or a file that fails a check.
    Cancelled
        ``cancelled()`` returned True.
    """
    cache = Path(cache) if cache is not None else cache_dir()
    found = cached_path(model, cache)
    if found is not None:
        return found
    cache.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{model.id}.", suffix=".part", dir=cache)
    os.close(handle)
    temporary = Path(name)
    try:
        digest = hashlib.sha256()
        size = _fetch(model, temporary, progress, cancelled, timeout, digest)
        sha = digest.hexdigest()
        records = _records(cache)
        _check(model, temporary, size, sha, records.get(model.id))
        final = cache / model.file_name
        os.replace(temporary, final)
        records[model.id] = {"url": model.url, "size": size, "sha256": sha}
        _write_atomically(cache / RECORD, json.dumps(records, indent=1) + "\n")
        return final
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def open_model(model: GalleryModel, cache=None, **download):
    """The model as a pipeline, downloaded first if needed, with the catalog's preprocessing."""
    from engine.onnx.importer import load_onnx

    path = download_model(model, cache, **download)
    save_beside(model.preprocess, path)  # File > Open of the cached file prepares it alike
    return load_onnx(path).with_preprocess(model.preprocess)
