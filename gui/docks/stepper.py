"""Layer stepper dock: the pipeline as a strip of cards, and one layer's input beside its output."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import _
from gui.colormaps import value_range
from gui.docks.ledger import format_shape
from gui.pipeline_edits import is_join, short_name
from gui.ui_scale import follow
from gui.widgets.step_view import StepPanel, StepView

_MAX_TITLE = 14  # characters of a layer name shown on its card


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
        follow(self, self._rebuild_cards)  # the strip's fixed height follows the text size
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
        # New cards have no place until the layout has run, and the dock may be laid out after
        # the selection is made: bring the current card into view whenever the sizes settle.
        self.strip.installEventFilter(self)
        self.scroll.viewport().installEventFilter(self)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.group.idClicked.connect(self.session.set_selected_layer)

        self.prev_button = QPushButton(_("◀ Previous"))
        self.prev_button.setToolTip(_("Show the layer before this one (Left or Page Up)"))
        self.prev_button.clicked.connect(self.previous)
        self.next_button = QPushButton(_("Next ▶"))
        self.next_button.setToolTip(_("Show the layer after this one (Right or Page Down)"))
        self.next_button.clicked.connect(self.next)
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setStyleSheet("font-weight: bold")
        # Wrapping keeps a long layer name or shape from setting the dock's minimum width.
        self.caption.setWordWrap(True)
        self.caption.setToolTip(_("The current layer: input shape → output shape"))
        nav = QHBoxLayout()
        nav.addWidget(self.prev_button)
        nav.addWidget(self.caption, 1)
        nav.addWidget(self.next_button)

        self.view = StepView(live=self.live)
        # The view's parts, by the names the dock has always offered (tests read them).
        self.input_panels = self.view.input_panels
        self.output_panel = self.view.output_panel
        self.more_inputs = self.view.more_inputs

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.scroll)
        layout.addLayout(nav)
        layout.addWidget(self.view, 1)

        # Left / Right: shortcuts active while focus is anywhere in this dock (buttons would
        # otherwise take the arrows to move focus). Page Up / Down are the main window's global
        # shortcuts; a second shortcut on the same key would make both ambiguous, so this dock
        # takes them only as plain key presses (when it is used without the main window).
        for key, slot in ((Qt.Key.Key_Left, self.previous), (Qt.Key.Key_Right, self.next)):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    @property
    def input_panel(self) -> StepPanel:
        """The (first) input's panel."""
        return self.view.input_panel

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_PageUp:
            self.previous()
        elif event.key() == Qt.Key.Key_PageDown:
            self.next()
        else:
            super().keyPressEvent(event)

    def _card(self, title: str, type_name: str, shape: str, tip: str,
              source: str | None = None) -> QToolButton:
        """A card; ``source`` (networks with branches only) is a fourth line saying where the
        layer's input comes from when that is not the card before."""
        card = QToolButton()
        # Imported models have names like "/features/features.0/Conv": keep cards small,
        # the full name is in the tooltip.
        lines = [short_name(title, _MAX_TITLE), type_name, shape]
        if source is not None:
            lines.append(source)
        card.setText("\n".join(lines))
        card.setToolTip(tip)
        card.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        # Never narrower than its text: a squeezed strip would cut the "⤷" line in the middle.
        card.setMinimumWidth(max(card.fontMetrics().horizontalAdvance("000×000×000") + 12,
                                 card.sizeHint().width()))
        return card

    @staticmethod
    def _source_line(node, previous: str) -> str:
        """Where a node's input comes from, when the strip's order does not say it."""
        if is_join(node):
            if len(node.inputs) > 2:
                return _("⤷ {n} inputs").format(n=len(node.inputs))
            return "⤷ " + " + ".join(short_name(n, 7) for n in node.inputs)
        if node.inputs and node.inputs[0] != previous:
            return _("⤷ from {short_name}").format(short_name=short_name(node.inputs[0], 9))
        return " "  # an empty fourth line keeps every card of the strip the same height

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
        first = self._card(_("input"), _("image"), format_shape(in_shape) if in_shape else "?",
                           _("The image that enters the pipeline; click to show the first layer"))
        first.clicked.connect(lambda: self.session.set_selected_layer(0))
        self.strip_layout.addWidget(first)
        chain = pipeline.is_chain
        previous = pipeline.input_name
        tallest = first.sizeHint().height()
        for i, node in enumerate(pipeline.nodes):
            # "›": fed by the card before; "┆": the input comes from further back (a branch).
            follows = previous in node.inputs
            arrow = QLabel("›" if follows else "┆")
            arrow.setToolTip(_("feeds into") if follows else
                             _("not fed by the card before: the ⤷ line on the next card says "
                             "where its input comes from"))
            self.strip_layout.addWidget(arrow)
            shape = self.shapes.get(node.name)
            text = format_shape(shape) if shape else _("does not fit")
            tip = _("{name}: {layer!r}\noutput {text}\n").format(
                name=node.name, layer=node.layer, text=text)
            if not chain:
                tip += (_("joins {n} branches: ").format(n=len(node.inputs)) if is_join(node)
                        else "input: ") + ", ".join(node.inputs) + "\n"
            card = self._card(node.name, node.layer.type_name, text,
                              tip + _("Click to step to this layer"),
                              None if chain else self._source_line(node, previous))
            card.setCheckable(True)
            self.group.addButton(card, i)
            self.strip_layout.addWidget(card)
            self.cards.append(card)
            tallest = max(tallest, card.sizeHint().height())
            previous = node.name
        self.strip_layout.addStretch(1)
        bar = self.scroll.horizontalScrollBar().sizeHint().height()
        margins = self.strip_layout.contentsMargins()
        self.scroll.setFixedHeight(tallest + bar + margins.top()
                                   + margins.bottom() + 2 * self.scroll.frameWidth())
        self._highlight()

    def _highlight(self) -> None:
        index = self.session.selected_layer
        for i, card in enumerate(self.cards):
            font = card.font()
            font.setBold(i == index)
            card.setFont(font)
            card.setChecked(i == index)
        self._reveal_current()
        n = len(self.cards)
        self.prev_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < n - 1)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Resize and watched in (self.strip,
                                                              self.scroll.viewport()):
            self._reveal_current()
        return super().eventFilter(watched, event)

    def _reveal_current(self) -> None:
        index = self.session.selected_layer
        if 0 <= index < len(self.cards):
            self.scroll.ensureWidgetVisible(self.cards[index])

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

    def hideEvent(self, event) -> None:  # hidden: the engine thread prepares nothing for it
        super().hideEvent(event)
        self.view.stop_feeds()

    def _render(self) -> None:
        pipeline = self.session.pipeline
        nodes = pipeline.nodes
        if not nodes:
            self.caption.setText(_("The pipeline has no layers yet."))
            return
        index = min(self.session.selected_layer, len(nodes) - 1)
        node = nodes[index]
        sources = node.inputs or (pipeline.input_name,)
        self.caption.setToolTip(_("The current layer: input shape → output shape")
                                + ("" if pipeline.is_chain else "\n" + _(
                                    "{name} takes {inputs}").format(
                                        name=node.name, inputs=", ".join(sources))))
        self.caption.setText(self._caption(node, sources, pipeline.is_chain)
                             if not self.shape_error else
                             _("The pipeline does not fit this input: {error}").format(
                                 error=self.shape_error))
        result = self._result
        if result is None or result.error:
            return
        out = result.activations.get(node.name)
        image = result.pipeline.input_name
        ins = [result.input if s == image else result.activations.get(s) for s in sources]
        if out is None or any(a is None for a in ins):
            return  # a result from before the last edit
        display = self.session.display
        global_range = None
        if display.normalization == "global":  # over every layer: only if drawn here
            global_range = lambda: value_range(result.activations.values())  # noqa: E731
        self.view.show_step(node.name, sources, ins, out, image, result.frame, display,
                            global_range, result)

    def _caption(self, node, sources, chain: bool) -> str:
        """``conv2: 8×30×40 → 16×30×40`` for a chain; with branches every input is named:
        ``add1: conv2 8×30×40, skip 8×30×40 → 8×30×40``."""
        def shape(name) -> str:
            found = self.shapes.get(name)
            return format_shape(found) if found else "?"

        if chain:
            ins = shape(sources[0])
        else:
            ins = ", ".join(f"{short_name(s, 24)} {shape(s)}" for s in sources)
        return f"{node.name}: {ins} → {shape(node.name)}"
