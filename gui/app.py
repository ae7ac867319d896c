"""Start the desktop app: QApplication, Session, live loop, main window; --screenshot runs."""

from __future__ import annotations

import signal
import sys
import time
from argparse import Namespace
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from engine.i18n import _
from gui.capture import classify_path
from gui.heap import HeapSettler
from gui.live import LiveResults
from gui.main_window import MainWindow
from gui.session import Session, SourceSpec

SCREENSHOT_TIMEOUT_S = 30.0
TRAINING_TIMEOUT_S = 600.0  # a --train screenshot waits this long at most for its steps
SETTLE_MS = 400  # after the first result: time for every dock to paint it
PANELS_MS = 500  # after training paused: the Train panels' own redraws (gui.train.controller)


class ArgumentError(ValueError):
    """A command-line argument that cannot be used (missing file, bad pipeline, ...)."""


def _application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("CNN Explorer")
    app.setOrganizationName("cnn-explorer")
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
    return app


def apply_args(session: Session, args: Namespace) -> list[str]:
    """Apply --source, --camera, --pipeline and --layer to ``session``; return the problems."""
    from engine.resolve import resolve_pipeline

    problems: list[str] = []
    model = getattr(args, "model", None)
    if model:
        from gui.dialogs.preprocess import open_model_from_args

        interactive = not getattr(args, "screenshot", None)
        problem = open_model_from_args(session, model, interactive=interactive)
        if problem:
            problems.append(_("--model {model}: {problem}").format(model=model, problem=problem))
    if getattr(args, "tour", None) is not None:
        from gui.tour import TourError, check_stop_number

        try:
            check_stop_number(args.tour)
        except TourError as exc:
            problems.append(_("--tour {tour}: {exc}").format(tour=args.tour, exc=exc))
    lesson_problem = _check_lesson(args)
    if lesson_problem:
        problems.append(lesson_problem)
    pipeline = getattr(args, "pipeline", None)
    if pipeline:
        try:
            is_file = Path(pipeline).suffix.lower() == ".json"
            session.set_pipeline(
                resolve_pipeline(pipeline), undoable=False, path=pipeline if is_file else None
            )
        except (OSError, ValueError) as exc:
            problems.append(_("--pipeline {pipeline}: {exc}").format(pipeline=pipeline, exc=exc))
    source = getattr(args, "source", None)
    camera = getattr(args, "camera", None)
    if source:
        kind = classify_path(source)
        if not Path(source).is_file():
            problems.append(_("--source {source}: the file does not exist").format(source=source))
        elif kind not in ("image", "video"):
            problems.append(_("--source {source}: not an image or video file CNN Explorer knows")
                              .format(source=source))
        else:
            session.set_source(SourceSpec(kind=kind, path=str(source)))
    elif camera is not None:
        session.set_source(SourceSpec(kind="camera", camera_index=int(camera)))
    presenter = getattr(args, "presenter", None)
    if presenter is not None:  # 0: the scale the session keeps
        session.set_presenter(on=True, **({"scale": presenter} if presenter else {}))
    layer = getattr(args, "layer", None)
    if layer is not None:
        n = len(session.pipeline.nodes)
        if 0 <= int(layer) < n:
            session.set_selected_layer(int(layer))
        else:
            problems.append(_("--layer {layer}: the pipeline has layers 0 to {value}")
                              .format(layer=layer, value=n - 1))
    return problems


def _lesson_step(args: Namespace) -> int:
    """--step N (1-based), 1 when not given."""
    step = getattr(args, "step", None)
    return 1 if step is None else int(step)


def _check_lesson(args: Namespace) -> str | None:
    """Why --lesson FILE [--step N] cannot be opened, or None."""
    path = getattr(args, "lesson", None)
    if not path:
        return None
    from engine.i18n import _
    from engine.lecture.lesson_file import LessonError, load_lesson

    try:
        count = len(load_lesson(path).steps)
    except LessonError as error:
        return f"--lesson {path}: {error}"
    step = _lesson_step(args)
    if not 1 <= step <= count:
        return _("--step {n}: the lesson has steps 1 to {count}").format(n=step, count=count)
    return None


def _check_source(session: Session) -> str | None:
    """Open the source once, so a --screenshot run fails at once with a clear message."""
    from engine.io.media import MediaError
    from gui.capture import open_source

    try:
        open_source(session.source).close()
    except (MediaError, OSError) as exc:
        return _("cannot open {describe}: {exc}").format(
            describe=session.source.describe(), exc=exc)
    return None


def wait_for_result(live: LiveResults, timeout_s: float = SCREENSHOT_TIMEOUT_S) -> bool:
    """Run the event loop until the first result arrives (True), or the pipeline reports that
    it cannot run on the frame, or ``timeout_s`` passes (False)."""
    loop = QEventLoop()
    live.resultUpdated.connect(loop.quit)
    live.errorChanged.connect(loop.quit)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(int(timeout_s * 1000))
    deadline = time.perf_counter() + timeout_s
    while live.latest is None and not live.error and time.perf_counter() < deadline:
        loop.exec()
    timer.stop()
    live.resultUpdated.disconnect(loop.quit)
    live.errorChanged.disconnect(loop.quit)
    return live.latest is not None


def wait_for_training(window: MainWindow, timeout_s: float = TRAINING_TIMEOUT_S) -> None:
    """Run the event loop while the window's training prepares or trains (a --train-steps run
    pauses after its steps; the tour's last stop trains for a few seconds), until its last
    snapshot is drawn. Nothing happens when training was never used."""
    training = sys.modules.get("gui.train.controller")
    if training is None:
        return
    controller = training.controller_for(window.session, window.live)
    deadline = time.perf_counter() + timeout_s
    loop = QEventLoop()
    while time.perf_counter() < deadline:
        controller.poll()
        if not controller.busy and not controller.pending:
            break
        QTimer.singleShot(50, loop.quit)
        loop.exec()
    QTimer.singleShot(PANELS_MS, loop.quit)  # each panel redraws in a turn of its own
    loop.exec()


def start_training(window: MainWindow, args: Namespace) -> None:
    """--train DATA [--train-steps N]: the Train workspace, training on DATA."""
    from gui.train.controller import controller_for
    from gui.train.networks import CURRENT
    from gui.train.plan import DEFAULT_SAMPLES, DRAWN

    window.show_workspace("train")
    controller = controller_for(window.session, window.live)
    own = bool(getattr(args, "pipeline", None) or getattr(args, "model", None))
    drawn = args.train.strip().lower() in DRAWN
    controller.set_plan(data=args.train, samples=DEFAULT_SAMPLES if drawn else None,
                        network=CURRENT if own else controller.plan.network)
    controller.start(max_steps=getattr(args, "train_steps", None))


def take_screenshot(window: MainWindow, path: str | Path) -> str | None:
    """Wait for the first result (and any training under way), let the docks paint, save the
    window; an error text or None."""
    if not wait_for_result(window.live):
        if window.live.error:
            return window.live.error
        return _("no frame was processed within {SCREENSHOT_TIMEOUT_S:.0f} s").format(
            SCREENSHOT_TIMEOUT_S=SCREENSHOT_TIMEOUT_S)
    wait_for_training(window)
    loop = QEventLoop()
    QTimer.singleShot(SETTLE_MS, loop.quit)
    loop.exec()
    QApplication.processEvents()
    if not window.grab().save(str(path), "PNG"):
        return _("could not write {path}").format(path=path)
    return None


def run(args: Namespace) -> int:
    """Open the window as ``args`` asks; returns the process exit code.

    With ``args.screenshot`` the run is deterministic (fresh session, default layout, nothing
    saved) and exits after saving the picture: 0 on success, 2 on bad arguments or failure.
    """
    app = _application()
    screenshot = getattr(args, "screenshot", None)
    session = Session()
    early: list[tuple[str, str]] = []  # messages sent before the window exists to show them

    def keep(level: str, text: str) -> None:
        early.append((level, text))

    session.message.connect(keep)
    if not screenshot and not getattr(args, "fresh", False):
        session.load()
    problems = apply_args(session, args)
    if screenshot and not problems:
        source_problem = _check_source(session)
        if source_problem:
            problems.append(source_problem)
    if getattr(args, "train", None) is not None:
        from gui.train.controller import set_persist

        set_persist(session, not screenshot)  # a screenshot run keeps no training run
    if screenshot and problems:
        for problem in problems:
            print(_("cnn-explorer: {problem}").format(problem=problem), file=sys.stderr)
        return 2
    from engine.i18n import current_language
    from gui.dialogs.preferences import install_qt_translations

    install_qt_translations(app, current_language())
    live = LiveResults(session)
    window = MainWindow(session, live, persist=not screenshot)
    window.heap = HeapSettler(session, live, window)  # no 100 ms collections once running
    session.message.disconnect(keep)
    for level, text in early:
        window.show_message(level, text)
    if problems:  # one message, so that none hides another in the status bar
        session.message.emit("error", _("{problems}. Started with the defaults.").format(
            problems="; ".join(problems)))
    window.show()
    if getattr(args, "train", None) is not None:
        start_training(window, args)
    elif getattr(args, "lesson", None) and not problems:
        from gui.lesson.files import open_lesson

        open_lesson(window, args.lesson, _lesson_step(args))
    elif getattr(args, "tour", None) is not None and not problems:
        from gui.tour import start_tour

        own = bool(getattr(args, "source", None)) or getattr(args, "camera", None) is not None
        start_tour(window, args.tour, use_own_source=own)
    elif not screenshot:
        from gui.welcome import was_seen

        if not was_seen():  # the first start: say what is where, once
            window.show_welcome()
        _mention_unfinished_run(window)
    if screenshot:
        error = take_screenshot(window, screenshot)
        error = error or _training_error(window, args)
        window.close()
        if error:
            print(_("cnn-explorer: screenshot failed: {error}").format(error=error),
                  file=sys.stderr)
            return 2
        print(_("Saved {screenshot}").format(screenshot=screenshot))
        return 0
    close_on_terminal_signals(window)
    return int(main_loop(app))


def _mention_unfinished_run(window: MainWindow) -> None:
    """A training run the window did not finish (closed, crashed): say where to resume it."""
    from engine.i18n import _
    from gui.train.runs import unfinished_run

    if unfinished_run() is not None:
        window.show_message("info", _("The last training run did not finish: View > Workspaces"
                                      " > Train offers to resume it."))


def _training_error(window: MainWindow, args: Namespace) -> str | None:
    """The message of a --train run that failed (bad DATA, a network that does not fit)."""
    if getattr(args, "train", None) is None:
        return None
    from gui.train.controller import controller_for

    latest = controller_for(window.session, window.live).latest
    return f"--train {args.train}: {latest.message}" if latest.state == "error" else None


def close_on_terminal_signals(window: MainWindow) -> QTimer:
    """Ctrl+C or SIGTERM closes the window the normal way: threads joined, session saved.

    Python runs signal handlers only between bytecodes, and Qt's event loop is C++; a short
    timer hands control back to Python often enough for the handler to run.
    """
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: window.close())
    timer = QTimer(window)
    timer.timeout.connect(lambda: None)
    timer.start(200)
    return timer


def main_loop(app: QApplication) -> int:
    """Run the application until its last window closes (tests replace this with a local loop)."""
    return app.exec()
