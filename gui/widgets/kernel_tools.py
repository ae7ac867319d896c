"""The "Set weights" tools of the Kernels dock: a preset kernel or seeded random weights.

The form holds the choices (which filters, which preset spread how over the channels, which
initializer and seed) and turns them into the change to a conv layer's weights. It never
touches the pipeline: the dock connects the two buttons, asks :meth:`KernelTools.preset_change`
or :meth:`KernelTools.random_change` for the edit and commits it to the Session.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from engine.i18n import N_, _
from engine.layers.kernels import PRESET_DESCRIPTIONS, PRESETS, expand_kernel, initialize
from gui.widgets.kernel_grid import channel_label

EXPAND_TIPS = {
    "luma": N_("Weight the kernel by 0.299 R + 0.587 G + 0.114 B: the map equals the kernel on "
            "the gray image."),
    "each": N_("Put the same kernel on every input channel (their responses are summed)."),
}
ONE_CHANNEL_TIP = N_("Put the kernel on this channel only, zeros elsewhere.")


def fit_preset(kernel: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Place a 2-D preset into a kernel of ``shape``, centred with a zero border.

    A 3x3 Sobel inside a 5x5 kernel gives the same response at the same centre pixel.
    Raises ValueError when the preset is larger or cannot be centred.
    """
    kh, kw = kernel.shape
    th, tw = shape
    dh, dw = th - kh, tw - kw
    if dh < 0 or dw < 0 or dh % 2 or dw % 2:
        raise ValueError(_(
            "this preset is {kh}x{kw}; it does not fit the layer's {th}x{tw} kernels (it "
            "must be smaller by an even number or equal)"
        ).format(kh=kh, kw=kw, th=th, tw=tw))
    out = np.zeros(shape, np.float32)
    out[dh // 2:dh // 2 + kh, dw // 2:dw // 2 + kw] = kernel
    return out


class KernelTools(QWidget):
    """Preset and random-weight controls; the owner connects ``apply_preset`` and ``randomize``.

    Parameters
    ----------
    parent : QWidget, optional
        The owning widget.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(4, 4, 4, 4)
        self.scope = QComboBox()
        self.scope.addItems([_("selected filter"), _("all filters")])
        self.scope.setToolTip(_("Whether a preset or random weights replace only the selected "
                              "filter or every filter of the layer."))
        self._add_row(form, _("Apply to"), self.scope)

        self.preset = QComboBox()
        for name in PRESETS:
            self.preset.addItem(name)
            tip = PRESET_DESCRIPTIONS.get(name)
            self.preset.setItemData(self.preset.count() - 1, _(tip) if tip else "",
                                    Qt.ItemDataRole.ToolTipRole)
        self.preset.setCurrentText("sobel_x")
        self.preset.setToolTip(_("A classic image-processing kernel to load into the filter."))
        self.expand = QComboBox()
        self.expand.setToolTip(_("How a 2-D preset is spread over the input channels."))
        self.apply_preset = QPushButton(_("Apply"))
        self.apply_preset.setToolTip(_("Load the preset into the filter(s) chosen above."))
        self._add_row(form, _("Preset"), self.preset, self.apply_preset)
        self._add_row(form, _("Channels"), self.expand)

        self.init = QComboBox()
        self.init.addItem("He", "he")
        self.init.setItemData(0, _("Normal, std sqrt(2 / fan_in): suits layers followed by ReLU."),
                              Qt.ItemDataRole.ToolTipRole)
        self.init.addItem("Glorot", "glorot")
        self.init.setItemData(1, _("Uniform in +-sqrt(6 / (fan_in + fan_out))."),
                              Qt.ItemDataRole.ToolTipRole)
        self.init.setToolTip(_("The random initializer."))
        self.seed = QSpinBox()
        self.seed.setRange(0, 99_999)  # five digits: plenty of seeds, and a narrow box
        self.seed.setToolTip(_("The same seed always gives the same weights."))
        self.randomize = QPushButton(_("Randomize"))
        self.randomize.setToolTip(_("Fill the filter(s) chosen above with seeded random weights."))
        self._add_row(form, _("Random"), self.init, self.randomize)
        self._add_row(form, _("Seed"), self.seed)

    @staticmethod
    def _add_row(form: QFormLayout, text: str, *widgets: QWidget) -> None:
        """One form row: a label with the first widget's tooltip, the widgets side by side."""
        label = QLabel(text)
        label.setToolTip(widgets[0].toolTip())
        row = QHBoxLayout()
        for widget in widgets:
            # Combo boxes and spin boxes may shrink; buttons keep their text.
            stretch = 0 if isinstance(widget, QPushButton) else 1
            row.addWidget(widget, stretch)
        form.addRow(label, row)

    def set_channels(self, c_in: int) -> None:
        """Offer the ways to spread a preset over ``c_in`` input channels."""
        modes = [(_("luma"), "luma"), (_("each channel"), "each")]
        modes += [(_("only {channel}").format(channel=channel_label(c, c_in)), f"channel:{c}")
                  for c in range(c_in)]
        if [self.expand.itemData(i) for i in range(self.expand.count())] == [m for _, m in modes]:
            return
        self.expand.blockSignals(True)
        self.expand.clear()
        for text, mode in modes:
            self.expand.addItem(text, mode)
            tip = _(EXPAND_TIPS.get(mode, ONE_CHANNEL_TIP))
            self.expand.setItemData(self.expand.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.expand.blockSignals(False)

    def _targets(self, selected: int, c_out: int) -> list[int]:
        return [selected] if self.scope.currentIndex() == 0 else list(range(c_out))

    def preset_change(self, weight: np.ndarray, selected: int) -> tuple[str, dict]:
        """The chosen preset as a change to a conv layer.

        Parameters
        ----------
        weight : numpy.ndarray
            The layer's weights, (C_out, C_in, kh, kw).
        selected : int
            The selected filter.

        Returns
        -------
        tuple of (str, dict)
            A sentence saying what was done, and the keyword arguments for ``layer.replace``.

        Raises
        ------
        ValueError
            The preset does not fit the layer's kernels or channels; the message names it.
        """
        name = self.preset.currentText()
        mode = self.expand.currentData()
        weight = np.array(weight, dtype=np.float32)  # (C_out, C_in, kh, kw)
        try:
            kernel = fit_preset(PRESETS[name], weight.shape[2:])
            one = expand_kernel(kernel, weight.shape[1], mode)  # (C_in, kh, kw)
        except ValueError as exc:
            raise ValueError(_("Preset {name}: {exc}").format(name=name, exc=exc)) from None
        targets = self._targets(selected, weight.shape[0])
        which = (_("filter {n}").format(n=targets[0]) if len(targets) == 1
                 else _("all filters"))
        text = _("Preset {name} ({currentText}) loaded into {which}.").format(
            name=name, currentText=self.expand.currentText(), which=which)
        if len(targets) > 1 and kernel.shape == PRESETS[name].shape:
            # A named source, so the ledger and the saved file say "preset sobel_x on luma".
            return text, {"weight_source": {"preset": name, "expand": mode}}
        weight[targets] = one
        return text, {"weight": weight}

    def random_change(self, weight: np.ndarray, selected: int) -> tuple[str, dict]:
        """Seeded random weights as a change to a conv layer.

        Takes and returns what :meth:`preset_change` does; it cannot fail.
        """
        init, seed = self.init.currentData(), self.seed.value()
        targets = self._targets(selected, weight.shape[0])
        which = (_("filter {n}").format(n=targets[0]) if len(targets) == 1
                 else _("all filters"))
        text = _("{currentText} random weights (seed {seed}) in {which}.").format(
            currentText=self.init.currentText(), seed=seed, which=which)
        if len(targets) > 1:
            # The layer's own initializer and seed: later redraws (new in_channels) keep them.
            return text, {"init": init, "seed": seed}
        weight = np.array(weight, dtype=np.float32)
        fresh = initialize(init, weight.shape, seed)  # (C_out, C_in, kh, kw)
        weight[targets] = fresh[targets]
        return text, {"weight": weight}
