"""Pooling and small translations: shift the input by a few pixels and see what changes.

The lecture says pooling makes a representation roughly invariant to small shifts of the input.
This dock tests that on the current frame and pipeline: it runs the pipeline on the frame and
on a copy moved by 1 to 3 pixels, and for the selected conv layer, the layers after it and the
first pooling layer measures the mean absolute change, divided by the layer's mean absolute
value so that layers of different scale compare (the numbers come from
:mod:`engine.lecture.translation`). The verdict is read off those numbers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import N_, _
from engine.io.media import resize_longest, to_input
from engine.lecture.translation import ShiftChange, compare_translation_pipeline, layers_to_compare
from gui.widgets.pixel_view import PixelView

__all__ = ["DIRECTIONS", "WORK_SIDE", "Comparison", "TranslationDock", "compare", "conclusion"]

WORK_SIDE = 160  # longest side of the frame used here: two runs per update stay quick
FOLLOW_S = 1.0   # at most one recomputation per second while following the live frame
DIRECTIONS = {N_("right"): (0, 1), N_("left"): (0, -1), N_("down"): (1, 0), N_("up"): (-1, 0),
              N_("down and right"): (1, 1)}


def conclusion(conv: ShiftChange, pool: ShiftChange | None) -> str:
    """One sentence read off the numbers; it never claims more than they show."""
    if pool is None:
        return (_(
            "No pooling layer comes after {name} (before any further convolution), so there "
            "is nothing to compare its change with."
        ).format(name=conv.name))
    c, p = conv.change, pool.change
    numbers = _("{p:.1%} against {c:.1%}").format(p=p, c=c)
    if p < 0.9 * c:
        return (_(
            "The pooled maps ({name}) changed less than the conv maps ({name2}): {numbers}. "
            "Here pooling absorbed part of the shift."
        ).format(name=pool.name, name2=conv.name, numbers=numbers))
    if p > 1.1 * c:
        return (_(
            "Here the pooled maps ({name}) changed more than the conv maps ({name2}): "
            "{numbers}. Pooling did not steady this layer for this shift."
        ).format(name=pool.name, name2=conv.name, numbers=numbers))
    return (_(
        "The pooled maps ({name}) and the conv maps ({name2}) changed about as much: "
        "{numbers}."
    ).format(name=pool.name, name2=conv.name, numbers=numbers))


PREPARER = "translation"  # the key of its product in a live result's ``prepared``


@dataclass(frozen=True)
class Comparison:
    """The two runs compared on one frame, or why they could not be."""

    changes: list[ShiftChange] = field(default_factory=list)
    x: np.ndarray | None = None  # the (C, H, W) working input used
    pooled: ShiftChange | None = None  # the first pooling layer's change, if any
    message: str | None = None


def compare(result, selected: int, offset: tuple[int, int]) -> Comparison:
    """Compare the pipeline's maps on ``result``'s frame and on a shifted copy (no Qt: the
    engine thread runs it while the dock follows the live frame)."""
    pipeline = result.pipeline
    names, pool = layers_to_compare(pipeline, selected)
    if not names:
        return Comparison(message=_("This pipeline has no convolution layer to compare."))
    candidates = [result.input]
    if max(result.frame.shape[:2]) > WORK_SIDE:
        small = resize_longest(result.frame, WORK_SIDE)
        candidates.insert(0, to_input(small, pipeline.input_spec))
    for x in candidates:
        try:
            changes = compare_translation_pipeline(pipeline, x, *offset,
                                                   [pipeline.input_name, *names])
        except ValueError as exc:
            # A pipeline with a fixed input size (a classifier's Linear layer) cannot run on
            # the shrunk frame: fall back to the full working frame, which it ran on.
            error = exc
            continue
        return Comparison(changes, x, changes[-1] if pool is not None else None)
    return Comparison(message=_("The pipeline cannot run on this frame: {error}")
                      .format(error=error))


class _Follower:
    """The preparer: at most one comparison every ``FOLLOW_S`` seconds, with the dock's settings
    (a tuple swapped whole by the GUI thread, read by the engine thread)."""

    def __init__(self) -> None:
        self.settings: tuple[int, tuple[int, int]] = (0, (0, 1))  # (selected layer, offset)
        self.shown_at = 0.0

    def __call__(self, result) -> Comparison | None:
        if time.monotonic() - self.shown_at < FOLLOW_S:
            return None  # not due
        self.shown_at = time.monotonic()
        return compare(result, *self.settings)


class TranslationDock(QWidget):
    """The translation dock (registered as "translation")."""

    def __init__(self, session, live, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session, self._live = session, live
        self.changes: list[ShiftChange] = []
        self.x: np.ndarray | None = None  # the (C, H, W) working input last used
        self._last_run = 0.0
        self._views: list[tuple[QLabel, PixelView]] = []
        # While following live, the engine thread runs the two comparisons (a preparer): the
        # GUI thread running them once a second stalled it 50-150 ms in a soak.
        self._follower = _Follower()
        self._set_preparer = getattr(live, "set_preparer", None)  # a stand-in may lack it
        self._build()
        session.pipeline_changed.connect(self._on_session_changed)
        session.selected_layer_changed.connect(self._on_session_changed)
        live.resultUpdated.connect(self._on_live_result)
        self.follow.toggled.connect(self._register)
        self.recompute()

    def _build(self) -> None:
        self.shift = QSpinBox()
        self.shift.setRange(1, 3)
        self.shift.setToolTip(_("How many pixels the input is moved"))
        self.shift.valueChanged.connect(self.recompute)
        self.direction = QComboBox()
        for key in DIRECTIONS:
            self.direction.addItem(_(key), key)
        self.direction.setToolTip(_("Which way the picture's content moves"))
        self.direction.currentIndexChanged.connect(self.recompute)
        self.follow = QCheckBox(_("Follow live"))
        self.follow.setChecked(True)
        self.follow.setToolTip(_(
            "Follow the live frame: recompute on new frames, at most once every {FOLLOW_S:g} "
            "s; off: keep the frame last used"
        ).format(FOLLOW_S=FOLLOW_S))
        controls = QHBoxLayout()
        for text, widget in ((_("Shift by"), self.shift), (_("pixels,"), self.direction)):
            label = QLabel(text)
            label.setToolTip(widget.toolTip())
            controls.addWidget(label)
            controls.addWidget(widget)
        controls.addWidget(self.follow)
        controls.addStretch(1)
        self.grid = QGridLayout()
        self.verdict = QLabel(_("Waiting for a frame from the current pipeline."))
        self.verdict.setWordWrap(True)
        self.note = QLabel(_("Bright = changed: mean of |shifted - original| over a layer's maps."))
        self.note.setWordWrap(True)
        self.note.setToolTip(_(
            "Each difference image is the mean over the layer's maps of |shifted - "
            "original|. Larger frames are shrunk to {WORK_SIDE} pixels here, so that two "
            "runs per update stay quick."
        ).format(WORK_SIDE=WORK_SIDE))
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        self._columns, self._shown = 2, 0
        layout.addLayout(self.grid, 1)
        layout.addWidget(self.verdict)
        layout.addWidget(self.note)

    # -- handlers -----------------------------------------------------------------------------
    def _on_session_changed(self, *_args) -> None:
        self.recompute()

    def _on_live_result(self, result) -> None:
        if not (self.follow.isChecked() and self.isVisible()):
            return
        if self._set_preparer is not None:
            product = getattr(result, "prepared", {}).get(PREPARER)
            if product is not None:
                self._show_comparison(product)
            return
        if time.monotonic() - self._last_run >= FOLLOW_S:
            self.recompute()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.follow.isChecked() or not self.changes:
            self.recompute()
        self._register()

    def hideEvent(self, event) -> None:  # hidden: the engine thread compares nothing for it
        super().hideEvent(event)
        self._register()

    def _register(self, *_args) -> None:
        if self._set_preparer is not None:
            following = self.follow.isChecked() and self.isVisible()
            self._set_preparer(PREPARER, self._follower if following else None)

    @property
    def offset(self) -> tuple[int, int]:
        """The shift (dy, dx) in pixels from the controls."""
        dy, dx = DIRECTIONS[self.direction.currentData()]
        return dy * self.shift.value(), dx * self.shift.value()

    def recompute(self, *_args) -> None:
        """Run the pipeline on the working frame and its shifted copy; redraw."""
        self._follower.settings = (self._session.selected_layer, self.offset)
        result = self._live.latest
        if result is None:
            return
        self._last_run = time.monotonic()
        self._show_comparison(compare(result, *self._follower.settings))

    def _show_comparison(self, comparison: Comparison) -> None:
        self._follower.shown_at = time.monotonic()
        if comparison.message is not None:
            self.verdict.setText(comparison.message)
            self._show([])
            return
        self.changes, self.x = comparison.changes, comparison.x
        self._show(self.changes)
        self.verdict.setText(conclusion(self.changes[1], comparison.pooled))

    def _show(self, changes: list[ShiftChange]) -> None:
        while len(self._views) < len(changes):
            title, view = QLabel(), PixelView(min_side=70)
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
            title.setWordWrap(True)
            self._views.append((title, view))
        self._shown = len(changes)
        for i, (title, view) in enumerate(self._views):
            visible = i < len(changes)
            title.setVisible(visible)
            view.setVisible(visible)
            if not visible:
                continue
            change = changes[i]
            name = "input" if i == 0 else change.name
            title.setText(_("{name}: {change:.1%} changed").format(name=name, change=change.change))
            view.set_map(change.diff, "inferno", (0.0, max(float(change.diff.max()), 1e-6)))
            view.setToolTip(_(
                "{name}: where the output moved; mean absolute change {change:.2%} of the "
                "layer's mean absolute value"
            ).format(name=change.name, change=change.change))
        self._arrange(force=True)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._arrange()

    def best_columns(self, width: int, height: int) -> int:
        """How many difference images per row make them largest in a width x height area."""
        n = self._shown
        if n == 0 or width <= 0 or height <= 0:
            return self._columns
        diff = self.changes[0].diff if self.changes else None
        aspect = diff.shape[1] / diff.shape[0] if diff is not None and diff.size else 4 / 3
        title_h = self._views[0][0].sizeHint().height() + self.grid.spacing()
        best, best_side = 1, -1.0
        for cols in range(1, n + 1):
            rows = -(-n // cols)
            cell_w = (width - (cols - 1) * self.grid.spacing()) / cols
            cell_h = (height - rows * title_h) / rows
            side = min(cell_w, cell_h * aspect)  # the image's width when it fits the cell
            if side > best_side + 1:
                best, best_side = cols, side
        return best

    def _arrange(self, force: bool = False) -> None:
        """Lay the difference images out in the number of columns that makes them largest:
        one row in a wide, short panel, two by two in a square one, one column in a tall one."""
        area = self.grid.geometry()
        cols = self.best_columns(area.width(), area.height())
        if cols == self._columns and not force:
            return
        self._columns = cols
        for title, view in self._views:
            self.grid.removeWidget(title)
            self.grid.removeWidget(view)
        for r in range(self.grid.rowCount()):
            self.grid.setRowStretch(r, 0)
        for i, (title, view) in enumerate(self._views[:self._shown]):
            row, col = divmod(i, cols)
            self.grid.addWidget(title, 2 * row, col)
            self.grid.addWidget(view, 2 * row + 1, col)
            self.grid.setRowStretch(2 * row + 1, 1)
