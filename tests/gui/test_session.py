"""Session: signals, undo/redo, saving and tolerant restoring. No Qt needed."""

from __future__ import annotations

import json

import pytest

from engine.graph.pipeline import Pipeline
from engine.layers import Conv2d, MaxPool2d, ReLU
from gui.session import DisplayOptions, Session, SourceSpec, list_samples


def small(out_channels: int = 4) -> Pipeline:
    return Pipeline.chain([Conv2d(3, out_channels, 3, padding=1), ReLU(), MaxPool2d(2)])


class Recorder:
    """Collects every emission of a psygnal signal."""

    def __init__(self, signal) -> None:
        self.calls: list[tuple] = []
        signal.connect(self)

    def __call__(self, *args) -> None:
        self.calls.append(args)


def test_setters_emit_once_and_only_on_change():
    s = Session(small())
    src, disp, layer, paused = (
        Recorder(s.source_changed), Recorder(s.display_changed),
        Recorder(s.selected_layer_changed), Recorder(s.paused_changed),
    )
    spec = SourceSpec(kind="video", path="/tmp/x.avi")
    s.set_source(spec)
    s.set_source(SourceSpec(kind="video", path="/tmp/x.avi"))  # equal: nothing
    assert src.calls == [(spec,)]
    s.set_display(resolution=320)
    s.set_display(resolution=320)
    assert disp.calls == [(DisplayOptions(resolution=320),)]
    s.set_selected_layer(2)
    s.set_selected_layer(99)  # clamped to the last layer, already selected
    s.set_selected_layer(-5)
    assert layer.calls == [(2,), (0,)]
    s.set_paused(True)
    s.set_paused(True)
    assert paused.calls == [(True,)]


def test_bad_values_raise_clear_errors():
    s = Session(small())
    with pytest.raises(ValueError, match="unknown display options: zoom"):
        s.set_display(zoom=2)
    with pytest.raises(ValueError, match="normalization 'row'"):
        s.set_display(normalization="row")
    with pytest.raises(ValueError, match="needs a file path"):
        SourceSpec(kind="image")


def test_undo_redo_walks_the_history():
    a, b, c = small(2), small(3), small(5)
    s = Session(a)
    seen = Recorder(s.pipeline_changed)
    assert not s.can_undo and not s.can_redo
    s.set_pipeline(b)
    s.set_pipeline(c)
    s.undo()
    assert s.pipeline is b and s.can_redo
    s.undo()
    assert s.pipeline is a and not s.can_undo
    s.undo()  # nothing left: no signal
    s.redo()
    assert s.pipeline is b
    s.set_pipeline(small(7))  # a new edit forgets the redo branch
    assert not s.can_redo
    assert [call[0] for call in seen.calls] == [b, c, b, a, b, s.pipeline]


def test_equal_pipeline_is_not_an_edit():
    s = Session(small(3))
    seen = Recorder(s.pipeline_changed)
    s.set_pipeline(small(3))
    assert seen.calls == [] and not s.can_undo


def test_history_is_bounded():
    from gui.session import HISTORY_LIMIT

    s = Session(small(1))
    for n in range(2, HISTORY_LIMIT + 12):
        s.set_pipeline(small(n))
    steps = 0
    while s.can_undo:
        s.undo()
        steps += 1
    assert steps == HISTORY_LIMIT


def test_non_undoable_set_clears_history_and_shorter_pipeline_clamps_selection():
    s = Session(small())
    s.set_pipeline(small(6))
    s.set_selected_layer(2)
    s.set_pipeline(Pipeline.chain([Conv2d(3, 2, 3)]), undoable=False, path="x.json")
    assert not s.can_undo and s.pipeline_path == "x.json"
    assert s.selected_layer == 0
    s.set_pipeline(small(2))  # an edit keeps the file it came from
    assert s.pipeline_path == "x.json"
    s.set_pipeline(small(3), path=None)  # not from a file any more
    assert s.pipeline_path is None
    s.undo()
    assert s.pipeline_path == "x.json"


def test_save_and_load_round_trip(tmp_path):
    s = Session(small(6))
    s.set_source(SourceSpec(kind="camera", camera_index=1))
    s.set_selected_layer(1)
    s.set_display(colormap="magma", normalization="map", resolution=None, show_channels=True)
    path = tmp_path / "state.json"
    s.save(path)
    restored = Session(small(2))
    assert restored.load(path)
    assert restored.pipeline == s.pipeline
    assert restored.source == s.source
    assert restored.selected_layer == 1
    assert restored.display == s.display
    assert not restored.can_undo  # a restored pipeline is a fresh start


def test_default_path_follows_the_env_var(config_dir):
    s = Session(small())
    assert Session.default_state_path() == config_dir / "session.json"
    s.save()
    assert json.loads((config_dir / "session.json").read_text())["version"] == 1
    assert not Session(small()).load(config_dir / "missing.json")


@pytest.mark.parametrize(
    "data",
    [
        [1, 2, 3],
        {"pipeline": {"format": "nonsense"}, "display": {"normalization": "row"}},
        {"source": {"kind": "webcam"}, "selected_layer": "two", "display": {"zoom": 3}},
    ],
)
def test_bad_saved_state_falls_back_with_a_message(data):
    original = small(3)
    s = Session(original)
    messages = Recorder(s.message)
    problems = s.from_dict(data)
    assert problems
    assert s.pipeline is original and s.display == DisplayOptions()
    assert s.source == SourceSpec()
    assert len(messages.calls) == 1 and messages.calls[0][0] == "warning"


def test_unreadable_file_gives_a_message(tmp_path):
    path = tmp_path / "session.json"
    path.write_text("{ not json")
    s = Session(small())
    messages = Recorder(s.message)
    assert not s.load(path)
    assert "could not be read" in messages.calls[0][1]


def test_unknown_sample_falls_back_to_the_default():
    s = Session(small())
    s.from_dict({"source": {"kind": "sample", "sample": "no-such-sample"}})
    assert s.source.sample in list_samples()
