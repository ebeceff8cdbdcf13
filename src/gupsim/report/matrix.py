"""The matrix and ablation tables (``gupsim matrix``, ``gupsim ablate``).

Both read plain rows (the ``to_json`` dicts of ``gupsim.matrix.Cell`` and
``Ablation``) and draw a rich table into a string of fixed width with no
colour codes, so that the output is the same on a terminal, in a pipe and in
a test.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

WIDTH = 132


def _render(table, width: int = WIDTH) -> str:
    from rich.console import Console
    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, force_terminal=False,
                      legacy_windows=False, soft_wrap=False)
    console.print(table)
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines())


def cell_label(c: Mapping[str, Any]) -> str:
    if c["verdict"] == "violation":
        return f"violation: {c['invariant']}"
    return c["verdict"]


def matrix_table(cells: Sequence[Mapping[str, Any]], width: int = WIDTH) -> str:
    """Rows (design, arch, memory model), one column per hazard; rows in which
    every cell is n/a are left out and counted in the footer."""
    from rich import box
    from rich.table import Table
    hazards: list[str] = []
    rows: dict[tuple, dict[str, Mapping]] = {}
    for c in cells:
        if c["scenario"] not in hazards:
            hazards.append(c["scenario"])
        rows.setdefault((c["design"], c["arch"], c["memory_model"]), {})[c["scenario"]] = c
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name in ("design", "arch", "model"):
        table.add_column(name, no_wrap=True)
    for h in hazards:
        table.add_column(h, overflow="fold")
    hidden = 0
    last = None
    for (design, arch, model), by in rows.items():
        if all(c["verdict"] == "n/a" for c in by.values()):
            hidden += 1
            continue
        if last is not None and design != last:
            table.add_section()
        table.add_row(design if design != last else "", arch, model,
                      *(cell_label(by[h]) if h in by else "" for h in hazards))
        last = design
    return "\n".join([_render(table, width)] + matrix_footer(cells, hidden))


def matrix_footer(cells: Sequence[Mapping[str, Any]], hidden: int) -> list[str]:
    checked = [c for c in cells if c["verdict"] != "n/a"]
    models: dict[str, set] = {}
    for c in cells:
        models.setdefault(c["arch"], set()).add(c["memory_model"])
    lines = [""]
    if models:
        lines.append("memory model: " + "; ".join(
            f"{arch}: {', '.join(sorted(m))}" for arch, m in sorted(models.items())))
    counts = {v: sum(1 for c in cells if c["verdict"] == v) for v in
              ("safe", "violation", "livelock", "incomplete", "n/a")}
    lines.append(f"{len(cells)} cells: " + ", ".join(f"{n} {v}" for v, n in counts.items() if n)
                 + f"; {len(checked)} exhaustive dpor checks, "
                 f"{sum(c['executions'] for c in checked):,} executions, "
                 f"{sum(c['seconds'] for c in checked):.1f} s")
    lines.append("n/a: the arch has no THP, the design was not written for the arch, "
                 "or it needs pte_special()" + (f"; {hidden} rows with every cell n/a "
                                               f"not shown" if hidden else ""))
    if counts["incomplete"]:
        lines.append("incomplete: the per-cell time budget stopped the check; "
                     "nothing was found before it")
    return lines


def ablation_table(rows: Sequence[Mapping[str, Any]], width: int = WIDTH) -> str:
    """One row per protection, one column per memory model."""
    from rich import box
    from rich.table import Table
    models: list[str] = []
    by: dict[str, dict[str, Mapping]] = {}
    for r in rows:
        if r["memory_model"] not in models:
            models.append(r["memory_model"])
        by.setdefault(r["protection"], {})[r["memory_model"]] = r
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("without", no_wrap=True)
    for m in models:
        table.add_column(m, overflow="fold")
    for prot, per in by.items():
        label = "(nothing: the full design)" if prot == "(none)" else prot
        table.add_row(label, *(_ablation_label(per[m]) if m in per else "" for m in models))
    first = rows[0] if rows else {}
    given = "".join(f" {k}={v}" for k, v in sorted((first.get("params") or {}).items()))
    head = (f"ablation of {first.get('design')} on {first.get('arch')} against "
            f"{first.get('scenario')}{given}: each protection taken away in turn"
            if rows else "")
    return "\n".join([head, "", _render(table, width), ""] + ablation_summary(rows))


def _ablation_label(r: Mapping[str, Any]) -> str:
    if r["protection"] == "(none)":
        return cell_label(r)
    if r["verdict"] == "n/a":
        return "n/a"
    if r["necessary"] is None:
        return f"unknown ({r['verdict']})"
    if r["necessary"]:
        return f"necessary: {r['invariant']}" if r["verdict"] == "violation" \
            else f"necessary: {r['verdict']}"
    return "redundant"


def ablation_summary(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Per memory model: which protections are necessary and which redundant."""
    out = []
    models = []
    for r in rows:
        if r["memory_model"] not in models:
            models.append(r["memory_model"])
    for m in models:
        mine = [r for r in rows if r["memory_model"] == m and r["protection"] != "(none)"]
        need = [r["protection"] for r in mine if r["necessary"]]
        spare = [r["protection"] for r in mine if r["necessary"] is False]
        out.append(f"under {m}: necessary: {', '.join(need) or 'none'}; "
                   f"redundant: {', '.join(spare) or 'none'}")
    inert = {r["protection"]: r.get("reason", "") for r in rows if r["verdict"] == "n/a"}
    out += [f"n/a: {p}: {why}" for p, why in inert.items()]
    return out


__all__ = ["matrix_table", "matrix_footer", "ablation_table", "ablation_summary", "cell_label"]
