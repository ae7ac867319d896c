"""Receptive fields: the box of input pixels that can change a unit, against brute force."""

import numpy as np
import pytest

from engine.graph.pipeline import InputSpec, Node, Pipeline
from engine.layers import Add, AvgPool2d, Concat, Conv2d, MaxPool2d, ReLU
from engine.lecture.receptive import receptive_field


def influence(pipeline, x, node, channel, y, xx):
    """Pixels (y, x) whose change (in every channel) changes the unit: a brute-force field."""
    base = pipeline.forward(x)[node][channel, y, xx]
    hits = set()
    for i in range(x.shape[1]):
        for j in range(x.shape[2]):
            bumped = x.copy()
            bumped[:, i, j] += 1.0
            if abs(pipeline.forward(bumped)[node][channel, y, xx] - base) > 1e-6:
                hits.add((i, j))
    return hits


def box_of(hits):
    ys, xs = zip(*hits, strict=True)
    return min(ys), max(ys), min(xs), max(xs)


def positive(layer):
    """The same conv layer with weights in [0.5, 1.5]: no cancellations, so fields are tight."""
    rng = np.random.default_rng(7)
    return layer.replace() if not hasattr(layer, "weight") else Conv2d(
        layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride, layer.padding,
        layer.dilation, layer.groups, weight=rng.uniform(0.5, 1.5, layer.weight.shape))


GRAY = InputSpec(channels=1, color="gray")

CHAINS = [
    [Conv2d(1, 2, 3), Conv2d(2, 1, 3)],
    [Conv2d(1, 3, 3, padding=1), AvgPool2d(2), Conv2d(3, 2, 3, stride=2, padding=1)],
    [Conv2d(1, 2, 3, dilation=2, padding=2), Conv2d(2, 2, 2, stride=2), Conv2d(2, 1, 3)],
    [Conv2d(1, 2, 5, stride=3, padding=2), Conv2d(2, 2, 2, padding=1)],
]


@pytest.mark.parametrize("layers", CHAINS)
def test_receptive_field_is_exact_for_positive_conv_chains(layers):
    pipeline = Pipeline.chain([positive(layer) for layer in layers], input_spec=GRAY)
    x = np.random.default_rng(1).uniform(0.5, 1.0, (1, 12, 12)).astype(np.float32)
    last = pipeline.nodes[-1].name
    _, oh, ow = pipeline.shapes(x.shape)[last]
    for y, xx in {(0, 0), (oh - 1, ow - 1), (oh // 2, ow // 2)}:
        field = receptive_field(pipeline, x.shape, last, 0, y, xx)
        hits = influence(pipeline, x, last, 0, y, xx)
        r = field.input_region
        assert box_of(hits) == (r.y0, r.y1, r.x0, r.x1)


def test_receptive_field_on_intermediate_layers_matches_the_rest_of_the_chain():
    layers = [positive(layer) for layer in CHAINS[1]]
    full = Pipeline.chain(layers, input_spec=GRAY)
    shape = full.shapes((1, 12, 12))
    field = receptive_field(full, (1, 12, 12), "conv2", 1, 2, 1)
    # The field on avgpool1's map is the input field of the chain that starts after it.
    rest = Pipeline.chain(layers[2:], names=["conv2"], input_spec=InputSpec(channels=3))
    x = np.random.default_rng(2).uniform(0.5, 1.0, shape["avgpool1"]).astype(np.float32)
    hits = influence(rest, x, "conv2", 1, 2, 1)
    r = field.regions["avgpool1"]
    assert box_of(hits) == (r.y0, r.y1, r.x0, r.x1)


def test_receptive_field_sound_with_relu_and_max_pool():
    rng = np.random.default_rng(3)
    pipeline = Pipeline.chain([Conv2d(1, 3, 3, padding=1, seed=4), ReLU(), MaxPool2d(2),
                               Conv2d(3, 2, 3, seed=5), ReLU()], input_spec=GRAY)
    x = rng.standard_normal((1, 12, 12)).astype(np.float32)
    for y, xx in ((0, 0), (2, 3)):
        field = receptive_field(pipeline, x.shape, "relu2", 1, y, xx)
        r = field.input_region
        for i, j in influence(pipeline, x, "relu2", 1, y, xx):
            assert r.y0 <= i <= r.y1 and r.x0 <= j <= r.x1
        # conv2 sees 3 pooled cells = 6 conv1 cells, and conv1 adds 1 on each side.
        assert field.size == (8, 8)


def graph_add():
    a = Conv2d(1, 2, 3, padding=1, weight=np.full((2, 1, 3, 3), 0.7))
    b = Conv2d(1, 2, 3, padding=4, dilation=4, weight=np.full((2, 1, 3, 3), 0.9))
    head = Conv2d(2, 1, 1, weight=np.ones((1, 2, 1, 1)))
    nodes = [Node("a", a, ("input",)), Node("b", b, ("input",)), Node("sum", Add(), ("a", "b")),
             Node("head", head, ("sum",))]
    return Pipeline(nodes, input_spec=GRAY)


def graph_concat():
    narrow = Conv2d(1, 1, 1, weight=np.ones((1, 1, 1, 1)))
    wide = Conv2d(1, 2, 5, padding=2, weight=np.full((2, 1, 5, 5), 0.8))
    nodes = [Node("narrow", narrow, ("input",)), Node("wide", wide, ("input",)),
             Node("cat", Concat(), ("narrow", "wide"))]
    return Pipeline(nodes, input_spec=GRAY)


@pytest.mark.parametrize(("build", "node", "channel", "y", "xx"), [
    (graph_add, "head", 0, 5, 5),
    (graph_add, "head", 0, 0, 9),
    (graph_concat, "cat", 0, 4, 4),   # the 1x1 branch: one pixel
    (graph_concat, "cat", 2, 4, 4),   # the 5x5 branch
    (graph_concat, "cat", 1, 0, 0),
])
def test_receptive_field_of_graphs_matches_brute_force(build, node, channel, y, xx):
    pipeline = build()
    x = np.random.default_rng(4).uniform(0.5, 1.0, (1, 10, 10)).astype(np.float32)
    field = receptive_field(pipeline, x.shape, node, channel, y, xx)
    r = field.input_region
    assert box_of(influence(pipeline, x, node, channel, y, xx)) == (r.y0, r.y1, r.x0, r.x1)


def test_receptive_field_of_a_unit_that_sees_only_padding():
    pipeline = Pipeline.chain([Conv2d(1, 1, 1, padding=2)], input_spec=GRAY)
    x = np.ones((1, 4, 4), np.float32)
    field = receptive_field(pipeline, x.shape, "conv1", 0, 0, 0)
    assert field.input_region is None and "only zero padding" in field.describe()
    assert influence(pipeline, x, "conv1", 0, 0, 0) == set()


def test_receptive_field_rejects_units_outside_the_map():
    pipeline = Pipeline.chain([Conv2d(1, 1, 3)], input_spec=GRAY)
    with pytest.raises(ValueError, match="8 rows"):
        receptive_field(pipeline, (1, 10, 10), "conv1", 0, 8, 0)
    with pytest.raises(ValueError, match="no layer called"):
        receptive_field(pipeline, (1, 10, 10), "conv9", 0, 0, 0)
