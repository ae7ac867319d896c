"""(c) No string literal reaches a Qt text setter without going through gettext.

Walks every module of ``gui/`` (and ``main.py``) and flags a call such as ``setText("...")``,
``QLabel(f"...")`` or ``QMessageBox.warning(self, "...", ...)`` whose text argument is a
literal with letters instead of ``_(...)``. Texts that are not words (``" px"``, ``"x"``, file
names, numbers formatted for a cell) are literals that need no translation.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The call and which of its positional arguments are texts (None: every one).
SETTERS: dict[str, frozenset[int] | None] = {
    **dict.fromkeys(("setText", "setToolTip", "setWindowTitle", "setStatusTip", "showMessage",
                     "setPlaceholderText", "setTitle", "setWhatsThis", "setLabelText",
                     "setInformativeText", "setDetailedText", "setSpecialValueText",
                     "QLabel", "QPushButton", "QCheckBox", "QRadioButton", "QGroupBox",
                     "QToolButton", "QMenu", "QAction", "addMenu"), frozenset({0})),
    **dict.fromkeys(("addItem", "addRow"), frozenset({0})),
    **dict.fromkeys(("addAction",), frozenset({0, 1})),
    **dict.fromkeys(("addTab", "setTabText", "setTabToolTip", "setItemText", "insertItem"),
                    frozenset({1})),
    **dict.fromkeys(("information", "warning", "critical", "question", "about",
                     "getText", "getInt", "getItem"), frozenset({1, 2})),
    # (parent, caption, folder or file name, filters)
    **dict.fromkeys(("getOpenFileName", "getSaveFileName", "getExistingDirectory"),
                    frozenset({1, 3})),
}
# Literals that are not words of a language: units, symbols, file names, the app's name.
NOT_WORDS = {" px", "x", "b", "y", "w =", "He", "Glorot", "CNN Explorer", "trained.json",
             "cnn-explorer.png", "input", "canvas", "8pt"}


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def _has_words(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value not in NOT_WORDS and sum(c.isalpha() for c in node.value) >= 2
    if isinstance(node, ast.JoinedStr):
        text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        return sum(c.isalpha() for c in text) >= 2
    if isinstance(node, ast.BinOp):
        return _has_words(node.left) or _has_words(node.right)
    if isinstance(node, ast.IfExp):
        return _has_words(node.body) or _has_words(node.orelse)
    return False


def untranslated_texts(source: str, filename: str = "<source>") -> list[str]:
    """``file:line: call(text)`` for every literal text passed to a Qt setter in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or _name(node.func) not in SETTERS:
            continue
        positions = SETTERS[_name(node.func)]
        texts = [a for i, a in enumerate(node.args) if positions is None or i in positions]
        texts += [k.value for k in node.keywords if k.arg in ("text", "toolTip", "title")]
        found += [f"{filename}:{node.lineno}: {_name(node.func)}({ast.unparse(a)[:60]})"
                  for a in texts if _has_words(a)]
    return found


def _sources() -> list[Path]:
    return [ROOT / "main.py", *sorted((ROOT / "gui").rglob("*.py"))]


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_literal_text_reaches_a_qt_setter(path):
    assert untranslated_texts(path.read_text(encoding="utf-8"), path.name) == []


@pytest.mark.parametrize("source", [
    'label.setText("Waiting for a frame")',
    'QLabel(f"{n} maps")',
    'button.setToolTip("Run " + name)',
    'QMessageBox.warning(self, "Problem", text)',
    'menu.addAction("Open")',
    'tabs.addTab(page, "Edit filter")',
    'box.setTitle("Shown" if on else "Hidden")',
])
def test_the_check_finds_literal_texts(source):
    assert len(untranslated_texts(source)) == 1


@pytest.mark.parametrize("source", [
    'label.setText(_("Waiting for a frame"))',
    'QLabel(_("{n} maps").format(n=n))',
    'spin.setSuffix(" px")',
    'combo.addItem(name, "key")',
    'label.setText(f"{value:.3g}")',
])
def test_the_check_lets_translated_texts_and_non_words_pass(source):
    assert untranslated_texts(source) == []
