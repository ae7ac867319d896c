"""One translation catalog for the whole project (gettext), Qt-free so the engine can use it.

Every user-visible sentence goes through :func:`_` as a whole sentence with named placeholders,
formatted after translation::

    from engine.i18n import _
    message = _("{n} maps of {h}x{w}").format(n=n, h=h, w=w)

Strings that must be defined before a language is chosen (tables of titles at module level) are
marked with :func:`N_` and translated where they are shown: ``_(TITLE)``. Catalogs live in
``engine/locale/<lang>/LC_MESSAGES/cnn_explorer.mo``; without one, English is shown.
"""

from __future__ import annotations

import gettext
from pathlib import Path

__all__ = ["DOMAIN", "LOCALE_DIR", "N_", "_", "current_language", "ngettext", "set_language"]

DOMAIN = "cnn_explorer"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def _(message: str) -> str:
    """``message`` in the current language (itself when the catalog lacks it)."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form of a sentence for the count ``n``, translated."""
    return _translation.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it now (translate where shown)."""
    return message


def set_language(language: str | None) -> str:
    """Show ``language`` (``"pt_BR"``, ``"en"``; None: English) from now on; return it.

    A language with no catalog falls back to English.
    """
    global _translation, _language
    if not language or language.split("_")[0] == "en":
        _translation, _language = gettext.NullTranslations(), "en"
        return _language
    _translation = gettext.translation(
        DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True
    )
    _language = language if isinstance(_translation, gettext.GNUTranslations) else "en"
    return _language


def current_language() -> str:
    """The language shown now (``"en"`` when no catalog is loaded)."""
    return _language
