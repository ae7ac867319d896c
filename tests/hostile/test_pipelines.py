"""Pipeline files with structure the reader did not expect, values that are not numbers and
arrays that point away. Each through `summary` (exit 2, one line) and `engine.load_pipeline`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import engine
from engine.graph.spec import SpecError
from tests.hostile import makers as mk
from tests.hostile.harness import Case, assert_api, assert_one_line, params, run_cli

CONV = {"type": "Conv2d", "in_channels": 3, "out_channels": 2, "kernel_size": 3}


def _text(text: str | bytes):
    """A case whose pipeline file holds ``text`` exactly."""

    def make(tmp: Path):
        path = tmp / "p.json"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return ["summary", str(path)], lambda: engine.load_pipeline(path)

    return make


def _data(data) -> Case:
    return _text(json.dumps(data))


def _layer(**fields):
    return _data(mk.pipeline([{**CONV, **fields}]))


def _top(**fields):
    return _data(mk.pipeline(**fields))


def _input(**fields):
    return _data(mk.pipeline(input={"channels": 3, "color": "rgb", **fields}))


STRUCTURE = [
    Case("lists-100000-deep", _text("[" * 100_000 + "]" * 100_000), "nest 100000 levels deep"),
    Case("objects-50000-deep", _text('{"a":' * 50_000 + "1" + "}" * 50_000),
         "nest 50000 levels deep"),
    Case("unclosed-100000-deep", _text("[" * 100_000), "nest 100000 levels deep"),
    Case("weights-70-deep", _layer(weights={"values": json.loads("[" * 70 + "]" * 70)}),
         "nest 74 levels deep"),
    Case("truncated", _text('{"format": "cnn-explorer-pipeline", "layers": ['), "ends early"),
    Case("empty", _text(""), "not valid JSON: Expecting value"),
    Case("not-utf8", _text(b"\xff\xfe{\x00}"), "not a text file (expected JSON)"),
    Case("top-level-list", _text("[1, 2]"), "the file must be an object, not list"),
    Case("top-level-number", _text("7"), "the file must be an object, not int"),
    Case("wrong-format", _top(format="something-else"), "not a pipeline file"),
    Case("version-text", _top(version="1"), "version '1' is not supported"),
    Case("version-1e999", _text('{"version": 1e999}'), "1e999 is too large for a number"),
    Case("infinity-constant", _text('{"version": Infinity}'), "Infinity is not a number JSON"),
    Case("nan-in-weights", _text(json.dumps(mk.pipeline([{**CONV, "weights": {"values": [0]}}]))
                                 .replace("[0]", "[NaN]")), "NaN is not a number JSON allows"),
    Case("5000-digit-number", _text('{"version": ' + "9" * 5000 + "}"), "4300 digits"),
    Case("duplicate-key", _text('{"format": 1, "format": 2}'), "the key 'format' is given twice"),
    Case("unknown-top-key", _top(layer=[]), "did you mean 'layers'?"),
    Case("layers-object", _top(layers={"0": CONV}), "must be a list of layers"),
    Case("layer-number", _top(layers=[5]), "a layer must be an object, not int"),
    Case("layer-type-list", _top(layers=[{"type": ["Conv2d"]}]), "unknown type ['Conv2d']"),
    Case("layer-type-missing", _top(layers=[{"kernel_size": 3}]), "has no type"),
    Case("too-many-layers", _top(layers=[{"type": "ReLU"}] * 10_001),
         "has 10,001 layers; a pipeline file may hold at most 10,000"),
    Case("kernel-size-text", _layer(kernel_size="3"), "must be a whole number or a pair"),
    Case("kernel-size-triple", _layer(kernel_size=[3, 3, 3]), "must be a whole number or a pair"),
    Case("kernel-size-400-digits", _layer(kernel_size=10**400), "must be at most 256"),
    Case("stride-bool", _layer(stride=True), "must be a whole number"),
    Case("channels-float", _layer(out_channels=2.5), "must be a whole number"),
    Case("slope-400-digits", _top(layers=[{"type": "LeakyReLU", "negative_slope": 10**400}]),
         "must be a finite number, not one this large"),
    Case("name-number", _layer(name=5), "must be non-empty text"),
    Case("name-twice", _top(layers=[{**CONV, "name": "a"}, {"type": "ReLU", "name": "a"}]),
         "name 'a' is used twice"),
    Case("inputs-text", _layer(inputs="input"), "inputs must be a list of layer names"),
    Case("inputs-numbers", _layer(inputs=[1, 2]), "inputs must be a list of layer names"),
    Case("input-text", _top(input="rgb"), "input must be an object, not str"),
    Case("input-channels-huge", _input(channels=10**400), "from 1 to 4096, not 1000000"),
    Case("input-height-negative", _input(height=-5), "input height must be a positive"),
    Case("input-height-text", _input(height="480"), "input height must be a positive"),
    Case("input-color-number", _input(color=3), "input color must be rgb, gray or none"),
    Case("preprocess-text", _input(preprocess="imagenet"), "preprocessing must be a JSON object"),
    Case("preprocess-size-text", _input(preprocess={"size": ["a", 2]}), "two positive whole"),
    Case("preprocess-size-huge", _input(preprocess={"size": [10**9, 10**9]}), "of at most 32768"),
    Case("preprocess-std-zero", _input(preprocess={"std": [0]}), "std must be above zero"),
]

VALUES = [
    Case("values-text", _layer(weights={"values": "abc"}), "must be nested lists of numbers"),
    Case("values-ragged", _layer(weights={"values": [[1], [1, 2]]}), "nested lists of numbers"),
    Case("values-beyond-float32", _layer(weights={"values": [1e300] * 54}),
         "finite numbers within float32's range"),
    Case("values-wrong-shape", _layer(weights={"values": [[1.0, 2.0]]}), "weight"),
    Case("values-and-npz", _layer(weights={"values": [1], "npz": "w.npz"}), "give either values"),
    Case("weights-number", _layer(weights=3), "weights must be an object, not int"),
    Case("npz-name-number", _layer(weights={"npz": 5, "key": "w"}), "must be non-empty text"),
    Case("npz-key-list", _layer(weights={"npz": "w.npz", "key": ["w"]}), "non-empty text"),
]


@pytest.mark.parametrize("case", params(STRUCTURE + VALUES))
def test_pipeline_through_the_command_line(tmp_path, capfd, case):
    argv, _api = case.make(tmp_path)
    code, out, err = run_cli(capfd, argv)
    line = assert_one_line(code, err, case.fragment)
    assert out == "" and "p.json" in line  # the message names the file


@pytest.mark.parametrize("case", params(STRUCTURE + VALUES))
def test_pipeline_through_the_api(tmp_path, case):
    _argv, api = case.make(tmp_path)
    assert_api(api, SpecError, case.fragment)


def test_a_large_file_is_refused_unread(tmp_path, capfd):
    path = mk.sparse(tmp_path / "p.json", 40 << 20)
    code, _out, err = run_cli(capfd, ["summary", str(path)])
    assert_one_line(code, err, "more than the 33,554,432 bytes allowed")


def test_a_valid_file_still_loads(tmp_path):
    """The limits leave real files alone: a bundled pipeline saved and read back."""
    path = tmp_path / "p.json"
    engine.save_pipeline(engine.resolve_pipeline("default"), path)
    assert engine.load_pipeline(path) == engine.resolve_pipeline("default")
