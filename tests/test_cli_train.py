"""`cnn-explorer train` and `evaluate` end to end, and their one-line refusals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

import main
from engine.resolve import resolve_pipeline

ROOT = Path(__file__).resolve().parents[1]


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("cnn-explorer: error: ")
    return lines[0]


def test_train_writes_a_pipeline_that_opens_like_any_other(capsys, tmp_path):
    out = tmp_path / "run"
    code, stdout, err = _run(capsys, "train", "shapes", "--data", "shapes", "--init",
                             "--epochs", "1", "--samples", "160", "--batch-size", "32",
                             "--out", str(out))
    assert code == 0, err
    assert "Validation accuracy" in stdout and "epoch 1/1" in err
    for name in ("model.json", "model.npz", "metrics.json", "optimizer.npz", "trainer.json"):
        assert (out / name).is_file(), name
    trained = resolve_pipeline(out / "model.json")
    assert [n.name for n in trained] == [n.name for n in resolve_pipeline("shapes")]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"][0]["epoch"] == 1 and len(metrics["steps"]) == 5
    code, stdout, err = _run(capsys, "evaluate", str(out / "model.json"), "--data", "shapes",
                             "--samples", "80", "--json")
    scores = json.loads(stdout)
    assert code == 0 and set(scores) >= {"accuracy", "per_class", "confusion", "classes"}
    assert np.array(scores["confusion"]).sum() == 80
    # and it goes on from its checkpoint
    code, stdout, err = _run(capsys, "train", "shapes", "--data", "shapes", "--epochs", "2",
                             "--samples", "160", "--batch-size", "32", "--resume",
                             "--out", str(out))
    assert code == 0, err
    assert len(json.loads((out / "metrics.json").read_text())["epochs"]) == 2


def test_evaluate_prints_accuracy_per_class_and_the_confusion_matrix(capsys):
    code, out, err = _run(capsys, "evaluate", "shapes", "--data", "shapes", "--samples", "40")
    assert code == 0 and err == ""
    assert out.startswith("accuracy ") and "per class:" in out and "confusion matrix" in out
    assert "circle" in out and "smiley" in out


def _folder(tmp_path: Path, classes: dict[str, int]) -> Path:
    root = tmp_path / "data"
    rng = np.random.default_rng(0)
    for name, count in classes.items():
        (root / name).mkdir(parents=True)
        for i in range(count):
            cv2.imwrite(str(root / name / f"{i}.png"), rng.integers(0, 255, (20, 20, 3),
                                                                     dtype=np.uint8))
    return root


def test_train_on_a_folder_of_class_subfolders(capsys, tmp_path):
    data = _folder(tmp_path, {"cats": 6, "dogs": 6})
    code, _out, err = _run(capsys, "train", "shapes", "--data", str(data), "--init",
                           "--epochs", "1", "--val-split", "0.25", "--out", str(tmp_path / "o"))
    assert code == 0, err
    assert resolve_pipeline(tmp_path / "o" / "model.json").nodes[-2].layer.out_features == 2


@pytest.mark.parametrize(("args", "message"), [
    (["train", "shapes", "--data", "nowhere/at/all"], "is neither shapes, digits"),
    (["train", "default", "--data", "shapes", "--samples", "16"], "output layer"),
    (["train", "shapes", "--data", "digits", "--samples", "20"],
     r"output layer 12 (fc2, Linear) gives (8,) but the data has 10 classes"),
    (["train", "shapes", "--data", "mnist:"], "Name the folder"),
    (["train", "nonexistent.json", "--data", "shapes"], "no such file"),
    (["evaluate", "shapes", "--data", "digits", "--samples", "20"], "10 classes"),
])
def test_bad_training_input_is_one_line(capsys, tmp_path, args, message):
    code, _out, err = _run(capsys, *args, *(["--out", str(tmp_path / "o")]
                                          if args[0] == "train" else []))
    assert code == 2
    assert message in _one_line(err)


@pytest.mark.parametrize(("classes", "message"), [
    ({}, "is empty"), ({"only": 3}, "one class"), ({"a": 3, "b": 0}, "no readable"),
])
def test_bad_folders_are_one_line(capsys, tmp_path, classes, message):
    data = _folder(tmp_path, classes) if classes else tmp_path / "empty"
    data.mkdir(exist_ok=True)
    code, _out, err = _run(capsys, "train", "shapes", "--data", str(data), "--init",
                           "--out", str(tmp_path / "o"))
    assert code == 2
    assert message in _one_line(err).lower()


@pytest.mark.parametrize("bad", [["--lr", "0"], ["--epochs", "-1"], ["--batch-size", "x"]])
def test_bad_numbers_are_refused_by_the_parser(capsys, bad):
    with pytest.raises(SystemExit) as info:
        main.main(["train", "shapes", "--data", "shapes", "--out", "o", *bad])
    assert info.value.code == 2
    assert "expected a number above zero" in _one_line(capsys.readouterr().err)


def test_ctrl_c_saves_a_checkpoint_and_exits_cleanly(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "train", "shapes", "--data", "shapes", "--init",
         "--epochs", "50", "--samples", "400", "--batch-size", "16", "--out", str(out)],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=ROOT)
    seen = b""
    deadline = time.monotonic() + 120
    while b"loss" not in seen and time.monotonic() < deadline:  # a step has been taken
        seen += process.stderr.read1(4096)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr.decode()[-500:]
    assert b"Stopped at step" in stdout and b"--resume" in stdout
    assert b"Traceback" not in seen + stderr
    state = json.loads((out / "trainer.json").read_text())
    assert state["step"] >= 1
    resolve_pipeline(out / "model.json")
