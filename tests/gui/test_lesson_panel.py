"""The lesson panel: a lesson recorded in the window, saved and reopened, shows every state it
recorded; broken steps say so and the others work; Page Down / Page Up drive it from anywhere."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox

from engine.graph.pipeline import Pipeline
from engine.layers import Conv2d, MaxPool2d, ReLU
from engine.lecture.lesson import Layout
from engine.resolve import resolve_pipeline
from gui.lesson.files import lesson_panel, open_lesson, save_lesson_to
from gui.session import Session, SourceSpec
from gui.tour import arrange_docks
from tests.gui.lesson_support import (
    panel_of,
    shown_docks,
    shown_window,
    write_lesson,
    write_picture,
)


@pytest.fixture
def window(qtbot, session, live):
    win = shown_window(qtbot, session, live)
    yield win
    win.close()


@pytest.fixture
def other_window(qtbot, live):
    """A second window on its own fresh session, as on a student's laptop."""
    from gui.live import LiveResults

    session = Session()
    hub = LiveResults(session)
    win = shown_window(qtbot, session, hub)
    yield win
    win.close()
    hub.stop()


def activate(qtbot, window) -> None:
    """Make ``window`` the active one: the keyboard focus moves only there."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def edited_network() -> Pipeline:
    """A network that exists only in the window (no file, no bundled name)."""
    return Pipeline.chain([Conv2d(3, 4, 3, padding=1, seed=3), ReLU(), MaxPool2d(2)],
                          names=["c", "r", "p"], name="my own")


def set_up_first_view(window, picture) -> None:
    s = window.session
    s.set_source(SourceSpec(kind="image", path=str(picture)))
    s.set_pipeline(edited_network())
    s.set_selected_layer(1)
    s.set_selected_map(2)
    s.set_display(colormap="gray", normalization="global", resolution=320, show_channels=True,
                  flip_kernels=True)
    layout = Layout((("conv_player", "pool_player"), ("maps", "ledger")), (560, 420))
    arrange_docks(window, layout, "lesson")
    conv = window.docks["conv_player"].widget()
    conv.load_source("lecture_7x7")
    conv.kernel.setCurrentIndex(conv.kernel.findData("sobel_y"))
    conv.stride.setValue(2)
    conv.padding.setValue(1)
    conv.bias.setValue(0.5)
    conv.controls.set_step(3)
    pool = window.docks["pool_player"].widget()
    pool.mode.setCurrentIndex(pool.mode.findData("avg"))
    pool.stride.setValue(1)
    pool.rebuild()
    pool.controls.set_step(4)
    window.docks["maps"].widget().findChild(QComboBox).setFocus()


def state_of(window) -> dict:
    s = window.session
    conv = window.docks["conv_player"].widget()
    pool = window.docks["pool_player"].widget()
    return {
        "pipeline": s.pipeline, "layer": s.selected_layer, "map": s.selected_map,
        "display": s.display, "docks": shown_docks(window) - {"lesson"},
        "conv": (conv.source.currentData(), conv.kernel.currentData(), conv.stride.value(),
                 conv.padding.value(), conv.bias.value(), conv.controls.step),
        "pool": (pool.mode.currentData(), pool.stride.value(), pool.controls.step),
    }


def test_a_recorded_lesson_saved_and_reopened_shows_every_state(
        qtbot, window, other_window, tmp_path):
    picture = write_picture(tmp_path / "desktop" / "cup.png")
    panel = lesson_panel(window)
    activate(qtbot, window)
    set_up_first_view(window, picture)
    first = state_of(window)
    panel.add_button.setFocus()  # pressing the button takes the focus from the maps
    step = panel.add_step("My first step", "Look at **the edges**.", "out = (N − F)/S + 1")
    assert step.layout.focus == "maps"
    window.open_pipeline("edges")
    window.session.set_source(SourceSpec(kind="sample", sample="cat"))
    window.session.set_selected_layer(0)
    panel.add_step("Second", "")
    assert panel.index == 1 and panel.steps.count() == 2
    saved = tmp_path / "class" / "edges.lesson.json"
    assert save_lesson_to(window, saved)
    assert (saved.parent / "media" / "cup.png").read_bytes() == picture.read_bytes()
    assert (saved.parent / "pipelines" / "step-1.json").is_file()  # the edited network

    activate(qtbot, other_window)
    assert open_lesson(other_window, saved, step=1)
    other = panel_of(other_window)
    s = other_window.session
    assert s.source == SourceSpec(kind="image",
                                  path=str((saved.parent / "media" / "cup.png").resolve()))
    assert state_of(other_window) == first
    assert other_window.docks["maps"].isAncestorOf(QApplication.focusWidget())
    assert other.title.text() == "My first step"
    assert "the edges" in other.text.toPlainText() and other.formula_box.isVisible()
    assert not other.problem.isVisible()
    other.next()
    assert s.pipeline == resolve_pipeline("edges") and s.selected_layer == 0
    assert s.source == SourceSpec(kind="sample", sample="cat")
    assert not other.formula_box.isVisible()


def test_a_missing_picture_and_a_broken_network_are_said_on_their_steps(
        qtbot, window, tmp_path):
    folder = tmp_path / "lesson"
    write_picture(folder / "media" / "here.png")
    (folder / "pipelines").mkdir()
    (folder / "pipelines" / "broken.json").write_text("{\"format\": ", encoding="utf-8")
    path = write_lesson(folder / "l.lesson.json", [
        {"title": "Fine", "source": {"image": "media/here.png"}, "pipeline": "edges"},
        {"title": "No picture", "source": {"image": "media/gone.png"}, "pipeline": "lecture"},
        {"title": "Broken network", "pipeline": "pipelines/broken.json", "layer": 0},
        {"title": "Fine again", "source": {"sample": "cat"}, "pipeline": "default"},
    ])
    assert open_lesson(window, path)
    panel, s = panel_of(window), window.session
    assert not panel.problem.isVisible()
    panel.next()
    assert panel.problem.isVisible() and "media/gone.png is missing" in panel.problem.text()
    assert s.source.path.endswith("here.png")  # the window keeps its picture
    assert s.pipeline.name == "lecture"  # the rest of the step is set up
    panel.next()
    assert "network of this step cannot be opened" in panel.problem.text()
    assert "broken.json" in panel.problem.text()
    assert s.pipeline.name == "lecture"
    panel.next()
    assert not panel.problem.isVisible()
    assert s.pipeline.name == "default" and s.source == SourceSpec(kind="sample", sample="cat")
    panel.go_to(1)
    assert "gone.png" in panel.problem.text()


def test_page_down_and_up_move_through_the_steps_wherever_the_focus_is(
        qtbot, window, tmp_path):
    path = write_lesson(tmp_path / "l.lesson.json", [
        {"title": "One", "pipeline": "default", "layer": 0,
         "docks": {"columns": [["conv_player"], ["maps"]], "focus": "conv_player"}},
        {"title": "Two", "pipeline": "default", "layer": 3},
        {"title": "Three", "pipeline": "default", "layer": 6},
    ])
    assert open_lesson(window, path)
    panel = panel_of(window)
    spin = window.docks["conv_player"].widget().stride
    spin.setFocus()
    before = spin.value()
    qtbot.keyClick(spin, Qt.Key.Key_PageDown)
    assert panel.index == 1 and window.session.selected_layer == 3
    assert spin.value() == before  # the spin box did not take the key
    qtbot.keyClick(window.docks["maps"].widget(), Qt.Key.Key_PageDown)
    assert panel.index == 2 and window.session.selected_layer == 6
    qtbot.keyClick(window, Qt.Key.Key_PageDown)  # the last step: nothing happens
    assert panel.index == 2
    qtbot.keyClick(panel.text, Qt.Key.Key_PageUp)
    assert panel.index == 1 and window.session.selected_layer == 3
    # With the panel closed, Page Down is the Playback menu's "Next layer" again.
    window.docks["lesson"].hide()
    qtbot.keyClick(window.docks["maps"].widget(), Qt.Key.Key_PageDown)
    assert panel.index == 1 and window.session.selected_layer == 4


def test_a_lesson_leaving_its_folder_is_refused_and_nothing_changes(qtbot, window, tmp_path):
    write_picture(tmp_path / "secret.png")
    good = write_lesson(tmp_path / "good" / "g.lesson.json",
                        [{"title": "Kept", "pipeline": "edges"}])
    assert open_lesson(window, good)
    messages = []
    window.session.message.connect(lambda level, text: messages.append((level, text)))
    pipeline, source = window.session.pipeline, window.session.source
    bad = write_lesson(tmp_path / "bad" / "b.lesson.json", [
        {"title": "Fine", "pipeline": "default"},
        {"title": "Sneaky", "source": {"image": "../secret.png"}}])
    assert not open_lesson(window, bad)
    assert messages == [("error", messages[0][1])]
    assert "leaves the lesson's folder" in messages[0][1] and "steps[1]" in messages[0][1]
    assert window.session.pipeline is pipeline and window.session.source == source
    assert panel_of(window).title.text() == "Kept"  # the lesson open before stays


def test_steps_can_be_edited_moved_and_deleted(qtbot, window):
    panel = lesson_panel(window)
    assert "No lesson is open" in panel.heading.text()
    for title in ("A", "B", "C"):
        panel.add_step(title, f"text of {title}")
    assert [panel.steps.item(i).text() for i in range(3)] == ["1. A", "2. B", "3. C"]
    panel.edit_step(2, "C, renamed", "new *text*", "x = 1")
    assert panel.title.text() == "C, renamed" and panel.formula.text() == "x = 1"
    panel.move_step(2, -1)
    assert panel.index == 1 and panel.steps.item(1).text() == "2. C, renamed"
    panel.delete_step(0)
    assert [panel.steps.item(i).text() for i in range(panel.steps.count())] == [
        "1. C, renamed", "2. B"]
    assert panel.modified


def test_open_lesson_asks_before_dropping_unsaved_steps(qtbot, window, monkeypatch):
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from gui.lesson.files import ask_open_lesson

    panel = lesson_panel(window)
    panel.add_step("Unsaved", "")
    asked, opened = [], []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a) or
                        QMessageBox.StandardButton.Cancel)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: opened.append(a) or
                        ("", ""))
    ask_open_lesson(window)
    assert len(asked) == 1 and opened == []  # kept: no file dialog
    assert panel.title.text() == "Unsaved"
