"""The Train workspace in the window: curves fill as it trains, Pause, Step, recording your
own classes, Save and Use, resuming a run, and every bad case as a message."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine.train.config import TrainConfig
from gui.layout import DOCKS, workspace_spec
from gui.train.controller import controller_for

TRAIN_DOCKS = {spec.key for spec in DOCKS if spec.group == "Train"}
EXPLORE = {spec.key for spec in DOCKS if spec.shown}
SMALL = TrainConfig(epochs=3, batch_size=16, lr=2e-3)


@pytest.fixture
def train(qtbot, main_window):
    """The window in the Train workspace, planned for 64 drawn shapes on the tiny network
    (4 steps an epoch); returns (window, controller)."""
    main_window.show_workspace("train")
    c = controller_for(main_window.session, main_window.live)
    c.set_plan(data="shapes", samples=64, network="tiny", config=SMALL)
    return main_window, c


def points(curve) -> int:
    x = curve.getData()[0]
    return 0 if x is None else len(x)


def panel(window, key):
    return window.docks[key].widget()


def wait_state(qtbot, c, *states, timeout=60000):
    qtbot.waitUntil(lambda: c.state in states and not c.pending, timeout=timeout)
    return c.latest


def test_the_train_workspace_shows_its_panels_and_explore_comes_back(qtbot, main_window):
    main_window.show_workspace("train")
    qtbot.wait(50)
    shown = {k for k, d in main_window.docks.items() if d.isVisible()}
    assert shown == TRAIN_DOCKS
    assert set(workspace_spec("train").dock_keys()) == TRAIN_DOCKS
    main_window.actions_by_name["workspace_explore"].trigger()
    qtbot.wait(50)
    assert {k for k, d in main_window.docks.items() if d.isVisible()} == EXPLORE


def test_a_run_of_a_few_steps_adds_points_to_the_curves(qtbot, train):
    window, c = train
    curves = panel(window, "train_curves")
    assert points(curves.loss_raw) == 0
    c.start(max_steps=3)
    s = wait_state(qtbot, c, "paused")
    assert s.step == 3 and c.curves.n == 3
    qtbot.waitUntil(lambda: points(curves.loss_raw) == 3, timeout=5000)
    x, y = curves.loss_smooth.getData()
    assert x.tolist() == [1.0, 2.0, 3.0] and np.isfinite(y).all()
    assert "Step 3" in curves.summary.text()
    controls = panel(window, "train_controls")
    assert "step 3 of 12" in controls.status.text()
    assert controls.buttons["start"].isEnabled() and not controls.buttons["pause"].isEnabled()
    filters = panel(window, "train_filters")  # redrawn in a turn of its own, a little later
    qtbot.waitUntil(lambda: filters.maps.picture_size != (0, 0), timeout=5000)
    assert filters.filters.picture_size != (0, 0) and filters.change.picture_size != (0, 0)


def test_pause_stops_the_steps(qtbot, train):
    window, c = train
    c.set_plan(config=TrainConfig(epochs=50, batch_size=16))
    c.start()
    qtbot.waitUntil(lambda: c.state == "running" and c.latest.step >= 2, timeout=60000)
    panel(window, "train_controls").buttons["pause"].click()
    s = wait_state(qtbot, c, "paused")
    qtbot.wait(600)
    c.poll()
    assert c.latest.step == s.step and c.state == "paused"


def test_step_advances_one_batch_and_step_epoch_to_the_epoch_end(qtbot, train):
    window, c = train
    controls = panel(window, "train_controls")
    controls.buttons["step"].click()  # prepares the run, then one batch
    assert wait_state(qtbot, c, "paused").step == 1
    window.actions_by_name["train_step"].trigger()  # F10 from the Train menu
    qtbot.waitUntil(lambda: c.latest.step == 2 and not c.pending, timeout=10000)
    controls.buttons["epoch"].click()
    qtbot.waitUntil(lambda: c.latest.epoch == 1 and not c.pending, timeout=10000)
    s = c.latest
    assert (s.step, s.state) == (4, "paused") and s.evaluation is not None
    results = panel(window, "train_results")
    qtbot.waitUntil(lambda: results.table.rowCount() == 8, timeout=5000)
    results.show_cell(0, 0)
    assert "pictures of circle" in results.grid_caption.text()
    controls.replay.setValue(0)  # the stored start
    assert c.replay == 0 and "random weights" in panel(window, "train_filters").now_label.text()


def test_recording_adds_frames_to_a_class(qtbot, train, data_dir):
    window, c = train
    window.docks["train_classes"].raise_()
    classes = panel(window, "train_classes")
    qtbot.waitUntil(lambda: window.live.engine.latest is not None, timeout=10000)
    assert classes.add_class("cup")
    qtbot.mousePress(classes.record, Qt.MouseButton.LeftButton)
    qtbot.wait(700)  # held: about five frames a second
    qtbot.mouseRelease(classes.record, Qt.MouseButton.LeftButton)
    count = c.recorded.count("cup")
    assert count >= 3 and classes.thumbs.count() == count
    folder = data_dir / "datasets" / "my-classes" / "cup"
    assert sorted(p.name for p in folder.iterdir())[:2] == ["0001.png", "0002.png"]
    classes.source.setCurrentIndex(classes.source.findData("canvas"))
    assert classes.add_class("pen") and classes.record_frame()
    assert c.recorded.count("pen") == 1
    classes.thumbs.item(0).setSelected(True)
    classes.delete_selected_frames()
    assert c.recorded.count("pen") == 0 and c.recorded.count("cup") == count
    assert "'pen' has no frames" in c.recorded.problem()


def test_save_writes_a_file_that_loads_and_use_runs_it_live(qtbot, train, tmp_path):
    from engine.graph.spec import load_pipeline

    window, c = train
    c.start(max_steps=2)
    wait_state(qtbot, c, "paused")
    path = tmp_path / "trained.json"
    assert c.save(path)
    loaded = load_pipeline(path)
    x = np.random.default_rng(0).random((3, 64, 64), dtype=np.float32)
    name = loaded.nodes[-1].name
    np.testing.assert_allclose(loaded.forward(x)[name], c.network().forward(x)[name],
                               rtol=1e-5, atol=1e-6)
    assert (tmp_path / "trained.labels.txt").read_text().splitlines()[0] == "circle"
    from engine.onnx.importer import load_onnx

    assert c.export("onnx", tmp_path / "trained.onnx")  # File > Export's formats
    onnx = load_onnx(tmp_path / "trained.onnx")
    out = onnx.forward(x)[onnx.nodes[-1].name]
    np.testing.assert_allclose(out, c.network().forward(x)[name], rtol=1e-4, atol=1e-5)
    assert c.export("numpy", tmp_path / "script.py")
    assert (tmp_path / "script.npz").is_file()
    panel(window, "train_controls").use.click()
    assert window.session.pipeline is c.network()
    assert window.workspace == "explore" and window.docks["predictions"].isVisible()
    predictions = panel(window, "predictions")
    qtbot.waitUntil(lambda: predictions.showing_predictions, timeout=10000)
    names = {"circle", "triangle", "square", "star", "cross", "heart", "arrow", "smiley"}
    assert predictions.top()[0][0] in names


def message(window):
    return panel(window, "train_controls").message.text()


def test_bad_cases_are_messages_in_the_window(qtbot, train, monkeypatch):
    window, c = train
    classes = panel(window, "train_classes")
    classes.add_class("cup")
    c.set_plan(data=str(c.recorded.folder))  # your own classes: one, with no frames
    c.start()
    assert "'cup' has no frames" in message(window) and c.state == "idle"
    classes.record_frame()
    c.start()
    assert "at least two classes" in message(window)
    c.set_plan(data="shapes", network="current")  # the default pipeline: no classifier head
    c.start()
    wait_state(qtbot, c, "error")
    assert "is not a Linear layer" in message(window)
    assert "not a Linear" in panel(window, "train_network").head.text()
    c.set_plan(network="small", config=TrainConfig(epochs=2, batch_size=16, lr=1e20,
                                                   optimizer="sgd"))
    c.start()
    s = wait_state(qtbot, c, "error")
    assert "loss became nan" in message(window).lower() and np.isfinite(s.filters).all()
    assert panel(window, "train_controls").save.isEnabled()  # the last good weights stay
    import engine.io.media

    monkeypatch.setattr(engine.io.media, "list_cameras", lambda max_index=4: [])
    classes.open_camera()
    assert "No camera found" in classes.message.text()
    assert "Traceback" not in window.last_message[1]


def test_an_unfinished_run_is_offered_after_a_restart(qtbot, data_dir, idle_live):
    from gui.main_window import MainWindow
    from gui.train.controller import shutdown

    session, live = idle_live()
    first = MainWindow(session, live)
    qtbot.addWidget(first)
    first.show()
    first.show_workspace("train")
    c = controller_for(session, live)
    c.set_plan(data="shapes", samples=64, network="tiny", config=SMALL)
    c.start(max_steps=5)  # past the first epoch's checkpoint
    wait_state(qtbot, c, "paused")
    shutdown(session)  # the window closes mid-run
    first.close()
    session, live = idle_live()
    second = MainWindow(session, live)
    qtbot.addWidget(second)
    second.show()
    second.show_workspace("train")
    controls = panel(second, "train_controls")
    assert controls.banner.isVisible() and "did not finish" in controls.banner_text.text()
    resume = next(b for b in controls.banner.findChildren(type(controls.use))
                  if b.text() == "Resume")
    resume.click()
    c = controls.controller
    s = wait_state(qtbot, c, "paused")
    assert (s.step, s.epoch, c.curves.n) == (5, 1, 5) and not controls.banner.isVisible()
    second.close()


def test_the_status_bar_mentions_an_unfinished_run_at_start(main_window, data_dir):
    import json

    from gui.app import _mention_unfinished_run
    from gui.train import runs
    from gui.train.networks import build_network
    from gui.train.plan import TrainPlan

    folder = runs.new_run(TrainPlan(), ("a", "b"), build_network("tiny", 3, (64, 64), 2))
    (folder / "trainer.json").write_text(json.dumps({"step": 3, "epoch": 0}))
    _mention_unfinished_run(main_window)
    assert "did not finish" in main_window.last_message[1]
