"""A dock whose panel is built the first time it is shown or asked for.

Ten of the window's sixteen panels (the lecture players, the filter gallery, the canvas, ...)
start hidden; building them all took about a third of the window's start-up. A
:class:`LazyDock` builds its panel when it first becomes visible (View menu, a tab, the tour, a
restored layout) or when code asks for it with :meth:`widget`.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QDockWidget, QWidget


class LazyDock(QDockWidget):
    """A QDockWidget that calls ``build()`` for its panel on first need."""

    def __init__(self, title: str, parent: QWidget, build: Callable[[QWidget], QWidget]) -> None:
        super().__init__(title, parent)
        self._build: Callable[[QWidget], QWidget] | None = build
        self.visibilityChanged.connect(self._on_visibility_changed)

    @property
    def is_built(self) -> bool:
        return self._build is None

    def ensure_built(self) -> None:
        """Build the panel now if it has not been built yet."""
        if self._build is not None:
            build, self._build = self._build, None
            self.setWidget(build(self))

    def widget(self) -> QWidget:  # Python callers get the real panel, built on demand
        self.ensure_built()
        return super().widget()

    def _on_visibility_changed(self, visible: bool) -> None:
        if visible:
            self.ensure_built()
