"""The Pipeline dock: the list of layers, structural edits and the selected layer's settings.

Every edit builds a candidate pipeline, lets the channel counts of the following layers follow
(a conv after a changed layer gets the new in_channels and redrawn weights), and computes every
output shape for the live input size. Only a candidate that passes goes to the Session; a
refused one leaves the Session untouched and says why, with the numbers, in red.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QScrollArea,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.kernels import initialize
from engine.layers import (
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    GlobalAvgPool2d,
    LeakyReLU,
    MaxPool2d,
    ReLU,
    Sigmoid,
    Tanh,
)
from engine.shapes import pair
from gui.widgets.layer_form import ERROR_STYLE, LayerForm

#: Layers the Add menu offers: (label, tooltip, factory taking the channel count there).
ADDABLE = (
    ("Conv 3x3", "A 3x3 convolution with padding 1, as many filters as input channels.",
     lambda c: Conv2d(c, c, 3, padding=1)),
    ("Conv 1x1", "A 1x1 convolution: mixes the channels at each pixel, keeps the size.",
     lambda c: Conv2d(c, c, 1)),
    ("ReLU", "max(0, x): keeps positive values.", lambda c: ReLU()),
    ("Leaky ReLU", "Like ReLU, but negative values keep a small slope.", lambda c: LeakyReLU()),
    ("Sigmoid", "Squashes values into (0, 1).", lambda c: Sigmoid()),
    ("Tanh", "Squashes values into (-1, 1).", lambda c: Tanh()),
    ("Max pool 2x2", "Keeps the largest value of each 2x2 window: halves height and width.",
     lambda c: MaxPool2d(2)),
    ("Avg pool 2x2", "Averages each 2x2 window: halves height and width.",
     lambda c: AvgPool2d(2)),
    ("Global avg pool", "Turns every map into its mean: C x 1 x 1.", lambda c: GlobalAvgPool2d()),
    ("Batch norm", "Normalizes each channel with stored mean and variance.",
     lambda c: BatchNorm2d(c)),
)

DEFAULT_SIDE = 480  # longest side assumed for the input before any frame arrived


class EditRefused(ValueError):
    """A candidate pipeline that cannot run: ``index`` is the failing layer, ``field`` its field."""

    def __init__(self, message: str, index: int | None = None, field: str | None = None):
        super().__init__(message)
        self.index = index
        self.field = field


def short_params(layer) -> str:
    """A few words with a layer's main hyperparameters, e.g. ``3→16, 3x3, s1 p1``."""
    def size(value) -> str:
        h, w = pair(value)
        return f"{h}x{w}"
    kind = layer.type_name
    if kind == "Conv2d":
        text = f"{layer.in_channels}→{layer.out_channels}, {size(layer.kernel_size)}"
        text += f", s{pair(layer.stride)[0]} p{pair(layer.padding)[0]}"
        return text + (", flipped" if layer.flip else "")
    if kind in ("MaxPool2d", "AvgPool2d"):
        stride = layer.stride if layer.stride is not None else layer.kernel_size
        return f"{size(layer.kernel_size)}, s{pair(stride)[0]}"
    if kind == "LeakyReLU":
        return f"slope {layer.negative_slope:g}"
    if kind == "BatchNorm2d":
        return f"{layer.num_features} ch"
    return ""


def shape_text(shape) -> str:
    """``(16, 240, 320)`` -> ``16 × 240 × 320``."""
    return " × ".join(str(s) for s in shape)


def fit_and_check(pipeline, input_shape, strict: bool):
    """Let channel counts follow and compute every output shape.

    Returns ``(pipeline, shapes, notes)``: the pipeline with adjusted in_channels, the output
    shape of every node by name, and sentences telling which layers were adjusted.
    Raises :class:`EditRefused` naming the first layer that cannot run.
    """
    notes = []
    shapes = {pipeline.input_name: tuple(input_shape)}
    for index, node in enumerate(pipeline.nodes):
        layer = node.layer
        in_shapes = [shapes[name] for name in node.inputs]
        channels = in_shapes[0][0] if in_shapes and len(in_shapes[0]) == 3 else None
        # Only a chain is adjusted: in a graph a layer's channels may come from several places.
        if pipeline.is_chain and channels is not None:
            try:
                if layer.type_name == "Conv2d" and layer.in_channels != channels:
                    layer = layer.replace(in_channels=channels)
                    notes.append(f"{node.name} now takes {channels} input channels; its weights "
                                 f"were redrawn ({layer.kernel_source}).")
                elif layer.type_name == "BatchNorm2d" and layer.num_features != channels:
                    layer = layer.replace(num_features=channels)
                    notes.append(f"{node.name} now normalizes {channels} channels "
                                 "(statistics reset).")
            except ValueError as exc:
                raise EditRefused(f"{node.name}: {exc}", index, getattr(exc, "field", None)) \
                    from None
            if layer is not node.layer:
                pipeline = pipeline.replace_layer(index, layer)
        try:
            shapes[node.name] = layer.out_shape(*in_shapes, strict=strict)
        except ValueError as exc:
            raise EditRefused(f"{node.name}: {exc}", index, getattr(exc, "field", None)) from None
    return pipeline, shapes, notes


def declared_input_shape(session, live, last_frame_hw=None) -> tuple[tuple[int, int, int], str]:
    """The input shape to compute with, and where it comes from (for the caption).

    The channel count is always the pipeline's own: a frame still in flight may come from the
    pipeline before a switch (say RGB while the new one reads gray). ``last_frame_hw`` is the
    size of the last live frame seen: right after an edit ``live.latest`` is None until the
    new pipeline has run, and the shapes must not jump to the declared size meanwhile.
    """
    spec = session.pipeline.input_spec
    latest = getattr(live, "latest", None) if live is not None else None
    if latest is not None and getattr(latest, "input", None) is not None:
        return (spec.channels, *latest.input.shape[-2:]), "the live frame"
    if last_frame_hw is not None:
        return (spec.channels, *last_frame_hw), "the live frame"
    if spec.height and spec.width:
        return (spec.channels, spec.height, spec.width), "the pipeline's declared input"
    side = session.display.resolution or DEFAULT_SIDE
    return (spec.channels, side * 3 // 4, side), "an assumed 4:3 frame until one arrives"


class PipelineDock(QWidget):
    """Layer list with add / remove / duplicate / move, and a form for the selected layer."""

    def __init__(self, session, live, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._live = live
        self._input_shape: tuple = ()
        self._last_frame_hw: tuple[int, int] | None = None
        self._build()
        session.pipeline_changed.connect(self._on_session_pipeline_changed)
        session.selected_layer_changed.connect(self._on_session_selected_layer_changed)
        if live is not None and hasattr(live, "resultUpdated"):
            live.resultUpdated.connect(self._on_live_result_updated)
        self._refresh()

    # ----- construction -----------------------------------------------------------------
    def _action(self, text: str, tip: str, slot, shortcut: str | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            tip = f"{tip} ({QKeySequence(shortcut).toString()})"
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build(self) -> None:
        self.add_menu = QMenu("Add layer", self)
        self.add_menu.setToolTipsVisible(True)
        self.add_actions = {}
        for label, tip, factory in ADDABLE:
            action = self.add_menu.addAction(label)
            action.setToolTip(f"Add after the selected layer: {tip}")
            action.triggered.connect(lambda _=False, f=factory, n=label: self.add_layer(f, n))
            self.add_actions[label] = action
        self.remove_action = self._action("Remove", "Remove the selected layer",
                                          self.remove_layer, "Del")
        self.duplicate_action = self._action("Duplicate", "Insert a copy after the selected layer",
                                             self.duplicate_layer, "Ctrl+D")
        self.up_action = self._action("Up", "Move the selected layer one place earlier",
                                      lambda: self.move_layer(-1), "Alt+Up")
        self.down_action = self._action("Down", "Move the selected layer one place later",
                                        lambda: self.move_layer(1), "Alt+Down")
        #: For the main window's menus (and its shortcut list); they act on this dock.
        self.edit_actions = [self.remove_action, self.duplicate_action, self.up_action,
                             self.down_action]

        layout = QVBoxLayout(self)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setToolTip("The input size the output shapes below are computed for.")
        layout.addWidget(self.caption)
        buttons = QHBoxLayout()
        add = QToolButton()
        add.setText("Add layer")
        add.setMenu(self.add_menu)
        add.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        add.setToolTip("Add a layer after the selected one")
        buttons.addWidget(add)
        for action in self.edit_actions:
            button = QToolButton()
            button.setDefaultAction(action)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        self.layer_list = QListWidget()
        self.layer_list.setToolTip("The layers in order, each with its output shape. "
                                   "Drag to reorder; right-click for actions.")
        self.layer_list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.layer_list.setAlternatingRowColors(True)
        self.layer_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.layer_list.customContextMenuRequested.connect(self._on_list_context_menu)
        self.layer_list.currentRowChanged.connect(self._on_list_row_changed)
        self.layer_list.model().rowsMoved.connect(self._on_list_rows_moved)

        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        self.strict = QCheckBox("Strict fitting")
        self.strict.setToolTip("When on, a stride that does not tile the input exactly is an "
                               "error instead of silently dropping border pixels (the floor).")
        self.strict.toggled.connect(self._on_strict_toggled)
        lower_layout.addWidget(self.strict)
        self.form = LayerForm()
        self.form.fieldEdited.connect(self._on_form_field_edited)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        lower_layout.addWidget(scroll, stretch=1)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setToolTip("What the last edit did, or why it was refused.")
        lower_layout.addWidget(self.status)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.layer_list)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([220, 460])
        splitter.setChildrenCollapsible(False)
        layout.addWidget(splitter, stretch=1)

    # ----- model -> view ----------------------------------------------------------------
    def _refresh(self) -> None:
        pipeline = self._session.pipeline
        self._input_shape, origin = declared_input_shape(self._session, self._live,
                                                         self._last_frame_hw)
        if origin == "the live frame":
            self._last_frame_hw = self._input_shape[1:]
        self.caption.setText(f"Output shapes for a {shape_text(self._input_shape)} input "
                             f"({origin}).")
        shapes = self._shapes_for_display(pipeline)
        self.layer_list.blockSignals(True)
        self.layer_list.model().blockSignals(True)
        self.layer_list.clear()
        shape = self._input_shape
        for index, node in enumerate(pipeline.nodes):
            out = shapes.get(node.name)
            words = short_params(node.layer)
            head = f"{index}  {node.name} · {node.layer.type_name}" + (f" {words}" if words else "")
            tail = f"→ {shape_text(out)}" if out is not None else "→ cannot run on this input"
            in_shape = shapes.get(node.inputs[0], shape) if node.inputs else shape
            note = self._floor_note(node.layer, in_shape) if out is not None else ""
            item = QListWidgetItem(f"{head}\n      {tail}" + ("   ⚠ floored" if note else ""))
            tip = repr(node.layer) + (f"\n{note}" if note else "")
            item.setToolTip(tip)
            self.layer_list.addItem(item)
        self.layer_list.setCurrentRow(self._session.selected_layer)
        self.layer_list.model().blockSignals(False)
        self.layer_list.blockSignals(False)
        self._show_form()
        self._update_actions()

    def _shapes_for_display(self, pipeline) -> dict:
        """Every node's output shape; layers after one that cannot run are left out."""
        shapes = {pipeline.input_name: self._input_shape}
        for node in pipeline.nodes:
            try:
                shapes[node.name] = node.layer.out_shape(*[shapes[n] for n in node.inputs])
            except (KeyError, ValueError):
                break
        return shapes

    @staticmethod
    def _floor_note(layer, in_shape) -> str:
        try:
            return layer.floor_note(in_shape)
        except ValueError:
            return ""

    def _show_form(self) -> None:
        nodes = self._session.pipeline.nodes
        if not nodes:
            return
        index = self._session.selected_layer
        node = nodes[index]
        self.form.set_layer(node.layer, f"<b>{index}  {node.name}</b> · {node.layer.type_name}")

    def _update_actions(self) -> None:
        count = len(self._session.pipeline.nodes)
        index = self._session.selected_layer
        self.remove_action.setEnabled(count > 1)
        self.up_action.setEnabled(index > 0)
        self.down_action.setEnabled(index < count - 1)

    def _on_session_pipeline_changed(self, _pipeline) -> None:
        self._refresh()

    def _on_session_selected_layer_changed(self, index: int) -> None:
        self.layer_list.blockSignals(True)
        self.layer_list.setCurrentRow(index)
        self.layer_list.blockSignals(False)
        self._show_form()
        self._update_actions()

    def _on_live_result_updated(self, result) -> None:
        shape = getattr(getattr(result, "input", None), "shape", None)
        if shape is not None and tuple(shape[-2:]) != self._last_frame_hw:
            self._last_frame_hw = tuple(shape[-2:])
            self._refresh()

    # ----- applying edits ---------------------------------------------------------------
    def _say(self, text: str, error: bool = False, here: bool = True) -> None:
        """Tell the status bar; ``here``: also the dock's own status line (else it is cleared)."""
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.status.setText(text if here else "")
        self._session.message.emit("error" if error else "info", text)

    def apply(self, candidate, done: str, select: int | None = None,
              field: str | None = None) -> bool:
        """Check ``candidate`` and hand it to the Session; on failure show why and keep all.

        Returns True when the candidate was applied.
        """
        try:
            fitted, _, notes = fit_and_check(candidate, self._input_shape, self.strict.isChecked())
        except EditRefused as exc:
            text = f"Not applied: {exc}"
            if field is not None:
                self.form.show_error(field, text)
            # Said once in the dock: under the field when there is one, else below the form.
            self._say(text, error=True, here=field is None)
            return False
        self._session.set_pipeline(fitted)
        if select is not None:
            self._session.set_selected_layer(select)
        self._say(" ".join([done, *notes]))
        return True

    def _channels_after(self, index: int) -> int:
        pipeline = self._session.pipeline
        shapes = self._shapes_for_display(pipeline)
        name = pipeline.nodes[index].name if 0 <= index < len(pipeline.nodes) else ""
        shape = shapes.get(name, self._input_shape)
        return shape[0]

    def _structural(self, build, done: str, select: int) -> bool:
        """Apply a structural edit ``build()``; its refusal is shown, never raised."""
        try:
            candidate = build()
        except ValueError as exc:
            self._say(f"Not applied: {exc}", error=True)
            return False
        return self.apply(candidate, done, select=select)

    def add_layer(self, factory, label: str) -> bool:
        """Insert a new layer made by ``factory(channels)`` after the selected one."""
        pipeline = self._session.pipeline
        index = self._session.selected_layer if len(pipeline.nodes) else -1
        return self._structural(
            lambda: pipeline.insert_layer(index + 1, factory(self._channels_after(index))),
            f"Added {label} at position {index + 1}.", index + 1)

    def remove_layer(self) -> bool:
        """Remove the selected layer (a pipeline keeps at least one)."""
        pipeline = self._session.pipeline
        index = self._session.selected_layer
        if len(pipeline.nodes) <= 1:
            self._say("Not removed: a pipeline needs at least one layer.", error=True)
            return False
        return self._structural(lambda: pipeline.remove_layer(index),
                                f"Removed {pipeline.nodes[index].name}.",
                                min(index, len(pipeline.nodes) - 2))

    def duplicate_layer(self) -> bool:
        """Insert a copy of the selected layer right after it."""
        pipeline = self._session.pipeline
        index = self._session.selected_layer
        return self._structural(lambda: pipeline.duplicate_layer(index),
                                f"Duplicated {pipeline.nodes[index].name}.", index + 1)

    def move_layer(self, step: int, index: int | None = None) -> bool:
        """Move the selected layer (or ``index``) ``step`` places; -1 is up."""
        pipeline = self._session.pipeline
        index = self._session.selected_layer if index is None else index
        target = index + step
        if not 0 <= target < len(pipeline.nodes) or step == 0:
            return False
        return self._structural(lambda: pipeline.move_layer(index, target),
                                f"Moved {pipeline.nodes[index].name} to position {target}.",
                                target)

    def _on_form_field_edited(self, name: str, value) -> None:
        pipeline = self._session.pipeline
        index = self._session.selected_layer
        node = pipeline.nodes[index]
        try:
            layer = self._edited(node.layer, name, value)
            candidate = pipeline.replace_layer(index, layer)
        except ValueError as exc:
            text = f"Not applied: {exc}"
            self.form.show_error(name, text)
            self._say(text, error=True, here=False)
            return
        shown = value if value is not None else "auto"
        done = f"{node.name}: {name.replace('_', ' ')} set to {shown}."
        old = node.layer
        if old.type_name == "Conv2d" and (layer.weight.shape != old.weight.shape
                                          or layer.kernel_source != old.kernel_source):
            done += f" Its weights are now {layer.kernel_source}."
        self.apply(candidate, done, field=name)

    @staticmethod
    def _edited(layer, name: str, value):
        """``layer`` with one field changed.

        Hand-edited filters survive a change of the filter count: the kept filters stay, new
        ones are drawn with the layer's initializer and seed (the engine would redraw all).
        """
        if (name == "out_channels" and layer.type_name == "Conv2d"
                and layer.weight_source is None and isinstance(value, int) and value >= 1
                and value % layer.groups == 0):
            old = layer.weight.shape[0]
            fresh = initialize(layer.init, (value, *layer.weight.shape[1:]), layer.seed)
            weight = np.concatenate([layer.weight[:value], fresh[old:]])  # (value, C_in/g, kh, kw)
            bias = None
            if layer.bias is not None:
                bias = np.concatenate([layer.bias[:value], np.zeros(max(value - old, 0))])
            return layer.replace(out_channels=value, weight=weight, bias_values=bias)
        return layer.replace(**{name: value})

    def _on_strict_toggled(self, checked: bool) -> None:
        self._show_form()  # drop a refused value still shown in the form
        if not checked:
            self._say("Strict fitting off: a stride that does not fit drops border pixels.")
            return
        try:
            fit_and_check(self._session.pipeline, self._input_shape, True)
        except EditRefused as exc:
            self._say(f"Strict fitting on, but the current pipeline does not fit: {exc}",
                      error=True)
            return
        self._say("Strict fitting on: every stride fits the input exactly.")

    # ----- list interaction -------------------------------------------------------------
    def _on_list_row_changed(self, row: int) -> None:
        if row >= 0:
            self._session.set_selected_layer(row)

    def _on_list_rows_moved(self, _parent, start, _end, _dest, row) -> None:
        target = row if row < start else row - 1
        # Rebuilding the list inside Qt's drop handler is unsafe: do it once the drop is over.
        QTimer.singleShot(0, lambda: self._finish_drag(start, target))

    def _finish_drag(self, start: int, target: int) -> None:
        if target == start or not self.move_layer(target - start, start):
            self._refresh()

    def _on_list_context_menu(self, pos) -> None:
        row = self.layer_list.indexAt(pos).row()
        if row >= 0:
            self._session.set_selected_layer(row)
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        menu.addMenu(self.add_menu)
        for action in self.edit_actions:
            menu.addAction(action)
        menu.exec(self.layer_list.viewport().mapToGlobal(pos))
