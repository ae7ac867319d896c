"""The ``train`` and ``evaluate`` subcommands of ``cnn-explorer``, headless.

``main.py`` adds their arguments with :func:`add_parsers` and runs them through
:func:`engine.cli.guarded`, so every bad input ends with exit code 2 and one line.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from engine.i18n import _, ngettext
from engine.io.terminal import printable

__all__ = ["EVALUATE_SEED", "add_parsers", "evaluate_command", "train_command"]

EVALUATE_SEED = 10_001
"""Drawn data sets are drawn from this seed by ``evaluate`` unless told: pictures that a run of
``train`` (seed 0 by default) never saw."""


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not value > 0 or (kind is float and not math.isfinite(value)):
            raise argparse.ArgumentTypeError(_("expected a number above zero, got {text!r}")
                                             .format(text=text))
        return value
    return parse


def add_parsers(sub) -> None:
    """Add ``train`` and ``evaluate`` to ``main.py``'s subcommand parsers."""
    p = sub.add_parser(
        "train", help=_("train a network on a data set and save it"),
        description=_("Train PIPELINE on DATA with the engine's own gradients and write"
                      " DIR/model.json (+ .npz), a checkpoint to resume from, and"
                      " DIR/metrics.json. DATA: shapes, digits, a folder with one subfolder"
                      " of pictures per class, mnist:FOLDER or fashion-mnist:FOLDER."))
    p.add_argument("pipeline", metavar="PIPELINE", help=_("bundled name or pipeline file"))
    p.add_argument("--data", required=True, metavar="DATA", help=_("what to train on"))
    p.add_argument("--epochs", type=_positive(int), default=10, metavar="N")
    p.add_argument("--batch-size", type=_positive(int), default=64, metavar="B")
    p.add_argument("--lr", type=_positive(float), default=2e-3, metavar="LR",
                   help=_("learning rate (default 0.002; cosine schedule to zero)"))
    p.add_argument("--optimizer", choices=("adam", "adamw", "sgd"), default="adam")
    p.add_argument("--seed", type=int, default=0, metavar="S",
                   help=_("seed of the data, the batches and fresh weights"))
    p.add_argument("--val-split", type=float, default=0.1, metavar="F",
                   help=_("fraction of the data kept aside to validate (default 0.1)"))
    p.add_argument("--samples", type=_positive(int), metavar="N",
                   help=_("how many pictures to draw or read (default: all; drawn: 24,000)"))
    p.add_argument("--augment", action="store_true",
                   help=_("randomly shift, rotate and change the brightness of each batch"))
    p.add_argument("--init", action="store_true",
                   help=_("start from fresh random weights, output layer sized to the classes"))
    p.add_argument("--resume", action="store_true",
                   help=_("continue the run whose checkpoint is in DIR"))
    p.add_argument("--out", required=True, metavar="DIR", help=_("folder for the results"))

    p = sub.add_parser(
        "evaluate", help=_("score a classifier on a data set"),
        description=_("Accuracy, per-class accuracy and the confusion matrix of PIPELINE on"
                      " DATA (drawn data sets from a seed that training does not use; MNIST's"
                      " test files)."))
    p.add_argument("pipeline", metavar="PIPELINE", help=_("bundled name or pipeline file"))
    p.add_argument("--data", required=True, metavar="DATA", help=_("what to score on"))
    p.add_argument("--samples", type=_positive(int), metavar="N",
                   help=_("how many pictures (default: all; drawn: 2,000)"))
    p.add_argument("--seed", type=int, default=EVALUATE_SEED, metavar="S")
    p.add_argument("--json", action="store_true", help=_("print the scores as JSON"))


def _load_data(pipeline, spec: str, samples, seed: int, part: str, default_drawn: int):
    from engine.train.network import input_size
    from engine.train.sources import open_dataset

    drawn = spec.strip().lower() in ("shapes", "digits")
    n = samples or (default_drawn if drawn else None)
    return open_dataset(spec, size=input_size(pipeline), channels=pipeline.input_spec.channels,
                        n=n, seed=seed, part=part)


def train_command(args) -> int:
    """Run ``cnn-explorer train``; see :func:`add_parsers` for the arguments."""
    from engine.resolve import resolve_pipeline
    from engine.train.progress import TrainingProgress
    from engine.train.run import prepare_run, train_and_save

    out = Path(args.out)
    if args.resume:
        from engine.train.checkpoint import read_checkpoint

        pipeline, optimizer_state, state, metrics = read_checkpoint(out)
    else:
        pipeline = resolve_pipeline(args.pipeline)
        optimizer_state = state = metrics = None
    data = _load_data(pipeline, args.data, args.samples, args.seed, "train", 24_000)
    trainer = prepare_run(pipeline, data, args, optimizer_state, state, metrics)
    with TrainingProgress(trainer, stream=sys.stderr) as progress:
        outcome = train_and_save(trainer, out, progress)
    print(outcome)
    return 130 if trainer.interrupted else 0


def evaluate_command(args) -> int:
    """Run ``cnn-explorer evaluate``: print (or --json) the scores of a classifier."""
    from engine.resolve import resolve_pipeline
    from engine.train.evaluation import evaluate
    from engine.train.network import check_fits

    pipeline = resolve_pipeline(args.pipeline)
    data = _load_data(pipeline, args.data, args.samples, args.seed, "test", 2_000)
    check_fits(pipeline, data)
    scores = evaluate(pipeline, data)
    if args.json:
        print(json.dumps(scores.to_dict(), indent=1))
        return 0
    n = len(data)
    print(ngettext("accuracy {accuracy:.2%} on {n:,} picture (loss {loss:.4f})",
                   "accuracy {accuracy:.2%} on {n:,} pictures (loss {loss:.4f})", n)
          .format(accuracy=scores.accuracy, n=n, loss=scores.loss))
    names = [printable(name) for name in scores.class_names]  # folder names: shown escaped
    width = max(len(name) for name in names)
    print(_("per class:"))
    for name, value in zip(names, scores.per_class, strict=True):
        shown = "-" if math.isnan(value) else f"{value:.2%}"
        print(f"  {name:<{width}}  {shown:>7}")
    print(_("confusion matrix (rows: true class, columns: predicted):"))
    cell = max(5, len(str(int(scores.confusion.max()))) + 1)
    print(" " * (width + 2) + "".join(f"{i:>{cell}}" for i in range(len(scores.class_names))))
    for i, (name, row) in enumerate(zip(names, scores.confusion, strict=True)):
        print(f"{name:<{width}} {i:>1}" + "".join(f"{int(v):>{cell}}" for v in row))
    return 0
