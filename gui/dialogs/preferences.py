"""Preferences: the language of the window (saved in the user's config folder).

A new language needs a new window: every text was translated when its widget was built. The
window closes (saving the session and the layout as on any close) and starts again in the new
language, restoring them, so nothing of the work is lost.
"""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QLibraryInfo, QLocale, QProcess, QTranslator
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import LANGUAGES, _, current_language, save_language

__all__ = ["PreferencesDialog", "install_qt_translations", "restart_command", "show_preferences"]


def install_qt_translations(app: QApplication, language: str) -> QTranslator | None:
    """Qt's own texts (file dialogs, message-box buttons) in ``language``, from the catalogs
    PySide6 ships; None for English or when Qt has no catalog for it."""
    if language == "en":
        return None
    translator = QTranslator(app)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if not translator.load(QLocale(language), "qtbase", "_", folder):
        return None
    app.installTranslator(translator)
    return translator


class PreferencesDialog(QDialog):
    """The language choice; :attr:`language` holds the chosen code after ``exec``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Preferences"))
        self.combo = QComboBox()
        for code, name in LANGUAGES.items():
            self.combo.addItem(name, code)
        self.combo.setCurrentIndex(max(0, self.combo.findData(current_language())))
        self.combo.setToolTip(_("The language of menus, panels, messages and the command line"))
        form = QFormLayout()
        form.addRow(_("Language"), self.combo)
        note = QLabel(_("Changing the language restarts the window; your image, network and "
                        "panels come back as they are."))
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    @property
    def language(self) -> str:
        return self.combo.currentData()


def restart_command(language: str) -> tuple[str, list[str]]:
    """The program and arguments that start the window again in ``language``."""
    module = sys.modules.get("main") or sys.modules["__main__"]
    script = os.path.abspath(getattr(module, "__file__", sys.argv[0]))
    return sys.executable, [script, "--lang", language]


def show_preferences(window: QWidget) -> str | None:
    """Ask for the preferences; a new language is saved and the window restarts in it.

    Returns the newly chosen language, or None when nothing changed.
    """
    dialog = PreferencesDialog(window)
    if dialog.exec() != QDialog.DialogCode.Accepted or dialog.language == current_language():
        return None
    language = dialog.language
    save_language(language)
    window.close()  # saves the session and the layout, which the new window restores
    program, arguments = restart_command(language)
    QProcess.startDetached(program, arguments)
    return language
