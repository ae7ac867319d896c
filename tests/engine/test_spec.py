"""Pipeline files: bundled pipelines, exact round trips and one clear message per bad file."""

import copy
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assets import asset_path
from engine.graph.pipeline import InputSpec, Node, Pipeline
from engine.graph.spec import (
    BUNDLED,
    FORMAT,
    VERSION,
    SpecError,
    load_pipeline,
    pipeline_from_dict,
    pipeline_to_dict,
    save_pipeline,
)
from engine.layers import BatchNorm2d, Conv2d, Linear, MaxPool2d, ReLU
from engine.layers.kernels import PRESETS, expand_kernel, he_init
from engine.resolve import resolve_pipeline

# Bundled pipelines -----------------------------------------------------------------------------


def test_bundled_names_resolve_to_asset_files():
    assert BUNDLED == ("default", "edges", "lecture")
    for name in BUNDLED:
        assert resolve_pipeline(name) == load_pipeline(asset_path("pipelines", f"{name}.json"))
        assert resolve_pipeline(name).name == name


def test_edges_pipeline():
    p = resolve_pipeline("edges")
    assert p.input_spec == InputSpec(1, "gray")
    assert [n.layer.type_name for n in p] == ["Conv2d", "ReLU", "MaxPool2d"]
    conv = p[0].layer
    assert (conv.in_channels, conv.out_channels, conv.kernel_size, conv.padding) == (1, 2, 3, 1)
    np.testing.assert_array_equal(conv.weight[:, 0], [PRESETS["sobel_x"], PRESETS["sobel_y"]])
    pool = p[2].layer
    assert pool.out_shape((2, 10, 10)) == (2, 5, 5)


def test_lecture_pipeline():
    p = resolve_pipeline("lecture")
    assert p.input_spec.shape == (3, 32, 32) and len(p) == 1
    conv = p[0].layer
    assert repr(conv) == "Conv2d(3, 10, kernel_size=5, stride=1, padding=2)"
    np.testing.assert_array_equal(conv.weight, he_init((10, 3, 5, 5), 0))


def test_default_pipeline_structure():
    p = resolve_pipeline("default")
    assert p.input_spec == InputSpec(3, "rgb", 480, 640)
    assert [n.name for n in p] == ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2",
                                   "conv3", "relu3", "pool3"]
    convs = [p[i].layer for i in (0, 3, 6)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.padding) for c in convs] == [
        (3, 8, 3, 1), (8, 16, 3, 1), (16, 32, 3, 1)]
    assert all(isinstance(p[i].layer, MaxPool2d) and p[i].layer.kernel_size == 2
               for i in (2, 5, 8))
    assert p.shapes((3, 480, 640))["pool3"] == (32, 60, 80)
    first = convs[0].weight
    np.testing.assert_allclose(first[0], expand_kernel(PRESETS["sobel_x"], 3))
    # Red minus green: positive on red, negative on green, nothing on blue.
    assert first[6, 0].sum() > 0 and first[6, 1].sum() < 0 and not first[6, 2].any()
    assert convs[1].kernel_source == "he seed 1" and convs[2].kernel_source == "he seed 2"


def test_default_first_layer_maps_differ():
    """On a colourful test image the eight first-layer maps are pairwise different."""
    y, x = np.mgrid[0:48, 0:64] / 64.0
    image = np.stack([np.sin(6 * x) ** 2, (y > 0.4) * 1.0, np.cos(5 * x * y) ** 2])
    maps = resolve_pipeline("default").forward(image.astype(np.float32))["relu1"]
    flat = maps.reshape(8, -1)
    assert (flat.std(axis=1) > 0).all()
    corr = np.corrcoef(flat)
    assert np.abs(corr[np.triu_indices(8, 1)]).max() < 0.95


# Round trips -----------------------------------------------------------------------------------


def rich_pipeline() -> Pipeline:
    rng = np.random.default_rng(5)
    nodes = [
        Node("stem", Conv2d(3, 40, 3, padding=1, weight=rng.standard_normal((40, 3, 3, 3)),
                            bias_values=rng.standard_normal(40)), ("input",)),
        Node("bn", BatchNorm2d(40, running_mean=rng.random(40), running_var=rng.random(40) + 1,
                               weight=rng.random(40), bias=rng.random(40)), ("stem",)),
        Node("relu1", ReLU(), ("bn",)),
        Node("side", Conv2d(40, 40, 1, bias=False, flip=True,
                            weight=rng.standard_normal((40, 40, 1, 1)) * 1e-3), ("relu1",)),
        Node("pool1", MaxPool2d((2, 3), stride=(2, 1), ceil_mode=True), ("side",)),
    ]
    return Pipeline(nodes, InputSpec(3, "rgb", 8, 9), name="rich", description="all kinds é")


@pytest.mark.parametrize("make", [rich_pipeline, *(lambda n=n: resolve_pipeline(n)
                                                   for n in BUNDLED)])
def test_save_load_save_is_exact(tmp_path, make):
    pipeline = make()
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    save_pipeline(pipeline, first)
    loaded = load_pipeline(first)
    save_pipeline(loaded, second)
    assert first.read_bytes() == second.read_bytes().replace(b'"b.npz"', b'"a.npz"')
    assert loaded == pipeline
    for node, other in zip(pipeline, loaded, strict=True):
        for key, array in node.layer.parameters().items():
            got = other.layer.parameters()[key]
            assert got.dtype == np.float32 and got.tobytes() == array.tobytes(), (node.name, key)


def test_large_weights_go_to_npz(tmp_path):
    path = tmp_path / "rich.json"
    save_pipeline(rich_pipeline(), path)
    data = json.loads(path.read_text())
    assert data["layers"][0]["weights"] == {"npz": "rich.npz", "key": "stem.weight"}
    first_bias = data["layers"][0]["bias_values"]["values"][0]
    assert np.float32(first_bias) == rich_pipeline()[0].layer.bias[0]
    assert len(repr(first_bias)) <= 12  # the short form, not float64's 17 digits
    assert "values" in data["layers"][1]["running_mean"]
    with np.load(tmp_path / "rich.npz") as archive:
        assert sorted(archive.files) == ["side.weight", "stem.weight"]


def test_pipeline_to_dict_inlines_everything():
    data = pipeline_to_dict(rich_pipeline())
    assert data["format"] == FORMAT and data["version"] == VERSION
    assert np.array(data["layers"][0]["weights"]["values"]).shape == (40, 3, 3, 3)
    assert "inputs" not in data["layers"][0] and data["layers"][0]["name"] == "stem"
    assert pipeline_from_dict(copy.deepcopy(data)) == rich_pipeline()


def test_short_floats_in_files():
    p = Pipeline.chain([Conv2d(1, 1, 1, weight=[[[[0.1]]]], bias_values=[0.3])],
                       input_spec=InputSpec(1, "gray"))
    layer = pipeline_to_dict(p)["layers"][0]
    assert layer["weights"] == {"values": [[[[0.1]]]]} and layer["bias_values"]["values"] == [0.3]


def test_graph_round_trip_keeps_names_and_inputs(tmp_path):
    nodes = [Node("a", ReLU(), ("input",)), Node("b", ReLU(), ("input",)),
             Node("sum", __import__("engine.layers").layers.Add(), ("a", "b")),
             Node("fc", Linear(3, 2, seed=4), ("sum",))]
    p = Pipeline(nodes, InputSpec(1, "gray"))
    data = pipeline_to_dict(p)
    assert data["layers"][2] == {"type": "Add", "name": "sum", "inputs": ["a", "b"]}
    assert data["layers"][3]["weights"] == {"init": "glorot", "seed": 4}
    save_pipeline(p, tmp_path / "g.json")
    assert load_pipeline(tmp_path / "g.json") == p


# Bad files -------------------------------------------------------------------------------------


def good() -> dict:
    return {
        "format": FORMAT, "version": 1, "name": "t", "description": "",
        "input": {"channels": 3, "color": "rgb", "height": 7, "width": 7},
        "layers": [
            {"type": "Conv2d", "in_channels": 3, "out_channels": 2, "kernel_size": 3,
             "weights": {"preset": "sobel_x"}},
            {"type": "ReLU"},
            {"type": "MaxPool2d", "kernel_size": 1},
        ],
    }


def edited(path, value):
    """good() with the value at ``path`` (a tuple of keys) replaced, or removed for None."""
    data = good()
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


BAD = [
    (("layers", 1, "type"), "Relu", "t.json: layer 1, field 'type': unknown type 'Relu'; known"
     " types: Conv2d, ReLU"),
    (("layers", 1, "type"), None, "t.json: layer 1, field 'type': has no type; known types"),
    (("layers", 0, "strides"), 2, "t.json: layer 0 (Conv2d), field 'strides': unknown key in the"
     " layer (did you mean 'stride'?); allowed: type, name, inputs, in_channels"),
    (("layers", 0, "kernel_size"), None, "t.json: layer 0 (Conv2d), field 'kernel_size': the"
     " layer lacks the required key"),
    (("layers", 0, "stride"), 0, "t.json: layer 0 (Conv2d), field 'stride': must be at least 1,"
     " not 0"),
    (("layers", 0, "out_channels"), 0, "t.json: layer 0 (Conv2d), field 'out_channels': must be"
     " at least 1, not 0"),
    (("layers", 0, "padding"), "same", "t.json: layer 0 (Conv2d), field 'padding': must be a"
     " whole number or a pair of them, not 'same'"),
    (("layers", 0, "stride"), 3, "t.json: layer 0 (Conv2d), field 'stride': does not fit the"
     " declared input 3x7x7: Conv2d: height: stride 3 does not fit: (7 - 3 + 2*0)/3 + 1 = 7/3 ="
     " 2.33; the floor drops 1 border pixel"),
    (("layers", 0, "in_channels"), 1, "t.json: layer 0 (Conv2d), field 'in_channels': does not"
     " fit the declared input 3x7x7: Conv2d: input has 3 channels, the layer expects 1"),
    (("layers", 0, "weights"), {"values": [[1.0, 2.0]]}, "t.json: layer 0 (Conv2d), field"
     " 'weights': weight has shape (1, 2), expected (2, 3, 3, 3) (out_channels,"
     " in_channels/groups, kh, kw)"),
    (("layers", 0, "weights"), {"values": [[1.0], [2.0, 3.0]]}, "t.json: layer 0 (Conv2d), field"
     " 'weights': values must be nested lists of numbers of equal length"),
    (("layers", 0, "weights"), {"preset": "sobel"}, "t.json: layer 0 (Conv2d), field 'weights':"
     " weights: unknown kernel preset 'sobel'"),
    (("layers", 0, "weights"), {"npz": "missing.npz", "key": "w"}, "t.json: layer 0 (Conv2d),"
     " field 'weights': cannot read missing.npz"),
    (("layers", 0, "bias_values"), {"values": [1.0]}, "t.json: layer 0 (Conv2d), field"
     " 'bias_values': bias has shape (1,), expected (2,)"),
    (("layers", 1, "weights"), {"values": [1.0]}, "t.json: layer 1 (ReLU), field 'weights':"
     " unknown key in the layer"),
    (("layers", 2, "name"), "conv1", "t.json: layer 2 (MaxPool2d), field 'name': name 'conv1' is"
     " used twice"),
    (("layers", 2, "inputs"), ["conv9"], "t.json: layer 2 (MaxPool2d), field 'inputs': input"
     " 'conv9' is not a layer name nor 'input'"),
    (("layers", 2, "inputs"), ["relu1", "conv1"], "t.json: layer 2 (MaxPool2d), field 'inputs':"
     " takes 1 input, not 2"),
    (("layers", 2), {"type": "Add"}, "t.json: layer 2 (Add), field 'inputs': takes at least 2"
     " inputs, not 1"),
    (("layers", 0, "inputs"), ["relu1"], "t.json, field 'layers': the pipeline has a cycle: nodes"
     " conv1, relu1, pool1 wait on each other"),
    (("layers", 1), [], "t.json: layer 1: a layer must be an object, not list"),
    (("layers",), {}, "t.json, field 'layers': must be a list of layers"),
    (("format",), "other", "t.json, field 'format': not a pipeline file: format is 'other'"),
    (("version",), 2, "t.json, field 'version': version 2 is not supported (written by a newer"
     " CNN Explorer); this program reads version 1"),
    (("version",), None, "t.json, field 'version': the file lacks the required key"),
    (("colour",), 1, "t.json, field 'colour': unknown key in the file; allowed: format,"),
    (("input", "color"), "grey", "t.json, field 'input': input color must be rgb, gray or none,"
     " not 'grey'"),
    (("input", "channels"), 1, "t.json, field 'input': a rgb input cannot have 1 channel(s); 1"
     " channel(s) make a gray input"),
    (("name",), 5, "t.json, field 'name': must be text"),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD, ids=[m[:50] for *_, m in BAD])
def test_bad_files(tmp_path, path, value, message):
    file = tmp_path / "t.json"
    file.write_text(json.dumps(edited(path, value)))
    with pytest.raises(SpecError) as info:
        load_pipeline(file)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_the_good_file_loads(tmp_path):
    file = tmp_path / "t.json"
    file.write_text(json.dumps(good()))
    assert [n.name for n in load_pipeline(file)] == ["conv1", "relu1", "pool1"]


def test_not_json_and_truncated(tmp_path):
    file = tmp_path / "t.json"
    file.write_text("hello")
    with pytest.raises(SpecError, match=r"^t.json: not valid JSON: Expecting value at line 1,"
                                        r" column 1$"):
        load_pipeline(file)
    text = json.dumps(good(), indent=2)
    file.write_text(text[: len(text) // 2])
    with pytest.raises(SpecError, match=r"^t.json: not valid JSON: .*\(the file ends early:"
                                        r" truncated\?\)$"):
        load_pipeline(file)
    file.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SpecError, match=r"^t.json: not a text file \(expected JSON\)$"):
        load_pipeline(file)
    file.write_text('{"version": NaN}')
    with pytest.raises(SpecError, match="NaN is not a number JSON allows"):
        load_pipeline(file)
    with pytest.raises(SpecError, match=r"nope\.json: the file does not exist$"):
        load_pipeline(tmp_path / "nope.json")


def test_npz_key_missing(tmp_path):
    np.savez(tmp_path / "w.npz", other=np.zeros(2))
    file = tmp_path / "t.json"
    file.write_text(json.dumps(edited(("layers", 0, "weights"), {"npz": "w.npz", "key": "w"})))
    with pytest.raises(SpecError, match=r"layer 0 \(Conv2d\), field 'weights': w.npz has no"
                                        r" array 'w'$"):
        load_pipeline(file)


def test_from_dict_needs_a_location_for_npz():
    data = edited(("layers", 0, "weights"), {"npz": "w.npz", "key": "w"})
    with pytest.raises(SpecError, match=r"^<dict>: layer 0 .* an npz reference needs a file"):
        pipeline_from_dict(data)


def test_resolve_unknown_name():
    with pytest.raises(SpecError) as info:
        resolve_pipeline("defualt")
    assert str(info.value) == ("defualt: no such file and not a bundled pipeline; bundled:"
                               " default, edges, lecture, shapes")


def test_bn_weights_cannot_be_drawn(tmp_path):
    data = edited(("layers", 1), {"type": "BatchNorm2d", "num_features": 2,
                                  "weights": {"init": "he", "seed": 0}})
    with pytest.raises(SpecError, match=r"^<dict>: layer 1 \(BatchNorm2d\), field 'init': unknown"
                                        r" key in weights"):
        pipeline_from_dict(data)


def test_input_name_and_partial_size_round_trip(tmp_path):
    p = Pipeline([Node("relu", ReLU(), ("image",))], InputSpec(1, "gray", height=9),
                 input_name="image")
    save_pipeline(p, tmp_path / "p.json")
    data = json.loads((tmp_path / "p.json").read_text())
    assert data["input"] == {"channels": 1, "color": "gray", "height": 9, "name": "image"}
    assert load_pipeline(tmp_path / "p.json") == p


def test_types_a_file_cannot_hold():
    class Twice(ReLU):
        type_name = "Twice"

    p = Pipeline.chain([ReLU(), Twice()], name="odd")
    with pytest.raises(SpecError, match=r"^odd: layer 1 \(Twice\): a pipeline file cannot hold"
                                        r" this layer type; it holds Conv2d, ReLU"):
        pipeline_to_dict(p)


@settings(max_examples=30, deadline=None)
@given(
    sizes=st.lists(st.tuples(st.integers(1, 12), st.integers(1, 3), st.booleans()), min_size=1,
                   max_size=4),
    seed=st.integers(0, 2**32 - 1),
    scale=st.sampled_from([1e-30, 1e-3, 1.0, 3e5]),
)
def test_random_chains_round_trip_exactly(tmp_path_factory, sizes, seed, scale):
    rng = np.random.default_rng(seed)
    layers, c = [], 3
    for out, k, bias in sizes:
        weight = (rng.standard_normal((out, c, k, k)) * scale).astype(np.float32)
        values = rng.standard_normal(out) if bias else None
        layers += [Conv2d(c, out, k, padding=k // 2, bias=bias, weight=weight,
                          bias_values=values), ReLU()]
        c = out
    pipeline = Pipeline.chain(layers, name="random")
    folder = tmp_path_factory.mktemp("chains")
    save_pipeline(pipeline, folder / "a.json")
    loaded = load_pipeline(folder / "a.json")
    save_pipeline(loaded, folder / "b.json")
    text_a = (folder / "a.json").read_text()
    assert text_a == (folder / "b.json").read_text().replace("b.npz", "a.npz")
    for node, other in zip(pipeline, loaded, strict=True):
        for key, array in node.layer.parameters().items():
            assert other.layer.parameters()[key].tobytes() == array.tobytes()
