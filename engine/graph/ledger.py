"""The ledger: a pipeline's shapes, parameters and costs per layer, like Keras' model.summary().

Built by :meth:`engine.graph.pipeline.Pipeline.summary` from arithmetic alone; printed with
:meth:`Ledger.to_text` or saved with :meth:`Ledger.to_dict`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from engine.i18n import N_, _, format_number
from engine.io.terminal import printable

__all__ = ["Ledger", "LedgerRow", "format_bytes", "format_shape"]


@dataclass
class LedgerRow:
    """One node of the pipeline: what it makes of its input and what that costs."""

    index: int
    name: str
    type_name: str
    inputs: tuple[str, ...]
    in_shapes: tuple[tuple[int, ...], ...]
    out_shape: tuple[int, ...]
    size_formula: str           # "(32 - 5 + 2*2)/1 + 1 = 32"; "" where the size is unchanged
    floored: bool               # the floor dropped border pixels
    params: int
    params_formula: str         # "10 x (5 x 5 x 3 + 1) = 760"
    fc_equivalent: int | None   # conv layers: the lecture's fully connected count
    macs: int
    memory_bytes: int           # the output activation, float32
    note: str = ""              # where the kernels came from, why a size was floored


@dataclass
class Ledger:
    """Every row plus the totals (memory: all node outputs, the input not included)."""

    input_shape: tuple[int, ...]
    rows: list[LedgerRow]
    total_params: int
    total_macs: int
    total_memory_bytes: int
    name: str = ""
    is_chain: bool = True
    input_name: str = "input"
    notes: list[str] = field(default_factory=list)
    output_kind: str = ""       # "classes" | "map" | "other" (engine.graph.output)
    output: str = ""            # the last node's output in words: "a map of 2 x 64 x 64"

    def to_dict(self) -> dict:
        """JSON-able: shapes as lists, everything else plain numbers and text."""
        out = asdict(self)
        out["input_shape"] = list(self.input_shape)
        for row in out["rows"]:
            row["inputs"] = list(row["inputs"])
            row["in_shapes"] = [list(s) for s in row["in_shapes"]]
            row["out_shape"] = list(row["out_shape"])
        return out

    def to_text(self) -> str:
        """An aligned table with totals and notes, for a terminal (names shown escaped)."""
        header = ["#", N_("Layer (type)")]
        if not self.is_chain:
            header.append(N_("Inputs"))
        header += [N_("Output shape"), N_("Values"), N_("Output size"), N_("Params"),
                   N_("Param formula"), N_("FC equivalent"), N_("MACs"), N_("Memory")]
        table = [[_(h) if h != "#" else h for h in header]]
        for row in self.rows:
            name = printable(f"{row.name} ({row.type_name})")  # names from files: escaped
            cells = [f"{row.index}{'!' if row.floored else ''}", name]
            if not self.is_chain:
                cells.append(printable(", ".join(row.inputs)))
            cells += [
                format_shape(row.out_shape),
                format_number(math.prod(row.out_shape)),
                row.size_formula,
                format_number(row.params),
                row.params_formula,
                "" if row.fc_equivalent is None else format_number(row.fc_equivalent),
                format_number(row.macs),
                format_bytes(row.memory_bytes),
            ]
            table.append(cells)
        right = {"Values", "Params", "FC equivalent", "MACs", "Memory"}
        widths = [max(len(r[i]) for r in table) for i in range(len(header))]

        def line(cells):
            parts = [c.rjust(w) if header[i] in right else c.ljust(w)
                     for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
            return "  ".join(parts).rstrip()

        rule = "=" * len(line(table[0]))
        title = (_("Pipeline {name!r}").format(name=self.name) if self.name
                 else _("Pipeline"))
        values = math.prod(self.input_shape)
        lines = [
            _("{title}: {name} {shape} = {values:,} values").format(
                title=title, name=printable(self.input_name),
                shape=format_shape(self.input_shape), values=values),
            rule, line(table[0]), "-" * len(rule), *(line(c) for c in table[1:]), rule,
            _("Total params: {n:,}").format(n=self.total_params),
            _("Total MACs: {n:,}").format(n=self.total_macs),
            _("Activation memory: {size} (float32, all outputs)").format(
                size=format_bytes(self.total_memory_bytes)),
        ]
        if self.output:
            lines.append(_("Output: {description}").format(description=self.output))
        notes = [printable(f"{row.name}: {row.note}") for row in self.rows if row.note]
        notes += [printable(note) for note in self.notes]
        if notes:
            lines += ["", _("Notes (! = the floor dropped border pixels):")]
            lines += [f"  {n}" for n in notes]
        return "\n".join(lines)


def format_shape(shape) -> str:
    """``(10, 32, 32)`` as text, also for one-element shapes: ``(10,)``."""
    return str(tuple(int(s) for s in shape))


def format_bytes(n: int) -> str:
    """Bytes in B, KiB, MiB or GiB with one decimal."""
    if n < 1024:
        return f"{n} B"
    for unit in ("KiB", "MiB", "GiB"):
        n /= 1024
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}"
    return f"{n:.1f} GiB"
