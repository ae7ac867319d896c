"""One translation catalog for the whole project (gettext), Qt-free so the engine can use it.

Every user-visible sentence goes through :func:`_` as a whole sentence with named placeholders,
formatted after translation::

    from engine.i18n import _
    message = _("{n} maps of {h}x{w}").format(n=n, h=h, w=w)

Strings that must be defined before a language is chosen (tables of titles at module level) are
marked with :func:`N_` and translated where they are shown: ``_(TITLE)``. Catalogs live in
``engine/locale/<lang>/LC_MESSAGES/cnn_explorer.mo``; without one, English is shown.

Numbers follow the language (docs/i18n.md): ``.format()`` on a translated sentence writes the
numbers it is given with the language's separators (pt-BR: ``10.240`` and ``0,25``), and
:func:`format_number` does the same outside sentences. Text already formatted (a formula, a
kernel's cells, code) is passed as a string and stays as it is.
"""

from __future__ import annotations

import gettext
import json
import os
import string
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "DOMAIN",
    "LANGUAGES",
    "LOCALE_DIR",
    "N_",
    "_",
    "current_language",
    "format_number",
    "language_from_argv",
    "ngettext",
    "preferences_path",
    "save_language",
    "saved_language",
    "set_language",
    "startup_language",
    "system_language",
]

DOMAIN = "cnn_explorer"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = {"en": "English", "pt_BR": "Português (Brasil)"}
"""The languages the app ships, by code, each named in itself (for the Preferences list)."""

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"
# Decimal and thousands separators of the languages whose numbers differ from English.
_SEPARATORS = {"pt": (",", ".")}


class _Formatter(string.Formatter):
    """str.format with the current language's decimal and thousands separators."""

    def format_field(self, value, format_spec):
        text = format(value, format_spec)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _localize_digits(text)
        return text


_FORMATTER = _Formatter()


class Message(str):
    """A translated sentence whose ``format`` writes numbers for the current language."""

    __slots__ = ()

    def format(self, *args, **kwargs) -> str:
        return _FORMATTER.vformat(str(self), args, kwargs)


def _localize_digits(text: str) -> str:
    separators = _SEPARATORS.get(_language.split("_")[0])
    if separators is None:
        return text
    decimal, thousands = separators
    return text.translate(str.maketrans({".": decimal, ",": thousands}))


def _(message: str) -> Message:
    """``message`` in the current language (itself when the catalog lacks it)."""
    return Message(_translation.gettext(message))


def ngettext(singular: str, plural: str, n: int) -> Message:
    """The singular or plural form of a sentence for the count ``n``, translated."""
    return Message(_translation.ngettext(singular, plural, n))


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it now (translate where shown)."""
    return message


def format_number(value: float, spec: str = ",") -> str:
    """``value`` formatted by ``spec`` (as :func:`format`) with the language's separators.

    >>> format_number(10240), format_number(14.4, ".1f")
    ('10,240', '14.4')
    """
    return _localize_digits(format(value, spec))


def _argparse_follows() -> None:
    """argparse's own texts ("usage:", "options", its errors) come from this catalog too.

    argparse looks its texts up through gettext's default domain, which would follow the
    environment instead of the chosen language; its two lookup functions are pointed here.
    """
    import argparse

    argparse._ = lambda message: _translation.gettext(message)
    argparse.ngettext = lambda singular, plural, n: _translation.ngettext(singular, plural, n)


def set_language(language: str | None) -> str:
    """Show ``language`` (``"pt_BR"``, ``"en"``; None: English) from now on; return it.

    A language with no catalog falls back to English.
    """
    global _translation, _language
    if not language or language.split("_")[0] == "en":
        _translation, _language = gettext.NullTranslations(), "en"
    else:
        _translation = gettext.translation(
            DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True
        )
        _language = language if isinstance(_translation, gettext.GNUTranslations) else "en"
    _argparse_follows()
    return _language


def current_language() -> str:
    """The language shown now (``"en"`` when no catalog is loaded)."""
    return _language


def _supported(code: str) -> str | None:
    """The shipped language a locale name means (``pt_BR.UTF-8``, ``pt`` -> ``pt_BR``)."""
    code = code.split(".")[0].split("@")[0].replace("-", "_")
    if code in LANGUAGES:
        return code
    for known in LANGUAGES:
        if code.split("_")[0].lower() == known.split("_")[0].lower():
            return known
    return None


def system_language(environ: Mapping[str, str] | None = None) -> str:
    """The language the system asks for (LANGUAGE, LC_ALL, LC_MESSAGES, LANG), as gettext reads
    them; English when none names a shipped language.

    >>> system_language({"LANG": "pt_BR.UTF-8"}), system_language({"LANG": "C"})
    ('pt_BR', 'en')
    """
    environ = os.environ if environ is None else environ
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(variable, "")
        if not value:
            continue
        for code in value.split(":"):
            found = _supported(code)
            if found:
                return found
        if variable != "LANGUAGE":  # the first set one of the others decides, as in gettext
            return "en"
    return "en"


def language_from_argv(argv: list[str]) -> str | None:
    """The value of ``--lang`` in a command line (``--lang X`` or ``--lang=X``), or None.

    Read before the parser is built, so that its help is already in that language.
    """
    for i, word in enumerate(argv):
        if word == "--":
            break
        if word == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if word.startswith("--lang="):
            return word.split("=", 1)[1]
    return None


def preferences_path() -> Path:
    """The user's preferences file (language), in the platform's config folder."""
    override = os.environ.get("CNN_EXPLORER_CONFIG_DIR")
    if override:
        return Path(override) / "preferences.json"
    import platformdirs

    return Path(platformdirs.user_config_dir("cnn-explorer", appauthor=False)) / "preferences.json"


def saved_language() -> str | None:
    """The language chosen in Preferences, or None (never chosen, or an unreadable file)."""
    try:
        data = json.loads(preferences_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get("language") if isinstance(data, dict) else None
    return value if value in LANGUAGES else None


def save_language(language: str) -> None:
    """Remember ``language`` for the next starts (Preferences)."""
    path = preferences_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data = data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        data = {}
    data["language"] = language
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def startup_language(requested: str | None) -> str:
    """The language to start in: ``--lang`` if given, else Preferences, else the system's."""
    if requested:
        found = _supported(requested)
        if found:
            return found
    return saved_language() or system_language()
