"""Networks whose output is a map: what the engine calls them, how the ledger and the command
line describe them, and the pictures drawn of them (engine.graph.output,
engine.explain.output_map)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from engine.cli import run, summary
from engine.explain.output_map import (
    class_colors,
    class_map,
    class_overlay,
    class_shares,
    output_picture,
    reconstruction,
)
from engine.graph.output import describe_output, kind_of_shape, output_info, output_kind
from engine.graph.pipeline import InputSpec, Pipeline
from engine.io.media import read_image, write_image
from engine.layers import Conv2d, Flatten, GlobalAvgPool2d, ReLU
from engine.resolve import resolve_pipeline
from tests.engine import onnx_models
from tests.engine.onnx import map_models
from tests.engine.onnx.networks import unet

SPEC = InputSpec(3, height=16, width=16)


@pytest.mark.parametrize(("shape", "kind"), [
    ((10,), "classes"), ((10, 1, 1), "classes"), ((1, 1, 7), "classes"), ((2,), "classes"),
    ((2, 16, 16), "map"), ((3, 8, 8), "map"), ((1, 1, 2), "classes"), ((1, 4, 4), "map"),
    ((1,), "other"), ((1, 1, 1), "other"), ((3, 4), "other"),
])
def test_kind_of_shape(shape, kind):
    assert kind_of_shape(shape) == kind


@pytest.mark.parametrize(("build", "kind", "shape"), [
    (map_models.segmenter, "map", (2, 16, 16)),
    (map_models.autoencoder, "map", (3, 16, 16)),
    (unet, "map", (3, 12, 12)),
    (onnx_models.plain_chain, "classes", (10,)),
])
def test_output_kind_of_imported_networks(build, kind, shape):
    pipeline = map_models.load(build())
    info = output_info(pipeline)
    assert output_kind(pipeline) == kind and info.shape == shape
    assert info.dense == (kind == "map")  # these decoders give back the input's size


def test_output_kind_of_the_engines_own_layers():
    segment = Pipeline.chain([Conv2d(3, 4, 3, padding=1), ReLU(), Conv2d(4, 5, 1)],
                             input_spec=SPEC)
    assert output_kind(segment) == "map" and output_info(segment).dense
    one = Pipeline.chain([Conv2d(3, 1, 3), GlobalAvgPool2d(), Flatten()], input_spec=SPEC)
    assert output_kind(one) == "other"
    assert output_kind(resolve_pipeline("shapes")) == "classes"
    default = resolve_pipeline("default")  # three conv blocks: feature maps, not dense
    any_size = Pipeline(default.nodes, InputSpec(3))
    assert output_kind(any_size) is None  # takes any size: unknown until one is given
    info = output_info(any_size, (3, 48, 64))
    assert info.kind == "map" and info.shape == (32, 6, 8) and not info.dense
    assert output_kind(segment, (3, 2, 2)) == "map" and output_kind(segment, (1, 8, 8)) is None


def test_describe_output():
    assert describe_output((2, 64, 64)) == "a map of 2 x 64 x 64"
    assert describe_output((10,)) == "scores for 10 classes"
    assert describe_output((1,)) == "1 value"
    assert describe_output((3, 4)) == "12 values"


def test_the_ledger_names_a_map_output():
    ledger = map_models.load(map_models.segmenter()).summary((3, 16, 16))
    assert ledger.output_kind == "map" and ledger.output == "a map of 2 x 16 x 16"
    assert "Output: a map of 2 x 16 x 16" in ledger.to_text()
    assert ledger.to_dict()["output"] == "a map of 2 x 16 x 16"
    shapes = resolve_pipeline("shapes").summary((3, 64, 64))
    assert "Output: scores for 8 classes" in shapes.to_text() and shapes.output_kind == "classes"


def test_class_map_and_its_pictures():
    logits = np.zeros((3, 2, 4), np.float32)
    logits[1, :, :2] = 2.0
    logits[2, 1, 3] = np.nan  # NaN never wins
    logits[2, 0, 3] = 5.0
    labels = class_map(logits)
    assert labels.tolist() == [[1, 1, 0, 2], [1, 1, 0, 0]]
    assert class_shares(labels, 3).tolist() == [0.375, 0.5, 0.125]
    picture = np.full((4, 8, 3), 200, np.uint8)
    over = class_overlay(labels, picture, class_colors(3), alpha=1.0)
    assert over.shape == (4, 8, 3) and (over[:, :4] == class_colors(3)[1]).all()
    assert (over[:2, 6:] == class_colors(3)[2]).all()  # each class pixel covers 2 x 2


def test_class_colours_stay_apart():
    colors = class_colors(40).astype(int)
    assert colors.shape == (40, 3) and len({tuple(c) for c in colors}) == 40
    assert (class_colors(20) == colors[:20]).all()


def test_reconstruction_is_shown_as_is_or_stretched():
    image, stretched = reconstruction(np.full((3, 2, 2), 0.5, np.float32))
    assert not stretched and (image == 128).all() and image.shape == (2, 2, 3)
    gray, stretched = reconstruction(np.array([[[-2.0, 2.0]]], np.float32))
    assert stretched and gray.tolist() == [[[0, 0, 0], [255, 255, 255]]]


def test_output_picture_sets_the_reconstruction_beside_the_input():
    pipeline = map_models.load(map_models.autoencoder())
    x = np.random.default_rng(0).random((3, 16, 16)).astype(np.float32)
    out = pipeline.forward(x)[pipeline.nodes[-1].name]
    picture = output_picture(out, x, pipeline)
    assert picture.shape == (16, 36, 3)  # input, 4 black columns, output
    assert (picture[:, 16:20] == 0).all()
    assert (picture[:, 20:] == reconstruction(out)[0]).all()


@pytest.fixture
def model_files(tmp_path):
    seg = map_models.save(map_models.segmenter(), tmp_path, "seg")
    ae = map_models.save(map_models.autoencoder(), tmp_path, "ae")
    image = tmp_path / "in.png"
    write_image(image, np.random.default_rng(1).integers(0, 256, (20, 24, 3), np.uint8))
    return seg, ae, image


def test_the_command_line_describes_map_outputs(tmp_path, model_files):
    seg, ae, image = model_files
    out = io.StringIO()
    assert run(str(seg), str(image), str(tmp_path / "seg_run"), stdout=out) == 0
    assert ("output: a map of 2 x 16 x 16, not class scores: output.png colours each pixel by"
            " its strongest channel (its class), over the input") in out.getvalue()
    assert read_image(tmp_path / "seg_run" / "output.png").shape == (16, 16, 3)
    out = io.StringIO()
    assert run(str(ae), str(image), str(tmp_path / "ae_run"), stdout=out) == 0
    assert "output: a map of 3 x 16 x 16, an image: output.png shows it beside the input" in (
        out.getvalue())
    assert read_image(tmp_path / "ae_run" / "output.png").shape == (16, 36, 3)
    out = io.StringIO()
    summary(str(seg), stdout=out)
    assert "Output: a map of 2 x 16 x 16" in out.getvalue() and "class scores" not in (
        out.getvalue())


def test_the_command_line_names_a_classifiers_output(tmp_path, model_files):
    out = io.StringIO()
    run("shapes", str(model_files[2]), str(tmp_path / "run"), stdout=out)
    assert "output: scores for 8 classes" in out.getvalue()
    assert not (tmp_path / "run" / "output.png").exists()


def test_explain_on_a_segmenter_says_it_needs_a_classifier(tmp_path, model_files, capsys):
    import main

    seg, _ae, image = model_files
    assert main.main(["explain", str(seg), str(image), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("cnn-explorer: error: explanations need a classifier: the last layer"
                   f" ({map_models.load(map_models.segmenter()).nodes[-1].name}) gives a map of"
                   " 2 x 16 x 16, not a vector of class scores")
    argv = ["explain", str(seg), str(image), "--method", "maximize", "--channel", "1",
            "--steps", "3", "--out", str(tmp_path / "m")]
    assert main.main(argv) == 0  # a channel of the map can still be maximized


def test_a_softmax_over_three_channels_reads_as_classes():
    from engine.explain.output_map import is_image_output
    from engine.layers import Softmax

    net = Pipeline.chain([Conv2d(3, 3, 1), Softmax(-3)], input_spec=SPEC)
    x = np.random.default_rng(2).random((3, 16, 16)).astype(np.float32)
    out = net.forward(x)[net.nodes[-1].name]
    assert is_image_output(out) and not is_image_output(out, net.nodes[-1].layer)
    assert output_picture(out, x, net).shape == (16, 16, 3)  # classes over the input
