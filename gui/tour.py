"""The guided tour's logic: apply a stop to the window, start the tour, lay out its panels.

:func:`apply_stop` sets a stop up in a :class:`~gui.main_window.MainWindow`: the session's
pipeline, source and display options, the panels it shows, the players' examples; nothing is
undone when the user leaves the tour. The stops themselves (texts, formulas, pipelines) are data
in :mod:`gui.tour_stops`; :class:`TourStop` and :func:`stops` are re-exported here.
"""

from __future__ import annotations

from itertools import pairwise

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

from gui.layout import DEFAULT_SIZE, DOCKS, DockSpec
from gui.session import SourceSpec, list_samples
from gui.tour_stops import TourStop, stops

__all__ = [
    "TOUR_KEY",
    "TOUR_WIDTH",
    "TourError",
    "TourStop",
    "apply_stop",
    "apply_to_session",
    "arrange_docks",
    "check_stop_number",
    "size_columns",
    "start_tour",
    "stops",
    "with_tour_docks",
]

TOUR_KEY = "tour"  # the tour panel's key in the dock registry
TOUR_WIDTH = 300  # pixels of the tour column at the default window size


class TourError(ValueError):
    """A stop number outside the tour."""


def with_tour_docks(docks=None) -> tuple:
    """The dock registry, plus the tour panel when the registry does not list it.

    Parameters
    ----------
    docks : tuple of DockSpec, optional
        The registry to complete (``gui.layout.DOCKS`` by default).
    """
    docks = DOCKS if docks is None else docks
    if any(spec.key == TOUR_KEY for spec in docks):
        return tuple(docks)
    tour = DockSpec(TOUR_KEY, "Guided tour", "left", "gui.docks.tour:TourDock",
                    "The lecture, one stop at a time: each stop sets the panels up for one idea")
    return (*docks, tour)


def check_stop_number(n: int) -> int:
    """Return the 0-based index of stop ``n`` (1-based); TourError when there is no such stop."""
    count = len(stops())
    if not 1 <= int(n) <= count:
        raise TourError(f"the tour has stops 1 to {count}; there is no stop {n}")
    return int(n) - 1


# -- applying a stop ---------------------------------------------------------------------------
def apply_to_session(session, stop: TourStop, use_own_source: bool = False) -> None:
    """Set the session's pipeline, source, selection and display options for ``stop``."""
    # The source first: the engine re-runs the last frame at once when the pipeline changes.
    if stop.sample is not None and not use_own_source and stop.sample in list_samples():
        session.set_source(SourceSpec(kind="sample", sample=stop.sample))
    session.set_pipeline(stop.build_pipeline())
    session.pipeline_path = None  # the tour's pipeline is not the file that was open before
    session.set_display(show_channels=stop.show_channels, normalization=stop.normalization)
    session.set_selected_layer(stop.layer)
    session.set_selected_map(stop.selected_map)


def apply_stop(window: QMainWindow, index: int, use_own_source: bool = False) -> list[str]:
    """Set ``window`` up for stop ``index`` (0-based): session, panels, players, tour panel.

    Parameters
    ----------
    window : MainWindow
        The app's window; its ``session`` and ``docks`` (key -> QDockWidget) are used.
    index : int
        0-based stop index.
    use_own_source : bool
        Keep the current source instead of switching to the stop's sample.

    Returns
    -------
    list of str
        The keys of panels the stop wanted but the window does not have.
    """
    all_stops = stops()
    if not 0 <= index < len(all_stops):
        raise TourError(f"the tour has stops 1 to {len(all_stops)}; there is no stop {index + 1}")
    stop = all_stops[index]
    apply_to_session(window.session, stop, use_own_source)
    missing = [key for key in stop.dock_keys() if key not in window.docks]
    arrange_docks(window, stop)
    _set_up_players(window, stop)
    tour = window.docks.get(TOUR_KEY)
    if tour is not None and hasattr(tour.widget(), "show_stop"):
        tour.widget().show_stop(index)
    return missing


def start_tour(window: QMainWindow, n: int, use_own_source: bool = False) -> None:
    """Open stop ``n`` (1-based, as on the command line), adding the tour panel if needed."""
    index = check_stop_number(n)
    if TOUR_KEY not in window.docks:
        spec = next(s for s in with_tour_docks() if s.key == TOUR_KEY)
        dock = QDockWidget(spec.title, window)
        dock.setObjectName(f"dock_{TOUR_KEY}")
        # Through the registry's factory, as every panel is built: the tour panel's module
        # imports this one, so this one never imports it.
        dock.setWidget(spec.load()(window.session, window.live, parent=dock))
        window.docks[TOUR_KEY] = dock
    window.docks[TOUR_KEY].widget().set_use_own_source(use_own_source)
    apply_stop(window, index, use_own_source)
    # The default layout may have widened the window to fit every panel; the stop needs less.
    window.resize(*DEFAULT_SIZE)
    size_columns(window, stops()[index])


def arrange_docks(window: QMainWindow, stop, panel_key: str = TOUR_KEY) -> None:
    """Hide the panels the stop does not use; lay out the tour column and the stop's columns.

    ``stop`` is a TourStop or anything with its ``columns``, ``widths``, ``heights`` and
    ``dock_keys()`` (a lesson step's :class:`~engine.lecture.lesson.Layout`); ``panel_key``
    names the panel that leads in the first column (the tour's, or the lesson's).
    """
    wanted = set(stop.dock_keys()) | {panel_key}
    for key, dock in window.docks.items():
        if key not in wanted:
            dock.hide()
    columns = [[window.docks[k] for k in column if k in window.docks] for column in stop.columns]
    columns = [column for column in columns if column]
    if panel_key in window.docks:
        columns.insert(0, [window.docks[panel_key]])
    if not columns:
        return
    area = Qt.DockWidgetArea.LeftDockWidgetArea
    for column in columns:
        for dock in column:
            dock.setFloating(False)
            window.removeDockWidget(dock)
    window.addDockWidget(area, columns[0][0])
    for before, column in pairwise(columns):
        window.splitDockWidget(before[0], column[0], Qt.Orientation.Horizontal)
    for column in columns:
        for above, below in pairwise(column):
            window.splitDockWidget(above, below, Qt.Orientation.Vertical)
    for column in columns:
        for dock in column:
            dock.show()
            dock.raise_()
    size_columns(window, stop, panel_key)


def size_columns(window: QMainWindow, stop, panel_key: str = TOUR_KEY) -> None:
    """Give the tour column, the stop's columns and its stacked panels their sizes."""
    tops, widths = [], []
    if panel_key in window.docks:
        tops.append(window.docks[panel_key])
        widths.append(TOUR_WIDTH)
    for column, width in zip(stop.columns, stop.widths, strict=False):
        present = [k for k in column if k in window.docks]
        if present:
            tops.append(window.docks[present[0]])
            widths.append(width)
    if tops:
        window.resizeDocks(tops, widths, Qt.Orientation.Horizontal)
    sized = [(window.docks[k], h) for k, h in stop.heights if k in window.docks]
    if sized:
        window.resizeDocks([d for d, _ in sized], [h for _, h in sized], Qt.Orientation.Vertical)


def _set_up_players(window: QMainWindow, stop: TourStop) -> None:
    """Load the lecture examples into the players the stop uses."""
    if stop.conv is not None and "conv_player" in window.docks:
        player = window.docks["conv_player"].widget()
        player.load_source(stop.conv.source)
        player.stride.setValue(stop.conv.stride)  # each setValue re-traces the convolution
        player.padding.setValue(stop.conv.padding)
        if stop.conv.step < 0:
            player.controls.last()  # the whole output filled in
        else:
            player.controls.set_step(stop.conv.step)
    if stop.pool is not None and "pool_player" in window.docks:
        player = window.docks["pool_player"].widget()
        player.load_lecture_example()
        player.controls.set_step(stop.pool.step)
    for key, method, args in stop.calls:
        if key in window.docks:
            getattr(window.docks[key].widget(), method)(*args)
