"""The translation catalog: complete, consistent with the sources, compiled, used by the CLI.

(b) the Portuguese catalog has no untranslated or fuzzy entry, keeps every placeholder, and the
committed .mo is what compiling the .po gives; (c) Babel's extraction over the sources finds
no message the catalog lacks (and the catalog keeps none the sources dropped); (e) ``--lang
pt_BR`` on a subcommand prints Portuguese help and errors. Numbers follow the language.
"""

from __future__ import annotations

import gettext
import io
import string
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from engine import i18n

ROOT = Path(__file__).resolve().parents[1]
PO = i18n.LOCALE_DIR / "pt_BR" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
MO = PO.with_suffix(".mo")


@pytest.fixture(scope="module")
def catalog():
    with PO.open("rb") as fh:
        return read_po(fh)


@pytest.fixture
def portuguese():
    i18n.set_language("pt_BR")
    yield
    i18n.set_language("en")


def _key(message_id) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def _mapping() -> list[tuple[str, str]]:
    """babel.cfg's [python: PATTERN] sections, as extract_from_dir takes them."""
    sections = [line.strip()[1:-1] for line in (ROOT / "babel.cfg").read_text().splitlines()
                if line.strip().startswith("[")]
    return [(pattern.strip(), method.strip()) for method, pattern in
            (section.split(":", 1) for section in sections)]


def test_every_message_is_translated_and_none_is_fuzzy(catalog):
    problems = [m.id for m in catalog if m.id and (
        m.fuzzy or not m.string or (not isinstance(m.string, str) and not all(m.string)))]
    assert problems == []
    assert catalog.num_plurals == 2 and catalog.plural_expr == "(n > 1)"
    assert len(catalog) > 1500


def test_the_catalog_passes_babels_checks(catalog):
    errors = [(message.id, [str(e) for e in found]) for message, found in catalog.check()]
    assert errors == []


def _fields(text: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:  # not a brace template (argparse's %-texts)
        return set()


def test_translations_keep_every_placeholder(catalog):
    changed = []
    for m in catalog:
        if not m.id:
            continue
        ids = [m.id] if isinstance(m.id, str) else list(m.id)
        strings = [m.string] if isinstance(m.string, str) else list(m.string)
        wanted = set().union(*(_fields(i) for i in ids))
        changed += [(m.id, s) for s in strings if _fields(s) != wanted]
    assert changed == []


def test_the_committed_mo_is_the_compiled_po(catalog):
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    compiled = gettext.GNUTranslations(buffer)
    with MO.open("rb") as fh:
        committed = gettext.GNUTranslations(fh)
    # The messages themselves; the header ("") carries dates Babel writes anew.
    messages = [{k: v for k, v in t._catalog.items() if k != ""} for t in (committed, compiled)]
    assert messages[0] == messages[1]


def test_extraction_finds_no_message_the_catalog_lacks(catalog):
    keywords = dict(DEFAULT_KEYWORDS)
    found = {_key(message) for _, _, message, *_ in
             extract_from_dir(str(ROOT), _mapping(), keywords=keywords)}
    known = {_key(m.id) for m in catalog if m.id}
    assert sorted(found - known) == []
    assert sorted(known - found) == []  # no stale entry either


def test_numbers_in_sentences_follow_the_language(portuguese):
    assert i18n._("Total params: {n:,}").format(n=10240) == "Total de parâmetros: 10.240"
    assert i18n.format_number(14.4, ".1f") == "14,4"
    assert i18n.format_number(10240) == "10.240"
    assert i18n._("{name}, {p}").format(name="x", p="0.5") == "x, 0.5"  # text stays as it is


def test_numbers_in_english_keep_their_separators():
    assert i18n.format_number(10240) == "10,240"
    assert i18n._("Total params: {n:,}").format(n=10240) == "Total params: 10,240"


@pytest.mark.parametrize(("environ", "language"), [
    ({"LANGUAGE": "pt_BR:en", "LANG": "C"}, "pt_BR"),
    ({"LC_ALL": "pt_PT.UTF-8"}, "pt_BR"),
    ({"LC_MESSAGES": "en_GB.UTF-8", "LANG": "pt_BR.UTF-8"}, "en"),
    ({"LANG": "de_DE.UTF-8"}, "en"),
    ({}, "en"),
])
def test_the_system_language(environ, language):
    assert i18n.system_language(environ) == language


def test_the_saved_language_wins_over_the_system(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_EXPLORER_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("LANGUAGE", "en")
    assert i18n.startup_language(None) == "en"
    i18n.save_language("pt_BR")
    assert i18n.startup_language(None) == "pt_BR"
    assert i18n.startup_language("en") == "en"  # --lang wins over both


def _cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "CNN_EXPLORER_CONFIG_DIR": str(tmp_path), "LANG": "C"}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=120)


def test_lang_pt_br_gives_portuguese_help_on_a_subcommand(tmp_path):
    out = _cli("--lang", "pt_BR", "train", "--help", tmp_path=tmp_path)
    assert out.returncode == 0
    assert out.stdout.startswith("uso: cnn-explorer train")
    assert "argumentos posicionais:" in out.stdout and "opções:" in out.stdout
    assert "taxa de aprendizado" in out.stdout and "learning rate" not in out.stdout


def test_lang_pt_br_gives_portuguese_errors(tmp_path):
    out = _cli("summary", "--lang", "pt_BR", tmp_path=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip() == ("cnn-explorer: erro: os seguintes argumentos são obrigatórios: "
                                  "PIPELINE (veja cnn-explorer summary --help)")
    out = _cli("--lang=pt_BR", "summary", "nothing-like-it", tmp_path=tmp_path)
    assert "cnn-explorer: erro:" in out.stderr and "incluídos" in out.stderr


def test_an_unknown_language_is_one_clear_error(tmp_path):
    out = _cli("--lang", "xx", "summary", "lecture", tmp_path=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip().endswith("unknown language 'xx': choose en, pt_BR "
                                       "(see cnn-explorer --help)")
