"""Render every stop of the guided tour and write docs/tour.md.

Each stop is opened in a fresh 1280 x 800 window, exactly as ``cnn-explorer --tour N
--screenshot OUT.png`` does, and saved as docs/tour/stop-NN.png once the first frame has been
processed. Run from the repository root (no display needed)::

    python tools/make_tour_docs.py            # every stop
    python tools/make_tour_docs.py --stops 4 8
    python tools/make_tour_docs.py --lang pt_BR  # docs/tour.pt_BR.md, docs/tour/pt_BR/
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WINDOW_SIZE = (1280, 800)

INTRO = """\
# The guided tour

The tour walks through the CNN lecture in its order, one idea per stop. Each stop loads a
pipeline, picks a sample image, arranges the panels it needs and sets the players to the
lecture's examples; the panel on the left explains what you see, with the formula and the
lecture's numbers. Open it with **View > Guided tour**, move with **Next** and **Back**
(Alt+Right, Alt+Left), and press **Leave tour** (Alt+L) at any stop to keep everything it set
up and carry on by yourself. Tick **Use my own source** to run the stops on your own image,
video or camera instead of the samples.

From the command line, `cnn-explorer --tour N` opens stop N, and
`cnn-explorer --tour N --screenshot stop.png` saves it as a picture. The pictures below were
made that way by `python tools/make_tour_docs.py`.
"""

INTRO_PT_BR = """\
# O tour guiado

O tour percorre a aula sobre CNNs na ordem dela, uma ideia por parada. Cada parada carrega uma
rede, escolhe uma imagem de exemplo, arruma os painéis de que precisa e ajusta os reprodutores
aos exemplos da aula; o painel à esquerda explica o que se vê, com a fórmula e os números da
aula. Abra-o em **Exibir > Tour guiado**, avance com **Próxima** e **Voltar** (Alt+Direita,
Alt+Esquerda) e, em qualquer parada, **Sair do tour** (Alt+L) mantém tudo o que ele montou.
Na linha de comando, `cnn-explorer --lang pt_BR --tour N` abre a parada N. As imagens abaixo
foram feitas por `python tools/make_tour_docs.py --lang pt_BR`.
"""

HEADINGS = {"en": "Stop", "pt_BR": "Parada"}
INTROS = {"en": INTRO, "pt_BR": INTRO_PT_BR}


def render_stop(n: int, out: Path) -> str | None:
    """Open stop ``n`` (1-based) in a fresh window and save it to ``out``; an error or None."""
    from gui.app import _application, take_screenshot
    from gui.live import LiveResults
    from gui.main_window import MainWindow
    from gui.session import Session
    from gui.tour import start_tour, with_tour_docks

    _application()
    session = Session()
    live = LiveResults(session)
    window = MainWindow(session, live, docks=with_tour_docks(), persist=False)
    window.resize(*WINDOW_SIZE)
    window.show()
    try:
        start_tour(window, n)
        return take_screenshot(window, out)
    finally:
        window.close()


def markdown(stops, pictures: dict[int, str], lang: str = "en") -> str:
    """docs/tour.md: the intro, then per stop its title, picture, text and formula."""
    parts = [INTROS[lang]]
    heading = HEADINGS[lang]
    for i, stop in enumerate(stops, start=1):
        parts.append(f"## {heading} {i}: {stop.title}\n")
        if i in pictures:
            parts.append(f"![{heading} {i}: {stop.title}]({pictures[i]})\n")
        parts.append(f"{stop.text}\n")
        parts.append("```text\n" + stop.formula + "\n```\n")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stops", type=int, nargs="*", metavar="N",
                        help="render only these stops (1-based); docs/tour.md lists every stop")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs", help="the docs folder")
    parser.add_argument("--lang", choices=sorted(INTROS), default="en",
                        help="the language of the window and of the page")
    args = parser.parse_args(argv)
    from engine.i18n import set_language

    set_language(args.lang)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # Nothing the renders do may touch the user's saved session or layout.
    os.environ["CNN_EXPLORER_CONFIG_DIR"] = tempfile.mkdtemp(prefix="cnn-explorer-tour-")
    from gui.tour import check_stop_number, stops

    all_stops = stops()
    wanted = args.stops or list(range(1, len(all_stops) + 1))
    for n in wanted:
        try:
            check_stop_number(n)
        except ValueError as exc:
            parser.error(str(exc))
    sub = "tour" if args.lang == "en" else f"tour/{args.lang}"
    folder = args.docs / sub
    folder.mkdir(parents=True, exist_ok=True)
    failed = 0
    for n in wanted:
        out = folder / f"stop-{n:02d}.png"
        error = render_stop(n, out)
        if error:
            failed += 1
            print(f"stop {n}: {error}", file=sys.stderr)
        else:
            print(f"stop {n}: {out.relative_to(args.docs)}")
    pictures = {n: f"{sub}/stop-{n:02d}.png" for n in range(1, len(all_stops) + 1)
                if (folder / f"stop-{n:02d}.png").is_file()}
    page = args.docs / ("tour.md" if args.lang == "en" else f"tour.{args.lang}.md")
    page.write_text(markdown(all_stops, pictures, args.lang), encoding="utf-8")
    print(f"wrote {page}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
