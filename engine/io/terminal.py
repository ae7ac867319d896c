"""What reaches a terminal: text from files shown escaped, and C libraries' chatter kept off it.

Layer names, file names and keys come from files a user did not write; printed raw, an escape
sequence in a name would move the cursor, recolour or clear the user's terminal, and a newline
would break the command line's one-line error contract. :func:`printable` shows such characters
the way ``repr`` does (``\\x1b``, ``\\n``, ``\\u202e``) and leaves ordinary text, accents
included, as it is.

Image codecs (libpng, libtiff) print their warnings straight to file descriptor 2, below Python;
:func:`muted_stderr` sends them to a scratch file around one call. It changes the process-wide
descriptor, so only the single-threaded command line uses it, never the window.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import unicodedata
from collections.abc import Iterator

__all__ = ["muted_stderr", "printable"]

# Control, format, surrogate, private-use and unassigned code points, and line or paragraph
# separators: what can move the cursor, reorder text (bidi overrides) or hide characters.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _escaped(char: str) -> str:
    if char == "\\":
        return "\\\\"
    code = ord(char)
    if char in "\n\r\t":
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: object) -> str:
    """``text`` on one terminal line: control characters and escape sequences shown escaped.

    Backslashes are doubled only when something else had to be escaped, so ordinary Windows
    paths read as they are; an escaped result is unambiguous.

    Examples
    --------
    >>> printable("conv1")
    'conv1'
    >>> printable("red\\x1b[31mname\\n")
    'red\\\\x1b[31mname\\\\n'
    >>> printable("Ação ünïcode")
    'Ação ünïcode'
    """
    text = str(text)
    if text.isprintable():  # fast path: the usual case, and no backslash is ambiguous
        return text
    if not any(unicodedata.category(c) in _HIDDEN for c in text):
        return text  # only spaces such as U+00A0: shown as they are
    return "".join(_escaped(c) if c == "\\" or unicodedata.category(c) in _HIDDEN else c
                   for c in text)


@contextlib.contextmanager
def muted_stderr() -> Iterator[None]:
    """Send what C code writes to file descriptor 2 to a scratch file while the block runs.

    Python's own ``sys.stderr`` is flushed first; when descriptor 2 cannot be redirected (no
    such descriptor, an unusual platform), the block runs unchanged.
    """
    with contextlib.suppress(AttributeError, OSError, ValueError):
        sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with tempfile.TemporaryFile() as scratch:
            os.dup2(scratch.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)
