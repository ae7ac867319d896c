"""Schedules against PyTorch's closed and recursive forms; clipping against torch's rule."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.train import (
    Constant,
    CosineLR,
    StepLR,
    clip_grad_norm,
    constant,
    cosine_lr,
    global_norm,
    step_lr,
)


def test_constant():
    lr_at = constant(0.3)
    assert isinstance(lr_at, Constant)
    assert [lr_at(s) for s in (0, 1, 10**6)] == [0.3, 0.3, 0.3]


@pytest.mark.parametrize(("step_size", "gamma"), [(1, 0.5), (3, 0.1), (7, 0.9)])
def test_step_lr_matches_torch_recursion(step_size, gamma):
    # torch's StepLR.get_lr: multiply by gamma whenever last_epoch % step_size == 0 (not at 0)
    lr, expected = 0.2, []
    for step in range(40):
        if step != 0 and step % step_size == 0:
            lr *= gamma
        expected.append(lr)
    lr_at = step_lr(0.2, step_size, gamma)
    assert isinstance(lr_at, StepLR)
    np.testing.assert_allclose([lr_at(s) for s in range(40)], expected, rtol=1e-12)


@pytest.mark.parametrize(("base", "min_lr", "total"), [(0.1, 0.0, 10), (0.05, 0.001, 37)])
def test_cosine_matches_torch_closed_and_recursive_forms(base, min_lr, total):
    lr_at = cosine_lr(base, total, min_lr=min_lr)
    ours = [lr_at(t) for t in range(total + 1)]
    closed = [min_lr + (base - min_lr) * (1 + math.cos(math.pi * t / total)) / 2
              for t in range(total + 1)]
    np.testing.assert_allclose(ours, closed, rtol=1e-12)
    # CosineAnnealingLR.get_lr, the recursive ("chainable") form torch steps with
    lr, recursive = base, [base]
    for t in range(1, total + 1):
        lr = min_lr + (lr - min_lr) * (1 + math.cos(math.pi * t / total)) / (
            1 + math.cos(math.pi * (t - 1) / total))
        recursive.append(lr)
    np.testing.assert_allclose(ours, recursive, rtol=1e-9, atol=1e-15)
    assert lr_at(total + 5) == min_lr  # held at the floor after the end


@pytest.mark.parametrize("start_factor", [1 / 3, 0.01, 1.0])
def test_warm_up_is_torch_linear_lr_then_cosine(start_factor):
    base, warmup, total = 0.4, 5, 25
    lr_at = cosine_lr(base, total, warmup_steps=warmup, warmup_start_factor=start_factor)
    assert isinstance(lr_at, CosineLR)
    # LinearLR's recursive form: lr *= 1 + (end - start) / (total * start + (t - 1) (end - start))
    lr, expected = base * start_factor, [base * start_factor]
    for t in range(1, warmup):
        lr *= 1 + (1 - start_factor) / (warmup * start_factor + (t - 1) * (1 - start_factor))
        expected.append(lr)
    expected += [(1 + math.cos(math.pi * t / (total - warmup))) / 2 * base
                 for t in range(total - warmup)]
    np.testing.assert_allclose([lr_at(s) for s in range(total)], expected, rtol=1e-12)
    assert lr_at(warmup) == base
    if start_factor < 1:
        assert all(a < b for a, b in itertools.pairwise(expected[: warmup + 1]))


@pytest.mark.parametrize(("make", "match"), [
    (lambda: step_lr(0.1, 0), "step size"),
    (lambda: step_lr(-0.1, 3), "learning rate"),
    (lambda: cosine_lr(0.1, 0), "number of steps"),
    (lambda: cosine_lr(0.1, 10, warmup_steps=10), "warm-up"),
    (lambda: cosine_lr(0.1, 10, min_lr=0.2), "minimum learning rate"),
    (lambda: cosine_lr(0.1, 10, warmup_start_factor=0), "warm-up start factor"),
    (lambda: cosine_lr(0.1, 10, warmup_start_factor=2), "warm-up start factor"),
    (lambda: constant(float("inf")), "learning rate"),
])
def test_bad_schedules_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()
    with pytest.raises(ValueError, match="step"):
        constant(0.1)(-1)


def torch_clip(grads: list[np.ndarray], max_norm: float) -> tuple[float, list[np.ndarray]]:
    """torch.nn.utils.clip_grad_norm_ written out: norm of the per-tensor norms, then scale by
    min(1, max_norm / (total + 1e-6))."""
    norms = [np.linalg.norm(g.astype(np.float64).ravel()) for g in grads]
    total = float(np.linalg.norm(norms))
    coef = min(max_norm / (total + 1e-6), 1.0)
    return total, [g.astype(np.float64) * coef for g in grads]


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(0, 30), min_size=1, max_size=4),
       max_norm=st.floats(0.01, 100.0), seed=st.integers(0, 2**16))
def test_clip_grad_norm_matches_torch_rule(sizes, max_norm, seed):
    rng = np.random.default_rng(seed)
    grads = {f"layer{i}.weight": rng.normal(0, rng.uniform(0.1, 10), n).astype(np.float32)
             for i, n in enumerate(sizes)}
    ids = {k: id(v) for k, v in grads.items()}
    total, expected = torch_clip(list(grads.values()), max_norm)
    assert global_norm(grads) == pytest.approx(total, rel=1e-5)
    assert clip_grad_norm(grads, max_norm) == pytest.approx(total, rel=1e-5)
    for g, e in zip(grads.values(), expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=2e-5, atol=1e-6)
    assert {k: id(v) for k, v in grads.items()} == ids  # in place
    assert global_norm(grads) <= max_norm * (1 + 1e-5)


def test_clip_leaves_small_gradients_alone_and_skips_none():
    grads = {"a": np.array([0.3, 0.4]), "b": None}
    assert clip_grad_norm(grads, 1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(grads["a"], [0.3, 0.4])
    assert global_norm([]) == 0.0


def test_infinity_norm_and_non_finite_gradients():
    grads = {"a": np.array([1.0, -7.0]), "b": np.array([[3.0]])}
    assert global_norm(grads, math.inf) == 7.0
    assert clip_grad_norm(grads, 3.5, norm_type=math.inf) == 7.0
    np.testing.assert_allclose(grads["a"], np.array([1.0, -7.0]) * 3.5 / (7 + 1e-6))
    bad = {"a": np.array([np.nan, 1.0])}
    assert math.isnan(clip_grad_norm(bad, 1.0))
    with pytest.raises(ValueError, match="not a number"):
        clip_grad_norm(bad, 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError, match="L2"):
        global_norm(grads, 1.0)
    with pytest.raises(ValueError, match="maximum gradient norm"):
        clip_grad_norm(grads, 0.0)
