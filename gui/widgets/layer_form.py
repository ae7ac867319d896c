"""A parameter form for one layer, generated from the layer type's field descriptions.

Each :class:`engine.layers.Field` becomes an editor: whole numbers a spin box with the field's
range, numbers a decimal spin box, true/false a check box, choices a combo box. Under every
editor sits a red label for the reason an edit was refused. The form never applies anything
itself: it emits ``fieldEdited`` and the owner decides.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import N_, _
from gui.layer_explanations import explain_layer_type

#: Fields that follow the previous layer; shown, but not edited by hand.
DERIVED = {"in_channels": N_("Follows the number of channels that reach this layer."),
           "num_features": N_("Follows the number of channels that reach this layer."),
           "in_features": N_("Follows the size of the vector that reaches this layer.")}

#: Fields a layer stores but that the Kernels dock edits (weights are not in this form).
HIDDEN = {"weight", "bias_values", "running_mean", "running_var"}

_INT_LIMIT = 2**31 - 1
_FLOAT_LIMIT = 1e9
ERROR_STYLE = "color: #c62828;"


# The form's label of every layer setting, by its name in the pipeline file.
FIELD_LABELS = {
    "in_channels": N_("In channels"), "out_channels": N_("Out channels"),
    "in_features": N_("In features"), "out_features": N_("Out features"),
    "kernel_size": N_("Kernel size"), "stride": N_("Stride"), "padding": N_("Padding"),
    "dilation": N_("Dilation"), "groups": N_("Groups"), "bias": N_("Bias"), "init": N_("Init"),
    "seed": N_("Seed"), "flip": N_("Flip"), "ceil_mode": N_("Ceil mode"),
    "count_include_pad": N_("Count include pad"), "negative_slope": N_("Negative slope"),
    "num_features": N_("Num features"), "eps": N_("Eps"), "min_val": N_("Min val"),
    "max_val": N_("Max val"), "start_dim": N_("Start dim"), "end_dim": N_("End dim"),
    "dim": N_("Dim"), "p": N_("P"), "size": N_("Size"), "alpha": N_("Alpha"),
    "beta": N_("Beta"), "k": N_("K"), "momentum": N_("Momentum"), "mode": N_("Mode"),
    "scale_factor": N_("Scale factor"), "output_padding": N_("Output padding"),
}


def _label(name: str) -> str:
    label = FIELD_LABELS.get(name)
    return _(label) if label else name.replace("_", " ").capitalize()


class _Editor(QWidget):
    """One field's editor; ``value()`` / ``set_value()`` speak the layer's values."""

    changed = Signal()

    def __init__(self, field, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = field
        self.widgets: list[QWidget] = []
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        count = 2 if field.pair else 1
        for i in range(count):
            widget = self._make()
            if count == 2:
                widget.setPrefix("h " if i == 0 else "w ")
            layout.addWidget(widget)
            self.widgets.append(widget)
        tip = _(field.help) if field.help else _label(field.name)
        if field.optional and field.kind in ("int", "float"):
            tip += _(" ('auto' leaves it to the layer.)")
        for widget in self.widgets:
            widget.setToolTip(tip)
        self.setToolTip(tip)

    def _make(self) -> QWidget:
        field = self.field
        if field.kind == "bool":
            widget = QCheckBox()
            widget.toggled.connect(self.changed)
            return widget
        if field.kind == "choice":
            widget = QComboBox()
            widget.addItems([str(c) for c in field.choices])
            widget.currentIndexChanged.connect(self.changed)
            return widget
        if field.kind == "int":
            widget = QSpinBox()
            low = int(field.min) if field.min is not None else -_INT_LIMIT
            high = int(field.max) if field.max is not None else _INT_LIMIT
        else:
            widget = QDoubleSpinBox()
            # Tiny defaults (batch norm's eps = 1e-5) need more digits than slopes and limits.
            tiny = isinstance(field.default, float) and 0 < abs(field.default) < 1e-3
            widget.setDecimals(6 if tiny else 4)
            widget.setSingleStep(1e-5 if tiny else 0.01)
            low = float(field.min) if field.min is not None else -_FLOAT_LIMIT
            high = float(field.max) if field.max is not None else _FLOAT_LIMIT
        if field.kind == "int" and not field.optional and field.min is not None and low >= 1:
            # Let "0" be typed so that the refusal and its reason can be shown, not hidden.
            low = 0
        if field.optional:
            # One step below the minimum stands for None ("auto").
            low = low - (1 if field.kind == "int" else widget.singleStep())
            widget.setSpecialValueText(_("auto"))
        widget.setRange(low, high)
        # Typing "12" must not first apply "1": emit only when the value is complete.
        widget.setKeyboardTracking(False)
        widget.valueChanged.connect(self.changed)
        return widget

    def _one(self, widget: QWidget) -> Any:
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        if isinstance(widget, QComboBox):
            return self.field.choices[widget.currentIndex()]
        if self.field.optional and widget.value() == widget.minimum():
            return None
        return int(widget.value()) if self.field.kind == "int" else float(widget.value())

    def value(self) -> Any:
        """The edited value: a pair as a tuple (or one number when both halves agree)."""
        values = [self._one(w) for w in self.widgets]
        if len(values) == 1:
            return values[0]
        return values[0] if values[0] == values[1] else tuple(values)

    def _set_one(self, widget: QWidget, value: Any) -> None:
        if isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        elif isinstance(widget, QComboBox):
            choices = [str(c) for c in self.field.choices]
            if str(value) in choices:
                widget.setCurrentIndex(choices.index(str(value)))
        elif value is None:
            widget.setValue(widget.minimum())
        else:
            widget.setValue(value)

    def set_value(self, value: Any) -> None:
        """Show a layer's value without emitting ``changed``."""
        parts = list(value) if isinstance(value, tuple | list) else [value] * len(self.widgets)
        for widget, part in zip(self.widgets, parts, strict=False):
            widget.blockSignals(True)
            self._set_one(widget, part)
            widget.blockSignals(False)

    def set_read_only(self, tip: str) -> None:
        """Show the value but refuse edits, saying why."""
        for widget in self.widgets:
            widget.setEnabled(False)
            widget.setToolTip(tip)
        self.setToolTip(tip)


class LayerForm(QWidget):
    """Editors for every hyperparameter of one layer, with inline error labels.

    Signals
    -------
    fieldEdited(str, object)
        (field name, new value) whenever the user changes an editor.
    """

    fieldEdited = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._type: type | None = None
        self.editors: dict[str, _Editor] = {}
        self.errors: dict[str, QLabel] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setToolTip(_("The layer these settings belong to."))
        outer.addWidget(self.title)
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.explanation.setToolTip(_("What this kind of layer does."))
        outer.addWidget(self.explanation)
        self._form_host = QWidget()
        self._form = QFormLayout(self._form_host)
        self._form.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self._form_host)
        self.general_error = QLabel()
        self.general_error.setWordWrap(True)
        self.general_error.setStyleSheet(ERROR_STYLE)
        self.general_error.setToolTip(_("Why the last change was not applied."))
        self.general_error.hide()
        outer.addWidget(self.general_error)
        outer.addStretch(1)

    def set_layer(self, layer, title: str) -> None:
        """Show ``layer``'s values; editors are rebuilt only when the layer type changes."""
        self.title.setText(title)
        self.explanation.setText(explain_layer_type(layer.type_name))
        if type(layer) is not self._type:
            self._rebuild(layer)
        config = layer.config()  # the hyperparameters as plain values (Conv2d.bias is an array)
        for name, editor in self.editors.items():
            editor.set_value(config.get(name))
        self.clear_errors()

    def _rebuild(self, layer) -> None:
        while self._form.rowCount():
            self._form.removeRow(0)
        self.editors.clear()
        self.errors.clear()
        self._type = type(layer)
        fields = [f for f in type(layer).fields() if f.name not in HIDDEN]
        if not fields:
            note = QLabel(_("This layer has no settings."))
            note.setToolTip(_("Activations such as ReLU work the same on every input."))
            self._form.addRow(note)
        for field in fields:
            editor = _Editor(field)
            if field.name in DERIVED:
                editor.set_read_only(_(DERIVED[field.name]))
            editor.changed.connect(lambda name=field.name: self._on_editor_changed(name))
            error = QLabel()
            error.setWordWrap(True)
            error.setStyleSheet(ERROR_STYLE)
            error.hide()
            column = QWidget()
            box = QVBoxLayout(column)
            box.setContentsMargins(0, 0, 0, 0)
            box.setSpacing(1)
            box.addWidget(editor)
            box.addWidget(error)
            label = QLabel(_label(field.name))
            label.setToolTip(editor.toolTip())
            self._form.addRow(label, column)
            self.editors[field.name] = editor
            self.errors[field.name] = error

    def _on_editor_changed(self, name: str) -> None:
        self.fieldEdited.emit(name, self.editors[name].value())

    def show_error(self, field: str | None, text: str) -> None:
        """Show ``text`` in red under ``field`` (or under the form when it names no editor)."""
        self.clear_errors()
        label = self.errors.get(field or "", self.general_error)
        label.setText(text)
        label.setToolTip(text)
        label.show()

    def clear_errors(self) -> None:
        """Hide every error label."""
        for label in [*self.errors.values(), self.general_error]:
            label.clear()
            label.hide()

    def error_text(self) -> str:
        """The error shown now, or "" (for tests and the status bar)."""
        for label in [*self.errors.values(), self.general_error]:
            if not label.isHidden() and label.text():
                return label.text()
        return ""
