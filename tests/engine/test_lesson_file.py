"""Lesson files: every kind of bad file is refused with one clear message; good ones round-trip;
saving copies what a lesson uses beside it; the bundled tour is complete in both languages."""

from __future__ import annotations

import copy
import json
import os
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assets import asset_path
from engine.graph.spec import load_pipeline, save_pipeline
from engine.lecture.lesson import (
    Action,
    ConvPlayerState,
    Layout,
    Lesson,
    PoolPlayerState,
    SourceRef,
    Step,
    localized,
)
from engine.lecture.lesson_file import LessonError, load_lesson, parse_lesson
from engine.lecture.lesson_save import lesson_to_dict, save_lesson
from engine.resolve import resolve_pipeline

TOUR = asset_path("lessons", "tour", "tour.lesson.json")

GOOD = {
    "format": "cnn-explorer-lesson", "version": 1,
    "title": {"en": "Edges", "pt_BR": "Bordas"},
    "steps": [{
        "title": {"en": "Sobel", "pt_BR": "Sobel"},
        "text": "A **kernel** slides.",
        "formula": {"en": "out = (N − F)/S + 1"},
        "source": {"image": "media/cat.png"},
        "pipeline": "pipelines/sobel.json",
        "layer": 0, "map": 1,
        "display": {"colormap": "gray", "normalization": "global", "resolution": None,
                    "show_channels": True, "flip_kernels": False},
        "docks": {"columns": [["conv_player", "maps"], ["ledger"]], "widths": [600, 300],
                  "heights": {"conv_player": 400}, "focus": "maps"},
        "conv_player": {"source": "lecture_7x7", "kernel": "custom", "stride": 2,
                        "padding": 1, "dilation": 1, "bias": 0.5, "filter": 0, "channel": 0,
                        "step": 3, "custom": [[[1, 0], [0, -1]]]},
        "pool_player": {"source": "lecture_4x4", "mode": "avg", "kernel": 2, "stride": 1,
                        "padding": 0, "channel": 0, "step": -1},
        "actions": [{"name": "parameters.show_example", "argument": "conv32"}],
    }, {"title": "Second", "pipeline": "edges", "source": {"sample": "cat"}}],
}


def good():
    return copy.deepcopy(GOOD)


def set_path(data, path, value):
    """Set data[path[0]][path[1]]... = value (a missing key is added)."""
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


def refused(tmp_path, data) -> str:
    """The message of the LessonError that parsing ``data`` raises."""
    with pytest.raises(LessonError) as caught:
        parse_lesson(data, "bad.json", tmp_path)
    message = str(caught.value)
    assert message.startswith("bad.json") and "\n" not in message and "Traceback" not in message
    return message


def test_a_good_lesson_reads_every_field(tmp_path):
    lesson = parse_lesson(good(), "good.json", tmp_path)
    first, second = lesson.steps
    assert localized(lesson.title, "pt_BR") == "Bordas"
    assert first.text == {"en": "A **kernel** slides."}
    assert first.source == SourceRef("image", path=(tmp_path / "media/cat.png").resolve())
    assert first.pipeline_file == (tmp_path / "pipelines/sobel.json").resolve()
    assert first.layout.columns == (("conv_player", "maps"), ("ledger",))
    assert first.layout.heights == (("conv_player", 400),) and first.layout.focus == "maps"
    assert first.display["resolution"] is None and first.display["colormap"] == "gray"
    assert first.conv.custom == (((1.0, 0.0), (0.0, -1.0)),) and first.conv.bias == 0.5
    assert first.pool == PoolPlayerState("lecture_4x4", "avg", 2, 1, 0, 0, -1)
    assert first.actions == (Action("parameters.show_example", "conv32"),)
    assert second.pipeline == "edges" and second.source == SourceRef("sample", sample="cat")
    assert second.layout is None and second.display == {} and second.layer is None


def test_texts_fall_back_to_the_language_then_english_then_the_first():
    texts = {"de": "Kante", "en": "Edge", "pt_BR": "Borda"}
    assert localized(texts, "pt_BR") == "Borda"
    assert localized(texts, "pt_PT") == "Borda"  # same language, another country
    assert localized(texts, "fr") == "Edge"
    assert localized({"de": "Kante"}, "fr") == "Kante"
    assert localized({}, "en") == ""


@pytest.mark.parametrize(("path", "value", "words"), [
    (("format",), "cnn-explorer-pipeline", "this is not a CNN Explorer lesson"),
    (("version",), 2, "this lesson is of version 2; this CNN Explorer reads version 1"),
    (("version",), "1", "of version '1'"),
    (("version",), True, "of version True"),
    (("steps",), [], "must list at least one step"),
    (("steps",), {"a": 1}, "must be a list"),
    (("steps", 0, "title"), None, "field 'steps[0].title': is required"),
    (("steps", 0, "title"), 7, "must be an object"),
    (("steps", 0, "title"), {}, "at least one language"),
    (("steps", 0, "title"), {"english": "x"}, "not a language code"),
    (("steps", 0, "text"), {"en": ["x"]}, "steps[0].text.en': must be text"),
    (("steps", 0, "text"), "x" * 20_001, "20,001 characters long"),
    (("steps", 0, "layer"), -1, "steps[0].layer': must be a whole number from 0"),
    (("steps", 0, "layer"), 1.5, "must be a whole number"),
    (("steps", 0, "map"), "two", "must be a whole number"),
    (("steps", 0, "display", "normalization"), "none", "must be one of map, layer, global"),
    (("steps", 0, "display", "resolution"), 8, "from 16 to"),
    (("steps", 0, "display", "show_channels"), "yes", "must be true or false"),
    (("steps", 0, "display", "brightness"), 1, "unknown key"),
    (("steps", 0, "docks", "columns"), [["maps"], "ledger"], "columns[1]': must be a list"),
    (("steps", 0, "docks", "columns"), [["Maps!"]], "is not a panel's name"),
    (("steps", 0, "docks", "widths"), [600, -1], "widths[1]': must be a whole number"),
    (("steps", 0, "docks", "focus"), 3, "must be text"),
    (("steps", 0, "conv_player", "stride"), 0, "conv_player.stride': must be a whole number"),
    (("steps", 0, "conv_player", "source"), "movie", "must be one of lecture_7x7"),
    (("steps", 0, "conv_player", "custom"), [[[1, 0], [0]]], "each a grid of 1 to 7 rows"),
    (("steps", 0, "conv_player", "custom"), [[["a"]]], "each a grid of 1 to 7 rows"),
    (("steps", 0, "conv_player", "bias"), 1e300, "must be a finite number from -99"),
    (("steps", 0, "pool_player", "mode"), "min", "must be one of max, avg"),
    (("steps", 0, "actions"), [{"name": "os.system", "argument": "rm"}], "must be one of"),
    (("steps", 0, "actions"), [{"name": "explain.show_channel", "argument": "x"}],
     "takes no argument"),
    (("steps", 0, "actions"), [{"name": "parameters.show_example", "argument": "x"}],
     "must be one of conv32"),
    (("steps", 0, "pipeline"), "no-such-net", "neither a bundled pipeline"),
    (("steps", 0, "pipeline"), 5, "must be text"),
    (("steps", 0, "source"), {"image": "a.png", "video": "b.avi"}, "one of sample, image"),
    (("steps", 0, "source"), {"camera": 0}, "unknown key"),
    (("steps", 0, "source"), {"sample": "../cat"}, "not a sample's name"),
    (("steps", 0, "colour"), "red", "steps[0].colour': unknown key"),
])
def test_each_bad_field_is_refused_with_one_message(tmp_path, path, value, words):
    message = refused(tmp_path, set_path(good(), path, value))
    assert words in message, message


@pytest.mark.parametrize("escape", [
    "../secret.png", "media/../../secret.png", "/etc/passwd", "C:/Windows/win.ini",
    "media\\..\\..\\secret.png", "//server/share/x.png",
])
@pytest.mark.parametrize("field", [("source", "image"), ("source", "video"), ("pipeline",)])
def test_paths_leaving_the_lessons_folder_are_refused(tmp_path, escape, field):
    data = good()
    step = data["steps"][0]
    if field[0] == "source":
        step["source"] = {field[1]: escape}
    else:
        step["pipeline"] = escape if escape.endswith(".json") else escape + ".json"
    message = refused(tmp_path, data)
    assert "a lesson may only use files in its own folder" in message, message


def test_a_link_out_of_the_folder_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.png").write_bytes(b"x")
    lesson = tmp_path / "lesson"
    lesson.mkdir()
    os.symlink(outside, lesson / "media")
    data = set_path(good(), ("steps", 0, "source"), {"image": "media/secret.png"})
    with pytest.raises(LessonError, match="leads out of the lesson's folder through a link"):
        parse_lesson(data, "bad.json", lesson)


@pytest.mark.parametrize(("content", "words"), [
    (b"", "not valid JSON"),
    (b"{\"format\": ", "truncated"),
    (b"\xff\xfe\x00garbage", "not a text file"),
    (b"[" * 5000 + b"]" * 5000, "nest 5000 levels deep"),
    (b"[1, 2]", "must be an object"),
    (b"{\"format\": \"cnn-explorer-lesson\", \"format\": 1}", "given twice"),
    (b"{\"version\": NaN}", "not a number JSON allows"),
])
def test_bad_files_are_refused_by_the_reader(tmp_path, content, words):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(LessonError) as caught:
        load_lesson(path)
    assert words in str(caught.value) and "bad.json" in str(caught.value)


def test_a_huge_file_and_a_folder_are_refused(tmp_path):
    huge = tmp_path / "huge.json"
    data = good()
    data["steps"][0]["text"] = "x" * (5 << 20)
    huge.write_text(json.dumps(data))
    with pytest.raises(LessonError, match=r"huge\.json"):
        load_lesson(huge)
    with pytest.raises(LessonError, match="folder"):
        load_lesson(tmp_path)
    with pytest.raises(LessonError, match=r"nothing\.json"):
        load_lesson(tmp_path / "nothing.json")


def test_a_lesson_with_too_many_steps_is_refused(tmp_path):
    data = good()
    data["steps"] = [{"title": f"{n}"} for n in range(501)]
    assert "has 501 items; at most 500" in refused(tmp_path, data)


def test_the_file_round_trips(tmp_path):
    lesson = parse_lesson(good(), "good.json", tmp_path)
    again = parse_lesson(json.loads(json.dumps(lesson_to_dict(lesson))), "again.json", tmp_path)
    assert again == lesson


def test_save_copies_pictures_and_writes_networks_beside_the_lesson(tmp_path):
    elsewhere = tmp_path / "desktop"
    elsewhere.mkdir()
    picture = elsewhere / "cat.png"
    picture.write_bytes(b"first picture")
    other = tmp_path / "downloads"
    other.mkdir()
    (other / "cat.png").write_bytes(b"another picture, same name")
    save_pipeline(resolve_pipeline("edges"), elsewhere / "mine.json")
    edited = resolve_pipeline("default")
    steps = (
        Step(title={"en": "1"}, source=SourceRef("image", path=picture),
             pipeline_file=elsewhere / "mine.json"),
        Step(title={"en": "2"}, source=SourceRef("image", path=other / "cat.png"),
             network=edited, conv=ConvPlayerState(step=-1), layout=Layout((("maps",),))),
        Step(title={"en": "3"}, source=SourceRef("image", path=picture), pipeline="lecture"),
    )
    folder = tmp_path / "class"
    folder.mkdir()
    saved = save_lesson(Lesson(steps=steps), folder / "edges.lesson.json")
    assert sorted(p.name for p in (folder / "media").iterdir()) == ["cat-2.png", "cat.png"]
    assert (folder / "media" / "cat.png").read_bytes() == b"first picture"
    assert saved.steps[2].source.path == saved.steps[0].source.path  # one copy, used twice
    reread = load_lesson(folder / "edges.lesson.json")
    assert [s.source.path.name for s in reread.steps] == ["cat.png", "cat-2.png", "cat.png"]
    assert load_pipeline(reread.steps[0].pipeline_file) == resolve_pipeline("edges")
    assert load_pipeline(reread.steps[1].pipeline_file) == edited
    assert reread.steps[2].pipeline == "lecture" and reread.steps[1].conv.step == -1
    for step in reread.steps:  # nothing outside the folder
        for path in (step.source.path, step.pipeline_file):
            assert path is None or path.is_relative_to(folder.resolve())


def test_save_says_which_step_cannot_be_saved(tmp_path):
    steps = (Step(title={"en": "ok"}, pipeline="edges"),
             Step(title={"en": "gone"}, source=SourceRef("image", path=tmp_path / "gone.png")))
    with pytest.raises(LessonError, match="step 2"):
        save_lesson(Lesson(steps=steps), tmp_path / "out" / "x.lesson.json")


# -- the bundled tour ------------------------------------------------------------------------
NUMBER = re.compile(r"\d[\d.,]*\d|\d")
SEPARATORS = {"en": (",", "."), "pt_BR": (".", ",")}  # (thousands, decimal), docs/i18n.md


def numbers(text: str, language: str) -> list[float]:
    """The values of a text's numbers, read as a reader of ``language`` reads them: en 10,240
    and 3.1, pt-BR 10.240 and 3,1 (an English 10,240 in Portuguese reads as 10.24)."""
    thousands, decimal = SEPARATORS[language]
    found = NUMBER.findall(text)
    return sorted(float(n.replace(thousands, "").replace(decimal, ".")) for n in found)


def test_numbers_are_read_with_the_languages_separators():
    assert numbers("31.467.520 pesos (3,1 × 10⁷)", "pt_BR") == [3.1, 10, 31467520]
    assert numbers("31,467,520 weights (3.1 × 10⁷)", "en") == [3.1, 10, 31467520]
    assert numbers("10,240 valores", "pt_BR") != numbers("10,240 values", "en")


def assert_lecture_notation(formula: str) -> None:
    """A formula in the lecture's notation, the same in every language: whole numbers without
    a thousands separator (10240), decimals with a point (14.4 × 10⁹)."""
    assert not re.search(r"\d,\d", formula), formula
    assert not re.search(r"(?<![\d.])[1-9]\d{0,2}(\.\d{3})+(?![\d.])", formula), formula


def test_the_tour_lesson_is_complete_in_english_and_portuguese():
    lesson = load_lesson(TOUR)
    assert len(lesson.steps) == 12 and set(lesson.title) == {"en", "pt_BR"}
    for n, step in enumerate(lesson.steps, start=1):
        for name in ("title", "text", "formula"):
            texts = getattr(step, name)
            assert set(texts) == {"en", "pt_BR"}, (n, name)
            assert all(t.strip() for t in texts.values()), (n, name)
        # The lecture's numbers, every one of them, in both languages: in the texts with the
        # language's separators, in the formulas in the lecture's notation, written alike.
        for name in ("title", "text"):
            texts = getattr(step, name)
            assert numbers(texts["en"], "en") == numbers(texts["pt_BR"], "pt_BR"), (n, name)
        assert sorted(NUMBER.findall(step.formula["en"])) == sorted(
            NUMBER.findall(step.formula["pt_BR"])), n
        for formula in step.formula.values():
            assert_lecture_notation(formula)
        assert step.text["en"] != step.text["pt_BR"], n
        for line in step.formula["pt_BR"].splitlines():
            assert len(line) <= 36, (n, line)  # the formula box does not wrap
        network = resolve_pipeline(step.pipeline_file or step.pipeline)
        assert step.layer < len(network.nodes), n
        assert step.source.kind == "sample"
        assert asset_path("samples", f"{step.source.sample}.png").exists() or asset_path(
            "samples", f"{step.source.sample}.jpg").exists()


def test_the_tour_uses_the_portuguese_terms():
    steps = load_lesson(TOUR).steps
    portuguese = " ".join(s.text["pt_BR"] + s.title["pt_BR"] for s in steps)
    for term in ("camada convolucional", "mapa de ativação", "passo (stride)",
                 "preenchimento (padding)", "agrupamento máximo (max pooling)"):
        assert term in portuguese, term


def test_the_tour_networks_are_files_beside_it():
    for step in load_lesson(TOUR).steps:
        if step.pipeline_file is not None:
            assert step.pipeline_file.parent == TOUR.parent.resolve() / "pipelines"
            x = np.zeros((3, 16, 16), np.float32)[: load_pipeline(step.pipeline_file)
                                                   .input_spec.channels]
            assert load_pipeline(step.pipeline_file).forward(x)


def test_the_example_in_the_documentation_is_a_valid_lesson(tmp_path):
    document = asset_path().parent / "docs" / "lessons.md"
    example = re.search(r"```json\n(.+?)\n```", document.read_text(encoding="utf-8"), re.S)
    lesson = parse_lesson(json.loads(example.group(1)), "lessons.md", tmp_path)
    assert len(lesson.steps) == 2 and lesson.steps[1].conv.stride == 3


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["title", "text", "steps", "source", "image", "docks", "columns",
                         "conv_player", "step", "pipeline", "actions", "name", "en"]),
        inner, max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(step=JSON_VALUES, top=JSON_VALUES)
def test_any_json_is_a_lesson_or_one_lesson_error(tmp_path_factory, step, top):
    folder = tmp_path_factory.getbasetemp()
    data = {"format": "cnn-explorer-lesson", "version": 1, "steps": [step]}
    for value in (data, top, {**data, "title": top}):
        try:
            parse_lesson(value, "fuzz.json", folder)
        except LessonError as error:
            assert str(error).startswith("fuzz.json")
