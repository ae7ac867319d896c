"""Helpers of the translation tests: every text a window shows, and English words in them.

:func:`shown_texts` walks a widget tree and collects what a user can read: labels, buttons,
titles, tooltips, combo-box items and their tooltips, tab texts, table headers, menu entries.
:func:`english_words` finds words that are English and not Portuguese in a text; proper names,
units and the technical terms Brazilian classrooms use in English (kernel, pipeline, stride,
padding, pooling, ReLU, ...) are not in its list, so they pass.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMenu,
    QTabBar,
    QWidget,
)

__all__ = ["ENGLISH", "english_words", "shown_texts"]

# Words of the window's English texts that Portuguese does not share (no "a", "no", "do", "as",
# "se", "para": those are Portuguese words too).
ENGLISH = frozenset(re.split(r"\s+", """
the of and to with from for is are this that these those on at by or not its it
input inputs output outputs layer layers map maps image images sample samples scale per
color colour colors unchanged file edit view help open save show hide click step steps
filter filters channel channels weight weights value values shape waiting frame frames
none all each every select selected gray grey play stop start next previous run camera
first last left right top bottom new delete add apply cancel close
network networks training learning rate loss accuracy epoch epochs class
picture pictures drawing draw folder video videos source settings mistakes curves
smoothing seed optimizer schedule validation preset random bias mean range width height
when while where what which how why there here than more less only same other
lesson lessons panel panels presenter mode copy screen actual size larger smaller speed
""".strip()))
# English terms Brazilian classrooms use as they are, allowed where they stand; key names.
TERMS = ("batch size", "data augmentation", "fast gradient sign method", "skip connection",
         "max pooling", "average pooling", "batch norm", "warm-up", "train-images", "train-labels",
         "Page Up", "Page Down", "Alt+Up", "Alt+Down", "Alt+Left", "Alt+Right", "Left arrow",
         "Right arrow")


def english_words(text: str) -> list[str]:
    """The words of ``text`` (tags and placeholders removed) that are English, lower-cased."""
    plain = re.sub(r"<[^>]+>", " ", text).replace("&", "")
    for term in TERMS:
        plain = plain.replace(term, " ")
    plain = re.sub(r"\w+\[[^\]]*\]|\w+\([^)]*=[^)]*\)", " ", plain)  # output[0, 0], Conv2d(k=3)
    words = re.findall(r"[A-Za-zÀ-ÿ_]+", plain)
    return [w.lower() for w in words if w.lower() in ENGLISH]


def _item_texts(view: QAbstractItemView) -> list[str]:
    model = view.model()
    if model is None:
        return []
    texts = []
    try:
        columns = model.columnCount(QModelIndex())
    except TypeError:  # a list model: one column, no header
        return []
    for section in range(columns):
        for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            value = model.headerData(section, Qt.Orientation.Horizontal, role)
            if isinstance(value, str):
                texts.append(value)
    return texts


def _skipped(widget: QWidget, skip: tuple[QWidget, ...]) -> bool:
    """Inside one of ``skip``, or part of pyqtgraph's own menus (its texts are not ours)."""
    while widget is not None:
        if widget in skip or type(widget).__module__.startswith("pyqtgraph"):
            return True
        widget = widget.parentWidget()
    return False


def shown_texts(root: QWidget, skip: tuple[QWidget, ...] = ()) -> list[tuple[str, str]]:
    """(where, text) for every readable text under ``root`` (``root`` included), leaving out
    the widgets under ``skip``."""
    found: list[tuple[str, str]] = []

    def add(widget, kind, text):
        if isinstance(text, str) and text.strip():
            found.append((f"{type(widget).__name__} {widget.objectName()!r} {kind}", text))

    for widget in [root, *root.findChildren(QWidget)]:
        if _skipped(widget, skip):
            continue
        add(widget, "tooltip", widget.toolTip())
        add(widget, "title", widget.windowTitle() if isinstance(widget, QDockWidget) else "")
        if isinstance(widget, (QLabel, QAbstractButton)):
            add(widget, "text", widget.text())
        if isinstance(widget, QGroupBox):
            add(widget, "title", widget.title())
        if isinstance(widget, QLineEdit):
            add(widget, "placeholder", widget.placeholderText())
        if isinstance(widget, QComboBox):
            for i in range(widget.count()):
                add(widget, f"item {i}", widget.itemText(i))
                add(widget, f"item {i} tooltip", widget.itemData(i, Qt.ItemDataRole.ToolTipRole))
        if isinstance(widget, QTabBar):
            for i in range(widget.count()):
                add(widget, f"tab {i}", widget.tabText(i))
                add(widget, f"tab {i} tooltip", widget.tabToolTip(i))
        if isinstance(widget, QAbstractItemView):
            for text in _item_texts(widget):
                add(widget, "header", text)
        if isinstance(widget, QMenu):
            add(widget, "menu", widget.title())
            for action in widget.actions():
                add(widget, f"action {action.objectName()!r}", action.text())
                add(widget, f"action {action.objectName()!r} tip", action.toolTip())
    return found
