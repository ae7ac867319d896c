"""The step editor: a step's title, its text (Markdown, with a live preview) and its formula."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from engine.i18n import _, current_language
from gui.lesson.markdown_view import ClosedTextBrowser

__all__ = ["StepEditor"]


class StepEditor(QDialog):
    """Asks for a step's title, text and formula in the language on show.

    Parameters
    ----------
    heading : str
        The dialog's title.
    values : (title, text, formula), optional
        What the fields start with.
    """

    def __init__(self, heading: str, parent: QWidget | None = None,
                 values: tuple[str, str, str] = ("", "", "")) -> None:
        super().__init__(parent)
        self.setWindowTitle(heading)
        self.resize(560, 520)
        self.title = QLineEdit(values[0])
        self.title.setPlaceholderText(_("A few words, such as: Stride and output size"))
        self.text = QPlainTextEdit(values[1])
        self.text.setPlaceholderText(_("What the students should look at. Markdown works:"
                                       " **bold**, *italic*, lists with -, `code`."))
        self.preview = ClosedTextBrowser()
        self.preview.setToolTip(_("The text as the lesson panel will show it"))
        self.formula = QPlainTextEdit(values[2])
        self.formula.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.formula.setPlaceholderText(_("Optional: a formula with the numbers, shown in a box"))
        self.formula.setMaximumHeight(110)
        self.text.textChanged.connect(self._on_text_changed)
        self._on_text_changed()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.title.textChanged.connect(self._on_title_changed)
        self._on_title_changed()
        form = QFormLayout(self)
        form.addRow(_("Language"), QLabel(current_language()))
        form.addRow(_("Title"), self.title)
        form.addRow(_("Text"), self.text)
        form.addRow(_("Preview"), self.preview)
        form.addRow(_("Formula"), self.formula)
        form.addRow(self.buttons)

    def _on_text_changed(self) -> None:
        self.preview.setMarkdown(self.text.toPlainText())

    def _on_title_changed(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.title.text().strip()))
        ok.setToolTip("" if ok.isEnabled() else _("Every step needs a title"))

    def values(self) -> tuple[str, str, str]:
        """(title, text, formula) as typed, trimmed."""
        return (self.title.text().strip(), self.text.toPlainText().strip(),
                self.formula.toPlainText().rstrip())
