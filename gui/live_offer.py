"""When the live view cannot keep up: a quiet bar in the status bar that says what limits it
and offers a remedy, or applies it unasked when View > Adapt speed automatically is on.

Two remedies: a lower working resolution (every stage gets cheaper), and running the pipeline
only as deep as the open panels show (:func:`gui.live_pace.deepest_needed`). Both are session
options, so they are saved with the session like the setting that allows them.
"""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton

from engine.i18n import _
from gui.live_pace import Slowdown, deepest_needed, lower_resolution

__all__ = ["SlowdownOffer", "install"]


class SlowdownOffer(QFrame):
    """The bar; built by :func:`install`, hidden while the live view keeps up."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window_, self.session, self.live = window, window.session, window.live
        self.setObjectName("slowdown_offer")
        self.label = QLabel()
        self.label.setToolTip(_("The live view shows fewer frames per second than the source "
                                "gives; the named stage takes the most time"))
        self.lower = QPushButton()
        self.lower.setToolTip(_("Process smaller frames: every stage gets faster"))
        self.lower.clicked.connect(self.apply_lower_resolution)
        self.skip = QPushButton(_("Run only the layers shown"))
        self.skip.setToolTip(_("Stop the pipeline after the deepest layer an open panel shows"))
        self.skip.clicked.connect(self.apply_shown_layers_only)
        self.dismiss = QToolButton()
        self.dismiss.setText("×")
        self.dismiss.setToolTip(_("Keep everything as it is"))
        self.dismiss.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 0, 4, 0)
        for widget in (self.label, self.lower, self.skip, self.dismiss):
            row.addWidget(widget)
        self.adapt_action = QAction(_("Adapt speed automatically"), window, checkable=True)
        self.adapt_action.setToolTip(_("When the live view cannot keep up, run only the layers "
                                       "shown or lower the working resolution without asking"))
        self.adapt_action.setChecked(self.session.display.adapt_speed)
        self.adapt_action.toggled.connect(
            lambda on: self.session.set_display(adapt_speed=bool(on)))
        self.shown_only_action = QAction(_("Run only the layers shown"), window, checkable=True)
        self.shown_only_action.setToolTip(_("Stop the pipeline after the deepest layer an open "
                                            "panel shows (faster; hidden panels get no data)"))
        self.shown_only_action.setChecked(self.session.display.shown_layers_only)
        self.shown_only_action.toggled.connect(
            lambda on: self.session.set_display(shown_layers_only=bool(on)))
        session, handler = self.session, self._on_session_display
        session.display_changed.connect(handler)
        # The session may outlive the window (tests, a notebook): no calls into a dead bar.
        self.destroyed.connect(lambda *_: session.display_changed.disconnect(handler,
                                                                             missing_ok=True))
        self.live.slowdownChanged.connect(self._on_live_slowdown)
        self.live.set_depth_source(self.layers_needed)
        for dock in window.docks.values():
            dock.visibilityChanged.connect(lambda _visible: self.live.refresh_depth())
        self.hide()

    # -- what can be done -----------------------------------------------------------------
    def layers_needed(self) -> int | None:
        """Layers the open panels need (None: all)."""
        visible = [key for key, dock in self.window_.docks.items() if dock.isVisible()]
        nodes = self.session.pipeline.nodes
        return deepest_needed(visible, self.session.selected_layer, len(nodes))

    def _lower_step(self) -> int | None:
        hw = self.live.frame_hw
        return None if hw is None else lower_resolution(self.session.display.resolution, max(hw))

    def _can_skip(self) -> bool:
        return not self.session.display.shown_layers_only and self.layers_needed() is not None

    def apply_lower_resolution(self) -> None:
        step = self._lower_step()
        if step is not None:
            self.session.set_display(resolution=step)
        self._applied()

    def apply_shown_layers_only(self) -> None:
        self.session.set_display(shown_layers_only=True)
        self._applied()

    def _applied(self) -> None:
        self.hide()
        self.live.reset_pace()  # judge the new settings afresh

    # -- events ---------------------------------------------------------------------------
    def _on_session_display(self, display) -> None:
        for action, on in ((self.adapt_action, display.adapt_speed),
                           (self.shown_only_action, display.shown_layers_only)):
            if action.isChecked() != on:
                action.setChecked(on)

    def _on_live_slowdown(self, slowdown: Slowdown | None) -> None:
        if slowdown is None:
            self.hide()
            return
        step, skip = self._lower_step(), self._can_skip()
        if self.session.display.adapt_speed and (skip or step is not None):
            text = (_("Running only the layers the open panels show") if skip else
                    _("Working at {side} pixels").format(side=step))
            self.session.message.emit("info", _(
                "The live view could not keep up (limited by {stage}). {done}, as View > "
                "Adapt speed automatically allows.").format(stage=slowdown.text, done=text))
            (self.apply_shown_layers_only if skip else self.apply_lower_resolution)()
            return
        self.label.setText(_("Live view slow: {shown:.0f} of {target:.0f} fps, limited by "
                             "{stage}.").format(shown=slowdown.shown_fps,
                                                target=slowdown.target_fps, stage=slowdown.text))
        self.lower.setVisible(step is not None)
        if step is not None:
            self.lower.setText(_("Work at {side} pixels").format(side=step))
        self.skip.setVisible(skip)
        self.show()


def install(window) -> SlowdownOffer:
    """Put the offer in ``window``'s status bar and its setting in the View menu."""
    offer = SlowdownOffer(window)
    window.statusBar().addPermanentWidget(offer)
    view = getattr(window, "menu_by_key", {}).get("view")
    if view is not None:
        view.addSeparator()
        view.addActions([offer.shown_only_action, offer.adapt_action])
    window.slowdown_offer = offer
    return offer
