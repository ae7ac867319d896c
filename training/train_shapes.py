"""Train the bundled shape classifier and write its weights, references and report.

Run: ``pip install -e ".[train]" && python -m training.train_shapes``

The data come from :mod:`training.shapes_data` (drawn from seeds, nothing downloaded). PyTorch
trains the network; the app never imports PyTorch: it runs the saved weights with its own engine.
Outputs:

- ``assets/models/shapes.npz``: the trained parameters under PyTorch's names,
- ``assets/models/shapes_reference.npz``: a few held-out inputs with PyTorch's outputs for them,
  which a test compares with the engine's outputs,
- ``docs/training.json``: accuracy per epoch and on the held-out set (see ``docs/training.md``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from training.shapes_data import CLASSES, SIZE, make_dataset

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261125
EPOCHS = 12
N_TRAIN, N_VAL, N_TEST = 24_000, 2_000, 4_000


def build_model():
    """The network, in the same layer order the engine's pipeline file uses."""
    import torch.nn as nn

    return nn.Sequential(
        nn.Conv2d(3, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),     # (8, 32, 32)
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # (16, 16, 16)
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # (32, 8, 8)
        nn.Flatten(),                                                  # (2048,)
        nn.Linear(32 * (SIZE // 8) ** 2, 64), nn.ReLU(),
        nn.Linear(64, len(CLASSES)),
    )


def to_tensor_batch(images: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 -> (N, 3, H, W) float32 in [0, 1]: the app's own input convention."""
    return np.ascontiguousarray(images.transpose(0, 3, 1, 2), dtype=np.float32) / 255.0


def main() -> None:
    import torch
    import torch.nn.functional as tf

    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    started = time.perf_counter()
    x_train, y_train = make_dataset(N_TRAIN, SEED)
    x_val, y_val = make_dataset(N_VAL, SEED + 1)
    x_test, y_test = make_dataset(N_TEST, SEED + 2)
    xt, yt = torch.from_numpy(to_tensor_batch(x_train)), torch.from_numpy(y_train)
    xv, yv = torch.from_numpy(to_tensor_batch(x_val)), torch.from_numpy(y_val)
    xs, ys = torch.from_numpy(to_tensor_batch(x_test)), torch.from_numpy(y_test)

    model = build_model()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, EPOCHS)
    gen = torch.Generator().manual_seed(SEED)
    history = []

    def accuracy(x, y) -> float:
        model.eval()
        with torch.no_grad():
            return float((model(x).argmax(1) == y).float().mean())

    for epoch in range(1, EPOCHS + 1):
        model.train()
        order = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for i in range(0, len(order), 128):
            idx = order[i : i + 128]
            batch = xt[idx]
            if epoch > 1:  # random mirror images: every class keeps its label when mirrored
                flip = torch.rand(len(idx), generator=gen) < 0.5
                batch = torch.where(flip[:, None, None, None], batch.flip(-1), batch)
            loss = tf.cross_entropy(model(batch), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        row = {"epoch": epoch, "train_loss": total / len(xt), "val_accuracy": accuracy(xv, yv)}
        history.append(row)
        print(f"epoch {epoch:2d}  loss {row['train_loss']:.4f}  val acc {row['val_accuracy']:.4f}")

    test_acc = accuracy(xs, ys)
    print(f"held-out accuracy {test_acc:.4f}")
    out = ROOT / "assets" / "models"
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    np.savez_compressed(out / "shapes.npz", **state)
    model.eval()
    with torch.no_grad():
        ref_x = xs[:16]
        ref_logits = model(ref_x).numpy()
    np.savez_compressed(out / "shapes_reference.npz", inputs=ref_x.numpy(), logits=ref_logits,
                        labels=ys[:16].numpy())
    report = {
        "classes": list(CLASSES), "seed": SEED, "epochs": EPOCHS, "train": N_TRAIN,
        "val": N_VAL, "test": N_TEST, "test_accuracy": test_acc, "history": history,
        "seconds": round(time.perf_counter() - started, 1), "torch": torch.__version__,
    }
    (ROOT / "docs" / "training.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
