"""Lessons from the command line and in two languages: --lesson FILE --step N, bad arguments,
the bundled tour as a lesson, its texts in Brazilian Portuguese."""

from __future__ import annotations

import re
from argparse import Namespace

import pytest

import main
from engine import i18n
from engine.lecture.lesson_file import load_lesson
from gui.app import run
from gui.layout import DOCKS
from gui.lesson.files import open_lesson
from gui.tour import TOUR_KEY, start_tour
from gui.tour_stops import TOUR_LESSON, stops
from tests.gui.lesson_support import panel_of, shown_docks, shown_window, write_lesson


def args(**given) -> Namespace:
    base = dict(source=None, pipeline=None, layer=None, screenshot=None, tour=None, model=None,
                camera=None, fresh=False, lesson=None, step=None)
    base.update(given)
    return Namespace(**base)


@pytest.fixture
def window(qtbot, session, live):
    win = shown_window(qtbot, session, live)
    yield win
    win.close()


def test_lesson_and_step_open_that_step(qtbot, tmp_path, monkeypatch, capsys):
    path = write_lesson(tmp_path / "l.lesson.json", [
        {"title": "One", "pipeline": "edges"},
        {"title": "Two", "pipeline": "lecture", "docks": {"columns": [["ledger"]]}},
    ])
    seen = {}

    def look(window, out):
        panel = panel_of(window)
        seen.update(index=panel.index, title=panel.title.text(),
                    pipeline=window.session.pipeline.name, docks=shown_docks(window))
        return None

    monkeypatch.setattr("gui.app.take_screenshot", look)
    assert run(args(screenshot=str(tmp_path / "s.png"), lesson=str(path), step=2)) == 0
    assert seen == {"index": 1, "title": "Two", "pipeline": "lecture",
                    "docks": {"lesson", "ledger"}}
    capsys.readouterr()


@pytest.mark.parametrize(("given", "words"), [
    ({"step": 5}, "--step 5: the lesson has steps 1 to 2"),
    ({"step": 0}, "--step 0: the lesson has steps 1 to 2"),
    ({"lesson": "nowhere.lesson.json"}, "--lesson nowhere.lesson.json"),
])
def test_bad_lesson_arguments_exit_2_with_a_message(qtbot, tmp_path, capsys, given, words):
    path = write_lesson(tmp_path / "l.lesson.json", [{"title": "1"}, {"title": "2"}])
    out = tmp_path / "shot.png"
    assert run(args(screenshot=str(out), **{"lesson": str(path), **given})) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not out.exists()


def test_step_without_lesson_is_refused(capsys):
    assert main.main(["--step", "2"]) == 2
    assert "--step needs --lesson FILE" in capsys.readouterr().err


def test_the_help_lists_lesson_and_step(capsys):
    with pytest.raises(SystemExit):
        main.main(["--help"])
    out = capsys.readouterr().out
    assert "--lesson FILE" in out and "--step N" in out


def test_the_tour_opens_as_a_lesson_with_the_tours_state(qtbot, window):
    assert open_lesson(window, TOUR_LESSON, step=8)
    panel = panel_of(window)
    stop = stops()[7]
    assert panel.title.text() == stop.title == "Max pooling"
    assert panel.formula.text() == stop.formula
    assert window.session.selected_layer == stop.layer
    assert shown_docks(window) == set(stop.dock_keys()) | {"lesson"}
    pool = window.docks["pool_player"].widget()
    assert pool.controls.step == stop.pool.step
    start_tour(window, 8)  # --tour 8: the same panels, beside the tour panel instead
    assert shown_docks(window) == set(stop.dock_keys()) | {TOUR_KEY}
    assert pool.controls.step == stop.pool.step


def test_the_tour_reads_in_portuguese(qtbot, window, monkeypatch):
    monkeypatch.setattr("gui.tour_stops.current_language", lambda: "pt_BR")
    monkeypatch.setattr("gui.lesson.panel.current_language", lambda: "pt_BR")
    assert stops()[7].title == "Agrupamento máximo (max pooling)"
    assert open_lesson(window, TOUR_LESSON, step=3)
    panel = panel_of(window)
    assert panel.title.text() == "Uma camada convolucional: n filtros, n mapas"
    assert "mapa de ativação" in panel.text.toPlainText()
    assert panel.steps.item(0).text() == "1. Uma imagem digital"
    assert "Tour guiado" in panel.heading.text()
    start_tour(window, 4)
    assert window.docks[TOUR_KEY].widget().title.text() == "Passo (stride) e tamanho da saída"


def test_the_tour_names_panels_by_their_titles_in_both_languages():
    """"the X panel" / "painel X": X is the panel's title as the catalog gives it."""
    steps = load_lesson(TOUR_LESSON).steps
    english = {spec.title for spec in DOCKS}
    i18n.set_language("pt_BR")
    try:
        portuguese = {i18n._(spec.title) for spec in DOCKS}
    finally:
        i18n.set_language("en")
    named = 0
    for step in steps:
        for after in re.findall(r"\bpainel ([^.;,)]+)", step.text["pt_BR"]):
            assert any(after.startswith(title) for title in portuguese), after[:40]
            named += 1
        for title in re.findall(r"\b[Tt]he ([A-Z][\w ]*?) panel\b", step.text["en"]):
            assert title in english, title
    assert named >= 6
