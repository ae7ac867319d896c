"""The class to explain: "the top class" or any class, picked from a list or typed by name.

:class:`ClassChoice` owns an editable combo box: its first entry is the top class of each frame
(the default), then every class by name; typing part of a name (``"tabby"`` among the 1,000
ImageNet classes) offers the matching ones.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QCompleter

from engine.i18n import _
from gui.labels import ClassNames, class_names, model_path_of

__all__ = ["ClassChoice"]

TOP = -1  # the combo's data for "the top class"


class ClassChoice:
    """The class combo box and the names it was filled with."""

    def __init__(self) -> None:
        self.names: ClassNames | None = None
        self._key = None
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(8)
        self.combo.setToolTip(_("The class to explain: the top class of each frame, or any"
                                " class (type part of its name)"))
        completer = self.combo.completer()
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.combo.lineEdit().editingFinished.connect(self._on_editing_finished)
        self.update(None, None, None)

    @property
    def target(self) -> int | None:
        """The class index chosen, or None for the top class."""
        data = self.combo.currentData()
        return None if data is None or data == TOP else int(data)

    def name(self, k: int) -> str:
        """The name of class ``k`` (its number when there are no names)."""
        if self.names is not None and 0 <= k < len(self.names):
            return self.names[k]
        return _("class {k}").format(k=k)

    def update(self, pipeline, n_classes: int | None, session_path: str | None) -> None:
        """Fill the list for a network with ``n_classes`` classes (None: not a classifier)."""
        path = model_path_of(pipeline, session_path) if pipeline is not None else None
        # By name and file, not by object: an edit of the network keeps the class chosen.
        key = (getattr(pipeline, "name", None), n_classes, path)
        if key == self._key:
            return
        self._key = key
        self.names = (class_names(n_classes, pipeline, path)
                      if pipeline is not None and n_classes else None)
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem(_("Top class"), TOP)
        self.combo.setItemData(0, _("Whatever class the network ranks first on each frame"),
                               Qt.ItemDataRole.ToolTipRole)
        for k, name in enumerate(self.names or ()):
            self.combo.addItem(name, k)
        self.combo.setCurrentIndex(0)
        self.combo.setEnabled(bool(self.names))
        self.combo.blockSignals(False)

    def select(self, k: int | None) -> None:
        """Choose class ``k`` (None: the top class)."""
        index = self.combo.findData(TOP if k is None else int(k))
        self.combo.setCurrentIndex(max(index, 0))
        self.combo.activated.emit(self.combo.currentIndex())

    def _on_editing_finished(self) -> None:
        """A typed name picks its class; text that names none goes back to the choice."""
        text = self.combo.currentText().strip()
        index = self.combo.findText(text, Qt.MatchFlag.MatchFixedString)
        if index < 0:
            matches = [i for i in range(self.combo.count())
                       if text and text.lower() in self.combo.itemText(i).lower()]
            index = matches[0] if len(matches) == 1 else -1
        if index >= 0 and index != self.combo.currentIndex():
            self.combo.setCurrentIndex(index)
            self.combo.activated.emit(index)
        else:
            self.combo.setEditText(self.combo.itemText(self.combo.currentIndex()))
