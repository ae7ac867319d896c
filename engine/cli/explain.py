"""The ``explain`` subcommand of ``cnn-explorer``, headless: why did the network say that?

The explanations themselves are :mod:`engine.explain`'s functions (the window calls the same
ones); this module reads the image, calls one and writes its files. ``main.py`` adds its
arguments with :func:`add_parsers` and runs :func:`explain_command`
through :func:`engine.cli.guarded`, so every bad input ends with exit code 2 and one line.

Files written to ``--out DIR``:

- map methods: ``map.npy`` (float32, the input's (H, W), or Grad-CAM's layer's), ``overlay.png``
  (the map over the input as the network saw it) and ``summary.json`` (method, class index and
  name, score, probability, layer, settings); guided backpropagation adds ``guided.png``;
- ``maximize``: ``image.png`` and ``image.npy`` (network-input-sized, in the network's input
  scale) and ``summary.json``;
- ``fgsm``: ``adversarial.png``, ``adversarial.npy``, ``perturbation.png`` (magnified) and
  ``summary.json`` with the new top class and its probability.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from engine.i18n import _

__all__ = ["METHOD_CHOICES", "add_parsers", "class_names", "explain_command"]

METHOD_CHOICES = ("saliency", "gradxinput", "smoothgrad", "gradcam", "guided", "occlusion",
                  "maximize", "fgsm")
_USES_LAYER = ("gradcam", "maximize")


def _number(kind, low, inclusive=True):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not np.isfinite(value) or value < low or (
                not inclusive and value == low):
            sign = ">=" if inclusive else ">"
            raise argparse.ArgumentTypeError(_("expected a number {sign} {low}, got {text!r}")
                                             .format(sign=sign, low=low, text=text))
        return value
    return parse


def add_parsers(sub) -> None:
    """Add ``explain`` to ``main.py``'s subcommand parsers."""
    p = sub.add_parser(
        "explain", help=_("show why a classifier gave its answer for an image"),
        description=_("Explain PIPELINE's answer for IMAGE and write DIR/map.npy,"
                      " DIR/overlay.png and DIR/summary.json (maximize: DIR/image.png and"
                      " DIR/image.npy, starting from noise; IMAGE only sets the input size."
                      " fgsm: DIR/adversarial.png and .npy, DIR/perturbation.png)."))
    p.add_argument("pipeline", metavar="PIPELINE", help=_("bundled name, pipeline file or .onnx"))
    p.add_argument("image", metavar="IMAGE", help=_("PNG, JPEG, BMP, TIFF or WebP file"))
    p.add_argument("--method", choices=METHOD_CHOICES, default="saliency",
                   help=_("the explanation (default: saliency)"))
    p.add_argument("--class", dest="target", type=_number(int, 0), metavar="K",
                   help=_("the class to explain (default: the top class)"))
    p.add_argument("--layer", metavar="NAME",
                   help=_("Grad-CAM's layer (default: the last with maps), or the layer to"
                          " maximize (default: the class scores)"))
    p.add_argument("--channel", type=_number(int, 0), metavar="C",
                   help=_("maximize: the channel to excite (default: --class, else 0)"))
    p.add_argument("--out", metavar="DIR",
                   help=_("folder for the results (default: explain-METHOD)"))
    p.add_argument("--samples", type=_number(int, 1), default=25, metavar="N",
                   help=_("smoothgrad: noisy copies (default 25)"))
    p.add_argument("--sigma", type=_number(float, 0.0), default=0.15, metavar="S",
                   help=_("smoothgrad: noise as a fraction of the input range (default 0.15)"))
    p.add_argument("--patch", type=_number(int, 1), default=None, metavar="P",
                   help=_("occlusion: patch size in pixels (default: an eighth of the input)"))
    p.add_argument("--stride", type=_number(int, 1), default=None, metavar="S",
                   help=_("occlusion: step in pixels (default: half the patch)"))
    p.add_argument("--steps", type=_number(int, 0), default=200, metavar="N",
                   help=_("maximize: gradient-ascent steps (default 200)"))
    p.add_argument("--epsilon", type=_number(float, 0.0), default=2 / 255, metavar="E",
                   help=_("fgsm: the step as a fraction of the input range (default 2/255)"))
    p.add_argument("--seed", type=int, default=0, metavar="S",
                   help=_("smoothgrad and maximize: the random seed"))


def class_names(pipeline, source: str, n: int) -> tuple[str, ...] | None:
    """Names for ``n`` classes: ``<model>.labels.txt`` beside a pipeline or model file, a
    bundled list named like the network, or ImageNet's for 1000 classes; else None.

    (The same places the window's predictions panel looks, first match wins.)
    """
    from assets import asset_path

    candidates = []
    path = Path(source)
    if path.suffix:
        candidates.append(path.with_name(path.stem + ".labels.txt"))
    if pipeline.name:
        candidates.append(asset_path("labels", f"{Path(pipeline.name).stem.lower()}.txt"))
    if n == 1000:
        candidates.append(asset_path("labels", "imagenet.txt"))
    for candidate in candidates:
        try:
            lines = Path(candidate).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        names = tuple(line.strip() for line in lines if line.strip())
        if len(names) == n:
            return names
    return None


def _load(args):
    """The pipeline, the picture as the network sees it (H, W, 3) and its input (C, H, W)."""
    from engine.explain.inputs import prepare
    from engine.explain.overlay import to_image
    from engine.io.media import read_image
    from engine.resolve import resolve_pipeline

    pipeline = resolve_pipeline(args.pipeline)
    x = prepare(read_image(args.image), pipeline)
    pipeline.shapes(x.shape)  # a layer that cannot fit: one line naming it
    return pipeline, to_image(x, pipeline), x


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _name(names, k: int) -> str:
    return names[k] if names else _("class {k}").format(k=k)


def _map_method(args, pipeline, picture, x, out: Path, names) -> str:
    from engine.explain import explain
    from engine.explain.overlay import magnify, overlay
    from engine.io.media import write_image

    settings = {}
    if args.method == "smoothgrad":
        settings = {"n": args.samples, "sigma": args.sigma, "seed": args.seed}
    elif args.method == "gradcam":
        settings = {"layer": args.layer}
    elif args.method == "occlusion":
        patch = args.patch or max(1, min(x.shape[1:]) // 8)
        settings = {"patch": patch, "stride": args.stride or max(1, patch // 2)}
    e = explain(pipeline, x, args.method, args.target, **settings)
    np.save(out / "map.npy", np.ascontiguousarray(e.map, np.float32))
    write_image(out / "overlay.png", overlay(picture, e.map, signed=e.signed))
    files = ["map.npy", "overlay.png"]
    if args.method == "guided":
        write_image(out / "guided.png", magnify(e.attribution, pipeline))
        files.append("guided.png")
    summary = e.to_dict(names)
    summary.update(pipeline=args.pipeline, image=args.image, input_shape=list(x.shape))
    _write_json(out / "summary.json", summary)
    files.append("summary.json")
    return _("{method} for class {k} ({name}), score {score:.3f}, probability {p:.1%}:"
             " wrote {files} to {out}").format(
        method=e.method, k=e.target, name=_name(names, e.target), score=e.score,
        p=e.probability, files=", ".join(files), out=out)


def _maximize(args, pipeline, x, out: Path, names) -> str:
    from engine.explain.maximize import maximize
    from engine.explain.overlay import to_image
    from engine.io.media import write_image

    channel = args.channel if args.channel is not None else (args.target or 0)
    bar = _progress_bar(args.steps)
    try:
        result = maximize(pipeline, args.layer, channel, shape=x.shape, steps=args.steps,
                          seed=args.seed, progress=(lambda s: bar.update(1)) if bar else None)
    finally:
        if bar is not None:
            bar.close()
    np.save(out / "image.npy", np.ascontiguousarray(result.image, np.float32))
    write_image(out / "image.png", to_image(result.image, pipeline))
    summary = result.to_dict()
    summary.update(pipeline=args.pipeline, image=args.image)
    _write_json(out / "summary.json", summary)
    return _("maximized channel {c} of {layer}: {before:.3f} -> {after:.3f} in {steps} steps;"
             " wrote image.png, image.npy, summary.json to {out}").format(
        c=result.channel, layer=result.layer, before=result.initial, after=result.objective,
        steps=len(result.history), out=out)


def _progress_bar(total: int):
    """A tqdm bar on stderr when it is a terminal, else None."""
    import sys

    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=_("maximize"), unit=_("step"), leave=False)


def _fgsm(args, pipeline, x, out: Path, names) -> str:
    from engine.explain.adversarial import fgsm
    from engine.explain.overlay import magnify, to_image
    from engine.io.media import write_image

    a = fgsm(pipeline, x, args.epsilon, args.target)
    np.save(out / "adversarial.npy", np.ascontiguousarray(a.image, np.float32))
    write_image(out / "adversarial.png", to_image(a.image, pipeline))
    write_image(out / "perturbation.png", magnify(a.perturbation, pipeline))
    summary = a.to_dict(names)
    summary.update(pipeline=args.pipeline, image=args.image, input_shape=list(x.shape))
    _write_json(out / "summary.json", summary)
    return _("epsilon {eps:.4f}: class {k} ({name}, {p:.1%}) became {new} ({new_name},"
             " {new_p:.1%}); wrote adversarial.png, adversarial.npy, perturbation.png,"
             " summary.json to {out}").format(
        eps=a.epsilon, k=a.original, name=_name(names, a.original), p=a.original_probability,
        new=a.predicted, new_name=_name(names, a.predicted), new_p=a.probability, out=out)


def explain_command(args) -> int:
    """Run ``cnn-explorer explain``; see :func:`add_parsers` for the arguments."""
    from engine.explain.core import ExplainError, check_layer, require_differentiable
    from engine.graph.autograd import logits_node
    from engine.layers import NotDifferentiable

    if args.layer is not None and args.method not in _USES_LAYER:
        raise ExplainError(_("--layer is for gradcam and maximize, not {method}")
                           .format(method=args.method))
    if args.channel is not None and args.method != "maximize":
        raise ExplainError(_("--channel is for maximize, not {method}")
                           .format(method=args.method))
    pipeline, picture, x = _load(args)
    if args.layer is not None:
        check_layer(pipeline, args.layer)
    logits = logits_node(pipeline)
    n = pipeline.shapes(x.shape)[logits]
    names = class_names(pipeline, args.pipeline, n[0]) if len(n) == 1 else None
    try:
        if args.method != "occlusion":  # before any file is written
            require_differentiable(pipeline, args.layer or logits)
    except NotDifferentiable as error:
        if args.method == "maximize":
            raise ExplainError(str(error)) from None
        raise ExplainError(_("{reason}: try --method occlusion").format(reason=error)) from None
    out = Path(args.out or f"explain-{args.method}")
    out.mkdir(parents=True, exist_ok=True)
    try:
        if args.method == "maximize":
            message = _maximize(args, pipeline, x, out, names)
        elif args.method == "fgsm":
            message = _fgsm(args, pipeline, x, out, names)
        else:
            message = _map_method(args, pipeline, picture, x, out, names)
    except NotDifferentiable as error:  # a layer the check above did not reach
        raise ExplainError(str(error)) from None
    print(message)
    return 0
