"""gui.app.run: --screenshot runs, argument errors, and applying arguments to a session."""

from __future__ import annotations

from argparse import Namespace

import pytest

from engine.media import read_image
from gui.app import apply_args, run
from gui.session import Session, SourceSpec


def args(**given) -> Namespace:
    base = dict(source=None, pipeline=None, layer=None, screenshot=None, tour=None, model=None,
                camera=None, fresh=False)
    base.update(given)
    return Namespace(**base)


def test_screenshot_writes_the_whole_window(
    qtbot, tmp_path, video_file, config_dir, capsys, app_threads
):
    out = tmp_path / "shot.png"
    before = app_threads()
    code = run(args(screenshot=str(out), source=str(video_file), pipeline="edges", layer=1))
    assert code == 0, capsys.readouterr().err
    image = read_image(out)  # (H, W, 3)
    assert image.shape[0] >= 700 and image.shape[1] >= 1200
    assert image.std() > 10  # not a blank window
    assert app_threads() <= before  # the run stopped its threads
    assert not (config_dir / "session.json").exists()  # screenshot runs save nothing


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ({"source": "nowhere/photo.png"}, "--source nowhere/photo.png: the file does not exist"),
        ({"pipeline": "no-such-pipeline"}, "--pipeline no-such-pipeline"),
        ({"layer": 99}, "--layer 99: the pipeline has layers 0 to"),
        ({"tour": 1}, "--tour is not available"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(qtbot, tmp_path, capsys, given, words):
    out = tmp_path / "shot.png"
    assert run(args(screenshot=str(out), **given)) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not out.exists()


def test_unreadable_source_fails_a_screenshot_run(qtbot, tmp_path, capsys):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    assert run(args(screenshot=str(tmp_path / "o.png"), source=str(broken))) == 2
    assert "broken.jpg" in capsys.readouterr().err


def test_apply_args_sets_what_is_valid_and_reports_the_rest(tmp_path, video_file):
    s = Session()
    problems = apply_args(s, args(source=str(video_file), pipeline="edges", layer=500))
    assert s.source == SourceSpec(kind="video", path=str(video_file))
    assert s.pipeline.name == "edges"
    assert len(problems) == 1 and "--layer 500" in problems[0]
    s2 = Session()
    problems = apply_args(s2, args(camera=2, pipeline=str(tmp_path / "nope.json")))
    assert s2.source == SourceSpec(kind="camera", camera_index=2)
    assert s2.pipeline.name == "default" and "nope.json" in problems[0]
