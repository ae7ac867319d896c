"""The "Why this class?" tab's two displays: a heat map over the frame, and FGSM's pictures.

:class:`HeatPage` shows the input as the network sees it beside the frame with the map over
it, an opacity slider, a colormap choice and a colour bar; signed maps get a diverging
colormap. :class:`FgsmPage` shows the original input, the perturbation magnified and the
adversarial input, each with the network's answer.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QBoxLayout,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import _
from gui.colormaps import COLORMAP_TIPS, COLORMAPS, lookup_table
from gui.explain.jobs import FgsmOutcome, HeatOutcome
from gui.explain.methods import percent
from gui.explain.render import heat_lut
from gui.explain.views import TitledPicture
from gui.widgets.colorbar import ColorBar

__all__ = ["FgsmPage", "HeatPage", "adaptive_direction"]


def adaptive_direction(layout: QBoxLayout, width: int, height: int) -> None:
    """Side by side in a wide place, stacked in a tall narrow one."""
    wanted = (QBoxLayout.Direction.LeftToRight if width >= 1.3 * height
              else QBoxLayout.Direction.TopToBottom)
    if layout.direction() != wanted:
        layout.setDirection(wanted)


class HeatPage(QWidget):
    """The input beside the frame with the heat map over it; opacity, colormap, colour bar."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.colormaps = {False: "inferno", True: "coolwarm"}  # per kind of map: unsigned, signed
        self.signed = False
        self.outcome: HeatOutcome | None = None
        self.input_view = TitledPicture(
            _("What the network sees"),
            _("The frame after the network's preprocessing (cropped and scaled to its input)"))
        self.overlay_view = TitledPicture(
            _("The map over the frame"),
            _("The explanation over the part of the frame the network sees. Scroll to zoom,"
              " drag to pan."))
        self.pictures = QBoxLayout(QBoxLayout.Direction.TopToBottom)  # side by side when wide
        self.pictures.setSpacing(4)
        self.pictures.addWidget(self.input_view, 2)
        self.pictures.addWidget(self.overlay_view, 3)  # the answer gets the larger share

        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(70)
        self.opacity.setToolTip(_("Opacity of the heat map over the frame"))
        self.opacity.valueChanged.connect(self._on_opacity_changed)
        self.cmap = QComboBox()
        self.cmap.setToolTip(_("Colormap of the heat map; signed maps use the diverging one"))
        for i, name in enumerate(COLORMAPS):
            self.cmap.addItem(_(name), name)  # only gray is a word to translate
            self.cmap.setItemData(i, _(COLORMAP_TIPS[name]), Qt.ItemDataRole.ToolTipRole)
        self.cmap.currentIndexChanged.connect(self._on_cmap_changed)
        self.colorbar = ColorBar()
        self.colorbar.setToolTip(_("The value each colour of the heat map stands for (the top"
                                   " hundredth of the values shares the last colour)"))
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setToolTip(_("What the map explains: method, class, probability, time"))

        row = QHBoxLayout()
        for text, widget, stretch in ((_("Opacity"), self.opacity, 1),
                                      (_("Colormap"), self.cmap, 0)):
            label = QLabel(text)
            label.setToolTip(widget.toolTip())
            row.addWidget(label)
            row.addWidget(widget, stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.pictures, 1)
        layout.addWidget(self.caption)
        layout.addLayout(row)
        layout.addWidget(self.colorbar)
        self._sync_cmap_combo()

    @property
    def colormap(self) -> str:
        return self.colormaps[self.signed]

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        adaptive_direction(self.pictures, self.width(), self.height())

    def show_outcome(self, outcome: HeatOutcome, title: str, caption: str) -> None:
        """Draw ``outcome``; ``title`` names the overlay, ``caption`` says what it explains."""
        self.outcome = outcome
        signed = bool(outcome.explanation.signed)
        if signed != self.signed:
            self.signed = signed
            self._sync_cmap_combo()
        self.input_view.view.set_picture(outcome.picture)
        self.overlay_view.view.set_picture(outcome.region)
        self._draw_heat()
        self.overlay_view.title.setText(title)
        self.caption.setText(caption)

    def clear_heat(self, caption: str = "") -> None:
        """Keep the pictures, take the heat map away (an explanation that cannot be shown)."""
        self.outcome = None
        self.overlay_view.view.set_heat(None)
        self.caption.setText(caption)

    def _draw_heat(self) -> None:
        o = self.outcome
        if o is None:
            return
        self.overlay_view.view.set_heat(o.indices, heat_lut(self.colormap, self.signed),
                                        self.opacity.value() / 100.0)
        self.colorbar.set_lut(lookup_table(self.colormap))
        self.colorbar.set_range(*o.levels)

    def _on_opacity_changed(self, value: int) -> None:
        self.overlay_view.view.set_opacity(value / 100.0)

    def _on_cmap_changed(self, index: int) -> None:
        name = self.cmap.itemData(index)
        if name:
            self.colormaps[self.signed] = name
            self._draw_heat()

    def _sync_cmap_combo(self) -> None:
        self.cmap.blockSignals(True)
        self.cmap.setCurrentIndex(max(self.cmap.findData(self.colormap), 0))
        self.cmap.blockSignals(False)
        self.colorbar.set_lut(lookup_table(self.colormap))


class FgsmPage(QWidget):
    """Original input, the perturbation magnified, the adversarial input; each with its answer."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.outcome: FgsmOutcome | None = None
        self.original = TitledPicture(_("Original"), _("The input as the network sees it"),
                                      minimum=90)
        self.perturbation = TitledPicture(
            _("Perturbation, magnified"),
            _("What FGSM adds to every pixel, scaled so the largest change is black or white;"
              " mid-grey is no change"), minimum=90)
        self.adversarial = TitledPicture(
            _("Adversarial"), _("The original plus the perturbation: what the network now"
                                " sees"), minimum=90)
        self.pictures = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.pictures.setSpacing(4)
        for view in (self.original, self.perturbation, self.adversarial):
            self.pictures.addWidget(view, 1)
        self.verdict = QLabel("")
        self.verdict.setWordWrap(True)
        self.verdict.setToolTip(_("Whether the small change made the network change its"
                                  " answer"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.pictures, 1)
        layout.addWidget(self.verdict)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        adaptive_direction(self.pictures, self.width(), 0.5 * self.height())

    def show_outcome(self, outcome: FgsmOutcome, names) -> None:
        """Draw ``outcome``; ``names`` maps a class index to its name."""
        self.outcome = outcome
        a = outcome.adversarial
        self.original.view.set_picture(outcome.original)
        self.perturbation.view.set_picture(outcome.perturbation)
        self.adversarial.view.set_picture(outcome.image)
        self.original.caption.setText(_("{name}, {p}").format(
            name=names(a.original), p=percent(a.original_probability)))
        step = round(a.epsilon * 255)
        self.perturbation.caption.setText(_("ε = {step}/255 of the range").format(step=step))
        self.adversarial.caption.setText(_("{name}, {p}").format(
            name=names(a.predicted), p=percent(a.probability)))
        if a.flipped:
            text = _("A change of at most {step}/255 per pixel turned {old} into {new}.").format(
                step=step, old=names(a.original), new=names(a.predicted))
        elif a.target == a.original:
            text = _("Still {name}: its probability went from {before} to {after}.").format(
                name=names(a.predicted), before=percent(a.original_probability),
                after=percent(a.target_probability))
        else:
            text = _("Still {name}; the probability of {target} is now {after}.").format(
                name=names(a.predicted), target=names(a.target),
                after=percent(a.target_probability))
        self.verdict.setText(text)
        self.verdict.setStyleSheet("color: #c62828; font-weight: bold" if a.flipped else "")
