"""The line under the ledger's table: the selected layer's formulas in full, wrapped.

The table's formula columns are wider than the dock on a laptop screen; this label shows the
selected row's output-size and parameter formulas whole, breaking lines only between the height
and width formulas, never inside one.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy

from engine.i18n import _

WARNING_COLOR = "#b26a00"
NBSP, WORD_JOINER = "\u00a0", "\u2060"


def _unbroken(text: str) -> str:
    """``text`` as rich text that never breaks across lines: a formula stays whole. Spaces
    become non-breaking, and a word joiner follows each character after which Unicode allows a
    break even without a space (Qt breaks "2*1)/1" after the "/")."""
    escaped = html.escape(text).replace(" ", NBSP)
    return "".join(c + WORD_JOINER if c in "/-+*)" else c for c in escaped)


def detail_html(row, shape_text: str, floored_tip: str) -> str:
    """Rich text for one ledger row: name and shape, output-size formula, parameter formula."""
    lines = [_("{name} ({type}): output {shape}").format(
        name=f"<b>{html.escape(row.name)}</b>", type=html.escape(row.type_name),
        shape=shape_text)]
    if row.size_formula:
        # "H: ... = 320; W: ... = 480": each part whole, a line may break between them.
        parts = "; ".join(_unbroken(p) for p in row.size_formula.split("; "))
        lines.append(_("Output size: {formula}").format(formula=parts))
    elif row.in_shapes and row.in_shapes[0] == row.out_shape:
        lines.append(_("Output size: unchanged, the same as the input."))
    if row.params:
        formula = _unbroken(row.params_formula) if row.params_formula else f"{row.params:,}"
        lines.append(_("Parameters: {formula}").format(formula=formula))
    else:
        lines.append(_("No learned parameters."))
    if row.floored:
        lines.append(f"<span style='color:{WARNING_COLOR}'>⚠ {html.escape(floored_tip)}</span>")
    return "<br>".join(lines)


class LedgerDetail(QLabel):
    """Shows :func:`detail_html` for the selected row; the text can be selected and copied."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("ledger_detail")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Always as tall as its wrapped text: the table above gives way, never this line.
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setToolTip(_("The selected layer's formulas in full: how its output size and its "
                          "parameter count follow from its settings."))

    def show_row(self, row, shape_text: str, floored_tip: str) -> None:
        self.setText(detail_html(row, shape_text, floored_tip))
        # A formula part never breaks, so the label must be at least as wide as the widest.
        parts = [*(row.size_formula.split("; ") if row.size_formula else []),
                 _("Parameters: {formula}").format(formula=row.params_formula or "")]
        margins = self.contentsMargins()
        widest = max(self.fontMetrics().horizontalAdvance(p + ";") for p in parts)
        self.setMinimumWidth(widest + margins.left() + margins.right() + 2)
        self.setVisible(True)

    def clear_row(self) -> None:
        self.setText("")
        self.setVisible(False)
