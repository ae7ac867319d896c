"""The welcome window: what the workspaces are, three things to try, the way into the tour.

Shown once, on the first start (a flag in ``settings.ini`` beside the saved session), and from
Help > Welcome at any time. The workspaces and the suggestions are data: a new workspace is one
more line in :data:`WORKSPACES`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout, QWidget

from engine.i18n import N_, _
from gui.session import config_dir

SEEN_KEY = "welcome/seen"


@dataclass(frozen=True)
class Workspace:
    """One workspace as the welcome names it: its name, what it is for, where to find it."""

    name: str
    what: str
    where: str


WORKSPACES: tuple[Workspace, ...] = (
    Workspace(
        N_("Explore"),
        N_("Your picture through a small network, live: the input and its R, G, B channels, "
           "the kernels of each convolution, every activation map, and the ledger that works "
           "out each layer's output size and parameter count."),
        N_("what the window shows at start"),
    ),
    Workspace(
        N_("Lecture"),
        N_("The lecture's ideas one at a time: a guided tour, players that slide a filter or a "
           "pooling window one step at a time, receptive fields, why convolutions need so few "
           "weights, 1x1 convolutions and small shifts."),
        N_("View menu, under Lecture; or the tour button below"),
    ),
    Workspace(
        N_("Train"),
        N_("Watch a network learn: train it on drawn shapes, digits, MNIST, a folder of "
           "pictures or classes you record from your webcam, and see the curves fall, the "
           "filters change and the mistakes disappear; then run it live on your camera."),
        N_("View > Workspaces > Train, or cnn-explorer --train shapes"),
    ),
)

THINGS_TO_TRY: tuple[str, ...] = (
    N_("Pick a photograph under File > Samples, or drop your own image on the window, and turn "
       "on View > Show R, G, B channels (Ctrl+R): a colour picture is three grids of numbers."),
    N_("Click a kernel in the Kernels panel and change one of its weights, or choose a preset "
       "such as sobel_x under Set weights: the activation maps change at once."),
    N_("In the Pipeline panel, select a conv layer and change its stride or padding: the "
       "Ledger shows how (W - F + 2P)/S + 1 gives the new output size."),
)


def _settings() -> QSettings:
    return QSettings(str(config_dir() / "settings.ini"), QSettings.Format.IniFormat)


def was_seen() -> bool:
    """Has the welcome been shown on this computer (for this configuration folder)?"""
    return _settings().value(SEEN_KEY, False, type=bool)


def mark_seen() -> None:
    settings = _settings()
    settings.setValue(SEEN_KEY, True)
    settings.sync()


def welcome_html() -> str:
    """The welcome's text as rich text, translated."""
    rows = "".join(
        f"<li><b>{html.escape(_(w.name))}</b> ({html.escape(_(w.where))}): "
        f"{html.escape(_(w.what))}</li>"
        for w in WORKSPACES
    )
    tries = "".join(f"<li>{html.escape(_(t))}</li>" for t in THINGS_TO_TRY)
    return (
        "<h3>" + html.escape(_("Welcome to CNN Explorer")) + "</h3>"
        + "<p>" + html.escape(_(
            "CNN Explorer shows what a convolutional neural network computes: it runs a small "
            "network on your picture, video or webcam and shows every step, with the numbers "
            "behind it.")) + "</p>"
        + "<p><b>" + html.escape(_("Workspaces")) + "</b></p><ul>" + rows + "</ul>"
        + "<p><b>" + html.escape(_("Three things to try")) + "</b></p><ol>" + tries + "</ol>"
        + "<p>" + html.escape(_(
            "New to CNNs? The guided tour follows the lecture in short stops, from the pixels "
            "of a photograph to a whole network.")) + "</p>"
        + "<p>" + html.escape(_("This window is in the Help menu whenever you want it back."))
        + "</p>"
    )


class WelcomeDialog(QDialog):
    """The welcome window; ``start_tour`` is called when the tour button is pressed."""

    def __init__(self, start_tour, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        self.setWindowTitle(_("Welcome to CNN Explorer"))
        self.setModal(False)  # the window behind stays usable: try things while reading
        self._start_tour = start_tour
        self.text = QLabel(welcome_html())
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setMinimumWidth(520)
        buttons = QDialogButtonBox()
        self.tour_button = QPushButton(_("Start the guided tour"))
        self.tour_button.setToolTip(_("Open the first stop of the tour; the tour panel "
                                      "leads through the lecture from there."))
        buttons.addButton(self.tour_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.setText(_("Explore on my own"))
        self.close_button.setToolTip(_("Close this window; Help > Welcome brings it back."))
        self.tour_button.clicked.connect(self._on_tour)
        self.close_button.clicked.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)

    def _on_tour(self) -> None:
        self.close()
        self._start_tour()

    def done(self, result: int) -> None:  # Escape, the close button, the tour button
        mark_seen()
        super().done(result)

    def closeEvent(self, event) -> None:  # the window's own close box
        mark_seen()
        super().closeEvent(event)
