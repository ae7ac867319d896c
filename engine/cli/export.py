"""The ``export`` subcommand of ``cnn-explorer``: a pipeline as ONNX, PyTorch source or a
numpy-only script.

``main.py`` adds its arguments with :func:`add_parsers` and runs it through
:func:`engine.cli.guarded`, so every bad input ends with exit code 2 and one line.
"""

from __future__ import annotations

from engine.i18n import _

__all__ = ["add_parsers", "export_command"]


def add_parsers(sub) -> None:
    """Add ``export`` to ``main.py``'s subcommand parsers."""
    from engine.cli import parse_shape

    def shape(text):
        import argparse

        try:
            return parse_shape(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    p = sub.add_parser(
        "export", help=_("write a pipeline as ONNX, PyTorch source or a numpy script"),
        description=_("Write PIPELINE (bundled, a pipeline file or an .onnx model) as an ONNX"
                      " model (opset 17), a PyTorch nn.Module source file or a script that"
                      " needs only numpy; the programs' weights go to an .npz beside them."))
    p.add_argument("pipeline", metavar="PIPELINE", help=_("bundled name, pipeline file or .onnx"))
    p.add_argument("--format", required=True, choices=("onnx", "pytorch", "numpy"))
    p.add_argument("--out", required=True, metavar="PATH", help=_("the file to write"))
    p.add_argument("--input-shape", metavar="C,H,W", type=shape,
                   help=_("input size (default: the pipeline's own)"))


def export_command(args) -> int:
    """Run ``cnn-explorer export``; prints the files written."""
    from engine.export import export_pipeline
    from engine.resolve import resolve_pipeline

    pipeline = resolve_pipeline(args.pipeline)
    for path in export_pipeline(pipeline, args.format, args.out, args.input_shape):
        print(_("wrote {path}").format(path=path))
    return 0
