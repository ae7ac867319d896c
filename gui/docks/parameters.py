"""Why convolutions: a conv layer's weights against a fully connected layer doing the same job.

Two ideas make a conv layer small. Local connectivity: an output unit looks at a k x k x C
window, not at the whole input. Weight sharing: every position of a map uses the same filter,
so the layer stores n x (k x k x C + 1) numbers however large the image is. The dock puts the
selected conv layer (or the nearest one) beside fully connected layers on the same input, and
offers the lecture's two examples one click away, with their formulas written out. The counts
come from :mod:`engine.lecture.comparisons`.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import N_, _
from engine.lecture.comparisons import Comparison, comparison_for_layer, lecture_comparison
from engine.ops.shapes import dense_params
from gui.widgets.bar_compare import BarCompare, power_of_ten, thousands

__all__ = ["LECTURE_EXAMPLES", "ParametersDock"]

CONV_COLOR, DENSE_COLOR, LECTURE_COLOR = "#2e7d32", "#ef6c00", "#c62828"

LECTURE_EXAMPLES = {
    "mlp200": (N_("A 200 x 200 RGB image into a fully connected layer of the same size"),
               ((3, 200, 200), 3, 5, 1, 2)),  # the conv side: three 5x5 filters keep the volume
    "conv32": (N_("32 x 32 x 3 input, ten 5 x 5 filters (stride 1, padding 2)"),
               ((3, 32, 32), 10, 5, 1, 2)),
}


def _label(text: str = "", tip: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setToolTip(tip)
    return label


class ParametersDock(QWidget):
    """The "Why convolutions" dock (registered as "parameters")."""

    def __init__(self, session, live, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session, self._live = session, live
        self.mode = "layer"  # "layer" or a key of LECTURE_EXAMPLES
        self.comparison: Comparison | None = None
        self._input_shape = None
        self._build()
        session.pipeline_changed.connect(self._on_session_changed)
        session.selected_layer_changed.connect(self._on_session_changed)
        live.resultUpdated.connect(self._on_live_result)
        self.refresh()

    def _build(self) -> None:
        # The texts wrap, so their height grows as the panel narrows: a scroll area that honours
        # the height for the width shows every line in a narrow panel instead of cutting some.
        content = QWidget()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        layout = QVBoxLayout(content)
        examples = QGridLayout()
        examples.addWidget(QLabel(_("<b>The lecture's examples</b>")), 0, 0, 1, 2)
        self.example_rows: dict[str, QLabel] = {}
        self.example_buttons: dict[str, QPushButton] = {}
        for row, key in enumerate(LECTURE_EXAMPLES, start=1):
            title = _(LECTURE_EXAMPLES[key][0])
            button = QPushButton(_("Show"))
            button.setToolTip(_("Put this example in the comparison below: {title}")
                                .format(title=title))
            button.clicked.connect(lambda _=False, k=key: self.show_example(k))
            examples.addWidget(button, row, 0)
            text = _label(self._example_text(key), _("The numbers as the lecture gives them"))
            examples.addWidget(text, row, 1)
            self.example_rows[key], self.example_buttons[key] = text, button
        self.layer_button = QPushButton(_("Current layer"))
        self.layer_button.setToolTip(_("Compare the pipeline's selected conv layer (or the nearest "
                                     "one) with fully connected layers on the same input"))
        self.layer_button.clicked.connect(lambda: self.show_example("layer"))
        examples.addWidget(self.layer_button, len(LECTURE_EXAMPLES) + 1, 0)
        examples.setColumnStretch(1, 1)
        layout.addLayout(examples)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        layout.addWidget(line)
        self.title = _label()
        self.counts = _label(tip=_("Weights (and biases) each layer has to store"))
        self.bars = BarCompare()
        self.local = _label(tip=_("Local connectivity: how much of the input one output unit sees"))
        self.sharing = _label(tip=_("Weight sharing: one filter is reused at every position"))
        for widget in (self.title, self.counts, self.bars, self.local, self.sharing):
            layout.addWidget(widget)
        layout.addStretch(1)
        # No sideways scrolling: the panel is as narrow as the content allows, no narrower.
        scroll.setMinimumWidth(content.minimumSizeHint().width()
                               + scroll.verticalScrollBar().sizeHint().width())

    @staticmethod
    def _example_text(key: str) -> str:
        title, (in_shape, n, k, s, p) = LECTURE_EXAMPLES[key]
        title = _(title)
        if key == "mlp200":
            volume = math.prod(in_shape)
            count = dense_params(volume, volume)
            return (_(
                "{title}: (200 x 200 x 3 + 1) x (200 x 200 x 3) = {thousands} ≈ "
                "<b>{power_of_ten}</b> weights."
            ).format(
                title=title, thousands=thousands(count), power_of_ten=power_of_ten(count, 9,
                                                                                   html=True)
            ))
        cmp = lecture_comparison(in_shape, n, k, s, p)
        return (_(
            "{title}: conv {replace}<b>{thousands}</b> weights; the lecture's count, one "
            "input-sized fully connected layer per filter: (32 x 32 x 3 + 1) x (32 x 32 x 3) "
            "x 10 = <b>{thousands2}</b> ≈ 10<sup>8</sup>."
        ).format(
            title=title, replace=cmp.conv_formula.replace(thousands(cmp.conv), ""),
            thousands=thousands(cmp.conv), thousands2=thousands(cmp.lecture)
        ))

    # -- handlers -----------------------------------------------------------------------------
    def _on_session_changed(self, *_args) -> None:
        if self.mode == "layer":
            self.refresh()

    def _on_live_result(self, result) -> None:
        # Counts depend on the frame size only: redraw when it differs from the one shown.
        if self.mode == "layer" and tuple(result.input.shape) != self._input_shape:
            self.refresh()

    def show_example(self, key: str) -> None:
        """Show one lecture example ("mlp200", "conv32") or the current layer ("layer")."""
        self.mode = key
        self.refresh()

    # -- drawing ------------------------------------------------------------------------------
    def _current_input_shape(self):
        latest = self._live.latest
        if latest is not None:
            return tuple(latest.input.shape)
        spec = self._session.pipeline.input_spec
        return spec.shape or (spec.channels, 480, 640)

    def refresh(self) -> None:
        """Recompute the comparison for the current mode and redraw it."""
        if self.mode == "layer":
            self._input_shape = self._current_input_shape()
            try:
                cmp = comparison_for_layer(self._session.pipeline, self._session.selected_layer,
                                           self._input_shape)
            except ValueError as exc:  # a pipeline that does not fit the frame
                self.comparison = None
                self.title.setText(_("The pipeline does not fit the frame: {exc}").format(exc=exc))
                return
            if cmp is None:
                self.comparison = None
                self.title.setText(_("This pipeline has no convolution layer; pick a lecture "
                                   "example above."))
                for widget in (self.counts, self.local, self.sharing):
                    widget.setText("")
                self.bars.set_bars([])
                return
        else:
            title, args = LECTURE_EXAMPLES[self.mode]
            title = _(title)
            if self.mode == "mlp200":
                title += _(", against a conv layer of three 5 x 5 filters that keeps the volume")
            cmp = lecture_comparison(*args, title=title)
        self.comparison = cmp
        self._show(cmp)

    def _show(self, cmp: Comparison) -> None:
        (c, h, w), (n, oh, ow), (kh, kw) = cmp.in_shape, cmp.out_shape, cmp.kernel
        self.title.setText(_("<b>{title}</b><br>input {c} x {h} x {w} → output {n} x {oh} x {ow}")
                             .format(title=cmp.title, c=c, h=h, w=w, n=n, oh=oh, ow=ow))
        volume = c * h * w
        # The 200x200 example is the lecture's plain MLP layer: its per-filter count would
        # only blur that point, so it is left out there.
        with_lecture = self.mode != "mlp200"
        lecture = (_(
            "The lecture's count, one same-size fully connected layer per filter: "
            "{lecture_formula} ({power_of_ten}).<br>"
        ).format(
            lecture_formula=cmp.lecture_formula, power_of_ten=power_of_ten(cmp.lecture, html=True)
        )
                   if with_lecture else "")
        # The lecture writes its MLP count as 14.4 x 10^9; keep that form for the example.
        dense_big = power_of_ten(cmp.dense, 9 if self.mode == "mlp200" else None, html=True)
        self.counts.setText(
            _(
                "Conv layer: {conv_formula} weights.<br>Fully connected, same input and "
                "output volume: ({volume:,} + 1) x {value:,} = {thousands} "
                "({dense_big}).<br>{lecture}The dense layer needs <b>{value2:,.0f} times</b> "
                "as many weights."
            ).format(
                conv_formula=cmp.conv_formula, volume=volume, value=n * oh * ow,
                thousands=thousands(cmp.dense), dense_big=dense_big, lecture=lecture,
                value2=cmp.dense / cmp.conv
            ))
        bars = [(_("conv"), cmp.conv, CONV_COLOR), (_("fully connected"), cmp.dense, DENSE_COLOR)]
        if with_lecture:
            bars.append((_("lecture's count"), cmp.lecture, LECTURE_COLOR))
        self.bars.set_bars(bars)
        self.local.setText(
            _(
                "<b>Local connectivity.</b> One output unit sees a {kh} x {kw} x {value} "
                "window: {fan_in:,} input values. A unit of the fully connected layer sees "
                "all {volume:,} of them."
            ).format(kh=kh, kw=kw, value=cmp.fan_in // (kh * kw), fan_in=cmp.fan_in, volume=volume))
        self.sharing.setText(
            _(
                "<b>Weight sharing.</b> The layer makes {value:,} output units x {fan_in:,} "
                "= {thousands} connections, but stores only {thousands2} numbers: each "
                "filter slides over all {value2:,} positions, so each weight is used about "
                "{sharing:,.0f} times."
            ).format(
                value=n * oh * ow, fan_in=cmp.fan_in, thousands=thousands(cmp.connections),
                thousands2=thousands(cmp.conv), value2=oh * ow, sharing=cmp.sharing
            ))
