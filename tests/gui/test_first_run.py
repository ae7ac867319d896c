"""The first minutes: the welcome window, the photograph the app opens on, File > Samples."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from gui import welcome
from gui.app import run
from gui.main_window import MainWindow
from gui.session import PHOTOGRAPHS, SourceSpec, default_sample_name, list_samples, sample_path
from gui.welcome import WORKSPACES, WelcomeDialog, Workspace, was_seen, welcome_html
from tests.gui.test_app import _loop_until_closed, args


def _visible_welcomes() -> list[WelcomeDialog]:
    return [w for w in QApplication.topLevelWidgets()
            if isinstance(w, WelcomeDialog) and w.isVisible()]


def _close_soon(found: list, press_close: bool) -> None:
    """Record the welcome windows shown, close them (their button) and the main window."""
    def close() -> None:
        welcomes = _visible_welcomes()
        found.append(len(welcomes))
        if press_close:
            for dialog in welcomes:
                dialog.close_button.click()
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow) and widget.isVisible():
                widget.close()

    QTimer.singleShot(1500, close)


def test_the_welcome_shows_on_the_first_start_only(qtbot, monkeypatch):
    monkeypatch.setattr("gui.app.main_loop", _loop_until_closed)
    assert not was_seen()
    found: list[int] = []
    _close_soon(found, press_close=True)
    assert run(args()) == 0
    assert found == [1] and was_seen()
    _close_soon(found, press_close=True)
    assert run(args(fresh=True)) == 0
    assert found == [1, 0]


def test_closing_the_welcome_by_its_window_box_also_counts(qtbot, main_window):
    dialog = main_window.show_welcome()
    qtbot.waitExposed(dialog)
    dialog.reject()  # Escape
    assert was_seen() and not dialog.isVisible()


def test_screenshot_and_tour_runs_show_no_welcome(qtbot, tmp_path, monkeypatch):
    assert run(args(screenshot=str(tmp_path / "shot.png"))) == 0
    assert not _visible_welcomes() and not was_seen()
    monkeypatch.setattr("gui.app.main_loop", _loop_until_closed)
    found: list[int] = []
    _close_soon(found, press_close=False)
    assert run(args(tour=1)) == 0
    assert found == [0]


def test_help_menu_brings_back_the_workspaces_three_tries_and_the_tour(qtbot, main_window):
    main_window.actions_by_name["welcome"].trigger()
    dialog = main_window._welcome_window
    qtbot.waitExposed(dialog)
    text = dialog.text.text()
    for workspace in WORKSPACES:
        assert f"<b>{workspace.name}</b>" in text
    assert [w.name for w in WORKSPACES] == ["Explore", "Lecture", "Train"]
    assert text.count("<li>") == len(WORKSPACES) + 3
    assert "File &gt; Samples" in text and "Kernels panel" in text and "stride" in text
    dialog.tour_button.click()
    assert not dialog.isVisible() and was_seen()
    tour = main_window.docks["tour"]
    assert tour.isVisible() and tour.widget().index == 0


def test_a_new_workspace_is_one_more_entry(monkeypatch):
    explain = Workspace("Explain", "Ask the network why it chose a class.",
                        "View menu, under Explain")
    monkeypatch.setattr(welcome, "WORKSPACES", (*WORKSPACES, explain))
    text = welcome_html()
    assert "<b>Explain</b> (View menu, under Explain): Ask the network" in text


def test_the_app_opens_on_a_photograph(session):
    assert default_sample_name() == "coffee"
    assert session.source == SourceSpec(kind="sample", sample="coffee")
    assert sample_path("coffee").suffix == ".jpg"
    names = list_samples()
    assert names[: len(PHOTOGRAPHS)] == list(PHOTOGRAPHS)  # photographs first ...
    assert {"shapes", "textures", "street"} <= set(names)  # ... the drawn ones stay


def test_the_samples_menu_shows_each_sample_as_a_thumbnail(qtbot, main_window):
    file_menu = main_window.menu_by_key["file"]
    samples = next(a.menu() for a in file_menu.actions() if a.text() == "&Samples")
    sections = [a.text() for a in samples.actions() if a.isSeparator()]
    assert sections == ["Photographs", "Drawn"]
    entries = [a for a in samples.actions() if not a.isSeparator()]
    assert [a.data() for a in entries] == list_samples()
    icon_size = samples.style().pixelMetric(samples.style().PixelMetric.PM_SmallIconSize)
    assert icon_size >= 48
    for action in entries:
        assert not action.icon().isNull() and action.toolTip(), action.data()
        assert not action.icon().pixmap(icon_size).isNull()
    next(a for a in entries if a.data() == "cat").trigger()
    assert main_window.session.source == SourceSpec(kind="sample", sample="cat")
