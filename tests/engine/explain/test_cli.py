"""`cnn-explorer explain`: the files of every method, and one-line refusals (exit 2)."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

import main
from engine.io.media import read_image, write_image
from tests.engine.onnx_models import GraphBuilder

MAP_METHODS = ("saliency", "gradxinput", "smoothgrad", "gradcam", "guided", "occlusion")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main.main(["explain", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("cnn-explorer: error: ")
    return lines[0]


@pytest.fixture(scope="module")
def picture(tmp_path_factory):
    from engine.train import make_dataset

    images, labels = make_dataset(2, seed=5)
    assert labels[0] == 1  # a triangle
    path = tmp_path_factory.mktemp("pictures") / "triangle.png"
    write_image(path, images[0])
    return str(path), int(labels[0])


@pytest.mark.parametrize("method", MAP_METHODS)
def test_map_methods_write_the_map_its_overlay_and_a_summary(capsys, tmp_path, picture, method):
    extra = ["--samples", "4"] if method == "smoothgrad" else []
    code, out, err = run(capsys, "shapes", picture[0], "--method", method, "--out",
                         str(tmp_path), *extra)
    assert code == 0, err
    heat = np.load(tmp_path / "map.npy")
    assert heat.dtype == np.float32
    assert heat.shape == ((16, 16) if method == "gradcam" else (64, 64))
    assert read_image(tmp_path / "overlay.png").shape == (64, 64, 3)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["method"] == method and summary["class"] == picture[1]
    assert summary["class_name"] == "triangle" and summary["score"] > 0
    assert 0 < summary["probability"] <= 1 and isinstance(summary["settings"], dict)
    assert summary["layer"] == ("relu3" if method == "gradcam" else None)
    assert f"{method} for class {picture[1]} (triangle)" in out


def test_a_chosen_class_layer_and_settings(capsys, tmp_path, picture):
    code, _out, err = run(capsys, "shapes", picture[0], "--method", "gradcam", "--layer",
                          "conv2", "--class", "6", "--out", str(tmp_path))
    assert code == 0, err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert (summary["class"], summary["class_name"], summary["layer"]) == (6, "arrow", "conv2")
    assert np.load(tmp_path / "map.npy").shape == (32, 32)
    code, _out, err = run(capsys, "shapes", picture[0], "--method", "occlusion", "--patch",
                          "16", "--stride", "16", "--out", str(tmp_path))
    assert code == 0 and json.loads((tmp_path / "summary.json").read_text())["settings"][
        "positions"] == 16


def test_maximize_writes_an_input_sized_picture(capsys, tmp_path, picture):
    code, out, err = run(capsys, "shapes", picture[0], "--method", "maximize", "--layer",
                         "conv3", "--channel", "8", "--steps", "12", "--out", str(tmp_path))
    assert code == 0, err
    image = np.load(tmp_path / "image.npy")
    assert image.shape == (3, 64, 64) and image.dtype == np.float32
    assert image.min() >= 0 and image.max() <= 1  # the network's input scale
    assert read_image(tmp_path / "image.png").shape == (64, 64, 3)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["layer"] == "conv3" and summary["channel"] == 8
    assert summary["steps_run"] == 12 and summary["objective"] > summary["initial"]
    assert "maximized channel 8 of conv3" in out


def test_fgsm_writes_the_adversarial_picture_and_the_new_class(capsys, tmp_path, picture):
    code, out, err = run(capsys, "shapes", picture[0], "--method", "fgsm", "--epsilon", "0.1",
                         "--out", str(tmp_path))
    assert code == 0, err
    adversarial = np.load(tmp_path / "adversarial.npy")
    assert adversarial.shape == (3, 64, 64) and adversarial.dtype == np.float32
    for name in ("adversarial.png", "perturbation.png"):
        assert read_image(tmp_path / name).shape == (64, 64, 3)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["class"] == picture[1] and summary["epsilon"] == pytest.approx(0.1)
    assert {"new_class", "new_class_name", "new_probability", "flipped"} <= set(summary)
    assert f"became {summary['new_class']} ({summary['new_class_name']}" in out


def lrn_classifier(path):
    g = GraphBuilder((1, 3, 8, 8), seed=3)
    y = g.node("Relu", [g.conv("input", 3, 4, 3, pads=[1, 1, 1, 1])])
    y = g.node("LRN", [y], size=3)
    y = g.gemm(g.node("Flatten", [y], axis=1), 4 * 8 * 8, 5)
    onnx.save(g.model([y]), str(path))
    return str(path)


def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, picture):
    image = picture[0]
    cases = [
        (("shapes", str(tmp_path / "missing.png")), "does not exist"),
        (("shapes", image, "--method", "gradcam", "--layer", "conv9"), "no layer called 'conv9'"),
        (("shapes", image, "--method", "maximize", "--layer", "conv2", "--channel", "16"),
         "conv2 has 16 channels"),
        (("shapes", image, "--class", "8"), "class 8 does not exist"),
        (("shapes", image, "--layer", "conv2"), "--layer is for gradcam and maximize"),
        (("shapes", image, "--method", "fgsm", "--channel", "1"), "--channel is for maximize"),
    ]
    for argv, message in cases:
        code, _out, err = run(capsys, *argv, "--out", str(tmp_path / "out"))
        assert code == 2 and message in one_line(err), (argv, err)
    model = lrn_classifier(tmp_path / "lrn.onnx")
    code, _out, err = run(capsys, model, image, "--out", str(tmp_path / "lrn"))
    line = one_line(err)
    assert code == 2 and "LocalResponseNorm" in line and "--method occlusion" in line
    assert not (tmp_path / "lrn").exists()  # refused before writing anything
    code, _out, err = run(capsys, model, image, "--method", "occlusion", "--out",
                          str(tmp_path / "lrn"))
    assert code == 0, err
    assert np.load(tmp_path / "lrn" / "map.npy").shape == (8, 8)
    with pytest.raises(SystemExit) as exit_:
        main.main(["explain", "shapes", image, "--method", "magic"])
    assert exit_.value.code == 2
    assert one_line(capsys.readouterr().err)
