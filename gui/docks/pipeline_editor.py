"""The Pipeline dock: the list of layers, structural edits and the selected layer's settings.

Every edit builds a candidate pipeline, lets the channel counts of the following layers follow
(a conv after a changed layer gets the new in_channels and redrawn weights), and computes every
output shape for the live input size (the Qt-free part is gui.pipeline_edits). Only a candidate
that passes goes to the Session; a refused one leaves the Session untouched and says why, with the
numbers, in red.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QScrollArea,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import N_, _
from gui.guards import forward_memory_problem
from gui.pipeline_edits import (
    ADDABLE,
    EditRefused,
    declared_input_shape,
    edited_layer,
    fit_and_check,
    shape_text,
    shapes_until_failure,
)
from gui.widgets.layer_form import ERROR_STYLE, LayerForm
from gui.widgets.layer_list import LayerList

#: Why the structural edits are off for a network with branches (tooltips and the note).
GRAPH_REASON = (N_("This network has branches (layers with several inputs), so layers cannot be "
                "added, removed or moved here: that works for a plain chain of layers only. "
                "Each layer's settings can still be changed below."))


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
        self.add_menu = QMenu(_("Add layer"), self)
        self.add_menu.setToolTipsVisible(True)
        self.add_actions = {}
        for label, tip, factory in ADDABLE:
            action = self.add_menu.addAction(_(label))
            action.setToolTip(_("Add after the selected layer: {tip}").format(tip=_(tip)))
            action.triggered.connect(lambda _=False, f=factory, n=label: self.add_layer(f, n))
            self.add_actions[label] = action
        self.remove_action = self._action(_("Remove"), _("Remove the selected layer"),
                                          self.remove_layer, "Del")
        self.duplicate_action = self._action(_("Duplicate"), _("Insert a copy after the "
                                                               "selected layer"),
                                             self.duplicate_layer, "Ctrl+D")
        self.up_action = self._action(_("Up"), _("Move the selected layer one place earlier"),
                                      lambda: self.move_layer(-1), "Alt+Up")
        self.down_action = self._action(_("Down"), _("Move the selected layer one place later"),
                                        lambda: self.move_layer(1), "Alt+Down")
        #: For the main window's menus (and its shortcut list); they act on this dock.
        self.edit_actions = [self.remove_action, self.duplicate_action, self.up_action,
                             self.down_action]
        self._tips = {action: action.toolTip() for action in self.edit_actions}

        layout = QVBoxLayout(self)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setToolTip(_("The input size the output shapes below are computed for."))
        layout.addWidget(self.caption)
        buttons = QHBoxLayout()
        self.add_button = add = QToolButton()
        add.setText(_("Add layer"))
        add.setMenu(self.add_menu)
        add.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        add.setToolTip(_("Add a layer after the selected one"))
        buttons.addWidget(add)
        for action in self.edit_actions:
            button = QToolButton()
            button.setDefaultAction(action)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.graph_note = QLabel(_("This network has branches: change a layer's settings below; "
                                 "adding, removing and moving layers is off."))
        self.graph_note.setWordWrap(True)
        self.graph_note.setToolTip(_(GRAPH_REASON))
        self.graph_note.hide()
        layout.addWidget(self.graph_note)

        self.layer_list = LayerList()
        self.layer_list.customContextMenuRequested.connect(self._on_list_context_menu)
        self.layer_list.currentRowChanged.connect(self._on_list_row_changed)
        self.layer_list.layerDragged.connect(self._finish_drag)

        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        self.strict = QCheckBox(_("Strict fitting"))
        self.strict.setToolTip(_("When on, a stride that does not tile the input exactly is an "
                               "error instead of silently dropping border pixels (the floor)."))
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
        self.status.setToolTip(_("What the last edit did, or why it was refused."))
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
        self.caption.setText(_("Output shapes for a {shape_text} input ({origin}).")
                               .format(shape_text=shape_text(self._input_shape), origin=origin))
        shapes = shapes_until_failure(pipeline, self._input_shape)
        self.layer_list.show_pipeline(pipeline, shapes, self._input_shape,
                                      self._session.selected_layer)
        self._show_form()
        self._update_actions()

    def _show_form(self) -> None:
        nodes = self._session.pipeline.nodes
        if not nodes:
            return
        index = self._session.selected_layer
        node = nodes[index]
        self.form.set_layer(node.layer, f"<b>{index}  {node.name}</b> · {node.layer.type_name}")

    def _update_actions(self) -> None:
        pipeline = self._session.pipeline
        count = len(pipeline.nodes)
        index = self._session.selected_layer
        chain = pipeline.is_chain
        self.remove_action.setEnabled(chain and count > 1)
        self.duplicate_action.setEnabled(chain)
        self.up_action.setEnabled(chain and index > 0)
        self.down_action.setEnabled(chain and index < count - 1)
        self.add_button.setEnabled(chain)
        self.add_menu.setEnabled(chain)
        for action, tip in self._tips.items():
            action.setToolTip(tip if chain else _("Off: {GRAPH_REASON}")
                                                  .format(GRAPH_REASON=_(GRAPH_REASON)))
        self.add_button.setToolTip(_("Add a layer after the selected one") if chain
                                   else _("Off: {GRAPH_REASON}").format(
                                       GRAPH_REASON=_(GRAPH_REASON)))
        self.graph_note.setVisible(not chain)
        self.layer_list.set_chain(chain)

    def _on_session_pipeline_changed(self, _pipeline) -> None:
        self._refresh()

    def _on_session_selected_layer_changed(self, index: int) -> None:
        self.layer_list.select_quietly(index)
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
            fitted, _shapes, notes = fit_and_check(candidate, self._input_shape,
                                                   self.strict.isChecked())
            problem = forward_memory_problem(fitted, self._input_shape)  # 4096 filters at 640
            if problem is not None:
                raise EditRefused(problem)
        except EditRefused as exc:
            text = _("Not applied: {exc}").format(exc=exc)
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
        shapes = shapes_until_failure(pipeline, self._input_shape)
        name = pipeline.nodes[index].name if 0 <= index < len(pipeline.nodes) else ""
        shape = shapes.get(name, self._input_shape)
        return shape[0]

    def _structural(self, build, done: str, select: int) -> bool:
        """Apply a structural edit ``build()``; its refusal is shown, never raised."""
        try:
            candidate = build()
        except ValueError as exc:
            self._say(_("Not applied: {exc}").format(exc=exc), error=True)
            return False
        return self.apply(candidate, done, select=select)

    def add_layer(self, factory, label: str) -> bool:
        """Insert a new layer made by ``factory(channels)`` after the selected one."""
        pipeline = self._session.pipeline
        index = self._session.selected_layer if len(pipeline.nodes) else -1
        return self._structural(
            lambda: pipeline.insert_layer(index + 1, factory(self._channels_after(index))),
            _("Added {label} at position {value}.").format(label=label, value=index + 1), index + 1)

    def remove_layer(self) -> bool:
        """Remove the selected layer (a pipeline keeps at least one)."""
        pipeline = self._session.pipeline
        index = self._session.selected_layer
        if len(pipeline.nodes) <= 1:
            self._say(_("Not removed: a pipeline needs at least one layer."), error=True)
            return False
        return self._structural(lambda: pipeline.remove_layer(index),
                                _("Removed {name}.").format(name=pipeline.nodes[index].name),
                                min(index, len(pipeline.nodes) - 2))

    def duplicate_layer(self) -> bool:
        """Insert a copy of the selected layer right after it."""
        pipeline = self._session.pipeline
        index = self._session.selected_layer
        return self._structural(lambda: pipeline.duplicate_layer(index),
                                _("Duplicated {name}.").format(name=pipeline.nodes[index].name),
                                index + 1)

    def move_layer(self, step: int, index: int | None = None) -> bool:
        """Move the selected layer (or ``index``) ``step`` places; -1 is up."""
        pipeline = self._session.pipeline
        index = self._session.selected_layer if index is None else index
        target = index + step
        if not 0 <= target < len(pipeline.nodes) or step == 0:
            return False
        return self._structural(lambda: pipeline.move_layer(index, target),
                                _("Moved {name} to position {target}.").format(
                                    name=pipeline.nodes[index].name, target=target),
                                target)

    def _on_form_field_edited(self, name: str, value) -> None:
        pipeline = self._session.pipeline
        index = self._session.selected_layer
        node = pipeline.nodes[index]
        try:
            layer = edited_layer(node.layer, name, value)
            candidate = pipeline.replace_layer(index, layer)
        except ValueError as exc:
            text = _("Not applied: {exc}").format(exc=exc)
            self.form.show_error(name, text)
            self._say(text, error=True, here=False)
            return
        shown = value if value is not None else "auto"
        done = _("{name}: {replace} set to {shown}.").format(
            name=node.name, replace=name.replace('_', ' '), shown=shown)
        old = node.layer
        if old.type_name == "Conv2d" and (layer.weight.shape != old.weight.shape
                                          or layer.kernel_source != old.kernel_source):
            done += _(" Its weights are now {kernel_source}.").format(
                kernel_source=layer.kernel_source)
        self.apply(candidate, done, field=name)

    def _on_strict_toggled(self, checked: bool) -> None:
        self._show_form()  # drop a refused value still shown in the form
        if not checked:
            self._say(_("Strict fitting off: a stride that does not fit drops border pixels."))
            return
        try:
            fit_and_check(self._session.pipeline, self._input_shape, True)
        except EditRefused as exc:
            self._say(_("Strict fitting on, but the current pipeline does not fit: {exc}")
                        .format(exc=exc),
                      error=True)
            return
        self._say(_("Strict fitting on: every stride fits the input exactly."))

    # ----- list interaction -------------------------------------------------------------
    def _on_list_row_changed(self, row: int) -> None:
        if row >= 0:
            self._session.set_selected_layer(row)

    def _finish_drag(self, start: int, target: int) -> None:
        # A refused move leaves the dragged row out of place: show the list as it is again.
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
