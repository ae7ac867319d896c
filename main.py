"""cnn-explorer: open the desktop app, or run a headless subcommand (summary, run).

Only argument parsing and dispatch live here: the subcommands are in engine/cli.py, the window
in gui/app.py. Qt is imported only when the window is wanted, so the subcommands run without a
display.
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path

import engine
from engine import cli
from engine.i18n import LANGUAGES, N_, _, language_from_argv, set_language, startup_language

EPILOG = N_("""\
examples:
  cnn-explorer                                   the window, on a bundled sample
  cnn-explorer --source photo.jpg --pipeline edges
  cnn-explorer --pipeline default --layer 2 --screenshot shot.png
  cnn-explorer --train shapes                    the Train workspace, training on shapes
  cnn-explorer --lesson class/edges.lesson.json --step 3
  cnn-explorer summary lecture --input-shape 3,32,32
  cnn-explorer run default photo.jpg --out maps/
  cnn-explorer explain shapes picture.png --method gradcam --out why/
  cnn-explorer export shapes --format onnx --out shapes.onnx
""")


def _version() -> str:
    try:
        return metadata.version("cnn-explorer")
    except metadata.PackageNotFoundError:  # run from a checkout that was never pip-installed
        import tomllib

        pyproject = Path(__file__).resolve().parent / "pyproject.toml"
        return tomllib.loads(pyproject.read_text())["project"]["version"]


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: "cnn-explorer: error: ..."."""

    def error(self, message: str):
        self.exit(2, _("{prog}: error: {message} (see {command} --help)").format(
            prog=cli.PROG, message=message, command=self.prog) + "\n")


def _count(text: str) -> int:
    """A whole number >= 0, for indices."""
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(
            _("expected a whole number 0 or more, got '{text}'").format(text=text))
    return int(text)


def _presenter_scale(text: str) -> float:
    """1.5 or 2 (an "x" after it is allowed), for --presenter."""
    try:
        scale = float(text.strip().lower().removesuffix("x"))
    except ValueError:
        scale = 0.0
    if scale not in (1.5, 2.0):
        raise argparse.ArgumentTypeError(
            _("expected 1.5 or 2, got '{text}'").format(text=text))
    return scale


def _shape(text: str) -> tuple[int, int, int]:
    try:
        return cli.parse_shape(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _lang(text: str) -> str:
    if text not in LANGUAGES:
        raise argparse.ArgumentTypeError(
            _("unknown language '{text}': choose {choices}").format(
                text=text, choices=", ".join(LANGUAGES)))
    return text


def _add_lang(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", metavar="|".join(reversed(LANGUAGES)), type=_lang,
                        help=_("language of the window and messages (default: Preferences, "
                               "else the system's)"))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=cli.PROG,
        description=_("See inside a convolutional neural network: kernels, output sizes, "
        "parameters and activation maps, live. Without a subcommand, opens the window."),
        epilog=_(EPILOG),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}",
                        help=_("show program's version number and exit"))
    _add_lang(parser)
    gui = parser.add_argument_group(_("window options"))
    gui.add_argument("--source", metavar="PATH", help=_("image or video file to show"))
    gui.add_argument("--camera", metavar="N", type=_count, help=_("show camera N (0: the first)"))
    gui.add_argument(
        "--pipeline",
        metavar="NAME_OR_PATH",
        help=_("bundled pipeline (default, edges, lecture, shapes) or a pipeline file"),
    )
    gui.add_argument("--model", metavar="PATH", help=_("open an ONNX model instead of a pipeline"))
    gui.add_argument("--layer", metavar="N", type=_count, help=_("select layer N (0: the first)"))
    gui.add_argument("--tour", metavar="N", type=_count, help=_("open stop N of the guided tour"))
    gui.add_argument("--lesson", metavar="FILE", help=_("open a lesson file in the Lesson panel"))
    gui.add_argument("--step", metavar="N", type=_count,
                     help=_("with --lesson: open its step N (1: the first)"))
    gui.add_argument("--train", metavar="DATA",
                     help=_("open the Train workspace and train on DATA (the words of the train"
                     " command: shapes, digits, a folder, mnist:FOLDER)"))
    gui.add_argument("--train-steps", metavar="N", type=_count,
                     help=_("with --train: pause after N steps (a screenshot waits for them)"))
    gui.add_argument(
        "--screenshot",
        metavar="OUT.png",
        help=_("save the window as an image after the first processed frame, then quit"),
    )
    gui.add_argument(
        "--presenter", metavar="SCALE", nargs="?", const=0.0, type=_presenter_scale,
        help=_("presenter mode: everything 1.5 or 2 times larger for a projector, the toolbar"
               " and secondary panels hidden (default: the scale last chosen, else 1.5)"),
    )
    gui.add_argument(
        "--fresh", action="store_true", help=_("ignore the saved session and layout this time")
    )

    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title=_("headless commands"))
    p = sub.add_parser(
        "summary",
        help=_("print a pipeline's layers, output sizes, parameters and costs"),
        description=_("Print the ledger: per layer the output size with its formula, the "
        "parameters, the fully connected equivalent, multiply-accumulates and memory."),
    )
    p.add_argument("pipeline", metavar="PIPELINE", help=_("bundled name, pipeline file or .onnx"))
    p.add_argument(
        "--input-shape",
        metavar="C,H,W",
        type=_shape,
        help=_("input size (default: the pipeline's own, else C,480,640)"),
    )
    p.add_argument("--json", action="store_true", help=_("print the ledger as JSON"))

    p = sub.add_parser(
        "run",
        help=_("run a pipeline on an image and save every layer's maps"),
        description=_("Writes <idx>_<name>.npy and .png per layer, input.png and ledger.json."),
    )
    p.add_argument("pipeline", metavar="PIPELINE", help=_("bundled name, pipeline file or .onnx"))
    p.add_argument("image", metavar="IMAGE", help=_("PNG, JPEG, BMP, TIFF or WebP file"))
    p.add_argument("--out", metavar="DIR", required=True, help=_("folder for the results"))
    p.add_argument(
        "--side",
        metavar="N",
        type=_count,
        help=_("scale the image so its longest side is N pixels first"),
    )
    from engine.cli import export as export_commands
    from engine.cli import train as train_commands

    train_commands.add_parsers(sub)
    from engine.cli import explain as explain_command

    explain_command.add_parsers(sub)
    export_commands.add_parsers(sub)
    for command in sub.choices.values():
        _add_lang(command)
    return parser


def main(argv: list[str] | None = None) -> int:
    # The language first: the parser's help and errors are written in it.
    words = sys.argv[1:] if argv is None else argv
    requested = language_from_argv(words)
    set_language(startup_language(requested if requested in LANGUAGES else None))
    args = build_parser().parse_args(argv)
    # The engine's threads and process settings, once, for the window and every subcommand
    # (importing the engine changes none of them; see engine/config.py).
    engine.configure()
    if args.command == "summary":
        return cli.guarded(cli.summary, args.pipeline, args.input_shape, as_json=args.json)
    if args.command == "run":
        return cli.guarded(cli.run, args.pipeline, args.image, args.out, side=args.side)
    if args.command == "export":
        from engine.cli.export import export_command

        return cli.guarded(export_command, args)
    if args.command in ("train", "evaluate"):
        from engine.cli import train as commands

        command = commands.train_command if args.command == "train" else commands.evaluate_command
        return cli.guarded(command, args)
    if args.command == "explain":
        from engine.cli import explain

        return cli.guarded(explain.explain_command, args)
    if args.source is not None and args.camera is not None:
        print(_("{prog}: error: choose either --source or --camera, not both").format(
            prog=cli.PROG), file=sys.stderr)
        return 2
    if args.step is not None and args.lesson is None:
        print(_("{prog}: error: --step needs --lesson FILE").format(prog=cli.PROG),
              file=sys.stderr)
        return 2
    if args.train_steps is not None and args.train is None:
        print(_("{prog}: error: --train-steps needs --train DATA").format(prog=cli.PROG),
              file=sys.stderr)
        return 2
    from gui.platform_check import exit_if_qt_cannot_start

    # Qt aborts with a misleading message when its xcb plugin cannot load: say which libraries
    # are missing (or that there is no display) before any Qt code runs.
    code = exit_if_qt_cannot_start(cli.PROG)
    if code is not None:
        return code
    from gui.app import run  # Qt only now: the subcommands above need no display

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
