"""Render the Explain panel in a 1280 x 800 window and save it (docs/explain.png).

The window starts fresh, as ``cnn-explorer --fresh --pipeline shapes --source PICTURE`` does,
opens the Explain panel with a method (or its channel tab on a selected map) and saves the
window once the map is drawn. Run from the repository root (no display needed)::

    python tools/make_explain_shot.py                          # Grad-CAM -> docs/explain.png
    python tools/make_explain_shot.py --method saliency --out shot.png
    python tools/make_explain_shot.py --channel 5 --layer 4 --out channel.png
    python tools/make_explain_shot.py --model resnet18.onnx --method gradcam --out r.png
    python tools/make_explain_shot.py --lang pt_BR --out docs/explain-pt_BR.png
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def wait(app, seconds: float, until=None) -> None:
    """Run the event loop for ``seconds``, or until ``until()`` is true."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end and not (until and until()):
        app.processEvents()
        time.sleep(0.01)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", default="shapes")
    parser.add_argument("--model", help="an ONNX model instead of --pipeline")
    parser.add_argument("--source", default=str(ROOT / "assets" / "samples" / "shapes.png"))
    parser.add_argument("--method", default="gradcam", help="a method key of gui.explain")
    parser.add_argument("--layer", type=int, help="select this layer (with --channel)")
    parser.add_argument("--channel", type=int, help="show the channel tab on this map")
    parser.add_argument("--steps", type=int, default=200, help="with --channel: ascent steps")
    parser.add_argument("--folder", help="with --channel: find the top 9 patches in this folder")
    parser.add_argument("--size", default="1280x800")
    parser.add_argument("--out", default=str(ROOT / "docs" / "explain.png"))
    parser.add_argument("--lang", default="en", help="the window's language: en or pt_BR")
    args = parser.parse_args(argv)
    from engine.i18n import set_language

    set_language(args.lang)
    with tempfile.TemporaryDirectory(prefix="cnn-explorer-shot-") as folder:
        os.environ["CNN_EXPLORER_CONFIG_DIR"] = folder  # never the user's saved state
        return shoot(args)


def shoot(args) -> int:
    import engine
    from engine.resolve import resolve_pipeline
    from gui.app import _application, wait_for_result
    from gui.live import LiveResults
    from gui.main_window import MainWindow
    from gui.session import Session, SourceSpec

    engine.configure()
    app = _application()
    session = Session(resolve_pipeline(args.pipeline))
    if args.model:
        from gui.dialogs.preprocess import open_model_from_args

        problem = open_model_from_args(session, args.model, interactive=False)
        if problem:
            print(problem, file=sys.stderr)
            return 2
    session.set_source(SourceSpec(kind="image", path=str(args.source)))
    live = LiveResults(session)
    window = MainWindow(session, live, persist=False)
    width, height = (int(v) for v in args.size.split("x"))
    window.resize(width, height)
    window.show()
    try:
        if not wait_for_result(live):
            print("no frame was processed", file=sys.stderr)
            return 2
        dock = window.docks["explain"]
        dock.show()
        dock.raise_()
        panel = dock.widget()
        if args.channel is not None:
            if args.layer is not None:
                session.set_selected_layer(args.layer)
            session.set_selected_map(args.channel)
            tab = panel.channel_tab
            tab.steps.setValue(args.steps)
            panel.show_channel()
            if args.folder:
                tab.find_patches("folder", args.folder)
                wait(app, 120, lambda: tab.patches_run is not None)
            wait(app, 60, lambda: tab._cache_key() in tab.cache and tab.alpha is not None)
        else:
            panel.class_tab.select_method(args.method)
            if not panel.class_tab.method.live:
                panel.class_tab.run()
            wait(app, 60, lambda: panel.class_tab.heat_page.outcome is not None
                 or panel.class_tab.fgsm_page.outcome is not None)
        wait(app, 0.5)
        window.grab().save(str(args.out), "PNG")
        print(f"Saved {args.out}")
        return 0
    finally:
        window.close()
        app.processEvents()


if __name__ == "__main__":
    sys.exit(main())
