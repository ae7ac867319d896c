"""File > Model gallery: pick a pretrained classifier, download it with a progress bar and
Cancel, then open it. The download runs on a worker thread (engine.gallery does the work); the
dialog only shows its progress and its one-line outcome."""

from __future__ import annotations

import html
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from engine.gallery import (
    Cancelled,
    DownloadError,
    cache_dir,
    cached_record,
    download_model,
    load_catalog,
)
from engine.i18n import _, ngettext

__all__ = ["GalleryDialog"]


class _Download(QObject):
    """Runs one download on its thread; reports progress and the outcome as signals."""

    progressed = Signal(int, int)  # bytes so far, total (0: unknown)
    finished = Signal(str, str)  # (path, "") on success, ("", message) on failure or cancel

    def __init__(self, model, cache, stop: threading.Event):
        super().__init__()
        self.model, self.cache, self.stop = model, cache, stop

    def run(self) -> None:
        try:
            path = download_model(self.model, self.cache,
                                  progress=lambda done, total: self.progressed.emit(
                                      done, total or 0),
                                  cancelled=self.stop.is_set)
        except Cancelled:
            self.finished.emit("", _("Download cancelled; nothing was kept."))
        except (DownloadError, OSError, ValueError) as error:
            self.finished.emit("", str(error))
        else:
            self.finished.emit(str(path), "")


class GalleryDialog(QDialog):
    """The catalog as a list; Download and open fetches the chosen model, then ``on_open(path)``.

    ``models`` and ``cache`` default to the bundled catalog and the user's cache folder.
    """

    opened = Signal(str)

    def __init__(self, on_open, models=None, cache=None, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("Model gallery"))
        self.models = load_catalog() if models is None else list(models)
        self.cache, self.on_open = cache, on_open
        self.list = QListWidget()
        for model in self.models:
            item = QListWidgetItem(self._label(model))
            item.setToolTip(_("{url}\nLicence: {licence}").format(url=model.page or model.url,
                                                                  licence=model.licence))
            self.list.addItem(item)
        self.details = QLabel()  # the selected model: what it takes, gives, and where it is
        self.details.setWordWrap(True)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setOpenExternalLinks(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.details.setMinimumWidth(300)
        self.list.currentRowChanged.connect(self._show_details)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status = QLabel(_("Pretrained ImageNet classifiers from the ONNX Model Zoo,"
                               " downloaded once into your cache folder."))
        self.status.setWordWrap(True)
        self.download = QPushButton(_("Download and open"))
        self.cancel = QPushButton(_("Cancel download"))
        self.cancel.setEnabled(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.download, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.cancel, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.download.clicked.connect(self.start)
        self.cancel.clicked.connect(self.stop)
        top = QHBoxLayout()
        top.addWidget(self.list, 1)
        top.addWidget(self.details, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        for widget in (self.progress, self.status, buttons):
            layout.addWidget(widget)
        self._thread: QThread | None = None
        self._stop = threading.Event()
        self.list.setCurrentRow(0)
        self.resize(720, 360)

    def _show_details(self, row: int) -> None:
        """Fill the details pane for the model in ``row`` and name the button after what it
        will do (open a cached file, or download it first)."""
        if not 0 <= row < len(self.models):
            self.details.clear()
            return
        model = self.models[row]
        record = cached_record(model, self.cache)
        self.download.setText(_("Open") if record else _("Download and open"))
        self.details.setText(gallery_details(model, record, self.cache))

    def _label(self, model) -> str:
        here = cached_record(model, self.cache) is not None
        text = _("{name} ({size:g} MB, {licence})").format(name=model.name, size=model.size_mb,
                                                         licence=model.licence)
        return text + (_(" - downloaded") if here else "")

    def start(self) -> None:
        """Download the selected model on a worker thread."""
        model = self.models[max(0, self.list.currentRow())]
        self._stop.clear()
        self.download.setEnabled(False)
        self.cancel.setEnabled(True)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)  # busy until the size is known
        self.status.setText(_("Downloading {name}...").format(name=model.name))
        self._thread = QThread(self)
        self._worker = _Download(model, self.cache, self._stop)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progressed.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        self._worker.finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)
        self._thread.start()

    def stop(self) -> None:
        """Ask the running download to stop; it removes what it wrote."""
        self._stop.set()
        self.status.setText(_("Cancelling..."))

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def _on_progress(self, done: int, total: int) -> None:
        if total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * done / total))
        self.progress.setFormat(_("{done:.1f} MB").format(done=done / 1e6))

    def _on_finished(self, path: str, message: str) -> None:
        self._thread.quit()
        self._thread.wait()
        self._thread = None
        self.download.setEnabled(True)
        self.cancel.setEnabled(False)
        self.progress.setVisible(False)
        row = max(0, self.list.currentRow())
        self.list.item(row).setText(self._label(self.models[row]))
        self._show_details(row)
        if message:
            self.status.setText(message)
            return
        self.status.setText(_("Downloaded to {path}.").format(path=path))
        self.opened.emit(path)
        self.on_open(path)

    def reject(self) -> None:
        if self.busy:
            self.stop()
            self._thread.quit()
            self._thread.wait()
        super().reject()


def gallery_details(model, record: dict | None, cache=None) -> str:
    """Rich text for the details pane: source, licence, input and its preparation, output, and
    whether (and where) the file is in the cache."""
    e = html.escape
    c, h, w = model.input
    lines = [f"<b>{e(model.name)}</b>",
             _("Download: {size:g} MB. Licence: {licence}.").format(size=model.size_mb,
                                                                  licence=e(model.licence))]
    if model.page:
        link = _("Where it is published")
        lines.append(f'<a href="{e(model.page, quote=True)}">{e(link)}</a>')
    lines.append(_("Input: {c} x {h} x {w} ({prepared}).").format(
        c=c, h=h, w=w, prepared=e(model.preprocess.describe())))
    n = model.output_values
    lines.append(ngettext("Output: {n} score, one per class.", "Output: {n} scores, one per"
                          " class.", n).format(n=n) if len(model.class_names) == n else
                 ngettext("Output: {n} value.", "Output: {n} values.", n).format(n=n))
    if record:
        folder = Path(cache) if cache is not None else cache_dir()
        lines.append(_("In your cache: {path} (SHA-256 {sha}...).").format(
            path=e(str(folder / model.file_name)), sha=e(str(record.get("sha256", ""))[:16])))
    else:
        lines.append(_("Not downloaded yet: it will be checked and kept in your cache folder."))
    return "<br>".join(lines)
