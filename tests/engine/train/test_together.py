"""The pieces together: drawn digits, split, batches, augmentation, AdamW with a cosine schedule
and clipping train a softmax regression well above chance (its gradient written by hand)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from engine.train import (
    AdamW,
    Augment,
    batches,
    clip_grad_norm,
    cosine_lr,
    open_dataset,
    split,
    to_batch,
)


def test_a_linear_classifier_learns_the_drawn_digits():
    data = open_dataset("digits", size=(16, 16), channels=1, n=500, seed=0)
    train, val = split(data, 0.2, seed=0)
    rng = np.random.default_rng(0)
    params = {"fc.weight": rng.normal(0, 0.01, (10, 256)).astype(np.float32),
              "fc.bias": np.zeros(10, np.float32)}
    epochs, batch = 8, 32
    schedule = cosine_lr(0.01, epochs * -(-len(train) // batch), warmup_steps=5)
    opt, augment, step = AdamW(lr=0.01, weight_decay=1e-3), Augment(shift=0.05), 0

    def logits(x):  # (N, 1, 16, 16) -> (N, 10)
        return x.reshape(len(x), -1) @ params["fc.weight"].T + params["fc.bias"]

    for _epoch in range(epochs):
        for images, labels in batches(train, batch, seed=rng):
            x = to_batch(augment(images, rng)) - 0.5
            z = logits(x)
            p = np.exp(z - z.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(len(labels)), labels] -= 1  # d(cross-entropy) / d(logits) * N
            p /= len(labels)
            grads = {"fc.weight": (p.T @ x.reshape(len(x), -1)).astype(np.float32),
                     "fc.bias": p.sum(axis=0).astype(np.float32)}
            assert clip_grad_norm(grads, 5.0) > 0
            opt.step(params, grads, lr=schedule(step))
            step += 1
    accuracy = (logits(to_batch(val.images) - 0.5).argmax(axis=1) == val.labels).mean()
    assert accuracy > 0.3  # chance is 0.1


def test_importing_engine_train_loads_no_opencv():
    """Like ``import engine``: OpenCV loads only when a picture is read, drawn or resized."""
    code = ("import sys, engine.train; "
            "print([m for m in ('cv2', 'onnx', 'PySide6', 'torch') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
