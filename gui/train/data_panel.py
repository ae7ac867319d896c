"""The Data panel: what to train on (drawn shapes or digits, your own recorded classes, an
image folder, MNIST or Fashion-MNIST files) and how much of it to keep aside to validate."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import N_, _
from gui.train.controller import controller_for

__all__ = ["SOURCES", "TrainDataDock"]

# (key, title, tooltip): how the combo names each kind of data
SOURCES = (
    ("shapes", N_("Drawn shapes"),
     N_("Eight shapes (circle, triangle, square, star, cross, heart, arrow, smiley) drawn"
        " from a seed, like the bundled classifier's training pictures")),
    ("digits", N_("Drawn digits"), N_("The digits 0 to 9 drawn in many fonts and sizes")),
    ("recorded", N_("Your own classes"),
     N_("The classes you record from the webcam, a video or the drawing canvas in the Your"
        " classes panel")),
    ("folder", N_("An image folder"),
     N_("A folder with one subfolder of pictures per class: pets/cat/*.jpg, pets/dog/*.jpg")),
    ("mnist", N_("MNIST files"),
     N_("The MNIST handwritten digits: a folder with train-images-idx3-ubyte(.gz) and"
        " train-labels-idx1-ubyte(.gz)")),
    ("fashion-mnist", N_("Fashion-MNIST files"),
     N_("Fashion-MNIST's ten kinds of clothing: a folder with its IDX files")),
)


def kind_of(data: str, recorded_folder: str) -> tuple[str, str]:
    """The combo's key for the data word ``data``, and the folder it names ("" if none)."""
    word = data.strip()
    if word.lower() in ("shapes", "digits"):
        return word.lower(), ""
    if word == recorded_folder:
        return "recorded", word
    kind, colon, rest = word.partition(":")
    if colon and kind.lower() in ("mnist", "fashion-mnist"):
        return kind.lower(), rest
    return "folder", word


class TrainDataDock(QWidget):
    """The Data panel (registered as "train_data")."""

    def __init__(self, session, live, parent=None) -> None:
        super().__init__(parent)
        self.controller = c = controller_for(session, live)
        self.kind = QComboBox()
        for key, title, tip in SOURCES:
            self.kind.addItem(_(title), key)
            self.kind.setItemData(self.kind.count() - 1, _(tip), 3)  # Qt.ToolTipRole
        self.kind.setToolTip(_("What the network learns to tell apart"))
        self.kind.activated.connect(self._on_edited)
        self._shown_kind = ""
        self.samples = QSpinBox()
        self.samples.setRange(0, 200_000)
        self.samples.setSingleStep(500)
        self.samples.setGroupSeparatorShown(True)
        self.samples.setSpecialValueText(_("all"))
        self.samples.setToolTip(_("How many pictures to draw, or at most how many to read from"
                                  " a folder (all: every one); more pictures learn better but"
                                  " take longer per epoch"))
        self.samples.editingFinished.connect(self._on_edited)
        self.folder = QLineEdit()
        self.folder.setPlaceholderText(_("a folder"))
        self.folder.setToolTip(_("The folder to read: class subfolders, or the IDX files"))
        self.folder.editingFinished.connect(self._on_edited)
        self.browse = QPushButton(_("Browse..."))
        self.browse.setToolTip(_("Choose the folder"))
        self.browse.clicked.connect(self._on_browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.browse)
        self.val = QSpinBox()
        self.val.setRange(0, 50)
        self.val.setSuffix(" %")
        self.val.setToolTip(_("The share of the pictures kept aside: the network never trains"
                              " on them, so its score on them after every epoch (validation)"
                              " tells how well it does on pictures it has not seen"))
        self.val.editingFinished.connect(self._on_edited)
        form = QFormLayout()
        form.addRow(_("Train on"), self.kind)
        self.samples_label = QLabel(_("Pictures"))
        form.addRow(self.samples_label, self.samples)
        self.folder_label = QLabel(_("Folder"))
        form.addRow(self.folder_label, folder_row)
        form.addRow(_("Validation"), self.val)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.locked_note = QLabel(_("The run in progress uses these; press Reset to change"
                                    " them."))
        self.locked_note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.locked_note)
        layout.addStretch(1)
        c.planChanged.connect(self._show_plan)
        c.recordedChanged.connect(lambda _r: self._show_plan(c.plan))
        c.snapshotUpdated.connect(self._on_snapshot)
        c.runChanged.connect(self._on_snapshot)
        self._show_plan(c.plan)
        self._on_snapshot(c.latest)

    # -- model -> view ----------------------------------------------------------------------
    def _show_plan(self, plan) -> None:
        key, folder = kind_of(plan.data, str(self.controller.recorded.folder))
        self._shown_kind = key
        for widget in (self.kind, self.samples, self.folder, self.val):
            widget.blockSignals(True)
        self.kind.setCurrentIndex(self.kind.findData(key))
        self.samples.setValue(plan.samples or 0)
        self.folder.setText(folder)
        self.val.setValue(round(plan.val_split * 100))
        for widget in (self.kind, self.samples, self.folder, self.val):
            widget.blockSignals(False)
        has_folder = key in ("folder", "mnist", "fashion-mnist")
        self.samples.setVisible(key != "recorded")
        self.samples_label.setVisible(key != "recorded")
        for widget in (self.folder_label, self.folder, self.browse):
            widget.setVisible(has_folder)
        self.summary.setText(self._describe(plan, key))

    def _describe(self, plan, key: str) -> str:
        from engine.train.dataset import DatasetError
        from gui.train.plan import input_for, source_classes

        if key == "recorded":
            recorded = self.controller.recorded
            counts = [recorded.count(name) for name in recorded.classes()]
            problem = recorded.problem()
            text = _("The data set {name!r}: {k} classes, {n:,} frames.").format(
                name=recorded.name, k=len(counts), n=sum(counts))
            return f"{text} {problem}" if problem else text
        try:
            classes = source_classes(plan.data)
        except DatasetError as error:
            return str(error)
        (h, w), channels = input_for(plan, self.controller.session.pipeline)
        color = _("RGB") if channels == 3 else _("gray")
        return _("{k} classes: {names}. A fresh network reads them at {h} x {w} {color}.").format(
            k=len(classes), names=", ".join(classes), h=h, w=w, color=color)

    def _on_snapshot(self, snapshot) -> None:
        locked = self.controller.locked
        for widget in (self.kind, self.samples, self.folder, self.browse, self.val):
            widget.setEnabled(not locked)
        self.locked_note.setVisible(locked)

    # -- view -> model ----------------------------------------------------------------------
    def _on_browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, _("Choose the folder"), self.folder.text())
        if path:
            self.folder.setText(path)
            self._on_edited()

    def _on_edited(self, *_args) -> None:
        key = self.kind.currentData()
        folder = self.folder.text().strip()
        if key in ("shapes", "digits"):
            data = key
        elif key == "recorded":
            data = str(self.controller.recorded.folder)
        elif key in ("mnist", "fashion-mnist"):
            data = f"{key}:{folder}"
        else:
            data = folder
        samples = self.samples.value() or None
        drawn = key in ("shapes", "digits")
        if drawn != (self._shown_kind in ("shapes", "digits")):  # another kind: its default
            samples = 2000 if drawn else None
        elif drawn and samples is None:
            samples = 2000
        self.controller.set_plan(data=data, samples=samples, val_split=self.val.value() / 100)
        if key == "recorded":
            window = self.window()
            dock = getattr(window, "docks", {}).get("train_classes")
            if dock is not None:
                dock.show()
