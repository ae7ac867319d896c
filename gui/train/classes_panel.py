"""The Your classes panel: add a class, hold Record to take frames of it from the webcam, a
video or the drawing canvas, see them, delete bad ones. The frames go to the recorded data set
folder at once (:mod:`gui.train.recording`), so they survive a restart."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import _, ngettext
from gui.train.controller import controller_for
from gui.train.frame_source import FrameSourceView
from gui.train.pictures import ThumbGrid
from gui.train.recording import DEFAULT_DATASET, list_datasets

__all__ = ["RECORD_MS", "TrainClassesDock"]

RECORD_MS = 200  # five frames a second while Record is held


class TrainClassesDock(QWidget):
    """The Your classes panel (registered as "train_classes")."""

    def __init__(self, session, live, parent=None) -> None:
        super().__init__(parent)
        self.session, self.live = session, live
        self.controller = c = controller_for(session, live)
        self.dataset = QComboBox()
        self.dataset.setToolTip(_("The recorded data set: a folder of class folders in your"
                                  " data folder"))
        self.dataset.activated.connect(lambda _i: c.set_recorded(self.dataset.currentText()))
        new_set = QPushButton(_("New..."))
        new_set.setToolTip(_("Start another recorded data set"))
        new_set.clicked.connect(self.ask_new_dataset)
        top = QHBoxLayout()
        top.addWidget(QLabel(_("Data set")))
        top.addWidget(self.dataset, 1)
        top.addWidget(new_set)
        self.classes = QListWidget()
        self.classes.setToolTip(_("Your classes and how many frames each has; select one to"
                                  " record into it"))
        self.classes.setMaximumHeight(84)
        self.classes.currentRowChanged.connect(lambda _r: self._show_frames())
        add = QPushButton(_("Add class..."))
        add.setToolTip(_("A new class: give it a name, then record frames of it"))
        add.clicked.connect(self.ask_add_class)
        self.remove = QPushButton(_("Delete class"))
        self.remove.setToolTip(_("Delete the selected class and all its frames"))
        self.remove.clicked.connect(self.ask_delete_class)
        class_row = QHBoxLayout()
        class_row.addWidget(add)
        class_row.addWidget(self.remove)
        self.frames = FrameSourceView(session, live)
        self.frames.problem.connect(self.say)
        self.source = self.frames.source  # the panel's parts, by their names
        self.record = QPushButton(_("Hold to record"))
        self.record.setToolTip(_("Hold the button down: five frames a second go into the"
                                 " selected class. A click takes one frame."))
        self.record.pressed.connect(self._on_record_pressed)
        self.record.released.connect(self._on_record_released)
        self.thumbs = ThumbGrid(48)
        self.thumbs.setMinimumHeight(2 * self.thumbs.gridSize().height() + 8)
        self.thumbs.setToolTip(_("The frames of the selected class; select bad ones and delete"
                                 " them"))
        self.delete_frames = QPushButton(_("Delete selected frames"))
        self.delete_frames.setToolTip(_("Delete the frames selected above"))
        self.delete_frames.clicked.connect(self.delete_selected_frames)
        self.message = QLabel()
        self.message.setWordWrap(True)
        inner = QWidget()  # in a scroll area: a short window scrolls the panel, never clips it
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        layout = QVBoxLayout(inner)
        layout.addLayout(top)
        layout.addWidget(self.classes)
        layout.addLayout(class_row)
        layout.addWidget(self.frames)
        layout.addWidget(self.record)
        layout.addWidget(self.thumbs, 1)
        layout.addWidget(self.delete_frames)
        layout.addWidget(self.message)
        scroll.setWidget(inner)
        self._timer = QTimer(self)
        self._timer.setInterval(RECORD_MS)
        self._timer.timeout.connect(self.record_frame)
        c.recordedChanged.connect(lambda _r: self._refresh())
        self._refresh()

    @property
    def recorded(self):
        return self.controller.recorded

    def hideEvent(self, event) -> None:
        self._timer.stop()  # a hidden panel records nothing
        super().hideEvent(event)

    def open_camera(self) -> None:
        self.frames.open_camera()

    # -- recording --------------------------------------------------------------------------
    def selected_class(self) -> str | None:
        item = self.classes.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def record_frame(self) -> bool:
        """Store the current frame in the selected class; False (and a message) if it cannot."""
        name = self.selected_class()
        if name is None:
            self.say(_("Add a class first (Add class...), then record frames of it."))
            self._timer.stop()
            return False
        frame = self.frames.current_frame()
        if frame is None:
            self.say(_("There is no frame to record yet: open a camera or a video, or choose"
                       " the drawing canvas."))
            self._timer.stop()
            return False
        path = self.recorded.add_frame(name, frame)
        self.thumbs.add_item(frame, path.stem, str(path), str(path))
        self.thumbs.scrollToBottom()
        self._set_class_text(self.classes.currentItem(), name)
        self.say("")
        return True

    def _on_record_pressed(self) -> None:
        if self.record_frame():
            self._timer.start()

    def _on_record_released(self) -> None:
        self._timer.stop()
        self.controller.recorded_edited()

    # -- classes ----------------------------------------------------------------------------
    def add_class(self, name: str) -> bool:
        try:
            name = self.recorded.add_class(name)
        except (OSError, ValueError) as error:
            self.say(str(error))
            return False
        self.controller.recorded_edited()
        self._select(name)
        return True

    def ask_add_class(self) -> None:
        name, ok = QInputDialog.getText(self, _("Add class"), _("Name of the new class:"))
        if ok and name.strip():
            self.add_class(name)

    def ask_delete_class(self) -> None:
        name = self.selected_class()
        if name is None:
            return
        count = self.recorded.count(name)
        if count and QMessageBox.question(
                self, _("Delete class"),
                _("Delete the class {name!r} and its {n} frames?").format(name=name, n=count),
        ) != QMessageBox.StandardButton.Yes:
            return
        self.recorded.delete_class(name)
        self.controller.recorded_edited()

    def ask_new_dataset(self) -> None:
        name, ok = QInputDialog.getText(self, _("New data set"), _("Name of the data set:"))
        if ok and name.strip():
            from gui.train.recording import clean_name

            try:
                name = clean_name(name)
            except ValueError as error:
                self.say(str(error))
                return
            self.controller.set_recorded(name)

    def delete_selected_frames(self) -> None:
        self.recorded.delete_frames(self.thumbs.selected_data())
        self.controller.recorded_edited()

    # -- views ------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        self.message.setStyleSheet("color: #c62828;" if text else "")
        self.message.setText(text)

    def _set_class_text(self, item, name: str) -> None:
        n = self.recorded.count(name)
        item.setText(ngettext("{name}  ({n} frame)", "{name}  ({n} frames)", n).format(
            name=name, n=n))

    def _select(self, name: str) -> None:
        for row in range(self.classes.count()):
            if self.classes.item(row).data(Qt.ItemDataRole.UserRole) == name:
                self.classes.setCurrentRow(row)

    def _refresh(self) -> None:
        names = list_datasets()
        current = self.recorded.name
        self.dataset.blockSignals(True)
        self.dataset.clear()
        self.dataset.addItems(sorted({*names, current, DEFAULT_DATASET}))
        self.dataset.setCurrentText(current)
        self.dataset.blockSignals(False)
        selected = self.selected_class()
        self.classes.blockSignals(True)
        self.classes.clear()
        for name in self.recorded.classes():
            self.classes.addItem(name)
            item = self.classes.item(self.classes.count() - 1)
            item.setData(Qt.ItemDataRole.UserRole, name)
            self._set_class_text(item, name)
        self.classes.blockSignals(False)
        self.remove.setEnabled(self.classes.count() > 0)
        if self.classes.count():  # selecting shows the class's frames
            self._select(selected if selected in self.recorded.classes() else
                         self.classes.item(0).data(Qt.ItemDataRole.UserRole))
        else:
            self._show_frames()

    def _show_frames(self) -> None:
        from engine.io.media import MediaError, read_image

        name = self.selected_class()
        items = []
        for path in self.recorded.frames(name) if name else []:
            try:
                items.append((read_image(path), path.stem, str(path), str(path)))
            except MediaError:
                continue
        self.thumbs.set_items(items)
