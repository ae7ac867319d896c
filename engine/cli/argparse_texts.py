"""argparse's own texts that a user of the command line sees, marked for the catalog.

argparse translates them through gettext (engine.i18n points its lookups at this project's
catalog); listing them here lets Babel's extraction put them in the catalog with the rest.
Texts argparse shows only to programmers (conflicting options, bad ``dest=``) are left out.
"""

from __future__ import annotations

from engine.i18n import N_

__all__ = ["ARGPARSE_TEXTS"]

ARGPARSE_TEXTS = (
    N_("usage: "),
    N_("options"),
    N_("positional arguments"),
    N_("show this help message and exit"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("unrecognized arguments: %s"),
    N_("the following arguments are required: %s"),
    N_("one of the arguments %s is required"),
    N_("not allowed with argument %s"),
    N_("ignored explicit argument %r"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("invalid %(type)s value: %(value)r"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("can't open '%(filename)s': %(error)s"),
    N_("%(prog)s: error: %(message)s\n"),
)
