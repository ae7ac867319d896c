"""Gradients through layers and graphs against finite differences of the engine's forward."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.graph.autograd import forward_backward, trainable_parameters
from engine.graph.node import InputSpec, Node
from engine.graph.pipeline import Pipeline
from engine.layers import (
    Add,
    AvgPool2d,
    BatchNorm2d,
    Concat,
    Conv2d,
    Dropout,
    Flatten,
    GlobalAvgPool2d,
    Hardtanh,
    LeakyReLU,
    Linear,
    MaxPool2d,
    NotDifferentiable,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from tests.engine.gradcheck import check_gradients

RNG = np.random.default_rng(7)


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _head(c, h, w, classes=3, seed=0, extra=()):
    spec = InputSpec(channels=c)
    return Pipeline.chain([*extra, Flatten(), Linear(c * h * w, classes, seed=seed)],
                          input_spec=spec)


ELEMENTWISE = [ReLU(), LeakyReLU(0.2), Sigmoid(), Tanh(), Hardtanh(-0.5, 0.5)]


@pytest.mark.parametrize("layer", ELEMENTWISE, ids=lambda layer: layer.type_name)
def test_elementwise_layers(layer):
    # values kept away from the kinks, where one-sided and central differences disagree
    x = _x(2, 2, 3, 3)
    x = np.where(np.abs(x) < 0.05, 0.3, x) + np.where(np.abs(np.abs(x) - 0.5) < 0.05, 0.2, 0)
    check_gradients(_head(2, 3, 3, extra=(layer,)), x.astype(np.float32))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 4), h=st.integers(1, 4), w=st.integers(1, 4),
       classes=st.integers(1, 5), seed=st.integers(0, 99))
def test_linear_and_flatten_over_shapes(n, c, h, w, classes, seed):
    check_gradients(_head(c, h, w, classes, seed), _x(n, c, h, w, seed=seed))


def test_softmax_layer_mid_network():
    p = Pipeline.chain([Flatten(), Linear(8, 5, seed=1), Softmax(), Linear(5, 3, seed=2)],
                       input_spec=InputSpec(channels=2))
    check_gradients(p, _x(2, 2, 2, 2))


@pytest.mark.parametrize("train", [False, True])
def test_batch_norm_train_and_eval(train):
    bn = BatchNorm2d(3, running_mean=[0.1, -0.2, 0.3], running_var=[1.5, 0.5, 2.0],
                     weight=[1.0, 0.5, -2.0], bias=[0.0, 0.1, 0.2])
    check_gradients(_head(3, 3, 3, extra=(bn,)), _x(4, 3, 3, 3), train=train)


def test_batch_norm_train_matches_pytorch_rules():
    x = _x(4, 2, 3, 3, seed=3)
    p = Pipeline.chain([BatchNorm2d(2)], input_spec=InputSpec(channels=2))
    result = forward_backward(p, x, np.zeros((4, 2, 3, 3), np.float32), loss="mse", train=True)
    mean = x.mean(axis=(0, 2, 3))
    var = x.var(axis=(0, 2, 3))
    normalized = (x - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5)
    np.testing.assert_allclose(result.output, normalized, rtol=1e-4, atol=1e-5)
    unbiased = x.var(axis=(0, 2, 3), ddof=1)
    np.testing.assert_allclose(result.buffers["bn1.running_mean"], 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(result.buffers["bn1.running_var"], 0.9 + 0.1 * unbiased,
                               rtol=1e-5)


def test_dag_accumulates_where_an_output_feeds_several_nodes():
    relu, sig = ReLU(), Sigmoid()
    nodes = [Node("a", Tanh(), ("input",)), Node("b", relu, ("a",)), Node("c", sig, ("a",)),
             Node("sum", Add(), ("b", "c", "a")), Node("cat", Concat(), ("sum", "a")),
             Node("flat", Flatten(), ("cat",)), Node("fc", Linear(36, 4, seed=3), ("flat",))]
    p = Pipeline(nodes, InputSpec(channels=2))
    check_gradients(p, _x(2, 2, 3, 3) + 0.05)


def test_dropout_trains_with_its_mask_and_is_the_identity_otherwise():
    p = _head(2, 3, 3, extra=(Dropout(0.4),))
    check_gradients(p, _x(3, 2, 3, 3), train=True, seed=5)
    x = _x(3, 2, 3, 3)
    eval_grads = engine.value_and_grad(p, x, np.array([0, 1, 2]))[1]
    plain = engine.value_and_grad(_head(2, 3, 3), x, np.array([0, 1, 2]))[1]
    np.testing.assert_allclose(eval_grads["input"], plain["input"], rtol=1e-6)
    train_out = forward_backward(p, x, np.array([0, 1, 2]), train=True,
                                 rng=np.random.default_rng(0)).outputs["dropout1"]
    kept = train_out != 0
    np.testing.assert_allclose(train_out[kept], x[kept] / 0.6, rtol=1e-6)


def test_value_and_grad_contract():
    p = Pipeline.chain([BatchNorm2d(2), Flatten(), Linear(18, 3), Softmax()],
                       input_spec=InputSpec(channels=2))
    x, labels = _x(4, 2, 3, 3), np.array([0, 2, 1, 1])
    loss, grads = engine.value_and_grad(p, x, labels)
    assert isinstance(loss, float)
    assert set(grads) == {"input", "bn1.weight", "bn1.bias", "fc1.weight", "fc1.bias"}
    assert grads["input"].shape == x.shape and grads["input"].dtype == np.float32
    # trained on the logits before the final Softmax, as PyTorch's cross_entropy
    logits = p.forward(x)["fc1"].astype(np.float64)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    assert loss == pytest.approx(-logp[np.arange(4), labels].mean(), rel=1e-5)
    mse, _ = engine.value_and_grad(p, x, np.zeros((4, 3), np.float32), loss="mse")
    probs = p.forward(x)["softmax1"]
    assert mse == pytest.approx(float(np.mean(probs.astype(np.float64) ** 2)), rel=1e-5)


def test_bad_calls_say_what_is_wrong():
    p = _head(2, 3, 3)
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        engine.value_and_grad(p, _x(1, 2, 3, 3), np.array([0]), loss="hinge")
    with pytest.raises(ValueError, match="labels must be 0 to 2 for 3 classes"):
        engine.value_and_grad(p, _x(1, 2, 3, 3), np.array([3]))
    with pytest.raises(ValueError, match=r"gradients need a batch \(N, C, H, W\)"):
        engine.value_and_grad(p, _x(2, 3, 3), np.array([0]))
    from engine.layers.imported import LocalResponseNorm

    q = Pipeline.chain([LocalResponseNorm(3), Flatten(), Linear(18, 2)],
                       input_spec=InputSpec(channels=2))
    with pytest.raises(NotDifferentiable,
                       match=r"layer 0 \(lrn1, LocalResponseNorm\) cannot be differentiated"):
        engine.value_and_grad(q, _x(1, 2, 3, 3), np.array([0]))


def test_state_dict_round_trip_and_refusals():
    p = Pipeline.chain([BatchNorm2d(2), Flatten(), Linear(18, 3)],
                       input_spec=InputSpec(channels=2))
    state = p.state_dict()
    assert sorted(state) == ["bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.weight",
                             "fc1.bias", "fc1.weight"]
    new = {k: v + 1 for k, v in state.items()}
    q = p.load_state_dict(new)
    assert q is not p and all(np.array_equal(q.state_dict()[k], new[k]) for k in new)
    assert np.array_equal(p.state_dict()["fc1.weight"], state["fc1.weight"])  # p unchanged
    assert set(trainable_parameters(q)) == {"bn1.weight", "bn1.bias", "fc1.weight", "fc1.bias"}
    with pytest.raises(ValueError, match=r"missing: fc1\.bias"):
        p.load_state_dict({k: v for k, v in state.items() if k != "fc1.bias"})
    with pytest.raises(ValueError, match=r"unknown: fc9\.weight"):
        p.load_state_dict({**state, "fc9.weight": state["fc1.weight"]})
    with pytest.raises(ValueError, match=r"weight has shape"):
        p.load_state_dict({**state, "fc1.weight": np.zeros((2, 2), np.float32)})
    assert p.load_state_dict({"fc1.bias": np.ones(3)}, strict=False).state_dict()[
        "fc1.bias"].tolist() == [1.0, 1.0, 1.0]


# -- convolution and pooling layers -----------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(c_in=st.sampled_from([1, 2, 4]), c_out=st.sampled_from([2, 4]),
       k=st.integers(1, 3), stride=st.integers(1, 2), padding=st.integers(0, 2),
       dilation=st.integers(1, 2), depthwise=st.booleans(), flip=st.booleans(),
       bias=st.booleans(), n=st.integers(1, 2), h=st.integers(5, 8), w=st.integers(5, 8),
       seed=st.integers(0, 99))
def test_conv2d_layer_gradients(c_in, c_out, k, stride, padding, dilation, depthwise, flip,
                                bias, n, h, w, seed):
    groups = c_in if depthwise else 1
    c_out = c_in if depthwise else c_out
    conv = Conv2d(c_in, c_out, k, stride=stride, padding=padding, dilation=dilation,
                  groups=groups, bias=bias, flip=flip, seed=seed,
                  bias_values=np.linspace(-0.5, 0.5, c_out) if bias else None)
    try:
        out = conv.out_shape((c_in, h, w))
    except ValueError:
        return  # the kernel does not fit this input; the ledger says so elsewhere
    head = Pipeline.chain([conv, Flatten(), Linear(int(np.prod(out)), 3, seed=seed)],
                          input_spec=InputSpec(channels=c_in))
    check_gradients(head, _x(n, c_in, h, w, seed=seed), seed=seed)


POOLS = [MaxPool2d(2), MaxPool2d(3, stride=2, padding=1), MaxPool2d(2, dilation=2),
         MaxPool2d(3, stride=2, ceil_mode=True), AvgPool2d(2), AvgPool2d(3, 2, padding=1),
         AvgPool2d(3, 2, padding=1, count_include_pad=False), AvgPool2d(2, ceil_mode=True),
         GlobalAvgPool2d()]


@pytest.mark.parametrize("pool", POOLS, ids=repr)
def test_pooling_layer_gradients(pool):
    # distinct values: finite differences are smooth where no two inputs tie for a maximum
    x = np.random.default_rng(3).permutation(2 * 2 * 7 * 7).reshape(2, 2, 7, 7)
    x = (x / 20.0).astype(np.float32)
    out = pool.out_shape((2, 7, 7))
    p = Pipeline.chain([pool, Flatten(), Linear(int(np.prod(out)), 3, seed=1)],
                       input_spec=InputSpec(channels=2))
    check_gradients(p, x, rtol=2e-2, atol=2e-3)


def test_whole_bundled_classifier_gradient():
    shapes = engine.resolve_pipeline("shapes")
    x = np.random.default_rng(0).uniform(0, 1, (2, 3, 64, 64)).astype(np.float32)
    check_gradients(shapes, x, directions=2)
    loss, grads = engine.value_and_grad(shapes, x, np.array([1, 5]))
    assert set(grads) == {"input", *(f"{n}.{p}" for n in ("conv1", "conv2", "conv3", "fc1",
                                                           "fc2") for p in ("weight", "bias"))}
    assert np.isfinite(loss) and all(np.isfinite(g).all() for g in grads.values())
