"""Opening and saving lessons from the window: File > Open lesson..., Save lesson as...,
and ``--lesson FILE --step N``.

A lesson that cannot be used is refused with one message before anything changes: the window
keeps its session, its panels and the lesson it had open.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDockWidget, QFileDialog, QMainWindow, QMessageBox

from engine.i18n import _
from engine.lecture.lesson_file import LessonError, load_lesson
from engine.lecture.lesson_save import save_lesson
from gui.layout import dock_spec
from gui.lesson.apply import LESSON_KEY

__all__ = ["LESSON_SUFFIX", "ask_open_lesson", "ask_save_lesson", "lesson_panel",
           "open_lesson"]

LESSON_SUFFIX = ".lesson.json"


def lesson_panel(window: QMainWindow):
    """The window's lesson panel, shown (added when the window was built without it)."""
    if LESSON_KEY not in window.docks:
        spec = dock_spec(LESSON_KEY)
        dock = QDockWidget(_(spec.title), window)
        dock.setObjectName(f"dock_{LESSON_KEY}")
        dock.setWidget(spec.load()(window.session, window.live, parent=dock))
        window.docks[LESSON_KEY] = dock
    dock = window.docks[LESSON_KEY]
    if dock.isHidden():
        dock.show()
    dock.raise_()
    return dock.widget()


def open_lesson(window: QMainWindow, path: str | Path, step: int = 1) -> bool:
    """Open the lesson file ``path`` at step ``step`` (1-based); a message says what failed."""
    path = Path(path)
    try:
        lesson = load_lesson(path)
    except LessonError as error:
        window.session.message.emit("error", _("This lesson cannot be opened: {problem}").format(
            problem=error))
        return False
    if not 1 <= step <= len(lesson.steps):
        window.session.message.emit("error", _("{name} has steps 1 to {count}; there is no step"
                                               " {n}").format(name=path.name,
                                                              count=len(lesson.steps), n=step))
        return False
    lesson_panel(window).set_lesson(lesson, path, step - 1)
    window.session.message.emit("info", _("Lesson {name}: Page Down and Page Up (or a"
                                          " presentation clicker) move through its {count}"
                                          " steps.").format(name=path.name,
                                                            count=len(lesson.steps)))
    return True


def ask_open_lesson(window: QMainWindow) -> None:
    if not _may_replace(window):
        return
    path, _filter = QFileDialog.getOpenFileName(window, _("Open lesson"), "",
                                                _("Lessons (*.json)"))
    if path:
        open_lesson(window, path)


def _may_replace(window: QMainWindow) -> bool:
    """True unless the panel holds unsaved steps and the teacher wants to keep them."""
    dock = window.docks.get(LESSON_KEY)
    panel = dock.widget() if dock is not None else None
    if panel is None or not panel.modified or not panel.lesson.steps:
        return True
    answer = QMessageBox.question(
        window, _("Open lesson"),
        _("The lesson in the Lesson panel has changes that are not saved. Open another lesson"
          " and lose them?"),
        QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Open


def ask_save_lesson(window: QMainWindow) -> None:
    panel = lesson_panel(window)
    if not panel.lesson.steps:
        window.session.message.emit("error", _("The lesson has no steps yet: set the window up"
                                               " and press Add this view in the Lesson panel."))
        return
    start = str(panel.path) if panel.path else "lesson" + LESSON_SUFFIX
    path, _filter = QFileDialog.getSaveFileName(window, _("Save lesson"), start,
                                                _("Lessons (*.json)"))
    if path:
        save_lesson_to(window, path)


def save_lesson_to(window: QMainWindow, path: str | Path) -> bool:
    """Save the lesson panel's lesson to ``path`` with its files; a message says how it went."""
    path = Path(path)
    if path.suffix.lower() != ".json":
        path = path.with_name(path.name + LESSON_SUFFIX)
    panel = lesson_panel(window)
    try:
        saved = save_lesson(panel.lesson, path)
    except LessonError as error:
        window.session.message.emit("error", _("The lesson was not saved: {problem}").format(
            problem=error))
        return False
    panel.lesson, panel.path, panel.modified = saved, path, False
    panel.show_step(panel.index)
    window.session.message.emit("info", _("Saved the lesson to {name}, with the pictures and"
                                          " networks it uses beside it: zip the folder {folder}"
                                          " to send it.").format(name=path.name,
                                                                 folder=path.parent))
    return True
