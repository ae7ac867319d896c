"""Pipeline files: versioned JSON <-> Pipeline, strict validation, one clear message per error.

A file looks like this (``name``, ``inputs``, ``height`` and ``width`` are optional; the input
may be given a ``name`` other than "input")::

    {"format": "cnn-explorer-pipeline", "version": 1, "name": "edges", "description": "...",
     "input": {"channels": 1, "color": "gray", "height": 480, "width": 640},
     "layers": [
       {"type": "Conv2d", "in_channels": 1, "out_channels": 2, "kernel_size": 3, "padding": 1,
        "weights": {"presets": ["sobel_x", "sobel_y"], "expand": "luma"}},
       {"type": "ReLU"}, {"type": "MaxPool2d", "kernel_size": 2}]}

Arrays (``weights``, ``bias_values``, ``running_mean``, ``running_var``) are
``{"values": nested lists}`` or ``{"npz": "file.npz", "key": "conv1.weight"}`` (a file beside
the JSON); conv weights may also be ``{"preset": name, "expand": mode}``,
``{"presets": [one per filter], "expand": mode}`` or ``{"init": "he", "seed": 0}``.
Layers without ``inputs`` take the previous layer's output. When ``height`` and ``width`` are
given, every stride must tile its input exactly at that size. A trained network's input may
carry ``"preprocess": {"size": [224, 224], "resize": "crop", "channel_order": "RGB",
"scale": 0.00392156862745098, "mean": [...], "std": [...], "invert": false}``
(:class:`engine.io.preprocess.Preprocess`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from assets import asset_path
from engine import layers as L
from engine.graph.pipeline import InputSpec, Node, Pipeline, auto_names
from engine.graph.spec_arrays import (
    INLINE_LIMIT,
    SpecError,
    check_keys,
    check_weight_memory,
    dump_json,
    plain_copy,
    read_array,
    write_array,
)
from engine.i18n import _
from engine.io.fields import shown
from engine.io.files import FileProblem, check_regular
from engine.io.preprocess import Preprocess, PreprocessError
from engine.io.safe_json import JsonError, load_file
from engine.layers import Layer, LayerError
from engine.ops.shapes import ShapeError

__all__ = [
    "BUNDLED",
    "BUNDLED_MODELS",
    "FILE_TYPES",
    "FORMAT",
    "INLINE_LIMIT",
    "MAX_FILE_BYTES",
    "MAX_LAYERS",
    "VERSION",
    "SpecError",
    "dump_json",
    "load_bundled",
    "load_pipeline",
    "pipeline_from_dict",
    "pipeline_to_dict",
    "save_pipeline",
]

FORMAT = "cnn-explorer-pipeline"
VERSION = 1
MAX_FILE_BYTES = 32 << 20  # larger files are refused unread (large arrays go to the .npz)
MAX_LAYERS = 10_000
MAX_CHANNELS = 4096  # as many as a Conv2d takes
BUNDLED: tuple[str, ...] = ("default", "edges", "lecture")
BUNDLED_MODELS: tuple[str, ...] = ("shapes",)  # trained networks in assets/models/

# Hyperparameters that describe how weights are drawn live inside "weights", not beside it.
_WEIGHT_FIELDS = ("init", "seed")
# parameters() name -> file key
_ARRAY_KEYS = {"weight": "weights", "bias": "bias_values", "running_mean": "running_mean",
               "running_var": "running_var"}
_TOP_KEYS = ("format", "version", "name", "description", "input", "layers")
# The types a file can hold (engine.layers.LAYER_TYPES may gain importer-only types later).
FILE_TYPES: dict[str, type[Layer]] = {
    cls.type_name: cls
    for cls in (L.Conv2d, L.ReLU, L.LeakyReLU, L.Sigmoid, L.Tanh, L.Hardtanh, L.MaxPool2d,
                L.AvgPool2d, L.GlobalAvgPool2d, L.BatchNorm2d, L.Flatten, L.Linear, L.Softmax,
                L.Add, L.Concat)
}


# Reading -------------------------------------------------------------------------------------


def _layer_from_dict(source, d, index, base_dir) -> tuple[Layer, Any, Any]:
    if not isinstance(d, dict):
        raise SpecError(source, _("a layer must be an object, not {type_name}").format(
            type_name=type(d).__name__), index)
    type_name = d.get("type")
    if not isinstance(type_name, str) or type_name not in FILE_TYPES:
        known = ", ".join(FILE_TYPES)
        message = (_("has no type; known types: {known}") if type_name is None
                   else _("unknown type {type!r}; known types: {known}"))
        raise SpecError(source, message.format(type=type_name, known=known), index, None,
                        "type")
    cls = FILE_TYPES[type_name]
    fields = [f for f in cls.fields() if f.name not in _WEIGHT_FIELDS]
    arrays = [_ARRAY_KEYS[p] for p in _param_names(cls)]
    allowed = ("type", "name", "inputs", *(f.name for f in fields), *arrays)
    required = [f.name for f in fields if f.required]
    check_keys(source, d, _("the layer"), allowed, required, index, type_name)
    kwargs = {}
    for field in fields:
        if field.name in d:
            try:
                kwargs[field.name] = field.check(d[field.name], type_name)
            except LayerError as error:
                raise SpecError(source, error.reason, index, type_name, field.name) from None
    weights = d.get("weights")
    drawn = cls in (L.Conv2d, L.Linear)  # the types whose weights may be drawn, not listed
    if drawn and isinstance(weights, dict) and ({"init", "preset", "presets"} & set(weights)):
        if cls is L.Conv2d and not {"init", "seed"} >= set(weights):
            kwargs["weight_source"] = weights
        elif {"init", "seed"} >= set(weights):
            for name in _WEIGHT_FIELDS:
                if name in weights:
                    field = next(f for f in cls.fields() if f.name == name)
                    try:
                        kwargs[name] = field.check(weights[name], type_name)
                    except LayerError as error:
                        raise SpecError(source, error.reason, index, type_name,
                                        f"weights.{name}") from None
        else:
            raise SpecError(source, _("presets work for Conv2d only; use init + seed or values"),
                            index, type_name, "weights")
    elif weights is not None:
        kwargs["weight"] = read_array(source, weights, "weights", base_dir, index, type_name)
    for param, key in _ARRAY_KEYS.items():
        if key != "weights" and key in d:
            kw = param if cls.type_name == "BatchNorm2d" else key
            kwargs[kw] = read_array(source, d[key], key, base_dir, index, type_name)
    check_weight_memory(source, type_name, kwargs, index)
    try:
        layer = cls(**kwargs)
    except (LayerError, ValueError) as error:
        field = getattr(error, "field", None)
        message = str(error).removeprefix(f"{type_name}: ")
        raise SpecError(source, message, index, type_name, field) from None
    return layer, d.get("name"), d.get("inputs")


def _param_names(cls) -> tuple[str, ...]:
    """Which arrays a layer type can hold (the keys of its parameters())."""
    return {"Conv2d": ("weight", "bias"), "Linear": ("weight", "bias"),
            "BatchNorm2d": ("weight", "bias", "running_mean", "running_var")}.get(
                cls.type_name, ())


def _read_input(source: str, d: Any) -> tuple[InputSpec, str]:
    check_keys(source, d, "input", ("channels", "color", "height", "width", "name", "preprocess"),
          ("channels", "color"))
    name = d.get("name", "input")
    if not isinstance(name, str) or not name:
        raise SpecError(source, _("the input's name must be non-empty text"), field="input")
    channels = d["channels"]
    if isinstance(channels, int) and not 1 <= channels <= MAX_CHANNELS:  # not 10**400 maps
        raise SpecError(source, _("input channels must be a whole number from 1 to {limit}, not"
                                  " {n}").format(limit=MAX_CHANNELS, n=shown(channels)),
                        field="input")
    try:
        recipe = None if d.get("preprocess") is None else Preprocess.from_dict(d["preprocess"])
        return InputSpec(d["channels"], d["color"], d.get("height"), d.get("width"),
                         recipe), name
    except PreprocessError as error:
        raise SpecError(source, str(error), field="input.preprocess") from None
    except ValueError as error:
        raise SpecError(source, str(error), field="input") from None


def pipeline_from_dict(d: Any, source: str = "<dict>", base_dir=None) -> Pipeline:
    """Build a Pipeline from a parsed file; :class:`SpecError` for anything wrong."""
    check_keys(source, d, _("the file"), _TOP_KEYS, ("format", "version", "input", "layers"))
    if d["format"] != FORMAT:
        raise SpecError(source, _("not a pipeline file: format is {found!r}, expected"
                                  " {expected!r}").format(found=d["format"], expected=FORMAT),
                        field="format")
    if d["version"] != VERSION:
        newer = isinstance(d["version"], int) and d["version"] > VERSION
        message = (_("version {found!r} is not supported (written by a newer CNN Explorer);"
                     " this program reads version {version}") if newer
                   else _("version {found!r} is not supported; this program reads version"
                          " {version}"))
        raise SpecError(source, message.format(found=d["version"], version=VERSION),
                        field="version")
    for key in ("name", "description"):
        if not isinstance(d.get(key, ""), str):
            raise SpecError(source, _("must be text"), field=key)
    spec, input_name = _read_input(source, d["input"])
    if not isinstance(d["layers"], list):
        raise SpecError(source, _("must be a list of layers"), field="layers")
    if len(d["layers"]) > MAX_LAYERS:
        raise SpecError(source, _("has {n:,} layers; a pipeline file may hold at most"
                                  " {limit:,}").format(n=len(d["layers"]), limit=MAX_LAYERS),
                        field="layers")
    built = [_layer_from_dict(source, item, i, base_dir) for i, item in enumerate(d["layers"])]
    names = auto_names([layer for layer, _, _ in built])
    nodes, seen, previous = [], {input_name}, input_name
    for i, (layer, name, inputs) in enumerate(built):
        name = names[i] if name is None else name
        if not isinstance(name, str) or not name or name in seen:
            message = (_("name {name!r} is used twice") if name in seen
                       else _("name {name!r} must be non-empty text"))
            raise SpecError(source, message.format(name=name), i, layer.type_name, "name")
        seen.add(name)
        if inputs is None:
            inputs = [previous]
        if not isinstance(inputs, list) or not all(isinstance(s, str) for s in inputs):
            raise SpecError(source, _("inputs must be a list of layer names"), i, layer.type_name,
                            "inputs")
        nodes.append(Node(name, layer, tuple(inputs)))
        previous = name
    for i, node in enumerate(nodes):
        wanted, count = node.layer.n_inputs, len(node.inputs)
        if (wanted is None and count < 2) or (wanted is not None and count != wanted):
            message = (_("takes at least 2 inputs, not {count}") if wanted is None
                       else _("takes {wanted} input, not {count}"))
            raise SpecError(source, message.format(wanted=wanted, count=count), i,
                            node.layer.type_name, "inputs")
        for s in node.inputs:
            if s not in seen:
                raise SpecError(source, _("input {s!r} is not a layer name nor "
                                          "{input_name!r}").format(
                    s=s, input_name=input_name), i,
                                node.layer.type_name, "inputs")
    try:
        pipeline = Pipeline(nodes, spec, d.get("name", ""), d.get("description", ""), input_name)
    except ValueError as error:
        raise SpecError(source, str(error), field="layers") from None
    if spec.shape is not None:
        try:
            pipeline.shapes(spec.shape, strict=True)
        except ShapeError as error:
            node = pipeline.nodes[error.node_index] if hasattr(error, "node_index") else None
            index = None if node is None else [n.name for n in nodes].index(node.name)
            message = str(error).split("): ", 1)[-1] if node is not None else str(error)
            size = "x".join(map(str, spec.shape))
            raise SpecError(source, _("does not fit the declared input {size}: {message}").format(
                size=size, message=message), index,
                            None if node is None else node.layer.type_name, error.field) from None
    return pipeline


def load_pipeline(path) -> Pipeline:
    """Read a pipeline file (and the .npz beside it, if it refers to one); :class:`SpecError`.

    Only a regular file of at most :data:`MAX_FILE_BYTES` is read, as JSON of limited depth
    (:mod:`engine.io.safe_json`); arrays come only from ``.npz`` files in its folder or below.
    """
    path = Path(path)
    source = path.name
    try:
        check_regular(path)
    except FileProblem as problem:
        raise SpecError(str(path), problem.reason) from None
    try:
        data = load_file(path, source, max_bytes=MAX_FILE_BYTES)
    except JsonError as error:
        raise SpecError(source, error.reason) from None
    return pipeline_from_dict(data, source, path.parent)


# Writing -------------------------------------------------------------------------------------


def _to_dict(pipeline: Pipeline, npz_name: str | None, store: dict) -> dict:
    chain = pipeline.is_chain
    auto = auto_names(pipeline.layers)
    spec = pipeline.input_spec
    layers = []
    for index, (node, generated) in enumerate(zip(pipeline.nodes, auto, strict=True)):
        layer = node.layer
        if FILE_TYPES.get(layer.type_name) is not type(layer):
            raise SpecError(pipeline.name or "<pipeline>", _("a pipeline file cannot hold this"
                              " layer type; it holds {values}").format(
                values=', '.join(FILE_TYPES)), index,
                            layer.type_name)
        item: dict[str, Any] = {"type": layer.type_name}
        if node.name != generated:
            item["name"] = node.name
        if not chain:
            item["inputs"] = list(node.inputs)
        config = layer.config()
        item.update({k: v for k, v in config.items() if k not in _WEIGHT_FIELDS})
        source = getattr(layer, "weight_source", None)
        for param, array in layer.parameters().items():
            key = _ARRAY_KEYS[param]
            if param == "bias" and not array.any():
                continue  # zeros are what a layer without bias_values gets
            if param == "weight" and source is not None:
                item[key] = plain_copy(source)
            else:
                item[key] = write_array(array, f"{node.name}.{param}", npz_name, store,
                                        pipeline.name or "<pipeline>")
        layers.append(item)
    size = {k: v for k, v in (("height", spec.height), ("width", spec.width)) if v is not None}
    if pipeline.input_name != "input":
        size["name"] = pipeline.input_name
    if spec.preprocess is not None:
        size["preprocess"] = spec.preprocess.to_dict()
    return {"format": FORMAT, "version": VERSION, "name": pipeline.name,
            "description": pipeline.description,
            "input": {"channels": spec.channels, "color": spec.color, **size}, "layers": layers}


def pipeline_to_dict(pipeline: Pipeline, npz_name: str | None = None,
                     store: dict | None = None) -> dict:
    """The file's content as a dict: every array inline, or with ``npz_name`` the arrays over
    :data:`INLINE_LIMIT` values (and any holding NaN or infinity) as references into that
    ``.npz``, their values put in ``store`` by key for the caller to write."""
    if npz_name is not None and store is None:
        raise ValueError("pipeline_to_dict: npz_name needs a store dict for the arrays")
    return _to_dict(pipeline, npz_name, {} if store is None else store)


def save_pipeline(pipeline: Pipeline, path) -> None:
    """Write ``pipeline`` to ``path``; arrays over INLINE_LIMIT values go to ``<stem>.npz``."""
    path = Path(path)
    store: dict[str, np.ndarray] = {}
    data = _to_dict(pipeline, path.with_suffix(".npz").name, store)
    if store:
        np.savez(path.with_suffix(".npz"), **store)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(dump_json(data) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def load_bundled(name: str) -> Pipeline:
    """A bundled pipeline ("default", "edges", "lecture") or trained model ("shapes") by name.

    Any other name, file or ``.onnx`` model goes through :func:`engine.resolve.resolve_pipeline`.
    """
    if name in BUNDLED:
        return load_pipeline(asset_path("pipelines", f"{name}.json"))
    if name in BUNDLED_MODELS:
        return load_pipeline(asset_path("models", f"{name}.json"))
    raise SpecError(name, _("is not a bundled pipeline; bundled: "
                      "{values}").format(values=', '.join((*BUNDLED, *BUNDLED_MODELS))))
