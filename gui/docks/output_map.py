"""The predictions dock's page for networks whose output is a map, not class scores.

A segmentation network (U-Net, FCN), an autoencoder or a ConvTranspose decoder ends in a map of
C x H x W. This page shows it as pictures (computed by :mod:`engine.explain.output_map`):

- 1 or 3 channels: the input and the output image side by side (a reconstruction, a mask);
- any other number: every pixel coloured by its strongest channel (its class) over the input,
  with a legend of the class colours and each class's share of the pixels;

and under either, all the output maps as tiles. Three channels may also be the scores of three
classes: a label file of three names, or a final Softmax, says so, and a "Show as" choice lets
the user decide.
"""

from __future__ import annotations

import html
import math
import time

import numpy as np
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from engine.explain.output_map import (
    class_colors,
    class_map,
    class_overlay,
    class_shares,
    is_image_output,
    reconstruction,
)
from engine.explain.overlay import to_image
from engine.graph.output import describe_output
from engine.i18n import N_, _, ngettext
from gui.colormaps import scale_maps
from gui.labels import class_names, model_path_of
from gui.widgets.mosaic_view import MosaicView
from gui.widgets.pixel_view import PixelView

__all__ = ["LEGEND_ROWS", "MAX_TILES", "OutputMapPage"]

SHOW_AS = (("auto", N_("Automatic")), ("image", N_("An image")), ("classes", N_("Classes")))
"""How a 3-channel output is read; "auto" decides from the last layer and a label file."""

LEGEND_ROWS = 10
"""The legend lists this many classes, the largest first; the others are counted."""

MAX_TILES = 64
"""The tiles show at most this many output maps."""

PICTURE_SIDE = 256
"""Pictures are drawn from every n-th pixel so that their longest side is at most this: the
panel shows them a couple of hundred pixels wide, and the class map and overlay of a 480 x 640
output took tens of milliseconds of the window's thread per frame."""

TILE_SIDE = 96
"""The same for each tile of the output maps."""

LEGEND_EVERY_S = 0.25
"""The legend's shares are rewritten at most this often (at once when the network, the shape or
the reading changes): percentages changing 30 times a second cannot be read, and each new rich
text made the panel lay itself out again. The other sentences change only with those."""


def thin(maps: np.ndarray, side: int) -> np.ndarray:
    """Every n-th row and column of ``(..., H, W)`` maps, n the smallest that brings the longest
    side to ``side`` or less (a view, no copy)."""
    n = max(1, math.ceil(max(maps.shape[-2:]) / side))
    return maps[..., ::n, ::n] if n > 1 else maps


def _swatch(rgb) -> str:
    r, g, b = (int(v) for v in rgb)
    return (f'<span style="background-color:#{r:02x}{g:02x}{b:02x};">'
            "&nbsp;&nbsp;&nbsp;&nbsp;</span>")


class OutputMapPage(QWidget):
    """Input and output pictures, a class legend and the output maps as tiles."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        font = self.headline.font()
        font.setBold(True)
        self.headline.setFont(font)
        self.show_as = QComboBox()
        for key, label in SHOW_AS:
            self.show_as.addItem(_(label), key)
        self.show_as.setToolTip(_("Three output channels may be a colour image or the scores of"
                                  " three classes: choose how to read them"))
        self.show_as.currentIndexChanged.connect(self._on_show_as_changed)
        self.show_as_row = QWidget()
        row = QHBoxLayout(self.show_as_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel(_("Show the output as")))
        row.addWidget(self.show_as, 1)
        self.show_as_row.hide()
        self.input_view, self.output_view = PixelView(min_side=120), PixelView(min_side=120)
        self.input_caption, self.output_caption = QLabel(_("Input")), QLabel()
        pictures = QGridLayout()
        pictures.addWidget(self.input_caption, 0, 0)
        pictures.addWidget(self.output_caption, 0, 1)
        pictures.addWidget(self.input_view, 1, 0)
        pictures.addWidget(self.output_view, 1, 1)
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.tiles_caption = QLabel()
        self.tiles = MosaicView(labels=True)
        self.tiles.setMinimumHeight(120)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.headline)
        column.addWidget(self.show_as_row)
        column.addLayout(pictures, 3)
        column.addWidget(self.legend)
        column.addWidget(self.note)
        column.addWidget(self.tiles_caption)
        column.addWidget(self.tiles, 2)
        self.kind = ""  # "image" or "classes": what the output picture shows now
        self.shares: np.ndarray | None = None
        self.names: tuple[str, ...] = ()
        self._names_key = None
        self._pipeline_id = None  # the network the "Show as" choice was made for
        self._labelled: bool | None = None  # a label file names its 3 output channels
        self._last = None  # the arguments of the last show_output, drawn again on a new choice
        self._texts_key = None  # what the sentences were written for: written again on change
        self._legend_at = -LEGEND_EVERY_S  # time.monotonic() the legend was last written
        self._tiles_key = None  # (maps shown, maps) the tiles' caption was written for

    def show_output(self, output: np.ndarray, x: np.ndarray, pipeline, session_path=None) -> None:
        """Draw one frame's (C, H, W) ``output`` for the input ``x`` of ``pipeline``."""
        self._last = (output, x, pipeline, session_path)
        if id(pipeline) != self._pipeline_id:  # a new network: back to the automatic reading
            self._pipeline_id = id(pipeline)
            self.show_as.blockSignals(True)
            self.show_as.setCurrentIndex(0)
            self.show_as.blockSignals(False)
            self._labelled = None
        dense = tuple(output.shape[1:]) == tuple(x.shape[-2:])  # as large as the input
        picture = to_image(thin(x, PICTURE_SIDE), pipeline)
        self.input_view.set_rgb(picture, extent=x.shape[-2:])
        self.show_as_row.setVisible(output.shape[0] == 3)
        if self._as_image(output, pipeline, session_path):
            self._show_image(output, dense)
        else:
            self._show_classes(output, picture, pipeline, session_path, dense)
        self._show_tiles(output)

    def _as_image(self, output: np.ndarray, pipeline, session_path) -> bool:
        choice = self.show_as.currentData()
        if output.shape[0] != 3:
            return is_image_output(output, pipeline.nodes[-1].layer)
        if choice != "auto":
            return choice == "image"
        if self._labelled is None:  # looked up once per network, not per frame
            path = model_path_of(pipeline, session_path)
            self._labelled = class_names(3, pipeline, path).source != "no label file"
        return is_image_output(output, pipeline.nodes[-1].layer) and not self._labelled

    def _on_show_as_changed(self, _index: int) -> None:
        if self._last is not None:
            self.show_output(*self._last)

    def _show_image(self, output: np.ndarray, dense: bool) -> None:
        image, stretched = reconstruction(thin(output, PICTURE_SIDE))
        self.kind, self.shares = "image", None
        self.output_view.set_rgb(image, extent=output.shape[1:])
        key = ("image", output.shape, dense, stretched, self.show_as.currentData())
        if key == self._texts_key:
            return
        self._texts_key = key
        c = output.shape[0]
        self.headline.setText(_("The output is {description}: an image, not class scores.")
                              .format(description=describe_output(output.shape)))
        self.output_caption.setText(_("Output (color)") if c == 3 else _("Output (gray)"))
        how = (_("Its values run beyond 0..1, so they are stretched from their lowest to their"
                 " highest.") if stretched else _("Its values are shown as they are (0 black,"
                                                  " 1 white)."))
        if dense:
            what = _("Compare it with the input: an autoencoder gives its input back, a"
                     " restoration network a cleaner one.")
        else:
            what = _("It is smaller than the input; it is drawn at the same size to compare.")
        choose = ""
        if c == 3 and self.show_as.currentData() == "auto":
            choose = " " + _("If the three channels are the scores of three classes, choose"
                             " Classes above.")
        self.note.setText(f"{what} {how}{choose}")
        self.legend.hide()

    def _show_classes(self, output, picture, pipeline, session_path, dense: bool) -> None:
        c = output.shape[0]
        labels = class_map(thin(output, PICTURE_SIDE))  # shares from the pixels drawn
        colors = class_colors(c)
        self.kind = "classes"
        self.shares = class_shares(labels, c)
        self.names = self._class_names(c, pipeline, session_path, dense)
        self.output_view.set_rgb(class_overlay(labels, picture, colors), extent=output.shape[1:])
        key = ("classes", output.shape, self.names)
        now = time.monotonic()
        if key == self._texts_key and now - self._legend_at < LEGEND_EVERY_S:
            return
        self._legend_at = now
        if key != self._texts_key:
            self._texts_key = key
            self.headline.setText(_("The output is {description}: a class for every pixel, not"
                                    " class scores for the image.").format(
                                        description=describe_output(output.shape)))
            self.output_caption.setText(_("Classes over the input"))
            self.note.setText(_("Each pixel takes the colour of its strongest channel: for a"
                                " segmentation network, its class."))
        order = np.argsort(-self.shares, kind="stable")
        rows = [_("{swatch} {name}: {share:.0%}").format(
                    swatch=_swatch(colors[k]), name=html.escape(self.names[k]),
                    share=self.shares[k]) for k in order[:LEGEND_ROWS]]
        rest = c - LEGEND_ROWS
        if rest > 0:
            rows.append(ngettext("… and {n} more class", "… and {n} more classes", rest)
                        .format(n=rest))
        self.legend.setText("<br>".join(rows))
        self.legend.show()

    def _class_names(self, c: int, pipeline, session_path, dense: bool) -> tuple[str, ...]:
        key = (id(pipeline), c)
        if key != self._names_key:
            self._names_key = key
            found = class_names(c, pipeline, model_path_of(pipeline, session_path))
            if found.source != "no label file":
                self.names = found.names
            elif dense:
                self.names = tuple(_("class {k}").format(k=k) for k in range(c))
            else:
                self.names = tuple(_("channel {k}").format(k=k) for k in range(c))
        return self.names

    def _show_tiles(self, output: np.ndarray) -> None:
        c = output.shape[0]
        shown = min(c, MAX_TILES)
        maps = np.ascontiguousarray(thin(output[:shown], TILE_SIDE), np.float32)
        shown_maps, levels = scale_maps(maps, "layer", False)
        self.tiles.set_maps(shown_maps, levels, "viridis")
        if self._tiles_key == (shown, c):
            return
        self._tiles_key = (shown, c)
        if shown < c:
            text = _("The first {shown} of the {n} output maps (one scale for all)")
        elif c == 1:
            text = _("The output map")  # one map: a sentence of its own, with no number
        else:
            text = _("The {n} output maps (one scale for all)")
        self.tiles_caption.setText(text.format(shown=shown, n=c))
