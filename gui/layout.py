"""The dock registry: every panel of the main window, the default layout and the workspaces,
declared as data.

A new panel is one more line in :data:`DOCKS`. Each factory is a ``"module:Class"`` string,
imported only when the window is built, for a ``QWidget`` subclass constructed as
``Class(session, live, parent=None)``. A workspace (:data:`WORKSPACES`, View > Workspaces)
names the panels it shows, column by column; :mod:`gui.workspaces` arranges them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from engine.i18n import N_

AREAS = ("left", "right", "top", "bottom")
DEFAULT_SIZE = (1280, 800)  # the window at first start: a laptop screen


@dataclass(frozen=True)
class DockSpec:
    """One panel: its key (also its saved-layout name), title, default area and factory."""

    key: str
    title: str
    area: str  # "left" | "right" | "top" | "bottom"
    factory: str  # "package.module:ClassName"
    tooltip: str
    shortcut: str = ""  # toggles the panel from the View menu
    group: str = N_("Explore")  # the View menu's section
    shown: bool = True  # open in the default layout; otherwise opened from the View menu or tour
    tab_with: str = ""  # key of the dock whose tab group it joins in the default layout

    def load(self) -> type:
        """Import and return the dock's widget class."""
        module_name, _, class_name = self.factory.partition(":")
        return getattr(importlib.import_module(module_name), class_name)


DOCKS: tuple[DockSpec, ...] = (
    DockSpec(
        "source", N_("Input"), "left", "gui.docks.source:SourceDock",
        N_("The frame that enters the network, and on request its R, G, B and gray channels"),
        "Ctrl+1",
    ),
    DockSpec(
        "maps", N_("Activation maps"), "left", "gui.docks.maps:MapsDock",
        N_("Every map of the selected layer; hover for values, click a map to enlarge it"),
        "Ctrl+2",
    ),
    DockSpec(
        "pipeline", N_("Pipeline"), "right", "gui.docks.pipeline_editor:PipelineDock",
        N_("The layers of the network: add, remove, reorder and edit them"),
        "Ctrl+3",
    ),
    DockSpec(
        "kernels", N_("Kernels"), "right", "gui.docks.kernels:KernelsDock",
        N_("The filters of the selected convolution layer; edit a weight and watch the maps "
           "change"),
        "Ctrl+4",
    ),
    DockSpec(
        "stepper", N_("Layer by layer"), "top", "gui.docks.stepper:StepperDock",
        N_("Every layer with its output shape; step through them and compare input and output"),
        "Ctrl+5",
    ),
    DockSpec(
        "ledger", N_("Ledger"), "bottom", "gui.docks.ledger:LedgerDock",
        N_("Output size, parameters, multiply-adds, memory and time of every layer"),
        "Ctrl+6",
    ),
    DockSpec(
        "predictions", N_("Predictions"), "right", "gui.docks.predictions:PredictionsDock",
        N_("The top 5 classes of a classifier, or the output map of a segmentation network or an"
           " autoencoder, live"), "Ctrl+7", group=N_("Networks"), shown=False,
        tab_with="pipeline",
    ),
    DockSpec(
        "filters", N_("Filter gallery"), "right", "gui.docks.filters:FilterGalleryDock",
        N_("The learned filters of each conv layer as pictures"), "Ctrl+8", group=N_("Networks"),
        shown=False, tab_with="pipeline",
    ),
    DockSpec(
        "canvas", N_("Drawing canvas"), "left", "gui.docks.canvas:DrawingCanvasDock",
        N_("Draw a shape with the mouse and send it to the network"), "Ctrl+9",
        group=N_("Networks"),
        shown=False, tab_with="source",
    ),
    DockSpec(
        "explain", N_("Explain"), "right", "gui.explain.dock:ExplainDock",
        N_("Why did it say that? Saliency, Grad-CAM, occlusion and FGSM over the live frame;"
           " what drives the selected channel"), "Ctrl+E", group=N_("Networks"), shown=False,
        tab_with="pipeline",
    ),
    DockSpec(
        "tour", N_("Guided tour"), "left", "gui.docks.tour:TourDock",
        N_("The lecture, one stop at a time: each stop sets up the panels for one idea"), "Ctrl+T",
        group=N_("Lecture"), shown=False, tab_with="source",
    ),
    DockSpec(
        "lesson", N_("Lesson"), "left", "gui.lesson.panel:LessonDock",
        N_("A lesson a teacher wrote: each step sets the window up and says what to look at;"
           " Page Down / Page Up move through it. Add this view records a step"),
        "Ctrl+Alt+L", group=N_("Lecture"), shown=False, tab_with="source",
    ),
    DockSpec(
        "conv_player", N_("Convolution player"), "top", "gui.docks.conv_player:ConvPlayerDock",
        N_("One filter sliding over a small input, one output cell per step"), "Ctrl+Alt+1",
        group=N_("Lecture"), shown=False, tab_with="stepper",
    ),
    DockSpec(
        "pool_player", N_("Pooling player"), "top", "gui.docks.pool_player:PoolPlayerDock",
        N_("Max and average pooling, one window per step"), "Ctrl+Alt+2",
        group=N_("Lecture"), shown=False, tab_with="stepper",
    ),
    DockSpec(
        "receptive_field", N_("Receptive field"), "top",
        "gui.docks.receptive_field:ReceptiveFieldDock",
        N_("Click a unit of a layer's map to see which input pixels can change it"), "Ctrl+Alt+3",
        group=N_("Lecture"), shown=False, tab_with="stepper",
    ),
    DockSpec(
        "parameters", N_("Why convolutions"), "top", "gui.docks.parameters:ParametersDock",
        N_("Weights of a conv layer against a fully connected layer on the same input"),
        "Ctrl+Alt+4", group=N_("Lecture"), shown=False, tab_with="stepper",
    ),
    DockSpec(
        "channel_mixing", N_("1x1 convolutions"), "top",
        "gui.docks.channel_mixing:ChannelMixingDock",
        N_("A 1x1 convolution mixes the channels of each pixel: inputs, weights, bias and outputs"),
        "Ctrl+Alt+5", group=N_("Lecture"), shown=False, tab_with="stepper",
    ),
    DockSpec(
        "translation", N_("Small shifts"), "top", "gui.docks.translation:TranslationDock",
        N_("Shift the input by 1 to 3 pixels: how much conv maps and pooled maps change"),
        "Ctrl+Alt+6", group=N_("Lecture"), shown=False, tab_with="stepper",
    ),
    DockSpec(
        "train_controls", N_("Training"), "left", "gui.train.controls:TrainControlsDock",
        N_("Start, pause, step and stop training; speed, time left; replay earlier epochs;"
           " use or save the trained network"), group=N_("Train"), shown=False, tab_with="source",
    ),
    DockSpec(
        "train_data", N_("Data"), "left", "gui.train.data_panel:TrainDataDock",
        N_("What the network learns: drawn shapes or digits, your own classes, an image folder"
           " or MNIST"), group=N_("Train"), shown=False, tab_with="source",
    ),
    DockSpec(
        "train_classes", N_("Your classes"), "left", "gui.train.classes_panel:TrainClassesDock",
        N_("Make your own classes: record frames from the webcam, a video or a drawing"),
        group=N_("Train"), shown=False, tab_with="source",
    ),
    DockSpec(
        "train_network", N_("Network"), "left", "gui.train.network_panel:TrainNetworkDock",
        N_("The network to train and its ledger, the output layer sized to the classes"),
        group=N_("Train"), shown=False, tab_with="source",
    ),
    DockSpec(
        "train_settings", N_("Settings"), "left", "gui.train.settings_panel:TrainSettingsDock",
        N_("Optimizer, learning rate, batch size, epochs, augmentation and seed"),
        group=N_("Train"), shown=False, tab_with="source",
    ),
    DockSpec(
        "train_curves", N_("Curves"), "top", "gui.train.curves:TrainCurvesDock",
        N_("Loss and accuracy of training and validation, and the learning rate, step by step"),
        group=N_("Train"), shown=False, tab_with="stepper",
    ),
    DockSpec(
        "train_filters", N_("Filters and maps"), "top",
        "gui.train.filters_view:TrainFiltersDock",
        N_("The first layer's filters and a layer's maps on a fixed picture, as they learn"),
        group=N_("Train"), shown=False, tab_with="stepper",
    ),
    DockSpec(
        "train_histograms", N_("Weights and gradients"), "right",
        "gui.train.histograms:TrainHistogramsDock",
        N_("Per layer: the spread of the weights and the size of the gradients (vanishing or"
           " exploding)"), group=N_("Train"), shown=False, tab_with="pipeline",
    ),
    DockSpec(
        "train_results", N_("Mistakes"), "right", "gui.train.results:TrainResultsDock",
        N_("The confusion matrix of the validation pictures and the surest mistakes"),
        group=N_("Train"), shown=False, tab_with="pipeline",
    ),
)


@dataclass(frozen=True)
class WorkspaceSpec:
    """A workspace: its key, menu text, tooltip, shortcut and the panels it shows.

    ``columns`` lists the columns left to right; each column is a list of places top to
    bottom; each place is a tuple of dock keys sharing it as tabs (the first in front).
    No columns: the default layout (:meth:`gui.main_window.MainWindow.apply_default_layout`).
    ``widths`` are the columns' widths and ``heights`` the heights of named places, in pixels
    at 1280 x 800.
    """

    key: str
    title: str
    tooltip: str
    shortcut: str
    columns: tuple[tuple[tuple[str, ...], ...], ...] = ()
    widths: tuple[int, ...] = ()
    heights: tuple[tuple[str, int], ...] = ()

    def dock_keys(self) -> tuple[str, ...]:
        return tuple(key for column in self.columns for place in column for key in place)


WORKSPACES: tuple[WorkspaceSpec, ...] = (
    WorkspaceSpec("explore", N_("&Explore"),
                  N_("Your picture through the network, live: input, maps, kernels, ledger"),
                  "Alt+1"),
    WorkspaceSpec(
        "lecture", N_("&Lecture"),
        N_("The guided tour beside the convolution and pooling players and the other lecture"
           " panels"), "Alt+2",
        columns=((("tour",),),
                 (("conv_player", "pool_player", "receptive_field", "parameters",
                   "channel_mixing", "translation"),),
                 (("maps",), ("ledger",))),
        widths=(300, 560, 420), heights=(("maps", 380), ("ledger", 310))),
    WorkspaceSpec(
        "train", N_("&Train"),
        N_("Train a network and watch it learn: data, network, settings, curves, filters,"
           " gradients and mistakes"), "Alt+3",
        columns=((("train_controls",),
                  ("train_data", "train_classes", "train_network", "train_settings")),
                 (("train_curves", "train_results"),),
                 (("train_filters",), ("train_histograms",))),
        widths=(340, 500, 440),
        heights=(("train_controls", 250), ("train_data", 440), ("train_filters", 360),
                 ("train_histograms", 330))),
)


def workspace_spec(key: str) -> WorkspaceSpec:
    """Return the workspace called ``key``."""
    for spec in WORKSPACES:
        if spec.key == key:
            return spec
    raise KeyError(f"no workspace called {key!r}; known: {', '.join(w.key for w in WORKSPACES)}")


def dock_spec(key: str, docks: tuple[DockSpec, ...] = DOCKS) -> DockSpec:
    """Return the registered dock called ``key``."""
    for spec in docks:
        if spec.key == key:
            return spec
    raise KeyError(f"no dock called {key!r}; known: {', '.join(s.key for s in docks)}")
