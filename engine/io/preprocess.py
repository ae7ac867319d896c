"""How a camera frame becomes a trained network's input: size, crop, channel order, scale, mean.

A network trained elsewhere expects its input prepared exactly as in training: torchvision
models want 224 x 224 RGB in [0, 1] minus the ImageNet mean, divided by its standard deviation;
Caffe models want BGR in 0-255 minus a mean; Keras Inception models want [-1, 1]. A
:class:`Preprocess` records one such recipe, turns a ``(H, W, 3)`` uint8 RGB frame into the
``(C, H, W)`` float32 input, and is saved beside a model as ``<model>.preprocess.json``.

Resizing is done with numpy (two small matrix products, a triangle filter widened when
shrinking, like PIL's antialiased bilinear), so this module needs no OpenCV.

Examples
--------
>>> import numpy as np
>>> p = Preprocess(size=(4, 4), resize="crop", scale=1 / 255)
>>> p.apply(np.full((6, 8, 3), 255, np.uint8)).shape
(3, 4, 4)
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.i18n import _
from engine.io.budget import check_allocation
from engine.io.color import LUMA
from engine.io.files import FileProblem, check_regular
from engine.io.resample import center_crop, resize_maps
from engine.io.safe_json import JsonError, load_file

__all__ = [
    "CHANNEL_ORDERS",
    "PRESETS",
    "RESIZE_MODES",
    "Preprocess",
    "PreprocessError",
    "PreprocessWarning",
    "frame_to_input",
    "load_beside",
    "save_beside",
    "sidecar_path",
]

RESIZE_MODES = ("crop", "stretch", "none")
CHANNEL_ORDERS = ("RGB", "BGR")
SUFFIX = ".preprocess.json"
MAX_SIDECAR_BYTES = 1 << 16  # a recipe is a few hundred bytes
MAX_SIDE = 1 << 15  # the largest input side a recipe may ask for
_KEYS = ("size", "resize", "channel_order", "scale", "mean", "std", "invert")


class PreprocessError(ValueError):
    """A preprocessing recipe or a frame that does not fit it, with the reason in words."""


class PreprocessWarning(UserWarning):
    """A model's saved recipe could not be used; the model opens without it."""


def _numbers(name: str, value, positive: bool) -> tuple[float, ...]:
    values = (value,) if isinstance(value, int | float) else value
    try:
        out = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise PreprocessError(_("{name} must be one number or one per channel, not "
                                "{value!r}").format(name=name, value=value)
                              ) from None
    if len(out) not in (1, 3) or not all(math.isfinite(v) for v in out):
        raise PreprocessError(_("{name} needs 1 or 3 finite numbers, got {count}: "
                                "{value!r}").format(name=name, count=len(out), value=value))
    if positive and min(out) <= 0:
        raise PreprocessError(_("{name} must be above zero (it divides), got {value!r}").format(
            name=name, value=value))
    return out


@dataclass(frozen=True)
class Preprocess:
    """One recipe: ``x = ((pixel or 255 - pixel) * scale - mean) / std`` per channel.

    Parameters
    ----------
    size : (height, width) or None
        The network's input size; None keeps the frame's own size.
    resize : "crop" | "stretch" | "none"
        "crop": scale until the frame covers ``size``, then cut the borders (nothing is
        distorted); "stretch": scale each side to fit (the picture is distorted); "none":
        keep the frame's size even when ``size`` is given.
    channel_order : "RGB" | "BGR"
        BGR for Caffe-trained models (OpenCV's order). A 1-channel network gets luma.
    scale : float
        Multiplies the 0-255 pixel values first: 1/255 for [0, 1], 1 for Caffe.
    mean, std : one number, or one per channel in the network's channel order
    invert : bool
        Use 255 - pixel: white strokes on black, as MNIST-style models expect.
    """

    size: tuple[int, int] | None = None
    resize: str = "crop"
    channel_order: str = "RGB"
    scale: float = 1 / 255
    mean: tuple[float, ...] = (0.0,)
    std: tuple[float, ...] = (1.0,)
    invert: bool = False

    def __post_init__(self):
        if self.size is not None:
            size = self.size
            if (not isinstance(size, list | tuple) or len(size) != 2
                    or not all(isinstance(s, int | np.integer) and not isinstance(s, bool)
                               and 1 <= s <= MAX_SIDE for s in size)):
                raise PreprocessError(_("size must be two positive whole numbers (height, width)"
                                        " of at most {limit}, not {size!r}").format(
                                            limit=MAX_SIDE, size=size))
            object.__setattr__(self, "size", (int(size[0]), int(size[1])))
        if self.resize not in RESIZE_MODES:
            raise PreprocessError(_("resize must be one of {values}, not"
                                    " {resize!r}").format(
                values=', '.join(RESIZE_MODES), resize=self.resize))
        if self.channel_order not in CHANNEL_ORDERS:
            raise PreprocessError(_("channel order must be RGB or BGR, not "
                                    "{channel_order!r}").format(channel_order=self.channel_order))
        scale = _numbers("scale", self.scale, positive=True)
        if len(scale) != 1:
            raise PreprocessError(_("scale is one number, not {scale!r}").format(scale=self.scale))
        object.__setattr__(self, "scale", scale[0])
        object.__setattr__(self, "mean", _numbers("mean", self.mean, positive=False))
        object.__setattr__(self, "std", _numbers("std", self.std, positive=True))
        if not isinstance(self.invert, bool):
            raise PreprocessError(_("invert must be true or false, not {invert!r}").format(
                invert=self.invert))

    def check_channels(self, channels: int) -> None:
        """Raise :class:`PreprocessError` when mean or std do not fit ``channels``."""
        for name, values in (("mean", self.mean), ("std", self.std)):
            if len(values) not in (1, channels):
                raise PreprocessError(_("the network takes {channels} input channel(s) but the"
                                        " {name} has {count} values; give 1 or {channels}").format(
                    channels=channels, name=name, count=len(values)))

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """The (H, W) a ``height`` x ``width`` frame has after this recipe."""
        if self.size is None or self.resize == "none":
            return height, width
        return self.size

    def apply(self, frame: np.ndarray, channels: int = 3) -> np.ndarray:
        """Turn an (H, W, 3) uint8 RGB (or (H, W) gray) frame into the (C, H, W) float32 input.

        Examples
        --------
        >>> caffe = Preprocess(channel_order="BGR", scale=1.0, mean=(100.0, 0.0, 0.0))
        >>> caffe.apply(np.array([[[10, 20, 130]]], np.uint8))[:, 0, 0].tolist()
        [30.0, 20.0, 10.0]
        """
        if channels not in (1, 3):
            raise PreprocessError(_("a frame gives 1 (gray) or 3 (color) channels, not "
                                    "{channels}").format(channels=channels))
        self.check_channels(channels)
        image = np.asarray(frame)
        if image.ndim == 2:
            image = np.repeat(image[:, :, None], 3, axis=2)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or not image.size:
            raise PreprocessError(_("expected an (H, W, 3) uint8 RGB frame, got shape"
                                    " {shape} of {dtype}").format(
                shape=image.shape, dtype=image.dtype))
        if self.invert:
            image = 255 - image
        if self.size is not None and self.resize == "crop":
            image = center_crop(image, *self.size)
        pixels = np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32)  # (3, H, W)
        if channels == 1:
            x = np.tensordot(LUMA, pixels, axes=1)[None]  # (1, H, W)
        else:
            x = pixels[::-1] if self.channel_order == "BGR" else pixels
        h, w = self.output_size(*image.shape[:2])
        if (h, w) != image.shape[:2]:
            h0, w0 = image.shape[:2]  # the interpolation matrices, then rows, output, arithmetic
            check_allocation(_("preparing a {h} x {w} input").format(h=h, w=w),
                             24 * (h * h0 + w * w0) + 4 * x.shape[0] * h * (w0 + 3 * w))
            x = resize_maps(x, h, w)
        mean = np.asarray(self.mean, np.float32)[:, None, None]
        std = np.asarray(self.std, np.float32)[:, None, None]
        x = (x * np.float32(self.scale) - mean) / std
        return np.ascontiguousarray(x, dtype=np.float32)

    def describe(self) -> str:
        """A one-line summary: "224 x 224, crop, RGB, x/255, mean (...), std (...)"."""
        size = _("frame size") if self.size is None or self.resize == "none" else (
            f"{self.size[0]} x {self.size[1]}, {self.resize}")
        scale = "x/255" if math.isclose(self.scale, 1 / 255) else f"x * {self.scale:g}"
        parts = [size, self.channel_order, scale]
        if any(self.mean):
            parts.append("mean " + ", ".join(f"{v:g}" for v in self.mean))
        if any(v != 1 for v in self.std):
            parts.append("std " + ", ".join(f"{v:g}" for v in self.std))
        if self.invert:
            parts.append("inverted")
        return "; ".join(parts)

    def to_dict(self) -> dict:
        """JSON-able fields (the format of ``<model>.preprocess.json``)."""
        d = dataclasses.asdict(self)
        d["size"] = None if self.size is None else list(self.size)
        d["mean"], d["std"] = list(self.mean), list(self.std)
        return d

    @classmethod
    def from_dict(cls, d) -> Preprocess:
        """Build from :meth:`to_dict` output; :class:`PreprocessError` names what is wrong."""
        if not isinstance(d, dict):
            raise PreprocessError(_("preprocessing must be a JSON object, not {type_name}").format(
                type_name=type(d).__name__))
        unknown = sorted(set(d) - set(_KEYS))
        if unknown:
            raise PreprocessError(_("unknown preprocessing key(s) {unknown}; allowed:"
                                    " {allowed}").format(
                unknown=', '.join(unknown), allowed=', '.join(_KEYS)))
        d = dict(d)
        if isinstance(d.get("size"), list):
            d["size"] = tuple(d["size"])
        return cls(**d)

    def with_size(self, size: tuple[int, int] | None) -> Preprocess:
        """The same recipe for another input size."""
        return dataclasses.replace(self, size=size)


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

PRESETS: dict[str, Preprocess] = {
    "ImageNet (PyTorch / torchvision)": Preprocess(
        (224, 224), "crop", "RGB", 1 / 255, IMAGENET_MEAN, IMAGENET_STD),
    "Caffe / VGG (BGR, 0-255, mean subtracted)": Preprocess(
        (224, 224), "crop", "BGR", 1.0, (103.94, 116.78, 123.68), (1.0,)),
    "Keras / TF Inception ([-1, 1])": Preprocess(
        (299, 299), "crop", "RGB", 1 / 127.5, (1.0,), (1.0,)),
    "[0, 1], no normalization": Preprocess(None, "crop", "RGB", 1 / 255, (0.0,), (1.0,)),
    "[0, 1], inverted (white on black, MNIST style)": Preprocess(
        None, "crop", "RGB", 1 / 255, (0.0,), (1.0,), invert=True),
}
"""Common conventions. Their sizes are the usual ones; a dialog keeps the model's own size."""


def frame_to_input(frame: np.ndarray, pipeline) -> np.ndarray:
    """The (C, H, W) float32 input for ``pipeline`` from an (H, W, 3) uint8 RGB frame.

    Uses the pipeline's preprocessing when it has one, else the app's own convention
    (:func:`engine.io.media.to_input`: RGB or luma in [0, 1] at the frame's size).
    """
    spec = pipeline.input_spec
    recipe = getattr(spec, "preprocess", None)
    if recipe is None:
        from engine.io.media import to_input

        return to_input(frame, spec)
    return recipe.apply(frame, spec.channels)


def sidecar_path(model_path) -> Path:
    """``net.onnx`` -> ``net.preprocess.json`` beside it."""
    path = Path(model_path)
    return path.with_name(path.stem + SUFFIX)


def load_beside(model_path) -> Preprocess | None:
    """The recipe saved beside a model, or None when there is none."""
    path = sidecar_path(model_path)
    try:
        check_regular(path)
    except FileProblem as problem:
        if not os.path.lexists(path):
            return None
        raise PreprocessError(_("{name}: cannot be read: {reason}").format(
            name=path.name, reason=problem.reason)) from None
    try:
        return Preprocess.from_dict(load_file(path, path.name, max_bytes=MAX_SIDECAR_BYTES))
    except JsonError as error:
        raise PreprocessError(_("{name}: cannot be read: {reason}").format(
            name=path.name, reason=error.reason)) from None
    except PreprocessError as error:
        raise PreprocessError(_("{name}: {error}").format(name=path.name, error=error)) from None


def save_beside(recipe: Preprocess, model_path) -> Path:
    """Write ``recipe`` as ``<model>.preprocess.json``; returns the file written."""
    path = sidecar_path(model_path)
    path.write_text(json.dumps(recipe.to_dict(), indent=2) + "\n", encoding="utf-8")
    return path
