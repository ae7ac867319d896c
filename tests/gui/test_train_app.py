"""The command-line contract: ``--train DATA [--train-steps N] [--screenshot OUT.png]``."""

from __future__ import annotations

from argparse import Namespace

import gui.app
from engine.io.media import read_image
from gui.app import run


def args(**given) -> Namespace:
    base = dict(source=None, pipeline=None, layer=None, screenshot=None, tour=None, model=None,
                camera=None, fresh=False, train=None, train_steps=None)
    base.update(given)
    return Namespace(**base)


def test_train_screenshot_waits_for_the_steps_and_keeps_nothing(
    qtbot, tmp_path, data_dir, capsys, monkeypatch, app_threads
):
    seen = {}
    original = gui.app.take_screenshot

    def spy(window, path):
        error = original(window, path)
        from gui.train.controller import controller_for

        c = controller_for(window.session, window.live)
        seen.update(state=c.state, step=c.latest.step, points=c.curves.n,
                    curve=len(window.docks["train_curves"].widget().loss_raw.getData()[0]),
                    workspace=window.workspace)
        return error

    monkeypatch.setattr(gui.app, "take_screenshot", spy)
    before = app_threads()
    out = tmp_path / "train.png"
    assert run(args(train="shapes", train_steps=3, screenshot=str(out))) == 0, \
        capsys.readouterr().err
    assert seen == dict(state="paused", step=3, points=3, curve=3, workspace="train")
    image = read_image(out)  # (H, W, 3)
    assert image.shape[:2] == (800, 1280) and image.std() > 10
    assert not (data_dir / "runs").exists()  # a screenshot run keeps no training run
    assert app_threads() <= before  # the training thread was joined


def test_bad_train_data_exits_2_with_one_line(qtbot, tmp_path, capsys):
    out = tmp_path / "train.png"
    assert run(args(train="no/such/folder", train_steps=2, screenshot=str(out))) == 2
    err = capsys.readouterr().err
    assert "--train no/such/folder:" in err and "neither shapes" in err
    assert "Traceback" not in err


def test_train_steps_needs_train(capsys):
    import main

    assert main.main(["--train-steps", "5"]) == 2
    assert "--train-steps needs --train DATA" in capsys.readouterr().err
    parsed = main.build_parser().parse_args(["--train", "mnist:~/data", "--train-steps", "7"])
    assert (parsed.train, parsed.train_steps) == ("mnist:~/data", 7)
