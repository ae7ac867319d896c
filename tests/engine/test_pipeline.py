"""Pipeline graphs: validation, forward, the ledger, and the editor's helpers."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.graph.pipeline import InputSpec, Node, Pipeline
from engine.graph.spec import BUNDLED
from engine.layers import (
    Add,
    AvgPool2d,
    BatchNorm2d,
    Concat,
    Conv2d,
    Flatten,
    LeakyReLU,
    Linear,
    MaxPool2d,
    ReLU,
    Sigmoid,
    Softmax,
)
from engine.ops.shapes import ShapeError
from engine.resolve import resolve_pipeline


def residual_graph() -> Pipeline:
    """conv1 -> relu1 -> conv2, add(relu1, conv2), concat(add, conv1), pool, fc head."""
    nodes = [
        Node("conv1", Conv2d(3, 4, 3, padding=1, seed=1), ("input",)),
        Node("relu1", ReLU(), ("conv1",)),
        Node("conv2", Conv2d(4, 4, 3, padding=1, seed=2), ("relu1",)),
        Node("add", Add(), ("relu1", "conv2")),
        Node("cat", Concat(), ("add", "conv1")),
        Node("pool", MaxPool2d(2), ("cat",)),
        Node("flat", Flatten(), ("pool",)),
        Node("fc", Linear(8 * 4 * 5, 3), ("flat",)),
        Node("prob", Softmax(), ("fc",)),
    ]
    return Pipeline(nodes, InputSpec(3, "rgb"), name="residual")


def check_summary_matches_forward(pipeline, shape):
    rng = np.random.default_rng(0)
    x = rng.random(shape, dtype=np.float32)
    ledger = pipeline.summary(shape)
    outputs = pipeline.forward(x)
    assert list(outputs) == [node.name for node in pipeline]
    assert [row.name for row in ledger.rows] == list(outputs)
    for row in ledger.rows:
        assert row.out_shape == outputs[row.name].shape, row.name
        assert row.memory_bytes == outputs[row.name].nbytes
        assert row.params == sum(p.size for p in pipeline[row.name].layer.parameters().values()) \
            or row.type_name == "BatchNorm2d"
    assert pipeline.shapes(shape) == {name: y.shape for name, y in outputs.items()}
    batched = pipeline.forward(np.stack([x, x]))
    for name, y in outputs.items():
        assert batched[name].shape == (2, *y.shape)
        np.testing.assert_allclose(batched[name][1], y, rtol=1e-5, atol=1e-5)
    return ledger, outputs


@pytest.mark.parametrize("name", BUNDLED)
def test_summary_equals_forward_on_bundled_pipelines(name):
    pipeline = resolve_pipeline(name)
    check_summary_matches_forward(pipeline, (pipeline.input_spec.channels, 37, 50))


def test_summary_equals_forward_on_a_branching_graph():
    pipeline = residual_graph()
    assert not pipeline.is_chain
    ledger, out = check_summary_matches_forward(pipeline, (3, 8, 10))
    np.testing.assert_allclose(out["add"], out["relu1"] + out["conv2"], rtol=1e-6)
    np.testing.assert_array_equal(out["cat"][4:], out["conv1"])
    assert out["prob"].sum() == pytest.approx(1.0)
    text = ledger.to_text()
    assert "Inputs" in text and "relu1, conv2" in text
    cat = ledger.rows[4]
    assert cat.in_shapes == ((4, 8, 10), (4, 8, 10)) and cat.size_formula == "4 + 4 = 8"


layer_choices = st.sampled_from(["conv", "relu", "leaky", "sigmoid", "max", "avg", "bn"])


@settings(max_examples=40, deadline=None)
@given(
    channels=st.sampled_from([1, 3]),
    height=st.integers(3, 16),
    width=st.integers(3, 16),
    kinds=st.lists(layer_choices, min_size=1, max_size=5),
    params=st.lists(st.tuples(st.integers(1, 3), st.integers(1, 2), st.integers(0, 1),
                              st.integers(1, 4)), min_size=5, max_size=5),
)
def test_summary_equals_forward_on_random_chains(channels, height, width, kinds, params):
    layers, c = [], channels
    for kind, (k, s, p, n) in zip(kinds, params, strict=False):
        if kind == "conv":
            layers.append(Conv2d(c, n, k, stride=s, padding=min(p, k // 2), seed=n))
            c = n
        elif kind in ("max", "avg"):
            cls = MaxPool2d if kind == "max" else AvgPool2d
            layers.append(cls(k, stride=s, padding=min(p, k // 2)))
        elif kind == "bn":
            layers.append(BatchNorm2d(c, running_mean=np.arange(c), running_var=np.ones(c) * 2))
        else:
            layers.append({"relu": ReLU, "leaky": LeakyReLU, "sigmoid": Sigmoid}[kind]())
    color = "gray" if channels == 1 else "rgb"
    pipeline = Pipeline.chain(layers, input_spec=InputSpec(channels, color))
    shape = (channels, height, width)
    try:
        pipeline.shapes(shape)
    except ShapeError as error:
        with pytest.raises(ShapeError) as info:
            pipeline.forward(np.zeros(shape, np.float32))
        assert str(info.value) == str(error)
        return
    check_summary_matches_forward(pipeline, shape)


# Construction and validation ------------------------------------------------------------------


def test_chain_names_and_access():
    p = Pipeline.chain([Conv2d(3, 8, 3), ReLU(), MaxPool2d(2), Conv2d(8, 8, 3), ReLU(),
                        AvgPool2d(2), BatchNorm2d(8), Flatten(), Linear(8, 2), Softmax()])
    assert [n.name for n in p] == ["conv1", "relu1", "pool1", "conv2", "relu2", "avgpool1",
                                   "bn1", "flatten1", "fc1", "softmax1"]
    assert p.is_chain and len(p) == 10
    assert p["pool1"] is p[2] and p.index("conv2") == 3
    assert p[1].inputs == ("conv1",) and p[0].inputs == ("input",)
    with pytest.raises(KeyError, match="no node named 'conv9'"):
        p["conv9"]
    assert repr(p).splitlines()[1] == "  (conv1): Conv2d(3, 8, kernel_size=3, stride=1)"


def test_nodes_are_sorted_topologically():
    nodes = [Node("b", ReLU(), ("a",)), Node("a", ReLU(), ("input",))]
    assert [n.name for n in Pipeline(nodes)] == ["a", "b"]


@pytest.mark.parametrize(
    ("nodes", "message"),
    [
        ([Node("a", ReLU(), ("input",)), Node("a", ReLU(), ("a",))],
         "duplicate node name 'a': it is another node's name"),
        ([Node("input", ReLU(), ("input",))], "duplicate node name 'input': it is the input's"),
        ([Node("a", ReLU(), ("nope",))], "node 'a' takes input 'nope', which does not exist"),
        ([Node("a", ReLU(), ("b",)), Node("b", ReLU(), ("a",))],
         "the pipeline has a cycle: nodes a, b wait on each other"),
        ([Node("a", ReLU(), ("a",))], "the pipeline has a cycle: nodes a wait on each other"),
        ([Node("a", Add(), ("input",))], r"node 'a' \(Add\) takes at least 2 input\(s\), got 1"),
        ([Node("a", ReLU(), ("input", "input"))], r"node 'a' \(ReLU\) takes 1 input\(s\), got 2"),
        ([Node("", ReLU(), ("input",))], "a node needs a non-empty name"),
    ],
)
def test_graph_errors(nodes, message):
    with pytest.raises(ValueError, match=message):
        Pipeline(nodes)


def test_input_spec():
    assert InputSpec().shape is None and InputSpec(1, "gray", 4, 5).shape == (1, 4, 5)
    with pytest.raises(ValueError, match=r"a gray input cannot have 3 channel\(s\); 3 channel"):
        InputSpec(3, "gray")
    with pytest.raises(ValueError, match="input color must be rgb, gray or none, not 'rgba'"):
        InputSpec(4, "rgba")
    with pytest.raises(ValueError, match="input channels must be a whole number 1 or more"):
        InputSpec(0)


@pytest.mark.parametrize(("channels", "color"), [(1, "gray"), (3, "rgb"), (2, "none"),
                                                 (4, "none"), (17, "none")])
def test_input_spec_takes_any_channel_count(channels, color):
    spec = InputSpec(channels=channels, height=8, width=8)
    assert spec.color == color and spec.shape == (channels, 8, 8)
    assert InputSpec(channels, color) == spec.__class__(channels=channels)
    p = Pipeline.chain([Conv2d(channels, 2, 3)], input_spec=spec)
    assert p.forward(np.ones((1, channels, 8, 8), np.float32))["conv1"].shape == (1, 2, 6, 6)
    with pytest.raises(ValueError, match="input height must be a positive whole number, not 0"):
        InputSpec(3, "rgb", 0, 5)


def test_shape_errors_name_the_layer():
    p = Pipeline.chain([Conv2d(3, 4, 3), ReLU(), Conv2d(4, 4, 5, stride=2)])
    with pytest.raises(ShapeError) as info:
        p.shapes((3, 6, 6))
    assert str(info.value) == ("layer 2 (conv2, Conv2d): Conv2d: height: kernel 5 is larger than"
                               " the padded input 4 (4 + 2*0)")
    assert info.value.node_index == 2 and info.value.field == "kernel_size"
    with pytest.raises(ShapeError, match=r"stride 2 does not fit"):
        p.shapes((3, 10, 10), strict=True)
    assert p.shapes((3, 10, 10))["conv2"] == (4, 2, 2)
    with pytest.raises(ShapeError, match=r"the pipeline takes 3 input channel\(s\) \(rgb\), got 1"):
        p.forward(np.zeros((1, 8, 8), np.float32))
    with pytest.raises(ShapeError, match=r"the input must be \(C, H, W\) or \(N, C, H, W\)"):
        p.forward(np.zeros((8, 8), np.float32))


def test_forward_timings():
    p = resolve_pipeline("edges")
    timings = {}
    out = p.forward(np.random.default_rng(1).random((1, 12, 12)), timings)
    assert list(timings) == list(out) == ["conv1", "relu1", "pool1"]
    assert all(t >= 0 for t in timings.values())
    assert out["conv1"].dtype == np.float32


# The ledger ------------------------------------------------------------------------------------


def test_lecture_ledger():
    ledger = resolve_pipeline("lecture").summary((3, 32, 32))
    (row,) = ledger.rows
    assert row.out_shape == (10, 32, 32)
    assert row.size_formula == "(32 - 5 + 2*2)/1 + 1 = 32"
    assert row.params == 760 and row.params_formula == "10 x (5 x 5 x 3 + 1) = 760"
    assert row.fc_equivalent == 94_402_560
    assert row.macs == 10 * 32 * 32 * 75 and row.memory_bytes == 40_960
    assert not row.floored and row.note == "kernels: he seed 0"
    assert (ledger.total_params, ledger.total_macs) == (760, 768_000)
    text = ledger.to_text()
    for piece in ("(10, 32, 32)", "(32 - 5 + 2*2)/1 + 1 = 32", "10 x (5 x 5 x 3 + 1) = 760",
                  "94,402,560", "768,000", "40.0 KiB", "Total params: 760", "= 3,072 values"):
        assert piece in text, piece
    data = json.loads(json.dumps(ledger.to_dict()))
    assert data["rows"][0]["out_shape"] == [10, 32, 32] and data["total_params"] == 760


def test_ledger_marks_floored_sizes_and_preset_expansion():
    p = Pipeline.chain([Conv2d(3, 2, 3, stride=3, weight_source={"preset": "sobel_x"}),
                        MaxPool2d(2)])
    ledger = p.summary((3, 7, 8))
    conv, pool = ledger.rows
    assert conv.floored and conv.out_shape == (2, 2, 2)
    assert conv.note == ("kernels: preset sobel_x on luma (0.299 R + 0.587 G + 0.114 B); the"
                         " floor drops 1 border pixel in height and 2 in width: no window"
                         " reaches them")
    assert not pool.floored and pool.note == "" and pool.fc_equivalent is None
    assert "0!" in ledger.to_text()


# Editing ---------------------------------------------------------------------------------------


def test_edit_helpers_return_new_renamed_chains():
    p = resolve_pipeline("edges")
    inserted = p.insert_layer(0, Conv2d(1, 1, 1))
    assert [n.name for n in inserted] == ["conv1", "conv2", "relu1", "pool1"]
    assert [n.name for n in p] == ["conv1", "relu1", "pool1"]  # unchanged
    assert inserted[2].inputs == ("conv2",)
    removed = p.remove_layer(1)
    assert [n.name for n in removed] == ["conv1", "pool1"] and removed[1].inputs == ("conv1",)
    moved = p.move_layer(2, 1)
    assert [n.layer.type_name for n in moved] == ["Conv2d", "MaxPool2d", "ReLU"]
    replaced = p.replace_layer(1, Sigmoid())
    assert [n.name for n in replaced] == ["conv1", "sigmoid1", "pool1"]
    dup = p.duplicate_layer(1)
    assert [n.name for n in dup] == ["conv1", "relu1", "relu2", "pool1"]
    assert dup.name == p.name and dup.input_spec == p.input_spec
    appended = p.insert_layer(3, ReLU())
    assert [n.name for n in appended] == ["conv1", "relu1", "pool1", "relu2"]


def test_edits_keep_chosen_names():
    p = Pipeline.chain([ReLU(), ReLU()], names=["first", "relu2"])
    edited = p.insert_layer(0, ReLU())
    assert [n.name for n in edited] == ["relu1", "first", "relu3"]
    clash = Pipeline.chain([ReLU()], names=["relu2"]).insert_layer(0, ReLU())
    assert [n.name for n in clash] == ["relu1", "relu2"]
    clash = Pipeline.chain([ReLU()], names=["relu2"]).insert_layer(1, ReLU())
    assert [n.name for n in clash] == ["relu2", "relu2_2"]


def test_edit_errors():
    p = resolve_pipeline("edges")
    with pytest.raises(ValueError, match=r"remove_layer: position 3 is outside 0..2"):
        p.remove_layer(3)
    with pytest.raises(ValueError, match=r"insert_layer: position 5 is outside 0..3"):
        p.insert_layer(5, ReLU())
    graph = residual_graph()
    with pytest.raises(ValueError, match="insert_layer works on chains only"):
        graph.insert_layer(0, ReLU())
    swapped = graph.replace_layer(1, LeakyReLU())
    assert swapped["relu1"].layer == LeakyReLU() and swapped["relu1"].inputs == ("conv1",)
    with pytest.raises(ValueError, match=r"takes 1 input\(s\), got 2"):
        graph.replace_layer(3, ReLU())
