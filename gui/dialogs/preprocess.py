"""The preprocessing dialog, and the whole "open a model" flow that uses it.

A trained network only works on input prepared as in training. :class:`PreprocessDialog` edits
an :class:`engine.io.preprocess.Preprocess` (size, crop or stretch, channel order, scale, mean,
std), with presets for the common conventions. :func:`open_model_flow` loads an ONNX file,
asks for the preprocessing when none is saved beside the model, saves it there for next time
and hands the network to the session.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import N_, _, ngettext
from engine.io.preprocess import (
    CHANNEL_ORDERS,
    PRESETS,
    RESIZE_MODES,
    Preprocess,
    PreprocessError,
    load_beside,
    save_beside,
)

CUSTOM = "Custom"
RESIZE_LABELS = {"crop": N_("crop the center, then scale (nothing distorted)"),
                 "stretch": N_("stretch to the size (distorts)"),
                 "none": N_("keep the frame's size")}


def parse_number(text: str) -> float:
    """A number such as ``0.5``, ``1/255`` or ``1 / 127.5``; ValueError in words otherwise."""
    text = text.strip()
    match = re.fullmatch(r"([-+0-9.eE]+)\s*/\s*([-+0-9.eE]+)", text)
    try:
        if match:
            return float(match.group(1)) / float(match.group(2))
        return float(text)
    except (ValueError, ZeroDivisionError):
        raise ValueError(_("{text!r} is not a number (examples: 0.5, 1/255)").format(
            text=text)) from None


def parse_numbers(text: str) -> tuple[float, ...]:
    """Comma- or space-separated numbers: ``"0.485, 0.456, 0.406"``."""
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    if not parts:
        raise ValueError(_("give one number, or one per channel"))
    return tuple(parse_number(p) for p in parts)


def _numbers_text(values) -> str:
    return ", ".join(f"{v:g}" for v in values)


def _scale_text(scale: float) -> str:
    for d in (255.0, 127.5):
        if abs(scale - 1 / d) < 1e-12:
            return f"1/{d:g}"
    return f"{scale:g}"


class PreprocessDialog(QDialog):
    """Edit a preprocessing recipe; :meth:`preprocess` gives the result after OK."""

    def __init__(self, initial: Preprocess | None = None, channels: int = 3,
                 model_size: tuple[int, int] | None = None, title: str = "", parent=None):
        super().__init__(parent)
        self.setWindowTitle(title or _("Input preprocessing"))
        self.channels = channels
        self.model_size = model_size
        self._result: Preprocess | None = None
        initial = initial or Preprocess(size=model_size)
        self.preset = QComboBox()
        self.preset.addItems([CUSTOM, *PRESETS])
        self.preset.setToolTip(_("Common conventions; the input size stays the model's own"))
        self.keep_size = QCheckBox(_("Use the frame's own size"))
        self.height_box, self.width_box = QSpinBox(), QSpinBox()
        for box in (self.height_box, self.width_box):
            box.setRange(1, 4096)
        self.resize_box = QComboBox()
        for mode in RESIZE_MODES:
            self.resize_box.addItem(_(RESIZE_LABELS[mode]), mode)
        self.order_box = QComboBox()
        self.order_box.addItems(CHANNEL_ORDERS)
        self.scale_edit = QLineEdit()
        self.scale_edit.setToolTip(_("Multiplies the 0-255 pixel values first: 1/255 gives [0, 1]"))
        self.mean_edit, self.std_edit = QLineEdit(), QLineEdit()
        for edit in (self.mean_edit, self.std_edit):
            edit.setToolTip(_("One number, or one per channel in the network's channel order"))
        self.invert_box = QCheckBox(_("Invert (255 - pixel: white strokes on black)"))
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.error = QLabel()
        self.error.setWordWrap(True)
        size_row = QHBoxLayout()
        size_row.addWidget(self.height_box)
        size_row.addWidget(QLabel("x"))
        size_row.addWidget(self.width_box)
        size_row.addWidget(self.keep_size)
        size_widget = QWidget()
        size_widget.setLayout(size_row)
        size_row.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        form.addRow(_("Preset"), self.preset)
        form.addRow(_("Size (height x width)"), size_widget)
        form.addRow(_("Resize"), self.resize_box)
        form.addRow(_("Channel order"), self.order_box)
        form.addRow(_("Scale"), self.scale_edit)
        form.addRow(_("Mean"), self.mean_edit)
        form.addRow(_("Std"), self.std_edit)
        form.addRow("", self.invert_box)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        intro = QLabel(_("How a frame becomes this network's input: the network only works on "
                       "input prepared as in its training. The value entering the network is "
                       "(pixel x scale - mean) / std."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.set_preprocess(initial)
        self.preset.currentTextChanged.connect(self._on_preset)
        for signal in (self.keep_size.toggled, self.height_box.valueChanged,
                       self.width_box.valueChanged, self.resize_box.currentIndexChanged,
                       self.order_box.currentIndexChanged, self.scale_edit.textChanged,
                       self.mean_edit.textChanged, self.std_edit.textChanged,
                       self.invert_box.toggled):
            signal.connect(self._on_edit)
        self._validate()

    def set_preprocess(self, recipe: Preprocess) -> None:
        """Show ``recipe`` in the fields."""
        self._filling = True
        size = recipe.size or self.model_size or (224, 224)
        self.keep_size.setChecked(recipe.size is None)
        self.height_box.setValue(size[0])
        self.width_box.setValue(size[1])
        self.resize_box.setCurrentIndex(RESIZE_MODES.index(recipe.resize))
        self.order_box.setCurrentText(recipe.channel_order)
        self.scale_edit.setText(_scale_text(recipe.scale))
        self.mean_edit.setText(_numbers_text(recipe.mean))
        self.std_edit.setText(_numbers_text(recipe.std))
        self.invert_box.setChecked(recipe.invert)
        self._filling = False
        self._sync_preset(self._validate())

    def _read(self) -> Preprocess:
        size = None if self.keep_size.isChecked() else (self.height_box.value(),
                                                        self.width_box.value())
        fields = {}
        for name, edit, parse in (("scale", self.scale_edit, parse_number),
                                  ("mean", self.mean_edit, parse_numbers),
                                  ("std", self.std_edit, parse_numbers)):
            try:
                fields[name] = parse(edit.text())
            except ValueError as error:
                raise PreprocessError(f"{name}: {error}") from None
        recipe = Preprocess(size, self.resize_box.currentData(), self.order_box.currentText(),
                            invert=self.invert_box.isChecked(), **fields)
        recipe.check_channels(self.channels)
        return recipe

    def _validate(self) -> Preprocess | None:
        self.height_box.setEnabled(not self.keep_size.isChecked())
        self.width_box.setEnabled(not self.keep_size.isChecked())
        try:
            recipe = self._read()
        except PreprocessError as error:
            self.error.setText(_("<b>Not valid:</b> {error}").format(error=error))
            self.summary.clear()
            self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
            return None
        self.error.clear()
        self.summary.setText(_("Input: {describe}").format(describe=recipe.describe()))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(True)
        return recipe

    def _on_preset(self, name: str) -> None:
        if name in PRESETS:
            current = None if self.keep_size.isChecked() else (self.height_box.value(),
                                                               self.width_box.value())
            size = self.model_size or current or PRESETS[name].size
            self.set_preprocess(dataclasses.replace(PRESETS[name], size=size))

    def _on_edit(self, *_args) -> None:
        if not self._filling:
            self._sync_preset(self._validate())

    def _sync_preset(self, recipe: Preprocess | None) -> None:
        """Name the preset the fields match (whatever the size), else "Custom"."""
        match = next((n for n, p in PRESETS.items() if recipe is not None
                      and dataclasses.replace(p, size=recipe.size) == recipe), CUSTOM)
        self.preset.blockSignals(True)
        self.preset.setCurrentText(match)
        self.preset.blockSignals(False)

    def accept(self) -> None:
        recipe = self._validate()
        if recipe is not None:
            self._result = recipe
            super().accept()

    def preprocess(self) -> Preprocess | None:
        """The accepted recipe; None before OK or after Cancel."""
        return self._result


def ask_preprocess(parent, initial: Preprocess, channels: int,
                   model_size: tuple[int, int] | None, title: str) -> Preprocess | None:
    """Show the dialog modally; the recipe after OK, None after Cancel."""
    dialog = PreprocessDialog(initial, channels, model_size, title, parent)
    return dialog.preprocess() if dialog.exec() == QDialog.DialogCode.Accepted else None


def guess_preprocess(pipeline) -> Preprocess:
    """A first guess for a model without saved preprocessing: ImageNet's for a 3-channel
    224 x 224 input (most ONNX classifiers), else [0, 1] at the model's size."""
    spec = pipeline.input_spec
    size = (spec.height, spec.width) if spec.height and spec.width else None
    if spec.channels == 3 and size == (224, 224):
        return PRESETS["ImageNet (PyTorch / torchvision)"]
    return dataclasses.replace(PRESETS["[0, 1], no normalization"], size=size)


def open_model_flow(parent, path, session,
                    ask: Callable[..., Preprocess | None] | None = ask_preprocess) -> bool:
    """Open an ONNX model: load it, settle its preprocessing, make it the session's network.

    The preprocessing saved beside the model (``<model>.preprocess.json``) is used when there
    is one; otherwise ``ask`` (the dialog) is shown and its answer saved there. ``ask=None``
    (screenshot runs: nobody to ask) takes :func:`guess_preprocess` and saves nothing. Every
    failure becomes one ``session.message`` error and a False return, never an exception.
    """
    from engine.onnx.importer import load_onnx

    path = Path(path)
    try:
        pipeline = load_onnx(path)
    except (ValueError, OSError) as error:
        session.message.emit("error", _("Could not open the model: {error}").format(error=error))
        return False
    try:
        recipe = load_beside(path)
    except PreprocessError as error:
        session.message.emit("warning", _("{error}; please set the preprocessing again.")
                                          .format(error=error))
        recipe = None
    spec = pipeline.input_spec
    if recipe is None and ask is None:
        recipe = guess_preprocess(pipeline)
        session.message.emit("info", _("{name} has no saved preprocessing; using {describe}.")
                                       .format(name=path.name, describe=recipe.describe()))
    elif recipe is None:
        model_size = (spec.height, spec.width) if spec.height and spec.width else None
        recipe = ask(parent, guess_preprocess(pipeline), spec.channels, model_size,
                     _("Input preprocessing for {name}").format(name=path.name))
        if recipe is None:
            session.message.emit("info", _("Opening {name} was cancelled.").format(name=path.name))
            return False
        try:
            save_beside(recipe, path)
        except OSError as error:
            session.message.emit("warning", _(
                "The preprocessing could not be saved beside the model ({value}); it applies "
                "until you close the app."
            ).format(value=error.strerror or error))
    try:
        network = pipeline.with_preprocess(recipe)
    except ValueError as error:
        session.message.emit("error", _("Could not open the model {name}: {error}")
                                        .format(name=path.name, error=error))
        return False
    network.source_path = str(path)  # for the label file beside it (gui.labels.model_path_of)
    # path=None: the session's pipeline file is a .json; an .onnx must never be saved over.
    session.set_pipeline(network, path=None)
    n = len(network.nodes)
    session.message.emit("info", ngettext(
        "Opened {name}: {n} node; input {describe}.",
        "Opened {name}: {n} nodes; input {describe}.", n
    ).format(name=path.name, n=n, describe=recipe.describe()))
    return True


def edit_preprocessing_flow(parent, session,
                            ask: Callable[..., Preprocess | None] = ask_preprocess) -> bool:
    """Edit the current network's preprocessing (menu: Edit > Input preprocessing...).

    The answer replaces the session's pipeline (undoable) and, for a model opened from a
    file, is saved beside it. False when cancelled or nothing changed.
    """
    pipeline = session.pipeline
    spec = pipeline.input_spec
    model_size = (spec.height, spec.width) if spec.height and spec.width else None
    current = spec.preprocess or Preprocess(size=None)
    recipe = ask(parent, current, spec.channels, model_size, _("Input preprocessing"))
    if recipe is None or recipe == spec.preprocess:
        return False
    network = pipeline.with_preprocess(recipe)
    source = getattr(pipeline, "source_path", None)
    if source:
        try:
            save_beside(recipe, source)
        except OSError as error:
            session.message.emit("warning", _(
                "The preprocessing could not be saved beside the model ({value})."
            ).format(value=error.strerror or error))
    session.set_pipeline(network)
    session.message.emit("info", _("Input preprocessing: {describe}.")
                                   .format(describe=recipe.describe()))
    return True


def open_model_from_args(session, path, interactive: bool = True) -> str | None:
    """``cnn-explorer --model PATH``: open the model before the window exists.

    ``interactive=False`` (screenshot runs) never shows the dialog. Returns the problem in
    words, or None when the model is open.
    """
    problems: list[str] = []

    def collect(level: str, text: str) -> None:
        if level == "error" or (level == "info" and "cancelled" in text):
            problems.append(text)

    session.message.connect(collect)
    try:
        ok = open_model_flow(None, path, session, ask=ask_preprocess if interactive else None)
    finally:
        session.message.disconnect(collect)
    return None if ok else (problems[-1] if problems else _("{path} could not be opened")
                                                            .format(path=path))
