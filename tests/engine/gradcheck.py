"""Finite-difference checks of the engine's gradients, shared by the gradient tests.

The reference is independent of every backward pass: central differences, accumulated in
float64, of the engine's own forward (``Pipeline.forward``). Along a few random directions v,
``(L(x + h v) - L(x - h v)) / 2h`` must equal ``<dL/dx, v>`` from the backward pass; the same for
each trainable parameter. The loss is ``sum(output * c)`` for a fixed random cotangent c, so
every output element's gradient is exercised.
"""

from __future__ import annotations

import numpy as np

from engine.graph.autograd import forward_backward, logits_node, trainable_parameters

H = 1e-2


def _loss(pipeline, x, c, params, train, seed, output):
    result = forward_backward(pipeline, x, c, loss="dot", train=train, params=params,
                              rng=np.random.default_rng(seed), output=output)
    return result.loss


def check_gradients(pipeline, x, *, train=False, seed=0, directions=3, rtol=2e-2, atol=2e-3):
    """Assert that every gradient of ``pipeline`` at ``x`` matches central differences."""
    rng = np.random.default_rng(seed)
    x = np.asarray(x, np.float32)
    output = logits_node(pipeline, "dot")
    shape = pipeline.forward(x)[output].shape
    c = rng.standard_normal(shape).astype(np.float32)
    result = forward_backward(pipeline, x, c, loss="dot", train=train,
                              rng=np.random.default_rng(seed), output=output)
    params = {k: v.astype(np.float32) for k, v in trainable_parameters(pipeline).items()}
    for name in ["input", *params]:
        assert name in result.grads, f"no gradient for {name}"
        base = x if name == "input" else params[name]
        grad = result.grads[name].astype(np.float64)
        assert grad.shape == base.shape, (name, grad.shape, base.shape)
        for _ in range(directions):
            v = rng.standard_normal(base.shape)
            v /= np.linalg.norm(v) or 1.0

            def at(t, name=name, base=base, v=v):
                moved = (base.astype(np.float64) + t * v).astype(np.float32)
                if name == "input":
                    return _loss(pipeline, moved, c, params, train, seed, output)
                return _loss(pipeline, x, c, {**params, name: moved}, train, seed, output)

            numeric = (at(H) - at(-H)) / (2 * H)
            analytic = float(np.sum(grad * v))
            scale = np.linalg.norm(grad) + 1.0
            assert abs(numeric - analytic) <= atol * scale + rtol * abs(numeric), (
                f"{name}: finite differences {numeric:.6g}, backward {analytic:.6g}")
