"""The lesson panel: a step's title and text, Previous / Next, the list of steps, and editing.

A teacher opens a lesson (File > Open lesson...) and moves through it with the buttons or a
presentation clicker (Page Down / Page Up, wherever the focus is: :class:`PageKeys`); each step
sets the window up as recorded (:func:`gui.lesson.apply.apply_step`) and anything that could not
be set up is said on that step. To write a lesson, set the window up and press "Add this view";
steps can be edited, moved and deleted, and File > Save lesson... writes the folder.

The panel is built like every other, ``LessonDock(session, live, parent)``, and finds the main
window through its parents.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import _, current_language
from engine.lecture.lesson import Lesson, Step, localized
from gui.lesson.apply import apply_step
from gui.lesson.editor import StepEditor
from gui.lesson.markdown_view import ClosedTextBrowser
from gui.lesson.page_keys import PageKeys
from gui.lesson.record import record_step
from gui.widgets.player_controls import set_warning

__all__ = ["LessonDock"]

_LIST_ROWS = 6  # rows of the step list shown at once; more scroll


class LessonDock(QWidget):
    """The lesson panel (registered as "lesson").

    Signals
    -------
    stepShown(int)
        A step was set up and shown (0-based).
    """

    stepShown = Signal(int)

    def __init__(self, session, live, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.live = session, live
        self.lesson = Lesson()
        self.path: Path | None = None  # the file the lesson was read from or saved to
        self.index = 0
        self.problems: dict[int, list[str]] = {}  # step -> what could not be set up
        self.modified = False
        self.last_focus: str | None = None  # the panel other than this one last in focus
        self._build()
        QApplication.instance().focusChanged.connect(self._on_app_focus_changed)
        self.page_keys = PageKeys(self)
        QApplication.instance().installEventFilter(self.page_keys)
        self.show_step(0)

    # -- construction -------------------------------------------------------------------------
    def _build(self) -> None:
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.heading.setToolTip(_("The lesson and where you are in it"))
        self.steps = QListWidget()
        self.steps.setToolTip(_("Every step of the lesson: click one to go there"))
        # Long titles are cut with "…" (the whole title is the item's tooltip), never scrolled.
        self.steps.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.steps.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.steps.currentRowChanged.connect(self._on_steps_row_changed)
        self.title = QLabel()
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.text = ClosedTextBrowser()
        self.text.setFrameShape(QFrame.Shape.NoFrame)
        self.text.viewport().setAutoFillBackground(False)
        self.text.setToolTip(_("What this step is about"))
        self.text.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.formula = QLabel()
        self.formula.setWordWrap(True)
        self.formula.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.formula.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.formula_box = QFrame()
        self.formula_box.setFrameShape(QFrame.Shape.StyledPanel)
        self.formula_box.setBackgroundRole(QPalette.ColorRole.Base)
        self.formula_box.setAutoFillBackground(True)
        box = QVBoxLayout(self.formula_box)
        box.setContentsMargins(8, 6, 8, 6)
        box.addWidget(self.formula)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        set_warning(self.problem, True)
        self.problem.setToolTip(_("What this step could not set up; the other steps still work"))
        self.previous_button = self._button(_("◀ Previous"), _("Go to the previous step (Page"
                                                              " Up)"), self.previous)
        self.next_button = self._button(_("Next ▶"), _("Go to the next step (Page Down, as a"
                                                      " presentation clicker sends)"), self.next)
        self.add_button = self._button(_("Add this view"), _("Record the window as it is now"
                                                            " (picture, network, layer, panels,"
                                                            " display, players) as a new step"
                                                            " after this one"),
                                       self.ask_add_step)
        self.edit_button = self._tool(_("Edit…"), _("Edit this step's title and text"),
                                      self.ask_edit_step)
        self.up_button = self._tool("↑", _("Move this step one place earlier"),
                                    lambda: self.move_step(self.index, -1))
        self.down_button = self._tool("↓", _("Move this step one place later"),
                                      lambda: self.move_step(self.index, 1))
        self.delete_button = self._tool(_("Delete"), _("Delete this step"),
                                        lambda: self.delete_step(self.index))

        moves = QHBoxLayout()
        moves.addWidget(self.previous_button)
        moves.addWidget(self.next_button)
        edits = QHBoxLayout()
        edits.addWidget(self.add_button, 1)
        for button in (self.edit_button, self.up_button, self.down_button, self.delete_button):
            edits.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.heading)
        layout.addWidget(self.steps)
        layout.addWidget(self.title)
        layout.addWidget(self.problem)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.formula_box)
        layout.addStretch(0)  # room the text does not need goes below the formula
        layout.addLayout(moves)
        layout.addLayout(edits)

    def _button(self, text: str, tip: str, slot) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    def _tool(self, text: str, tip: str, slot) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    def main_window(self):
        """The window holding this panel (it has ``docks``), or None when shown on its own."""
        widget = self.parentWidget()
        while widget is not None and not hasattr(widget, "docks"):
            widget = widget.parentWidget()
        return widget

    # -- the lesson ---------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """A lesson with steps is open and the panel is on show (Page keys drive it)."""
        return bool(self.lesson.steps) and self.isVisible()

    def set_lesson(self, lesson: Lesson, path: Path | None = None, index: int = 0) -> None:
        """Open ``lesson`` (read from ``path``) at step ``index`` (0-based) and set it up."""
        self.lesson, self.path, self.problems, self.modified = lesson, path, {}, False
        self.go_to(index)

    def current_step(self) -> Step | None:
        steps = self.lesson.steps
        return steps[self.index] if steps else None

    def go_to(self, index: int) -> None:
        """Set up step ``index`` (0-based, clamped) in the window and show it."""
        if not self.lesson.steps:
            self.show_step(0)
            return
        index = max(0, min(int(index), len(self.lesson.steps) - 1))
        window = self.main_window()
        if window is not None:
            self.problems[index] = apply_step(window, self.lesson.steps[index],
                                              folder=self.lesson.folder)
        self.show_step(index)
        self.stepShown.emit(index)

    def next(self) -> None:
        if self.index < len(self.lesson.steps) - 1:
            self.go_to(self.index + 1)

    def previous(self) -> None:
        if self.index > 0:
            self.go_to(self.index - 1)

    def show_step(self, index: int) -> None:
        """Show step ``index``'s texts (in the language on show) without setting anything up."""
        steps, language = self.lesson.steps, current_language()
        self.index = max(0, min(int(index), len(steps) - 1)) if steps else 0
        self._fill_list(language)
        name = localized(self.lesson.title, language) or (self.path.name if self.path else "")
        if not steps:
            self.heading.setText(_("No lesson is open. Open one from File > Open lesson…, or"
                                   " write one: set the window up and press Add this view."))
            self.title.setText("")
            self.text.setMarkdown("")
        else:
            where = _("Step {n} of {count}").format(n=self.index + 1, count=len(steps))
            heading = f"<b>{_escape(name)}</b><br>{where}" if name else where  # markup, no words
            self.heading.setText(heading)
            step = steps[self.index]
            self.title.setText(localized(step.title, language))
            self.text.setMarkdown(localized(step.text, language))
        self._fit_text()
        formula = localized(steps[self.index].formula, language) if steps else ""
        self.formula.setText(formula)
        self.formula_box.setVisible(bool(formula))
        problems = self.problems.get(self.index, [])
        self.problem.setText("\n".join(_("⚠ {problem}.").format(problem=p.rstrip("."))
                                       for p in problems))
        self.problem.setVisible(bool(problems))
        self.previous_button.setEnabled(self.index > 0)
        self.next_button.setEnabled(self.index < len(steps) - 1)
        for button in (self.edit_button, self.up_button, self.down_button, self.delete_button):
            button.setEnabled(bool(steps))
        self.steps.setVisible(len(steps) > 1)

    def _fit_text(self) -> None:
        """The text takes the height it needs (and scrolls when the panel is shorter), so the
        formula sits right under it instead of at the bottom of an empty box."""
        document = self.text.document()
        document.setTextWidth(self.text.viewport().width())
        margins = self.text.contentsMargins()
        needed = document.size().height() + margins.top() + margins.bottom() + 4
        self.text.setMaximumHeight(max(40, int(needed)))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_text()

    def _fill_list(self, language: str) -> None:
        self.steps.blockSignals(True)
        self.steps.clear()
        for n, step in enumerate(self.lesson.steps, start=1):
            title = localized(step.title, language)
            self.steps.addItem(f"{n}. {title}")
            self.steps.item(n - 1).setToolTip(title)
        self.steps.setCurrentRow(self.index if self.lesson.steps else -1)
        if self.lesson.steps:
            self.steps.scrollToItem(self.steps.item(self.index))
        # As tall as its rows, up to six: a short lesson leaves the room to the text.
        rows = min(max(self.steps.count(), 1), _LIST_ROWS)
        frame = 2 * self.steps.frameWidth()
        self.steps.setFixedHeight(rows * max(self.steps.sizeHintForRow(0), 16) + frame)
        self.steps.blockSignals(False)

    def _on_app_focus_changed(self, _old, new) -> None:
        """Remember which panel had the focus last, for "Add this view" (pressing the button
        moves the focus here)."""
        window = self.main_window()
        if window is None or new is None:
            return
        for key, dock in window.docks.items():
            if dock is not self.parentWidget() and dock.isAncestorOf(new):
                self.last_focus = key
                return

    def _on_steps_row_changed(self, row: int) -> None:
        if 0 <= row != self.index:
            self.go_to(row)

    # -- writing a lesson ---------------------------------------------------------------------
    def _set_steps(self, steps: list[Step], index: int) -> None:
        self.lesson = dataclasses.replace(self.lesson, steps=tuple(steps))
        self.modified = True
        self.show_step(index)

    def add_step(self, title: str, text: str, formula: str = "") -> Step:
        """Record the window's view as a new step after the one on show, and show it."""
        window = self.main_window()
        language = current_language()
        texts = {"title": {language: title}, "text": {language: text} if text else {}}
        step = record_step(window, texts["title"], texts["text"], self.current_step(),
                           self.last_focus)
        if formula:
            step = dataclasses.replace(step, formula={language: formula})
        steps = list(self.lesson.steps)
        at = self.index + 1 if steps else 0
        steps.insert(at, step)
        self.problems = {}
        self._set_steps(steps, at)
        return step

    def edit_step(self, index: int, title: str, text: str, formula: str = "") -> None:
        """Set step ``index``'s texts in the language on show (the others are kept)."""
        step = self.lesson.steps[index]
        language = current_language()

        def put(texts: dict[str, str], value: str) -> dict[str, str]:
            out = {k: v for k, v in texts.items() if k != language}
            return {**out, language: value} if value else out

        steps = list(self.lesson.steps)
        steps[index] = dataclasses.replace(step, title=put(step.title, title) or step.title,
                                           text=put(step.text, text),
                                           formula=put(step.formula, formula))
        self._set_steps(steps, index)

    def move_step(self, index: int, delta: int) -> None:
        """Move step ``index`` by ``delta`` places (the move is shown, nothing is set up)."""
        target = index + delta
        if not (0 <= index < len(self.lesson.steps) and 0 <= target < len(self.lesson.steps)):
            return
        steps = list(self.lesson.steps)
        steps[index], steps[target] = steps[target], steps[index]
        moved = self.problems.pop(index, None), self.problems.pop(target, None)
        self.problems.update({k: v for k, v in ((target, moved[0]), (index, moved[1])) if v})
        self._set_steps(steps, target)

    def delete_step(self, index: int) -> None:
        if 0 <= index < len(self.lesson.steps):
            steps = list(self.lesson.steps)
            del steps[index]
            self.problems = {}
            self._set_steps(steps, min(index, len(steps) - 1))

    def ask_add_step(self) -> None:
        editor = StepEditor(_("Add this view as a step"), parent=self)
        if editor.exec():
            self.add_step(*editor.values())

    def ask_edit_step(self) -> None:
        step = self.current_step()
        if step is None:
            return
        language = current_language()
        editor = StepEditor(_("Edit step {n}").format(n=self.index + 1), parent=self,
                            values=tuple(localized(t, language)
                                         for t in (step.title, step.text, step.formula)))
        if editor.exec():
            self.edit_step(self.index, *editor.values())


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
