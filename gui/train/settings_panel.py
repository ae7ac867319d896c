"""The Settings panel: optimizer, learning rate and its schedule, batch size, epochs,
augmentation and seed, each with a tooltip that says what it does."""

from __future__ import annotations

import dataclasses

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import N_, _
from gui.train.controller import controller_for

__all__ = ["LEARNING_RATES", "TrainSettingsDock"]

LEARNING_RATES = (0.0001, 0.0003, 0.001, 0.002, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
BATCH_SIZES = (8, 16, 32, 64, 128, 256)
OPTIMIZERS = (
    ("adam", N_("Adam"), N_("Adam: each weight gets its own step size from the recent size of"
                            " its gradients; works well without tuning")),
    ("adamw", N_("AdamW"), N_("Adam with decoupled weight decay: weights also shrink a little"
                              " every step, which can help on small data")),
    ("sgd", N_("SGD with momentum"), N_("Plain gradient descent with momentum: a step along"
                                        " the gradient, smoothed over recent steps; needs a"
                                        " larger learning rate, about 0.01 to 0.1")),
)
SCHEDULES = (
    ("cosine", N_("Cosine to zero"), N_("The learning rate falls smoothly to zero by the last"
                                        " step")),
    ("step", N_("Step down"), N_("The learning rate drops to a tenth after each third of the"
                                 " run")),
    ("constant", N_("Constant"), N_("The same learning rate for the whole run")),
)


class TrainSettingsDock(QWidget):
    """The Settings panel (registered as "train_settings")."""

    def __init__(self, session, live, parent=None) -> None:
        super().__init__(parent)
        self.controller = c = controller_for(session, live)
        self.optimizer = self._combo(OPTIMIZERS, _("How the weights move along their gradients"))
        self.lr = QComboBox()
        for value in LEARNING_RATES:
            self.lr.addItem(_("{value:g}").format(value=value), value)
        self.lr.setToolTip(_("Learning rate: how far each step moves the weights. Too small"
                             " learns slowly; too large makes the loss jump about or become"
                             " NaN (not a number)"))
        self.schedule = self._combo(SCHEDULES, _("How the learning rate changes over the run"))
        self.batch = QComboBox()
        for value in BATCH_SIZES:
            self.batch.addItem(str(value), value)
        self.batch.setToolTip(_("Batch size: pictures per step. The gradient of a larger batch"
                                " is less noisy, but each step takes longer"))
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 500)
        self.epochs.setToolTip(_("Epochs: how many times the network sees every training"
                                 " picture"))
        self.augment = QCheckBox(_("Shift, rotate and relight"))
        self.augment.setToolTip(_("Augmentation: every batch is randomly shifted, rotated a"
                                  " little and made lighter or darker, so the network learns"
                                  " the classes rather than the exact pictures (slower to"
                                  " learn, better on new pictures)"))
        self.seed = QSpinBox()
        self.seed.setRange(0, 1_000_000)
        self.seed.setToolTip(_("Seed: fixes the random start weights, the drawn pictures, the"
                               " validation split and the batch order; the same seed trains"
                               " the same network again"))
        form = QFormLayout()
        form.addRow(_("Optimizer"), self.optimizer)
        form.addRow(_("Learning rate"), self.lr)
        form.addRow(_("Schedule"), self.schedule)
        form.addRow(_("Batch size"), self.batch)
        form.addRow(_("Epochs"), self.epochs)
        form.addRow(_("Augmentation"), self.augment)
        form.addRow(_("Seed"), self.seed)
        self.locked_note = QLabel(_("The run in progress uses these settings; press Reset to"
                                    " change them."))
        self.locked_note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.locked_note)
        layout.addStretch(1)
        for combo in (self.optimizer, self.lr, self.schedule, self.batch):
            combo.activated.connect(self._on_edited)
        self.epochs.valueChanged.connect(self._on_edited)
        self.seed.valueChanged.connect(self._on_edited)
        self.augment.toggled.connect(self._on_edited)
        c.planChanged.connect(self._show_plan)
        c.snapshotUpdated.connect(self._on_snapshot)
        c.runChanged.connect(self._on_snapshot)
        self._show_plan(c.plan)
        self._on_snapshot(c.latest)

    def _combo(self, entries, tip: str) -> QComboBox:
        combo = QComboBox()
        for key, title, description in entries:
            combo.addItem(_(title), key)
            combo.setItemData(combo.count() - 1, _(description), 3)  # Qt.ToolTipRole
        combo.setToolTip(tip)
        return combo

    def _widgets(self):
        return (self.optimizer, self.lr, self.schedule, self.batch, self.epochs, self.augment,
                self.seed)

    def _show_plan(self, plan) -> None:
        config = plan.config
        for widget in self._widgets():
            widget.blockSignals(True)
        self.optimizer.setCurrentIndex(self.optimizer.findData(config.optimizer))
        index = self.lr.findData(config.lr)
        if index < 0:  # a rate from the command line or a resumed run
            self.lr.addItem(_("{lr:g}").format(lr=config.lr), config.lr)
            index = self.lr.count() - 1
        self.lr.setCurrentIndex(index)
        self.schedule.setCurrentIndex(self.schedule.findData(config.schedule))
        index = self.batch.findData(config.batch_size)
        if index < 0:
            self.batch.addItem(str(config.batch_size), config.batch_size)
            index = self.batch.count() - 1
        self.batch.setCurrentIndex(index)
        self.epochs.setValue(config.epochs)
        self.augment.setChecked(not config.augment.is_identity)
        self.seed.setValue(config.seed)
        for widget in self._widgets():
            widget.blockSignals(False)

    def _on_edited(self, *_args) -> None:
        from engine.train.augment import Augment
        from engine.train.run import LIGHT_AUGMENT

        config = dataclasses.replace(
            self.controller.plan.config, optimizer=self.optimizer.currentData(),
            lr=float(self.lr.currentData()), schedule=self.schedule.currentData(),
            batch_size=int(self.batch.currentData()), epochs=self.epochs.value(),
            augment=LIGHT_AUGMENT if self.augment.isChecked() else Augment(),
            seed=self.seed.value())
        self.controller.set_plan(config=config)

    def _on_snapshot(self, _snapshot) -> None:
        locked = self.controller.locked
        for widget in self._widgets():
            widget.setEnabled(not locked)
        self.locked_note.setVisible(locked)
