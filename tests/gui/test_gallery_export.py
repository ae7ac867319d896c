"""File > Model gallery (download with a progress bar and Cancel, from a local server) and
File > Export."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from engine.gallery import load_catalog
from engine.onnx.importer import load_onnx
from gui.dialogs.export import export_current
from gui.dialogs.gallery import GalleryDialog
from tests.gallery_server import GOOD, serve


@pytest.fixture(scope="module")
def server():
    with serve() as url:
        yield url


def _models(server):
    base = load_catalog()[0]
    return [dataclasses.replace(base, id=name, name=name.title(), url=f"{server}{path}",
                                size_mb=len(GOOD) / 1e6, input=(3, 32, 32))
            for name, path in (("tiny", "/model.onnx"), ("broken", "/truncated/model.onnx"))]


def test_gallery_downloads_with_progress_and_opens(qtbot, server, tmp_path):
    opened = []
    dialog = GalleryDialog(opened.append, _models(server), tmp_path)
    qtbot.addWidget(dialog)
    assert dialog.list.count() == 2 and "Tiny" in dialog.list.item(0).text()
    with qtbot.waitSignal(dialog.opened, timeout=10_000):
        dialog.download.click()
    assert opened == [str(tmp_path / "tiny.onnx")] and not dialog.busy
    assert "downloaded" in dialog.list.item(0).text()
    assert dialog.download.isEnabled() and not dialog.cancel.isEnabled()
    # the details now say where the file is, and the button opens it without a download
    assert str(tmp_path / "tiny.onnx") in dialog.details.text()
    assert dialog.download.text() == "Open"
    dialog.list.setCurrentRow(1)
    assert "Not downloaded" in dialog.details.text()
    assert dialog.download.text() == "Download and open"


def test_gallery_details_say_what_the_model_takes_and_gives(qtbot, tmp_path):
    dialog = GalleryDialog(lambda path: None, cache=tmp_path)
    qtbot.addWidget(dialog)
    text = dialog.details.text()
    model = dialog.models[0]
    assert model.name in text and model.licence in text and model.page in text
    assert "3 x 224 x 224" in text and "1000 scores, one per class" in text
    assert "Not downloaded" in text
    # a cached file whose size no longer matches its record is not called downloaded
    (tmp_path / model.file_name).write_bytes(b"short")
    record = tmp_path / "recorded.json"
    record.write_text(json.dumps({model.id: {"size": 9, "sha256": "ab"}}))
    dialog.list.setCurrentRow(1)
    dialog.list.setCurrentRow(0)
    assert "Not downloaded" in dialog.details.text()
    record.write_text(json.dumps({model.id: {"size": 5, "sha256": "abcdef"}}))
    dialog.list.setCurrentRow(1)
    dialog.list.setCurrentRow(0)
    assert "In your cache" in dialog.details.text() and "abcdef" in dialog.details.text()


def test_gallery_says_what_failed_and_keeps_nothing(qtbot, server, tmp_path):
    dialog = GalleryDialog(lambda path: None, _models(server), tmp_path)
    qtbot.addWidget(dialog)
    dialog.list.setCurrentRow(1)
    dialog.download.click()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)
    assert "transfer" in dialog.status.text()
    assert [p.name for p in tmp_path.iterdir()] == []


def test_gallery_cancel(qtbot, server, tmp_path):
    dialog = GalleryDialog(lambda path: None, _models(server), tmp_path)
    qtbot.addWidget(dialog)
    dialog._stop.set()  # as if Cancel were pressed before the first block arrives
    dialog._stop.clear = lambda: None
    dialog.download.click()
    assert dialog.cancel.isEnabled()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)
    assert "cancelled" in dialog.status.text()
    assert list(tmp_path.iterdir()) == []


def test_file_menu_has_gallery_and_export(main_window, tmp_path):
    assert {"gallery", "export"} <= set(main_window.actions_by_name)
    assert export_current(main_window, "onnx", str(tmp_path / "net.onnx"))
    again = load_onnx(tmp_path / "net.onnx")
    assert [n.name for n in again] == [n.name for n in main_window.session.pipeline]
    assert export_current(main_window, "numpy", str(tmp_path / "net.py"))
    assert (tmp_path / "net.npz").is_file()
    assert not export_current(main_window, "caffe", str(tmp_path / "x"))


def test_a_network_whose_output_is_a_map_is_not_read_as_classes():
    """A U-Net's per-pixel output: the predictions dock says so, the maps docks show it."""
    from engine.onnx.importer import load_onnx_model
    from gui.docks.predictions import ends_in_class_scores, predict
    from tests.engine.onnx.networks import unet

    pipeline = load_onnx_model(unet())
    assert ends_in_class_scores(pipeline) is False
    out = pipeline.forward(np.zeros((3, 12, 12), np.float32))[pipeline.nodes[-1].name]
    assert out.shape == (3, 12, 12) and predict(out, False) is None
