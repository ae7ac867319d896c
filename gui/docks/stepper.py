"""Layer stepper dock: the pipeline as a strip of cards, and one layer's input beside its output."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.colormaps import (
    COLORMAPS,
    DIVERGING,
    is_signed,
    scale_maps,
    suggest_colormap,
    value_range,
)
from gui.docks.ledger import format_shape
from gui.docks.maps import as_maps
from gui.widgets.histogram import BarChart
from gui.widgets.mosaic_view import MosaicView

MAX_MAPS = 16  # the side-by-side view shows at most this many maps per side (it is small)
_MAX_TITLE = 14  # characters of a layer name shown on its card


class _Panel(QWidget):
    """One side of the comparison: a caption over maps, an RGB image or bars."""

    def __init__(self, tooltip: str, parent=None):
        super().__init__(parent)
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

    def show_array(self, a: np.ndarray, what: str, display, global_range) -> None:
        """Show an activation: up to MAX_MAPS maps as a mosaic, or a vector as bars."""
        maps = as_maps(a)
        if maps is None:
            self.stack.setCurrentWidget(self.bars)
            self.bars.set_values(a)
            self.caption.setText(f"{what}: {a.size} values")
            return
        self.stack.setCurrentWidget(self.mosaic)
        c = maps.shape[0]
        maps = maps[:MAX_MAPS]
        name = display.colormap if display.colormap in COLORMAPS else "viridis"
        # Each side gets a colormap that suits its own values: a ReLU's input is signed,
        # its output is not, and both should read well at once.
        name = suggest_colormap(is_signed(maps), name)
        diverging = name in DIVERGING
        shown, levels = scale_maps(maps, display.normalization, diverging, global_range)
        self.mosaic.set_maps(shown, levels, name)
        part = f"first {MAX_MAPS} of {c} maps" if c > MAX_MAPS else f"{c} map{'s' * (c != 1)}"
        self.caption.setText(f"{what}: {part}")

    def show_rgb(self, frame: np.ndarray, what: str) -> None:
        self.stack.setCurrentWidget(self.mosaic)
        self.mosaic.set_rgb(frame)
        self.caption.setText(what)


class StepperDock(QWidget):
    """Every layer as a card; Previous / Next; the current layer's input beside its output."""

    def __init__(self, session, live, parent=None):
        super().__init__(parent)
        self.session = session
        self.live = live
        self._result = None
        self._input_shape: tuple[int, ...] | None = None
        self.cards: list[QToolButton] = []
        self.shape_error = ""
        self._build()
        session.pipeline_changed.connect(self._on_session_pipeline_changed)
        session.selected_layer_changed.connect(self._on_session_layer_changed)
        # A bound method, not a lambda: psygnal holds bound methods weakly, so a closed dock
        # is dropped from the session's signal instead of being kept alive and called.
        session.display_changed.connect(self._on_session_display_changed)
        live.resultUpdated.connect(self._on_live_result)
        latest = live.latest
        if latest is not None:
            self._input_shape = tuple(latest.input.shape)
        self._rebuild_cards()
        if latest is not None:
            self._on_live_result(latest)

    # -- widgets -----------------------------------------------------------------------------
    def _build(self) -> None:
        self.strip = QWidget()
        self.strip_layout = QHBoxLayout(self.strip)
        self.strip_layout.setContentsMargins(2, 2, 2, 2)
        self.strip_layout.setSpacing(2)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.strip)
        self.scroll.setWidgetResizable(True)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.group.idClicked.connect(self.session.set_selected_layer)

        self.prev_button = QPushButton("◀ Previous")
        self.prev_button.setToolTip("Show the layer before this one (Left or Page Up)")
        self.prev_button.clicked.connect(self.previous)
        self.next_button = QPushButton("Next ▶")
        self.next_button.setToolTip("Show the layer after this one (Right or Page Down)")
        self.next_button.clicked.connect(self.next)
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setStyleSheet("font-weight: bold")
        # Wrapping keeps a long layer name or shape from setting the dock's minimum width.
        self.caption.setWordWrap(True)
        self.caption.setToolTip("The current layer: input shape → output shape")
        nav = QHBoxLayout()
        nav.addWidget(self.prev_button)
        nav.addWidget(self.caption, 1)
        nav.addWidget(self.next_button)

        self.input_panel = _Panel("What goes into the current layer")
        self.output_panel = _Panel("What comes out of the current layer")
        arrow = QLabel("→")
        arrow.setStyleSheet("font-size: 20pt")
        arrow.setToolTip("The current layer turns the left side into the right side")
        sides = QHBoxLayout()
        sides.addWidget(self.input_panel, 1)
        sides.addWidget(arrow)
        sides.addWidget(self.output_panel, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.scroll)
        layout.addLayout(nav)
        layout.addLayout(sides, 1)

        # Left / Right: shortcuts active while focus is anywhere in this dock (buttons would
        # otherwise take the arrows to move focus). Page Up / Down are the main window's global
        # shortcuts; a second shortcut on the same key would make both ambiguous, so this dock
        # takes them only as plain key presses (when it is used without the main window).
        for key, slot in ((Qt.Key.Key_Left, self.previous), (Qt.Key.Key_Right, self.next)):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_PageUp:
            self.previous()
        elif event.key() == Qt.Key.Key_PageDown:
            self.next()
        else:
            super().keyPressEvent(event)

    def _card(self, title: str, type_name: str, shape: str, tip: str) -> QToolButton:
        card = QToolButton()
        # Imported models have names like "/features/features.0/Conv": keep cards small,
        # the full name is in the tooltip.
        if len(title) > _MAX_TITLE:
            title = "…" + title[-(_MAX_TITLE - 1):]
        card.setText(f"{title}\n{type_name}\n{shape}")
        card.setToolTip(tip)
        card.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        card.setMinimumWidth(card.fontMetrics().horizontalAdvance("000×000×000") + 12)
        return card

    def _shapes(self) -> dict[str, tuple] | None:
        pipeline = self.session.pipeline
        spec = pipeline.input_spec
        shape = self._input_shape or (spec.channels, spec.height or 480, spec.width or 640)
        try:
            shapes = {pipeline.input_name: shape, **pipeline.shapes(shape)}
        except ValueError as exc:
            self.shape_error = str(exc)
            return None
        self.shape_error = ""
        return shapes

    def _rebuild_cards(self) -> None:
        """Rebuild the strip: only when the pipeline or the input size changes."""
        while self.strip_layout.count():
            item = self.strip_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        for card in self.cards:
            self.group.removeButton(card)
        self.cards = []
        self.shapes = self._shapes() or {}
        pipeline = self.session.pipeline
        in_shape = self.shapes.get(pipeline.input_name)
        first = self._card("input", "image", format_shape(in_shape) if in_shape else "?",
                           "The image that enters the pipeline; click to show the first layer")
        first.clicked.connect(lambda: self.session.set_selected_layer(0))
        self.strip_layout.addWidget(first)
        for i, node in enumerate(pipeline.nodes):
            arrow = QLabel("›")
            arrow.setToolTip("feeds into")
            self.strip_layout.addWidget(arrow)
            shape = self.shapes.get(node.name)
            text = format_shape(shape) if shape else "does not fit"
            card = self._card(node.name, node.layer.type_name, text,
                              f"{node.name}: {node.layer!r}\noutput {text}\n"
                              "Click to step to this layer")
            card.setCheckable(True)
            self.group.addButton(card, i)
            self.strip_layout.addWidget(card)
            self.cards.append(card)
        self.strip_layout.addStretch(1)
        bar = self.scroll.horizontalScrollBar().sizeHint().height()
        margins = self.strip_layout.contentsMargins()
        self.scroll.setFixedHeight(first.sizeHint().height() + bar + margins.top()
                                   + margins.bottom() + 2 * self.scroll.frameWidth())
        self._highlight()

    def _highlight(self) -> None:
        index = self.session.selected_layer
        for i, card in enumerate(self.cards):
            font = card.font()
            font.setBold(i == index)
            card.setFont(font)
            card.setChecked(i == index)
        if 0 <= index < len(self.cards):
            self.scroll.ensureWidgetVisible(self.cards[index])
        n = len(self.cards)
        self.prev_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < n - 1)

    # -- actions -------------------------------------------------------------------------------
    def previous(self) -> None:
        """Select the layer before the current one."""
        self.session.set_selected_layer(self.session.selected_layer - 1)

    def next(self) -> None:
        """Select the layer after the current one."""
        self.session.set_selected_layer(self.session.selected_layer + 1)

    # -- session and live ------------------------------------------------------------------
    def _on_session_pipeline_changed(self, _pipeline) -> None:
        self._rebuild_cards()
        self._render()

    def _on_session_layer_changed(self, _index: int) -> None:
        self._highlight()
        self._render()

    def _on_session_display_changed(self, _display) -> None:
        self._render()

    def _on_live_result(self, result) -> None:
        self._result = result
        if result.error is None and tuple(result.input.shape) != self._input_shape:
            self._input_shape = tuple(result.input.shape)
            self._rebuild_cards()
        if self.isVisible():  # a closed or tabbed-away dock costs nothing per frame
            self._render()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._render()

    def _render(self) -> None:
        nodes = self.session.pipeline.nodes
        if not nodes:
            self.caption.setText("The pipeline has no layers yet.")
            return
        index = min(self.session.selected_layer, len(nodes) - 1)
        node = nodes[index]
        source = node.inputs[0] if node.inputs else self.session.pipeline.input_name
        in_shape, out_shape = self.shapes.get(source), self.shapes.get(node.name)
        arrow_text = (f"{format_shape(in_shape) if in_shape else '?'} → "
                      f"{format_shape(out_shape) if out_shape else '?'}")
        self.caption.setText(f"{node.name}: {arrow_text}" if not self.shape_error else
                             f"The pipeline does not fit this input: {self.shape_error}")
        result = self._result
        if result is None or result.error:
            return
        out = result.activations.get(node.name)
        is_image = source == result.pipeline.input_name
        inp = result.input if is_image else result.activations.get(source)
        if out is None or inp is None:
            return  # a result from before the last edit
        display = self.session.display
        global_range = None
        if display.normalization == "global":
            global_range = value_range(result.activations.values())
        what_in = "input image" if is_image else f"input ({source} output)"
        if is_image and inp.shape[0] == 3:
            self.input_panel.show_rgb(result.frame, f"{what_in}: RGB")
        elif is_image and inp.shape[0] == 1:
            # What a gray pipeline sees, in gray: values 0..1 as 0..255.
            gray = (np.clip(inp[0], 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)  # (H, W)
            self.input_panel.show_rgb(gray, f"{what_in}: gray")
        else:
            self.input_panel.show_array(inp, what_in, display, global_range)
        self.output_panel.show_array(out, f"output of {node.name}", display, global_range)
