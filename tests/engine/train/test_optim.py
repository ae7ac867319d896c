"""Optimizers: 20-step trajectories against PyTorch's update rules written out in float64."""

from __future__ import annotations

import io
import math
import tracemalloc

import numpy as np
import pytest

from engine.train import SGD, Adam, AdamW, OptimizerError, cosine_lr

STEPS = 20
SHAPES = {"conv1.weight": (2, 3, 3, 3), "conv1.bias": (2,), "fc.weight": (4, 5)}


def initial(dtype=np.float64) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    return {name: rng.normal(0, 1, shape).astype(dtype) for name, shape in SHAPES.items()}


def gradients(params: dict[str, np.ndarray], t: int) -> dict[str, np.ndarray]:
    """A gradient that depends on the parameters (a quadratic bowl) plus a fixed wobble that is
    large for the first steps and small after, so AMSGrad's maximum matters."""
    out = {}
    for k, (name, p) in enumerate(params.items()):
        wobble = np.sin(t * (k + 1) + np.arange(p.size).reshape(p.shape))
        scale = 3.0 if t <= 5 else 0.1
        out[name] = (0.5 * p.astype(np.float64) + scale * wobble).astype(p.dtype)
    return out


# -- PyTorch's formulas, written out (torch.optim docs' pseudo-code) ---------------------------

def sgd_reference(lrs, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    p, b, trajectory = initial(), {}, []
    for t in range(1, STEPS + 1):
        grads = gradients(p, t)
        for name in p:
            g = grads[name]
            if weight_decay != 0:
                g = g + weight_decay * p[name]
            if momentum != 0:
                b[name] = g if t == 1 else momentum * b[name] + (1 - dampening) * g
                g = g + momentum * b[name] if nesterov else b[name]
            p[name] = p[name] - lrs[t - 1] * g
        trajectory.append({k: v.copy() for k, v in p.items()})
    return trajectory


def adam_reference(lrs, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                   decoupled=False):
    b1, b2 = betas
    p, trajectory = initial(), []
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(x) for k, x in p.items()}
    v_max = {k: np.zeros_like(x) for k, x in p.items()}
    for t in range(1, STEPS + 1):
        grads = gradients(p, t)
        lr = lrs[t - 1]
        for name in p:
            g = grads[name]
            if decoupled:  # AdamW
                p[name] = p[name] - lr * weight_decay * p[name]
            elif weight_decay != 0:
                g = g + weight_decay * p[name]
            m[name] = b1 * m[name] + (1 - b1) * g
            v[name] = b2 * v[name] + (1 - b2) * g**2
            m_hat = m[name] / (1 - b1**t)
            if amsgrad:  # torch keeps the maximum of v itself, then corrects its bias
                v_max[name] = np.maximum(v_max[name], v[name])
                v_hat = v_max[name] / (1 - b2**t)
            else:
                v_hat = v[name] / (1 - b2**t)
            p[name] = p[name] - lr * m_hat / (np.sqrt(v_hat) + eps)
        trajectory.append({k: x.copy() for k, x in p.items()})
    return trajectory


def run(opt, dtype, lrs=None):
    params, trajectory = initial(dtype), []
    for t in range(1, STEPS + 1):
        opt.step(params, gradients(params, t), lr=None if lrs is None else lrs[t - 1])
        trajectory.append({k: v.astype(np.float64) for k, v in params.items()})
    return trajectory


def assert_same_path(ours, reference, dtype):
    rtol, atol = (1e-10, 1e-12) if dtype == np.float64 else (2e-5, 2e-6)
    for step, (a, b) in enumerate(zip(ours, reference, strict=True), start=1):
        for name in b:
            np.testing.assert_allclose(a[name], b[name], rtol=rtol, atol=atol,
                                       err_msg=f"{name} after step {step}")


SGD_CASES = [
    dict(lr=0.05),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.05, weight_decay=0.1),
    dict(lr=0.02, momentum=0.8, dampening=0.1, weight_decay=0.05),
    dict(lr=0.02, momentum=0.8, nesterov=True, weight_decay=0.05),
]


def case_id(case: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in case.items())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", SGD_CASES, ids=case_id)
def test_sgd_follows_torch_rule(case, dtype):
    lr = case["lr"]
    reference = sgd_reference([lr] * STEPS, **{k: v for k, v in case.items() if k != "lr"})
    assert_same_path(run(SGD(**case), dtype), reference, dtype)


ADAM_CASES = [
    dict(lr=0.01),
    dict(lr=0.01, betas=(0.8, 0.99)),
    dict(lr=0.01, eps=0.1),  # eps is added outside the square root
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.01, amsgrad=True),
    dict(lr=0.01, weight_decay=0.1, amsgrad=True, betas=(0.5, 0.9)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", ADAM_CASES, ids=case_id)
def test_adam_follows_torch_rule(case, dtype):
    reference = adam_reference([case["lr"]] * STEPS,
                               **{k: v for k, v in case.items() if k != "lr"})
    assert_same_path(run(Adam(**case), dtype), reference, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", [dict(), dict(lr=0.01, weight_decay=0.3),
                                  dict(lr=0.01, weight_decay=0.3, amsgrad=True)])
def test_adamw_follows_torch_rule(case, dtype):
    full = {"lr": 1e-3, "weight_decay": 1e-2, **case}
    reference = adam_reference([full["lr"]] * STEPS, weight_decay=full["weight_decay"],
                               amsgrad=full.get("amsgrad", False), decoupled=True)
    assert_same_path(run(AdamW(**case), dtype), reference, dtype)


def test_the_variants_really_differ():
    """The cases above would prove little if the settings did not change the path."""
    def last(trajectory):
        return np.concatenate([v.ravel() for v in trajectory[-1].values()])

    lrs = [0.05] * STEPS
    plain, nesterov = sgd_reference(lrs, momentum=0.9), sgd_reference(lrs, 0.9, nesterov=True)
    damped = sgd_reference(lrs, momentum=0.9, dampening=0.3)
    assert not np.allclose(last(plain), last(nesterov))
    assert not np.allclose(last(plain), last(damped))
    lrs = [0.01] * STEPS
    assert not np.allclose(last(adam_reference(lrs)), last(adam_reference(lrs, amsgrad=True)))
    assert not np.allclose(last(adam_reference(lrs, weight_decay=0.3)),
                           last(adam_reference(lrs, weight_decay=0.3, decoupled=True)))


def test_a_schedule_sets_the_rate_of_each_step():
    schedule = cosine_lr(0.02, total_steps=STEPS, warmup_steps=4)
    lrs = [schedule(t) for t in range(STEPS)]
    opt = SGD(lr=123.0, momentum=0.9)
    assert_same_path(run(opt, np.float64, lrs), sgd_reference(lrs, momentum=0.9), np.float64)
    assert opt.lr == lrs[-1]
    lrs = [cosine_lr(0.05, STEPS)(t) for t in range(STEPS)]
    assert_same_path(run(Adam(), np.float64, lrs), adam_reference(lrs), np.float64)


@pytest.mark.parametrize("make", [
    lambda: SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda: Adam(lr=0.01, amsgrad=True, weight_decay=0.1),
    lambda: AdamW(lr=0.01),
])
def test_state_dict_round_trip_mid_run_gives_the_same_trajectory(make):
    straight, params = make(), initial(np.float32)
    for t in range(1, STEPS + 1):
        straight.step(params, gradients(params, t))

    first, resumed = make(), initial(np.float32)
    for t in range(1, 11):
        first.step(resumed, gradients(resumed, t))
    buffer = io.BytesIO()  # through a checkpoint file, as the trainer will store it
    np.savez(buffer, **first.state_dict())
    buffer.seek(0)
    with np.load(buffer) as saved:
        loaded = dict(saved)
    second = type(first)(lr=0.5)  # other settings: the saved ones must win
    second.load_state_dict(loaded)
    assert repr(second) == repr(first)
    for t in range(11, STEPS + 1):
        second.step(resumed, gradients(resumed, t))
    for name in params:
        np.testing.assert_array_equal(resumed[name], params[name])


def test_state_dict_holds_copies_and_torch_names():
    opt, params = Adam(amsgrad=True), initial(np.float32)
    opt.step(params, gradients(params, 1))
    saved = opt.state_dict()
    assert saved["type"] == "Adam" and saved["betas"] == (0.9, 0.999)
    assert saved["state.fc.weight.step"] == 1
    for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
        assert saved[f"state.fc.weight.{key}"].shape == (4, 5)
    before = saved["state.fc.weight.exp_avg"].copy()
    opt.step(params, gradients(params, 2))
    np.testing.assert_array_equal(saved["state.fc.weight.exp_avg"], before)


def test_load_state_dict_refuses_another_optimizer_or_broken_settings():
    saved = SGD(lr=0.1).state_dict()
    with pytest.raises(OptimizerError, match="belongs to a SGD optimizer"):
        Adam().load_state_dict(saved)
    broken = {**Adam().state_dict(), "betas": (1.5, 0.9)}
    opt = Adam(lr=0.25)
    with pytest.raises(OptimizerError, match="Beta1"):
        opt.load_state_dict(broken)
    assert opt.lr == 0.25  # nothing changed
    missing = {k: v for k, v in Adam().state_dict().items() if k != "eps"}
    with pytest.raises(OptimizerError, match="'eps'"):
        Adam().load_state_dict(missing)


def test_a_loaded_state_must_fit_the_parameters():
    opt = Adam()
    opt.step({"w": np.zeros(3, np.float32)}, {"w": np.ones(3, np.float32)})
    other = Adam()
    other.load_state_dict(opt.state_dict())
    with pytest.raises(OptimizerError, match="shape"):
        other.step({"w": np.zeros(4, np.float32)}, {"w": np.ones(4, np.float32)})


@pytest.mark.parametrize("make", [lambda: SGD(0.1, momentum=0.9, nesterov=True,
                                                weight_decay=0.1),
                                  lambda: Adam(weight_decay=0.1, amsgrad=True), AdamW])
def test_steps_update_in_place_and_allocate_nothing_of_parameter_size(make):
    opt = make()
    params = {"big": np.ones(1 << 20, np.float32)}  # 4 MiB
    grads = {"big": np.full(1 << 20, 0.5, np.float32)}
    array = params["big"]
    opt.step(params, grads)  # the first step makes the state
    state = {k: id(v) for k, v in opt.state["big"].items() if isinstance(v, np.ndarray)}
    tracemalloc.start()
    opt.step(params, grads)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 64 * 1024, f"a step allocated {peak} bytes"
    assert params["big"] is array
    assert {k: id(v) for k, v in opt.state["big"].items() if isinstance(v, np.ndarray)} == state
    assert not np.array_equal(array, np.ones_like(array))


def test_parameters_without_gradient_are_skipped():
    params = initial(np.float32)
    frozen = params["conv1.bias"].copy()
    grads = gradients(params, 1)
    grads["conv1.bias"] = None
    del grads["fc.weight"]
    fc = params["fc.weight"].copy()
    opt = Adam()
    opt.step(params, grads)
    np.testing.assert_array_equal(params["conv1.bias"], frozen)
    np.testing.assert_array_equal(params["fc.weight"], fc)
    assert set(opt.state) == {"conv1.weight"}


def test_gradient_errors_name_the_parameter():
    params = {"conv1.weight": np.zeros((2, 2), np.float32)}
    with pytest.raises(OptimizerError, match=r"'conv9\.weight'.*'conv1\.weight'"):
        SGD().step(params, {"conv9.weight": np.zeros((2, 2), np.float32)})
    with pytest.raises(OptimizerError, match=r"'conv1.weight' has shape \(3,\)"):
        SGD().step(params, {"conv1.weight": np.zeros(3, np.float32)})
    with pytest.raises(OptimizerError, match="writable floating-point"):
        SGD().step({"n": np.zeros(2, np.int64)}, {"n": np.zeros(2)})


@pytest.mark.parametrize(("make", "match"), [
    (lambda: SGD(lr=-1), "learning rate"),
    (lambda: SGD(lr=math.nan), "learning rate"),
    (lambda: SGD(momentum=-0.1), "momentum"),
    (lambda: SGD(nesterov=True), "Nesterov"),
    (lambda: SGD(momentum=0.9, dampening=0.1, nesterov=True), "Nesterov"),
    (lambda: SGD(weight_decay=-1), "weight decay"),
    (lambda: SGD(nesterov="yes"), "true or false"),
    (lambda: Adam(betas=(1.0, 0.9)), "Beta1"),
    (lambda: Adam(betas=(0.9, -0.1)), "Beta2"),
    (lambda: Adam(betas=0.9), "two numbers"),
    (lambda: Adam(eps=-1e-8), "Epsilon"),
    (lambda: AdamW(amsgrad=1), "true or false"),
])
def test_bad_settings_are_refused_in_words(make, match):
    with pytest.raises(OptimizerError, match=match):
        make()
    with pytest.raises(OptimizerError, match="learning rate"):
        SGD().step({}, {}, lr=-0.5)


def test_defaults_and_repr_match_pytorch():
    assert repr(SGD()) == "SGD(lr=0.001, momentum=0.0, dampening=0.0, nesterov=False, " \
                          "weight_decay=0.0)"
    assert repr(Adam()) == ("Adam(lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0, "
                            "amsgrad=False)")
    assert repr(AdamW()) == ("AdamW(lr=0.001, betas=(0.9, 0.999), eps=1e-08, "
                             "weight_decay=0.01, amsgrad=False)")
