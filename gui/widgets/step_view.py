"""One layer's input beside its output: the stepper's comparison view.

A layer that joins branches (Add, Concat) has several inputs; they are stacked one above the
other on the left, so the two sides of a residual connection can be compared.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from engine.i18n import _, ngettext
from gui.colormaps import COLORMAPS, DIVERGING, is_signed, scale_maps, suggest_colormap
from gui.mosaic_prepare import MosaicRequest, PreparedFeed
from gui.ui_scale import set_font
from gui.widgets.histogram import BarChart
from gui.widgets.mosaic_view import MosaicView, as_maps

MAX_MAPS = 16  # the side-by-side view shows at most this many maps per side (it is small)
MAX_INPUTS = 4  # inputs of a joining layer drawn one above the other (all are in the caption)


class StepPanel(QWidget):
    """One side of the comparison: a caption over maps, an RGB image or bars."""

    def __init__(self, tooltip: str, parent=None, feed: PreparedFeed | None = None):
        super().__init__(parent)
        self.feed = feed  # the engine thread's prepared mosaics for this panel, if any
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setWordWrap(True)
        self.caption.setToolTip(tooltip)
        self.mosaic = MosaicView(labels=True)
        self.bars = BarChart()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.mosaic)
        self.stack.addWidget(self.bars)
        self.stack.setToolTip(tooltip)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.stack, 1)

    def show_array(self, a: np.ndarray, what: str, display, global_range, source: str = "",
                   result=None) -> None:
        """Show an activation: up to MAX_MAPS maps as a mosaic, or a vector as bars.

        ``source`` and ``result``: the array's name and the live result it comes from; with a
        feed, the next results bring this mosaic made ready by the engine thread.
        """
        maps = as_maps(a)
        if maps is None:
            self.stack.setCurrentWidget(self.bars)
            self.bars.set_values(a)
            self.caption.setText(_("{what}: {size} values").format(what=what, size=a.size))
            return
        self.stack.setCurrentWidget(self.mosaic)
        c = maps.shape[0]
        maps = maps[:MAX_MAPS]
        name = display.colormap if display.colormap in COLORMAPS else "viridis"
        # Each side gets a colormap that suits its own values: a ReLU's input is signed,
        # its output is not, and both should read well at once.
        request = MosaicRequest(source, display.normalization, name, self.mosaic.grid[1],
                                max_maps=MAX_MAPS, auto_colormap=True)
        prepared = None if self.feed is None else self.feed.take(result, request)
        if prepared is None or not self.mosaic.set_prepared(prepared):
            name = suggest_colormap(is_signed(maps), name)
            if callable(global_range):  # computed only when needed: a pass over every layer
                global_range = global_range()
            shown, levels = scale_maps(maps, display.normalization, name in DIVERGING,
                                       global_range)
            self.mosaic.set_maps(shown, levels, name)
        if self.feed is not None and source and a.ndim == 3 and self.isVisible():
            self.feed.want(request)
        part = (_("first {shown} of {c} maps").format(shown=MAX_MAPS, c=c) if c > MAX_MAPS
                else ngettext("{c} map", "{c} maps", c).format(c=c))
        self.caption.setText(_("{what}: {part}").format(what=what, part=part))

    def show_rgb(self, frame: np.ndarray, what: str) -> None:
        """Show an image (RGB ``(H, W, 3)`` or gray ``(H, W)`` uint8) under the caption ``what``."""
        if self.feed is not None:
            self.feed.stop()  # no maps to prepare for an image
        self.stack.setCurrentWidget(self.mosaic)
        self.mosaic.set_rgb(frame)
        self.caption.setText(what)


class StepView(QWidget):
    """The current layer's inputs (stacked) on the left, an arrow, its output on the right."""

    def __init__(self, parent=None, live=None):
        super().__init__(parent)
        self._live = live  # panels get the engine thread's prepared mosaics from it
        # One panel per input, made on first need; the first always exists.
        self.input_panels = [StepPanel(_("What goes into the current layer"),
                                       feed=self._feed("stepper-in-0"))]
        self.inputs_box = QWidget()
        self.inputs_layout = QVBoxLayout(self.inputs_box)
        self.inputs_layout.setContentsMargins(0, 0, 0, 0)
        self.inputs_layout.addWidget(self.input_panels[0], 1)
        self.more_inputs = QLabel()
        self.more_inputs.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.more_inputs.setToolTip(_("This layer has more inputs than fit here; the caption "
                                    "above lists them all"))
        self.more_inputs.hide()
        self.inputs_layout.addWidget(self.more_inputs)
        self.output_panel = StepPanel(_("What comes out of the current layer"),
                                      feed=self._feed("stepper-out"))
        arrow = QLabel("→")
        set_font(arrow, 2.2)  # about 20 points at the normal size
        arrow.setToolTip(_("The current layer turns the left side into the right side"))
        sides = QHBoxLayout(self)
        sides.setContentsMargins(0, 0, 0, 0)
        sides.addWidget(self.inputs_box, 1)
        sides.addWidget(arrow)
        sides.addWidget(self.output_panel, 1)

    def _feed(self, key: str) -> PreparedFeed | None:
        return None if self._live is None else PreparedFeed(self._live, key)

    def stop_feeds(self) -> None:
        """No more prepared mosaics (the view is hidden): the engine thread does no work for it."""
        for panel in [*self.input_panels, self.output_panel]:
            if panel.feed is not None:
                panel.feed.stop()

    @property
    def input_panel(self) -> StepPanel:
        """The (first) input's panel."""
        return self.input_panels[0]

    def panels_for(self, count: int) -> list[StepPanel]:
        """``count`` visible input panels (at most MAX_INPUTS), made on first need."""
        shown = min(count, MAX_INPUTS)
        while len(self.input_panels) < shown:
            j = len(self.input_panels)
            panel = StepPanel(_("Input {value} of the current layer").format(value=j + 1),
                              feed=self._feed(f"stepper-in-{j}"))
            self.inputs_layout.insertWidget(j, panel, 1)
            self.input_panels.append(panel)
        for j, panel in enumerate(self.input_panels):
            panel.setVisible(j < shown)
            if j >= shown and panel.feed is not None:
                panel.feed.stop()
        self.more_inputs.setVisible(count > shown)
        self.more_inputs.setText(ngettext(
            "… and {n} more input", "… and {n} more inputs", count - shown
        ).format(n=count - shown))
        return self.input_panels[:shown]

    def show_step(self, layer: str, sources, inputs, output: np.ndarray, image: str,
                  frame: np.ndarray, display, global_range=None, result=None) -> None:
        """Show one layer's inputs beside its output.

        Parameters
        ----------
        layer : str
            The layer's name, for the output's caption.
        sources : sequence of str
            Where each input comes from: a layer's name, or ``image``.
        inputs : sequence of numpy.ndarray
            The input arrays, one per source, each ``(C, H, W)`` or a vector.
        output : numpy.ndarray
            The layer's output.
        image : str
            The name the pipeline gives its input image.
        frame : numpy.ndarray
            The RGB frame ``(H, W, 3)`` uint8, shown for a 3-channel image input.
        display : DisplayOptions
            Colormap and normalization.
        global_range : tuple of float or a function returning it, optional
            The value range over all layers, for "global" normalization.
        result : Result, optional
            The live result shown: its mosaics prepared by the engine thread, if any.
        """
        panels = self.panels_for(len(sources))
        for j, (panel, source, inp) in enumerate(zip(panels, sources, inputs, strict=False)):
            is_image = source == image
            what_in = _("input image") if is_image else _("input ({source} output)").format(
                source=source)
            if len(sources) > 1:
                what_in = _("input {value}: {value2}").format(
                    value=j + 1, value2='the image' if is_image else source)
            if is_image and inp.shape[0] == 3:
                panel.show_rgb(frame, _("{what_in}: RGB").format(what_in=what_in))
            elif is_image and inp.shape[0] == 1:
                # What a gray pipeline sees, in gray: values 0..1 as 0..255.
                gray = (np.clip(inp[0], 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)  # (H, W)
                panel.show_rgb(gray, _("{what_in}: gray").format(what_in=what_in))
            else:
                panel.show_array(inp, what_in, display, global_range, source, result)
        self.output_panel.show_array(output, _("output of {layer}").format(layer=layer), display,
                                     global_range, layer, result)
