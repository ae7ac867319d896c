"""The Train workspace: watch a network learn in the window.

Qt-free models (a plan of what to train, the architectures, run folders, recorded classes, the
training worker thread and what it publishes, the curves' arrays) and the Qt panels that show
them. Training is a producer: :class:`gui.train.worker.TrainWorker` steps the engine's
:class:`~engine.train.Trainer` on its own thread and overwrites a one-slot latest
:class:`~gui.train.snapshot.Snapshot`; :class:`gui.train.controller.TrainController` reads it
from a GUI timer and the panels draw it.

Importing this package loads nothing: the window starts without the training code.
"""
