"""The headless subcommands of ``cnn-explorer``: ``summary`` and ``run`` here; ``train`` and
``evaluate`` in :mod:`engine.cli.train`; ``explain`` in :mod:`engine.cli.explain`.

No Qt here: these work over SSH, in CI and in notebooks. ``main.py`` parses the arguments and
calls :func:`summary` or :func:`run` through :func:`guarded`, which turns every bad input into
exit code 2 and one line on stderr.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import numpy as np

from engine.graph.memory import check_forward_memory
from engine.i18n import _, ngettext
from engine.io.budget import check_allocation
from engine.io.media import (
    check_resize,
    longest_side_size,
    read_image,
    resize_longest,
    resize_to,
    write_image,
)
from engine.io.mosaic import tile_maps, to_uint8
from engine.io.preprocess import frame_to_input
from engine.io.terminal import muted_stderr, printable

PROG = "cnn-explorer"
DEFAULT_HW = (480, 640)
"""Input height and width used when a pipeline does not declare one: a webcam frame."""

MIN_TILE = 16
"""Maps smaller than this (in pixels) are enlarged in the PNG so that they can be seen."""

MAX_TILED = 1 << 24
"""Most values a layer's enlarged maps may have: long vectors are enlarged less."""


def parse_shape(text: str) -> tuple[int, int, int]:
    """Parse "C,H,W" (also "CxHxW" or "(C, H, W)") into three positive ints.

    Examples
    --------
    >>> parse_shape("3,480,640")
    (3, 480, 640)
    """
    parts = [p for p in re.split(r"[,x\s]+", text.strip().strip("()[]").lower()) if p]
    if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ValueError(
            _("the input shape must be three positive whole numbers C,H,W such as 3,480,640; "
              "got '{text}'").format(text=text)
        )
    c, h, w = (int(p) for p in parts)
    return c, h, w


def load_network(name_or_path: str):
    """Return the Pipeline for a bundled name, a pipeline file or an ONNX model (``.onnx``)."""
    from engine.resolve import resolve_pipeline  # imported here: `--help` should not need it

    return resolve_pipeline(name_or_path)


def default_input_shape(pipeline) -> tuple[int, int, int]:
    """The pipeline's declared (C, H, W), with 480 x 640 where it declares no size."""
    spec = pipeline.input_spec
    h, w = getattr(spec, "height", None), getattr(spec, "width", None)
    if not (h and w):
        h, w = DEFAULT_HW
    return int(getattr(spec, "channels", 3)), int(h), int(w)


def summary(
    pipeline: str,
    input_shape: tuple[int, int, int] | None = None,
    as_json: bool = False,
    stdout: TextIO | None = None,
) -> int:
    """Print the ledger of ``pipeline`` (a bundled name or a file) for ``input_shape``."""
    stdout = stdout or sys.stdout
    network = load_network(pipeline)
    ledger = network.summary(input_shape or default_input_shape(network))
    if as_json:
        print(json.dumps(ledger.to_dict(), indent=2), file=stdout)  # escapes control characters
    else:  # names come from the file: shown escaped, never as terminal control sequences
        print("\n".join(printable(line) for line in ledger.to_text().split("\n")), file=stdout)
    return 0


def file_stem(index: int, name: str) -> str:
    """``3, "relu1"`` -> ``"03_relu1"``; characters unsafe in file names become ``_``."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.") or "node"
    return f"{index:02d}_{safe}"


def maps_image(activation: np.ndarray) -> np.ndarray:
    """Tile every map of one layer's output into a uint8 image, normalized by the layer's
    own minimum and maximum; vectors (after Flatten or Linear) become a grid of 1x1 maps."""
    a = np.asarray(activation, dtype=np.float32)
    if a.ndim == 2:
        a = a[None]  # one map
    elif a.ndim != 3:
        a = a.reshape(-1, 1, 1)  # (F, 1, 1): one tile per value
    k = max(1, math.ceil(MIN_TILE / min(a.shape[1:])))
    k = max(1, min(k, math.isqrt(MAX_TILED // max(a.size, 1))))  # long vectors: smaller tiles
    check_allocation(_("drawing the maps of a {shape} output").format(
        shape=" x ".join(map(str, activation.shape))), a.size * k * k * 16)
    if k > 1:  # nearest-neighbour enlargement, so that tiny maps stay visible
        a = a.repeat(k, axis=1).repeat(k, axis=2)
    finite = a[np.isfinite(a)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    return to_uint8(tile_maps(a, gap=1 if k == 1 else 2), lo, hi)


def run(
    pipeline: str,
    image: str,
    out: str,
    side: int | None = None,
    stdout: TextIO | None = None,
) -> int:
    """Run ``pipeline`` on ``image`` and write every layer's output into the folder ``out``.

    Writes ``<idx>_<name>.npy`` (the activation, float32), ``<idx>_<name>.png`` (its maps
    tiled), ``input.png`` (the image as it entered) and ``ledger.json``.

    Parameters
    ----------
    side : int, optional
        Scale the image so that its longest side has this many pixels. Without it, a pipeline
        that declares an input size gets the image center-cropped and resized to that size,
        and any other pipeline gets the image at its own size.
    """
    stdout = stdout or sys.stdout
    network = load_network(pipeline)
    with muted_stderr():  # libpng and libtiff print their warnings to fd 2 themselves
        picture = read_image(image)
    target = _scaled_size(network, picture.shape[:2], side)
    recipe = getattr(network.input_spec, "preprocess", None)  # a trained network's own size
    frame = target or picture.shape[:2]
    hw = frame if recipe is None else recipe.output_size(*frame)
    in_shape = (int(network.input_spec.channels), *hw)
    ledger = network.summary(in_shape)  # raises ShapeError before any work if a layer cannot fit
    if target is not None:
        check_resize(*target)
    check_forward_memory(network, in_shape, ledger)  # every size is checked before allocating
    if side is not None:
        picture = resize_longest(picture, side)
    elif target is not None:
        picture = resize_to(picture, *target)
    x = frame_to_input(picture, network)
    if x.shape != in_shape:
        ledger = network.summary(x.shape)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    activations = network.forward(x, timings=timings)
    total_ms = (time.perf_counter() - start) * 1000

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    write_image(folder / "input.png", picture)
    for index, (name, activation) in enumerate(activations.items()):
        stem = file_stem(index, name)
        np.save(folder / f"{stem}.npy", activation)
        write_image(folder / f"{stem}.png", maps_image(activation))
        shape = " x ".join(str(n) for n in activation.shape)
        print(f"{stem:<24} {shape:<20} {timings.get(name, 0.0):8.1f} ms", file=stdout)
    (folder / "ledger.json").write_text(json.dumps(ledger.to_dict(), indent=2) + "\n")
    _describe_output(network, x, activations, folder, stdout)
    n = len(activations)
    print(ngettext("wrote {n} layer for a {h} x {w} input to {folder} ({ms:.0f} ms)",
                   "wrote {n} layers for a {h} x {w} input to {folder} ({ms:.0f} ms)", n).format(
                       n=n, h=x.shape[1], w=x.shape[2], folder=printable(folder), ms=total_ms),
          file=stdout)
    return 0


def _describe_output(network, x, activations, folder: Path, stdout: TextIO) -> None:
    """Say what the network's output is; a map output is also drawn as ``output.png``: the image
    beside the input (1 or 3 channels) or the per-pixel classes over the input."""
    from engine.explain.output_map import is_image_output, output_picture
    from engine.graph.output import MAP, describe_output, kind_of_shape

    output = activations[network.nodes[-1].name]
    description = describe_output(output.shape)
    if kind_of_shape(output.shape) != MAP:
        print(_("output: {description}").format(description=description), file=stdout)
        return
    write_image(folder / "output.png", output_picture(output, x, network))
    if is_image_output(output, network.nodes[-1].layer):
        text = _("output: {description}, an image: output.png shows it beside the input")
    else:
        text = _("output: {description}, not class scores: output.png colours each pixel by"
                 " its strongest channel (its class), over the input")
    print(text.format(description=description), file=stdout)


def _scaled_size(network, size: tuple[int, int], side: int | None) -> tuple[int, int] | None:
    """The image's (height, width) after ``--side`` or the network's declared input size, or
    None when it stays as it is. A network with its own preprocessing resizes by itself."""
    spec = network.input_spec
    h, w = getattr(spec, "height", None), getattr(spec, "width", None)
    if side is not None:
        return longest_side_size(*size, side)
    if h and w and getattr(spec, "preprocess", None) is None:
        return int(h), int(w)
    return None


def one_line(exc: BaseException) -> str:
    """The exception's message on one printable line (control characters shown escaped)."""
    text = " ".join(str(exc).split())
    if isinstance(exc, OSError) and exc.strerror:
        where = f" '{exc.filename}'" if exc.filename else ""
        text = f"{exc.strerror}{where}"
    return printable(text or type(exc).__name__)


def guarded(func: Callable[..., int], *args, stderr: TextIO | None = None, **kwargs) -> int:
    """Call a subcommand; bad input (any ValueError or OSError) -> one line on stderr, exit 2.

    ValueError covers SpecError, ShapeError, MediaError and BudgetError (a size over the memory
    budget); OSError covers an output folder that cannot be written; MemoryError what the budget
    did not foresee. Anything else is a bug and keeps its traceback. Python warnings raised on
    the way (a model's unreadable preprocessing file) are printed as one line each after a
    success; after an error only the error's line is printed.
    """
    err = stderr or sys.stderr
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            code = func(*args, **kwargs)
            sys.stdout.flush()  # a closed pipe shows up here, not at exit
        except BrokenPipeError:
            # The reader went away (`cnn-explorer summary default | head`): stop quietly. Point
            # stdout at devnull so that Python's final flush does not complain a second time.
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
        except MemoryError:
            print(_("{prog}: error: not enough memory for this network's activations at this"
                    " input size (see the Memory column of `summary`)").format(prog=PROG),
                  file=err)
            return 2
        except (ValueError, OSError) as exc:
            print(_("{prog}: error: {message}").format(prog=PROG, message=one_line(exc)),
                  file=err)
            return 2
    for message in dict.fromkeys(one_line(w.message) for w in caught):
        print(_("{prog}: warning: {message}").format(prog=PROG, message=message), file=err)
    return code
