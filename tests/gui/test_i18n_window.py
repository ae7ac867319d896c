"""The window in Brazilian Portuguese: (a) no English left in any panel, menu or dialog, and
(d) a pseudo-language 40% longer (accented) cuts nothing off at 1280 x 800.

The guided tour's panel is left out: its stops become a bundled lesson with both languages in
the lesson file (issue 18, section 3). Layer and node names come from the network (``conv1``,
``input``): they are names, not words to translate.
"""

from __future__ import annotations

import gettext
import io
import re

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from PySide6.QtWidgets import QAbstractButton, QLabel, QMenu

from engine import i18n
from tests.gui.i18n_support import english_words, shown_texts


@pytest.fixture
def portuguese():
    i18n.set_language("pt_BR")
    yield
    i18n.set_language("en")


def _open_everything(qtbot, window) -> list:
    """Every dock built and shown, each workspace visited; returns the dialogs opened too."""
    from gui.dialogs.preferences import PreferencesDialog
    from gui.help import ShortcutsWindow
    from gui.lesson.editor import StepEditor
    from gui.welcome import WelcomeDialog

    for key in ("train", "lecture", "explore"):
        window.show_workspace(key)
        qtbot.wait(50)
    for dock in window.docks.values():
        if hasattr(dock, "ensure_built"):
            dock.ensure_built()
        dock.show()
    qtbot.waitUntil(lambda: window.live.latest is not None, timeout=10000)
    qtbot.wait(300)
    dialogs = [PreferencesDialog(window), ShortcutsWindow(window.menus, parent=window),
               WelcomeDialog(lambda: None, parent=window),
               StepEditor(i18n._("Add this view as a step"), parent=window)]
    for dialog in dialogs:
        dialog.show()
    qtbot.wait(50)
    return dialogs


def test_the_portuguese_window_shows_no_english(qtbot, portuguese, session, live):
    from PySide6.QtWidgets import QApplication

    from gui.dialogs.preferences import install_qt_translations
    from gui.main_window import MainWindow

    qt_texts = install_qt_translations(QApplication.instance(), "pt_BR")  # Qt's own buttons
    assert qt_texts is not None
    window = MainWindow(session, live, persist=False)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    dialogs = _open_everything(qtbot, window)
    names = {session.pipeline.input_name, *(node.name for node in session.pipeline.nodes)}
    english = []
    for root in (window, *dialogs):
        for where, text in shown_texts(root, skip=(window.docks["tour"],)):
            plain = text
            for name in names:
                plain = re.sub(rf"\b{re.escape(name)}\b", " ", plain)
            if english_words(plain):
                english.append((where, text[:90], english_words(plain)[:3]))
    window.close()
    QApplication.instance().removeTranslator(qt_texts)
    assert english == [], "\n".join(map(str, english))


def _pseudo(text: str) -> str:
    """``text`` accented and 40% longer; placeholders, tags, escapes and accelerators kept."""
    accents = str.maketrans("aeiouAEIOUcnyCNY", "áéíóúÁÉÍÓÚçñýÇÑÝ")
    parts = re.split(r"(\{[^{}]*\}|%\([a-z_]+\)[a-z]|%[a-z]|<[^>]+>|&[a-z]+;|\n)", text)
    body = "".join(p if i % 2 else p.translate(accents) for i, p in enumerate(parts))
    extra = round(0.4 * len(re.sub(r"<[^>]+>", "", text)))
    return body + " " + "ẍ" * max(extra - 1, 0) if extra else body


def _pseudo_translations() -> gettext.GNUTranslations:
    """A catalog from the template (.pot) with every message pseudo-translated."""
    with (i18n.LOCALE_DIR / f"{i18n.DOMAIN}.pot").open("rb") as fh:
        catalog = read_po(fh, locale="en")
    for message in catalog:
        if message.id:
            ids = [message.id] if isinstance(message.id, str) else list(message.id)
            pseudo = [_pseudo(i) for i in ids]
            message.string = pseudo[0] if isinstance(message.id, str) else tuple(pseudo)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def test_pseudo_translation_keeps_placeholders_and_grows():
    text = _pseudo("Open {name} at <b>{n:,}</b> pixels")
    assert "{name}" in text and "{n:,}" in text and "<b>" in text and "Ópéñ" in text
    assert len(text) >= 1.4 * len("Open {name} at {n:,} pixels")


@pytest.fixture
def pseudo_language(monkeypatch):
    monkeypatch.setattr(i18n, "_translation", _pseudo_translations())
    yield
    i18n.set_language("en")


def _cut_off(window) -> list[str]:
    """Visible one-line labels and buttons narrower than their text, and menus wider than the
    screen. The status bar is left out: a long message there is elided in every language."""
    cut = []
    for widget in window.findChildren(QLabel) + window.findChildren(QAbstractButton):
        if not widget.isVisible() or widget.visibleRegion().isEmpty():
            continue
        if window.statusBar().isAncestorOf(widget):
            continue
        if isinstance(widget, QLabel) and (widget.wordWrap() or not widget.text()):
            continue
        if widget.width() + 1 < widget.sizeHint().width():
            text = widget.text() if hasattr(widget, "text") else ""
            cut.append(f"{type(widget).__name__} {text[:50]!r}: {widget.width()} < "
                       f"{widget.sizeHint().width()}")
    for menu in window.menuBar().findChildren(QMenu):
        if menu.sizeHint().width() > 1280:
            cut.append(f"menu {menu.title()!r} is {menu.sizeHint().width()} px wide")
    return cut


def test_a_language_40_percent_longer_cuts_nothing_off(qtbot, pseudo_language, session, live):
    from gui.main_window import MainWindow

    window = MainWindow(session, live, persist=False)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    window.apply_default_layout()
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.live.latest is not None, timeout=10000)
    qtbot.wait(400)
    assert "ẍ" in window.menuBar().actions()[0].text()  # the pseudo-language is on
    cut = _cut_off(window)
    assert cut == [], "\n".join(cut)
    window.close()
