"""The Explain panel's "Why this class?" tab: maps over the live frame, every method, a network
that cannot be differentiated, Cancel, FGSM's slider, a class by name, ONNX networks."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine.graph.node import InputSpec
from engine.graph.pipeline import Pipeline
from engine.io.preprocess import Preprocess
from engine.layers import Conv2d, Flatten, Linear, ReLU, Tanh
from engine.layers.arithmetic import LocalResponseNorm
from engine.resolve import resolve_pipeline
from gui.explain.dock import ExplainDock
from gui.explain.jobs import FgsmOutcome, HeatOutcome
from gui.session import SourceSpec
from tests.gui.conftest import show_dock

TIMEOUT = 20000


def use(qtbot, session, live, pipeline, sample: str = "shapes"):
    """Put ``pipeline`` on the bundled ``sample`` and wait for its first live result."""
    session.set_source(SourceSpec(kind="sample", sample=sample))
    qtbot.waitUntil(lambda: live.source_info is not None and live.source_info.label == sample,
                    timeout=TIMEOUT)
    session.set_pipeline(pipeline)  # the engine runs the sample's frame again at once
    qtbot.waitUntil(lambda: live.latest is not None and live.latest.pipeline is pipeline,
                    timeout=TIMEOUT)
    return live.latest


@pytest.fixture
def shapes(qtbot, session, live):
    """(session, live, dock): the bundled shapes classifier on the shapes sample, the panel
    shown at the size of the right column of a 1280 x 800 window."""
    use(qtbot, session, live, resolve_pipeline("shapes"))
    dock = show_dock(qtbot, ExplainDock(session, live), 390, 700)
    yield session, live, dock
    dock.shutdown()


def shown(dock, kind: str, **settings):
    """The outcome drawn now when it is of method ``kind`` with these settings, else None."""
    tab = dock.class_tab
    outcome = tab.fgsm_page.outcome if kind == "fgsm" else tab.heat_page.outcome
    if outcome is None or outcome.request.kind != kind:
        return None
    if any(outcome.request.settings.get(k) != v for k, v in settings.items()):
        return None
    return outcome


def wait_shown(qtbot, dock, kind: str, **settings):
    qtbot.waitUntil(lambda: shown(dock, kind, **settings) is not None, timeout=TIMEOUT)
    return shown(dock, kind, **settings)


def spread(widget) -> float:
    """The standard deviation of the lightness of a widget's pixels (0: a flat picture)."""
    image = widget.grab().toImage()
    values = [image.pixelColor(x, y).lightness() for x in range(0, image.width(), 5)
              for y in range(0, image.height(), 5)]
    return float(np.std(values))


def test_saliency_and_grad_cam_follow_the_live_frame(qtbot, shapes):
    session, live, dock = shapes
    tab = dock.class_tab
    assert tab.method.key == "saliency" and tab.method.live
    outcome = wait_shown(qtbot, dock, "saliency")
    assert isinstance(outcome, HeatOutcome)
    frame = outcome.request.frame  # 480 x 360: the network sees its centred 360 x 360 square
    side = min(frame.shape[:2])
    assert outcome.region.shape == (side, side, 3) and outcome.indices.shape == (side, side)
    assert outcome.picture.shape == (64, 64, 3)  # what the network sees
    assert outcome.indices.dtype == np.uint8 and outcome.indices.min() >= 1
    assert "smiley" in tab.heat_page.caption.text()
    assert tab.heat_page.colorbar.range == pytest.approx(outcome.levels)
    view = tab.heat_page.overlay_view.view
    assert np.array_equal(view.heat.image, outcome.indices)
    assert view.heat.opacity() == pytest.approx(0.7)
    assert spread(view) > 8
    # A new live frame makes a new map: the panel follows the source.
    before = outcome
    live.engine.set_pipeline(session.pipeline)  # the engine runs the frame again
    qtbot.waitUntil(lambda: tab.heat_page.outcome is not before, timeout=TIMEOUT)

    tab.select_method("gradcam")
    assert tab.layer_row.isVisible() and tab.layer_combo.currentText() == "relu3"
    outcome = wait_shown(qtbot, dock, "gradcam")
    assert outcome.explanation.layer == "relu3" and outcome.explanation.map.shape == (16, 16)
    assert "Layer relu3" in tab.heat_page.caption.text()
    tab.layer_combo.setCurrentIndex(tab.layer_combo.findText("relu2"))
    outcome = wait_shown(qtbot, dock, "gradcam", layer="relu2")
    assert outcome.explanation.map.shape == (32, 32)
    # Opacity and colormap change the drawing, not the map.
    tab.heat_page.opacity.setValue(30)
    assert view.heat.opacity() == pytest.approx(0.3)
    tab.heat_page.cmap.setCurrentIndex(tab.heat_page.cmap.findData("viridis"))
    assert tab.heat_page.colormap == "viridis" and tab.heat_page.outcome is outcome


def test_signed_maps_get_a_diverging_colormap_and_guided_backprop_runs(qtbot, shapes):
    _session, _live, dock = shapes
    tab = dock.class_tab
    tab.select_method("gradxinput")
    outcome = wait_shown(qtbot, dock, "gradxinput")
    assert outcome.explanation.signed
    lo, hi = outcome.levels
    assert lo == pytest.approx(-hi) and hi > 0
    assert tab.heat_page.cmap.currentData() == "coolwarm"
    tab.select_method("guided")
    outcome = wait_shown(qtbot, dock, "guided")
    assert not outcome.explanation.signed and tab.heat_page.cmap.currentData() == "inferno"


def lrn_net() -> Pipeline:
    """A 16 x 16 classifier with a local response normalization (no backward pass)."""
    return Pipeline.chain(
        [Conv2d(3, 4, 3, padding=1, seed=1), ReLU(), LocalResponseNorm(3), Flatten(),
         Linear(4 * 16 * 16, 3, seed=2)],
        input_spec=InputSpec(channels=3), name="lrn net",
    ).with_preprocess(Preprocess(size=(16, 16)))


def test_a_layer_without_gradients_turns_gradient_methods_off_and_offers_occlusion(
        qtbot, session, live):
    use(qtbot, session, live, lrn_net())
    dock = show_dock(qtbot, ExplainDock(session, live), 390, 700)
    tab = dock.class_tab
    model = tab.method_combo.model()
    enabled = {model.item(i).data(Qt.ItemDataRole.UserRole): model.item(i).isEnabled()
               for i in range(model.rowCount())}
    assert enabled == {"saliency": False, "gradxinput": False, "smoothgrad": False,
                       "gradcam": False, "guided": False, "occlusion": True, "fgsm": False}
    assert tab.note.isVisible() and "lrn1 (LocalResponseNorm)" in tab.note.text()
    assert "occlusion" in tab.note.text()
    assert tab.use_occlusion.isVisible()
    qtbot.wait(100)
    assert dock.class_tab.heat_page.outcome is None  # no gradient map was even asked for
    qtbot.mouseClick(tab.use_occlusion, Qt.MouseButton.LeftButton)
    assert tab.method.key == "occlusion"
    outcome = wait_shown(qtbot, dock, "occlusion")
    assert outcome.explanation.map.shape == (16, 16) and outcome.explanation.signed
    dock.shutdown()


def test_occlusion_runs_and_can_be_cancelled(qtbot, shapes):
    _session, _live, dock = shapes
    tab = dock.class_tab
    tab.select_method("occlusion")
    assert tab.run_row.isVisible() and not tab.run_row.cancel.isEnabled()
    assert "226 runs of the network" in tab.note.text()  # 15 x 15 patches and the frame
    tab.patch.setValue(16)
    tab.stride.setValue(8)
    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    outcome = wait_shown(qtbot, dock, "occlusion", patch=16, stride=8)
    assert outcome.explanation.settings["positions"] == 49
    assert not tab.run_row.cancel.isEnabled() and tab.run_button.isEnabled()
    # A long one (61 x 61 positions), cancelled once it has made progress.
    tab.patch.setValue(4)
    tab.stride.setValue(1)
    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    assert tab.run_row.cancel.isEnabled() and not tab.run_button.isEnabled()
    qtbot.waitUntil(lambda: tab.run_row.progress.value() > 0, timeout=TIMEOUT)
    qtbot.mouseClick(tab.run_row.cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dock.class_tasks.running, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: "Stopped" in tab.heat_page.caption.text(), timeout=TIMEOUT)
    assert tab.heat_page.outcome is None and tab.run_button.isEnabled()


def test_smoothgrad_runs_on_request_with_progress(qtbot, shapes):
    _session, _live, dock = shapes
    tab = dock.class_tab
    tab.select_method("smoothgrad")
    tab.copies.setValue(10)
    tab.run()
    outcome = wait_shown(qtbot, dock, "smoothgrad", n=10)
    assert outcome.explanation.settings["n"] == 10 and outcome.explanation.map.shape == (64, 64)


def test_the_fgsm_slider_changes_the_prediction_shown(qtbot, shapes):
    _session, _live, dock = shapes
    tab = dock.class_tab
    tab.select_method("fgsm")
    assert tab.pages.currentWidget() is tab.fgsm_page
    tab.epsilon.setValue(0)
    outcome = wait_shown(qtbot, dock, "fgsm", epsilon=0.0)
    assert isinstance(outcome, FgsmOutcome) and not outcome.adversarial.flipped
    page = tab.fgsm_page
    assert page.adversarial.caption.text() == page.original.caption.text() == "smiley, 84%"
    assert "Still smiley" in page.verdict.text()
    tab.epsilon.setValue(2)
    outcome = wait_shown(qtbot, dock, "fgsm", epsilon=2 / 255)
    assert outcome.adversarial.flipped
    assert page.adversarial.caption.text() != page.original.caption.text()
    assert "turned smiley into" in page.verdict.text()
    assert tab.epsilon_label.text() == "2/255"
    assert np.abs(outcome.perturbation.astype(int) - 128).max() > 100  # magnified


def test_any_class_can_be_explained_by_typing_its_name(qtbot, shapes):
    _session, _live, dock = shapes
    choice = dock.class_tab.classes
    assert choice.combo.itemText(0) == "Top class" and choice.target is None
    assert [choice.combo.itemText(i) for i in range(1, 4)] == ["circle", "triangle", "square"]
    choice.combo.lineEdit().setText("sta")  # star
    choice.combo.lineEdit().editingFinished.emit()
    assert choice.target == 3 and choice.combo.currentText() == "star"
    qtbot.waitUntil(lambda: shown(dock, "saliency") is not None
                    and shown(dock, "saliency").explanation.target == 3, timeout=TIMEOUT)
    assert "Class star" in dock.class_tab.heat_page.caption.text()
    choice.combo.lineEdit().setText("no such class")
    choice.combo.lineEdit().editingFinished.emit()
    assert choice.target == 3 and choice.combo.currentText() == "star"


def test_a_hidden_dock_does_no_work(qtbot, shapes):
    session, live, dock = shapes
    wait_shown(qtbot, dock, "saliency")
    dock.hide()
    assert dock.worker is None
    qtbot.waitUntil(lambda: not dock.timer.isActive(), timeout=TIMEOUT)
    before = dock.class_tab.heat_page.outcome
    live.engine.set_pipeline(session.pipeline)  # new live results keep coming
    qtbot.wait(300)
    assert dock.class_tab.heat_page.outcome is before
    dock.show()
    qtbot.waitUntil(lambda: dock.class_tab.heat_page.outcome is not before, timeout=TIMEOUT)


def test_a_network_without_class_scores_says_so(qtbot, session, live):
    qtbot.waitUntil(lambda: live.latest is not None, timeout=TIMEOUT)  # the default network
    dock = show_dock(qtbot, ExplainDock(session, live), 390, 700)
    tab = dock.class_tab
    assert "not class scores" in tab.note.text() and not tab.classes.combo.isEnabled()
    qtbot.wait(200)
    assert tab.heat_page.outcome is None
    dock.shutdown()


def onnx_classifier(tmp_path):
    """The ONNX ResNet block of the import tests, with a 12 x 12 center crop."""
    import onnx

    import engine
    from tests.engine import onnx_models

    path = tmp_path / "resnet_block.onnx"
    onnx.save(onnx_models.residual(), path)
    return engine.load_onnx(path).with_preprocess(Preprocess(size=(12, 12)))


def test_the_views_work_on_an_onnx_imported_network(qtbot, session, live, tmp_path):
    pipeline = onnx_classifier(tmp_path)
    use(qtbot, session, live, pipeline)
    dock = show_dock(qtbot, ExplainDock(session, live), 390, 700)
    tab = dock.class_tab
    assert tab.n_classes == 5 and not tab.blocked
    outcome = wait_shown(qtbot, dock, "saliency")
    assert outcome.explanation.map.shape == (12, 12)
    tab.select_method("gradcam")
    outcome = wait_shown(qtbot, dock, "gradcam")
    assert outcome.explanation.layer in [tab.layer_combo.itemText(i)
                                         for i in range(tab.layer_combo.count())]
    tab.select_method("fgsm")
    wait_shown(qtbot, dock, "fgsm")
    dock.shutdown()


def test_a_method_that_does_not_fit_the_network_says_why(qtbot, session, live):
    tanh_net = Pipeline.chain(
        [Conv2d(3, 4, 3, padding=1, seed=1), Tanh(), Flatten(), Linear(4 * 16 * 16, 3, seed=2)],
        input_spec=InputSpec(channels=3), name="tanh net",
    ).with_preprocess(Preprocess(size=(16, 16)))
    use(qtbot, session, live, tanh_net)
    dock = show_dock(qtbot, ExplainDock(session, live), 390, 700)
    tab = dock.class_tab
    tab.select_method("guided")
    qtbot.waitUntil(lambda: "needs a network with ReLU layers" in tab.note.text(),
                    timeout=TIMEOUT)
    assert tab.note.isVisible() and tab.heat_page.outcome is None
    tab.select_method("saliency")  # works on any network: the message goes
    wait_shown(qtbot, dock, "saliency")
    assert not tab.note.isVisible()
    dock.shutdown()
