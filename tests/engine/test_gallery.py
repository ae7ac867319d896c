"""The model gallery: catalog, and downloads from a local HTTP server (127.0.0.1 only): a good
file, an interrupted transfer, a wrong size, a corrupt file, a 404, a wrong SHA-256, a wrong
shape, offline, and cancel; nothing half-written is ever left in the cache."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.gallery import (
    Cancelled,
    CatalogError,
    DownloadError,
    cached_path,
    download_model,
    load_catalog,
    open_model,
)
from tests.gallery_server import GOOD, serve


@pytest.fixture(scope="module")
def server():
    with serve() as url:
        yield url


def _entry(url: str, **changes):
    base = load_catalog()[0]
    fields = {"id": "tiny", "name": "Tiny", "url": url, "size_mb": len(GOOD) / 1e6,
              "input": (3, 32, 32), **changes}
    return dataclasses.replace(base, **fields)


def _left(cache) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def test_catalog_lists_zoo_models_with_their_preprocessing():
    models = load_catalog()
    assert {"squeezenet1.1", "mobilenetv2", "resnet18-v1"} <= {m.id for m in models}
    for m in models:
        assert m.url.startswith("https://github.com/onnx/models/raw/main/validated/vision/")
        assert m.licence == "Apache-2.0" and len(m.class_names) == 1000
        assert m.preprocess.size == (224, 224) and m.input == (3, 224, 224)
    assert models[0].class_names[:2] == ("tench", "goldfish")


def test_a_bad_catalog_says_so(tmp_path):
    path = tmp_path / "gallery.json"
    path.write_text('{"format": "cnn-explorer-gallery", "models": [{"id": "x"}]}')
    with pytest.raises(CatalogError, match="entry 'x' is not valid"):
        load_catalog(path)
    path.write_text("[1, 2]")
    with pytest.raises(CatalogError, match="not a model catalog"):
        load_catalog(path)


def test_download_progress_record_and_cache(server, tmp_path):
    seen = []
    model = _entry(f"{server}/model.onnx")
    path = download_model(model, tmp_path, progress=lambda done, total: seen.append(
        (done, total)))
    assert path.read_bytes() == GOOD
    assert seen[-1] == (len(GOOD), len(GOOD)) and len(seen) >= 1
    assert _left(tmp_path) == ["recorded.json", "tiny.onnx"]
    assert cached_path(model, tmp_path) == path
    # a second call uses the cache: no transfer (the URL may even be gone)
    assert download_model(_entry(f"{server}/gone.onnx"), tmp_path) == path
    pipeline = open_model(model, tmp_path)
    assert pipeline.input_spec.preprocess == model.preprocess
    out = pipeline.forward(np.zeros((3, 32, 32), np.float32))
    assert out[pipeline.nodes[-1].name].shape == (1000,)


def test_the_recorded_checksum_guards_later_downloads(server, tmp_path):
    download_model(_entry(f"{server}/model.onnx"), tmp_path)
    (tmp_path / "tiny.onnx").write_bytes(b"damaged")  # the cached file no longer matches
    with pytest.raises(DownloadError, match=r"SHA-256 .* differs from the expected"):
        download_model(_entry(f"{server}/other.onnx"), tmp_path)
    assert _left(tmp_path) == ["recorded.json", "tiny.onnx"]  # the old file, not a part


@pytest.mark.parametrize(("path", "changes", "message"), [
    ("/truncated/model.onnx", {}, "transfer stopped after|transfer broke off"),
    ("/model.onnx", {"size_mb": 5.0}, "far from the 5 MB published"),
    ("/model.onnx", {"size_mb": 0.001}, "the server offers .* far from"),
    ("/corrupt.onnx", {}, "not a valid ONNX model"),
    ("/missing.onnx", {}, "the server answered 404 Not Found"),
    ("/small.onnx", {}, r"takes \[None, 3, 16, 16\]"),
    ("/model.onnx", {"sha256": "0" * 64}, "SHA-256"),
])
def test_failures_leave_nothing_behind(server, tmp_path, path, changes, message):
    with pytest.raises(DownloadError, match=message) as info:
        download_model(_entry(f"{server}{path}", **changes), tmp_path)
    assert "\n" not in str(info.value)
    assert _left(tmp_path) == []


def test_offline_is_a_clear_message(tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError, match="check the internet connection"):
        download_model(_entry(f"http://127.0.0.1:{port}/model.onnx"), tmp_path, timeout=5)
    assert _left(tmp_path) == []


def test_cancel_stops_and_cleans_up(server, tmp_path):
    calls = []
    with pytest.raises(Cancelled):
        download_model(_entry(f"{server}/model.onnx"), tmp_path,
                       cancelled=lambda: bool(calls.append(1)) or len(calls) > 1)
    assert _left(tmp_path) == []
