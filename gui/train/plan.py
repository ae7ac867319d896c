"""What to train, as data: the data word, the network choice and the settings. Qt-free.

A :class:`TrainPlan` is what the Data, Network and Settings panels edit and what a run folder
records (``run.json``), so that a run can be resumed after the window closed. :func:`prepare`
turns a plan into a ready :class:`~engine.train.Trainer`; every bad case raises
:class:`~engine.train.DatasetError` with one sentence for the window.

Examples
--------
>>> plan = TrainPlan(data="shapes", samples=64, network="tiny")
>>> TrainPlan.from_dict(plan.to_dict()) == plan
True
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.i18n import _
from gui.train.networks import CURRENT, build_network, natural_input

__all__ = ["DRAWN", "Prepared", "TrainPlan", "check_plan", "describe_source", "prepare",
           "source_classes"]

DRAWN = ("shapes", "digits")  # data words drawn from the seed
DEFAULT_SAMPLES = 2000  # drawn pictures: enough to learn, drawn in a couple of seconds


def _default_config():
    from engine.train.config import TrainConfig

    return TrainConfig(epochs=10, batch_size=64, lr=2e-3)


@dataclass(frozen=True)
class TrainPlan:
    """One training run's recipe.

    Attributes
    ----------
    data : str
        The same words as ``cnn-explorer train --data``: shapes, digits, a folder with one
        subfolder per class, mnist:FOLDER, fashion-mnist:FOLDER.
    samples : int or None
        Drawn pictures (shapes, digits), or at most this many read from a folder or MNIST.
    network : str
        An architecture key of :data:`gui.train.networks.ARCHITECTURES`, or "current".
    config : TrainConfig
        Optimizer, learning rate, batch size, epochs, augmentation, seed.
    val_split : float
        The share of the data kept aside to validate after every epoch.
    """

    data: str = "shapes"
    samples: int | None = DEFAULT_SAMPLES
    network: str = "small"
    config: object = field(default_factory=_default_config)  # TrainConfig
    val_split: float = 0.1

    def replace(self, **changes) -> TrainPlan:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return {"data": self.data, "samples": self.samples, "network": self.network,
                "config": self.config.to_dict(), "val_split": self.val_split}

    @classmethod
    def from_dict(cls, d: dict) -> TrainPlan:
        from engine.train.config import TrainConfig

        return cls(data=str(d["data"]), samples=d.get("samples"), network=str(d["network"]),
                   config=TrainConfig.from_dict(d["config"]),
                   val_split=float(d.get("val_split", 0.1)))


@dataclass(frozen=True)
class Prepared:
    """A plan made real: the trainer and the data it trains and validates on."""

    trainer: object  # engine.train.Trainer
    train: object  # ArrayDataset
    val: object | None  # ArrayDataset, None when nothing is kept aside
    start: object  # the network before training (Reset starts from it again)


def describe_source(data: str) -> str:
    """A short name of the data for titles: "drawn shapes", "mnist", the folder's name."""
    from pathlib import Path

    word = data.strip()
    if word.lower() in DRAWN:
        return _("drawn {what}").format(what=word.lower())
    kind, colon, _rest = word.partition(":")
    if colon and kind.lower() in ("mnist", "fashion-mnist", "fashion_mnist"):
        return kind.lower()
    return Path(word).expanduser().name or word


def source_classes(data: str) -> tuple[str, ...]:
    """The class names the data ``data`` names, without reading a picture (a folder is
    listed); DatasetError when it cannot be used."""
    from engine.train.dataset import DatasetError

    word = data.strip()
    if word.lower() == "shapes":
        from engine.train.draw_shapes import CLASSES

        return CLASSES
    if word.lower() == "digits":
        from engine.train.draw_digits import DIGITS

        return DIGITS
    kind, colon, rest = word.partition(":")
    if colon and kind.lower() in ("mnist", "fashion-mnist", "fashion_mnist"):
        from engine.train.idx import FASHION_CLASSES, MNIST_CLASSES

        if not rest.strip():
            raise DatasetError(_("Choose the folder that holds the IDX files."))
        return MNIST_CLASSES if kind.lower() == "mnist" else FASHION_CLASSES
    if not word:
        raise DatasetError(_("Choose a folder with one subfolder of pictures per class."))
    from engine.train.folder import class_files

    return class_files(word)[0]


def input_for(plan: TrainPlan, current=None) -> tuple[tuple[int, int], int]:
    """The (height, width) and channels the plan's pictures are read at."""
    if plan.network == CURRENT and current is not None:
        from engine.train.network import input_size

        return input_size(current), current.input_spec.channels
    return natural_input(plan.data)


def check_plan(plan: TrainPlan) -> None:
    """Raise DatasetError before any work when the plan cannot make a run."""
    from engine.train.dataset import DatasetError

    if not plan.data.strip():
        raise DatasetError(_("Choose what to train on in the Data panel."))
    if not 0.0 <= plan.val_split < 0.9:
        raise DatasetError(_("The validation share must be between 0 and 0.9, not {value}")
                           .format(value=plan.val_split))


def load_data(plan: TrainPlan, current=None, progress: Callable[[int, int], None] | None = None):
    """The plan's whole data set at the network's input size."""
    from engine.train.sources import open_dataset

    check_plan(plan)
    size, channels = input_for(plan, current)
    drawn = plan.data.strip().lower() in DRAWN
    n = plan.samples or (DEFAULT_SAMPLES if drawn else None)
    return open_dataset(plan.data, size=size, channels=channels, n=n, seed=plan.config.seed,
                        progress=progress)


def start_network(plan: TrainPlan, data, current=None):
    """The network a run starts from: fresh weights, or the current pipeline; the head sized to
    the classes either way."""
    from engine.train.dataset import DatasetError
    from engine.train.network import fit_head

    classes = len(data.class_names)
    h, w, channels = data.images.shape[1:]
    title = _("trained on {data}").format(data=describe_source(plan.data))
    if plan.network == CURRENT:
        if current is None:
            raise DatasetError(_("There is no current pipeline to train."))
        net = fit_head(current, classes, plan.config.seed)
        if net.input_spec.preprocess is None:  # live frames must be cut as the data was
            from engine.io.preprocess import Preprocess

            net = net.with_preprocess(Preprocess(size=(int(h), int(w)), scale=1 / 255))
        net = copy.copy(net)  # a new name; the window's own pipeline is never changed
        net.name = title
        return net
    return build_network(plan.network, channels, (h, w), classes, plan.config.seed, title)


def prepare(plan: TrainPlan, current=None, data=None,
            progress: Callable[[int, int], None] | None = None, network=None) -> Prepared:
    """Load the data (or use ``data``, already loaded for this plan), build the network (or
    go on with ``network``, a checkpoint's) and the Trainer. DatasetError (and its
    NetworkMismatch) say what is wrong in one sentence."""
    from engine.train.dataset import split
    from engine.train.trainer import Trainer

    data = load_data(plan, current, progress) if data is None else data
    net = start_network(plan, data, current) if network is None else network
    train, val = split(data, plan.val_split, seed=plan.config.seed)
    val = val if len(val) else None
    trainer = Trainer(net, train, val, plan.config)
    return Prepared(trainer, train, val, net)


def data_key(plan: TrainPlan, current=None) -> tuple:
    """What the loaded data depends on: the same key reuses the data already in memory."""
    return (plan.data.strip(), plan.samples, plan.config.seed, input_for(plan, current))
