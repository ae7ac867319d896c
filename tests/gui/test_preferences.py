"""Edit > Preferences: the language list, and the command that restarts the window in it."""

from __future__ import annotations

import sys

from engine import i18n
from gui.dialogs.preferences import PreferencesDialog, install_qt_translations, restart_command


def test_the_dialog_offers_both_languages_and_starts_on_the_current_one(qtbot):
    dialog = PreferencesDialog()
    qtbot.addWidget(dialog)
    assert [dialog.combo.itemData(i) for i in range(dialog.combo.count())] == ["en", "pt_BR"]
    assert dialog.language == i18n.current_language() == "en"
    dialog.combo.setCurrentIndex(1)
    assert dialog.language == "pt_BR"


def test_the_restart_runs_this_program_in_the_new_language():
    program, arguments = restart_command("pt_BR")
    assert program == sys.executable
    assert arguments[-2:] == ["--lang", "pt_BR"] and arguments[0].endswith(".py")


def test_qt_translations_exist_for_portuguese_only(qapp):
    assert install_qt_translations(qapp, "en") is None
    translator = install_qt_translations(qapp, "pt_BR")
    assert translator is not None and translator.language() == "pt_BR"
    qapp.removeTranslator(translator)


def test_choosing_a_language_saves_it_closes_and_restarts_the_window(qtbot, monkeypatch,
                                                                     main_window):
    from PySide6.QtCore import QProcess
    from PySide6.QtWidgets import QDialog

    from gui.dialogs import preferences

    def choose_portuguese(dialog):
        dialog.combo.setCurrentIndex(dialog.combo.findData("pt_BR"))
        return QDialog.DialogCode.Accepted

    started = []
    monkeypatch.setattr(PreferencesDialog, "exec", choose_portuguese)
    monkeypatch.setattr(QProcess, "startDetached", lambda *args: started.append(args) or True)
    assert preferences.show_preferences(main_window) == "pt_BR"
    assert i18n.saved_language() == "pt_BR"
    assert not main_window.isVisible()  # closed: the session and layout were saved
    assert started == [restart_command("pt_BR")]


def test_keeping_the_language_restarts_nothing(qtbot, monkeypatch, main_window):
    from PySide6.QtWidgets import QDialog

    from gui.dialogs import preferences

    monkeypatch.setattr(PreferencesDialog, "exec", lambda dialog: QDialog.DialogCode.Accepted)
    assert preferences.show_preferences(main_window) is None
    assert main_window.isVisible() and i18n.saved_language() is None
