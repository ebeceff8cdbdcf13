"""PNG plots of the matrix, an ablation and the DPOR benchmarks (matplotlib).

Each takes the JSON rows the command prints with ``--json`` (``gupsim
matrix``, ``gupsim ablate``, ``gupsim bench``) and writes one figure.
matplotlib is imported only here, only when a plot is asked for, and drawn
with the Agg backend (no display needed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

VERDICT_COLORS = {"safe": "#2da44e", "violation": "#cf222e", "livelock": "#bc4c00",
                  "deadlock": "#a40e26", "incomplete": "#d4a72c", "n/a": "#d0d7de"}
ABLATION_COLORS = {"necessary": "#cf222e", "redundant": "#2da44e", "full design": "#0969da",
                   "n/a": "#d0d7de", "incomplete": "#d4a72c"}


def _pyplot():
    try:
        import matplotlib
    except ModuleNotFoundError:
        from ..errors import UsageError
        raise UsageError("--plot needs matplotlib: pip install 'gupsim[plots]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path: str) -> None:
    import os
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        from ..errors import UsageError
        raise UsageError(f"--plot {path}: folder {folder} does not exist; create it first")
    fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": "gupsim"})


def _grid(plt, labels_y, labels_x, colors, texts, title, legend):
    from matplotlib.patches import Patch
    fig, ax = plt.subplots(figsize=(2.0 + 2.3 * len(labels_x), 1.2 + 0.38 * len(labels_y)))
    for y, row in enumerate(colors):
        for x, color in enumerate(row):
            ax.add_patch(plt.Rectangle((x, y), 0.96, 0.92, color=color))
            if texts[y][x]:
                ax.text(x + 0.48, y + 0.46, texts[y][x], ha="center", va="center", fontsize=7,
                        color="white" if color not in ("#d0d7de", "#d4a72c") else "black")
    ax.set_xlim(0, len(labels_x))
    ax.set_ylim(len(labels_y), 0)
    ax.set_xticks([x + 0.48 for x in range(len(labels_x))], labels_x, fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks([y + 0.46 for y in range(len(labels_y))], labels_y, fontsize=8)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_title(title, fontsize=10, pad=24)
    ax.legend(handles=[Patch(color=c, label=n) for n, c in legend.items()],
              loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    return fig


def matrix_heatmap(cells: Sequence[Mapping[str, Any]], path: str) -> None:
    """Designs x arches (x memory models) down, hazards across, one colour per verdict."""
    plt = _pyplot()
    hazards = list(dict.fromkeys(c["scenario"] for c in cells))
    keys = list(dict.fromkeys((c["design"], c["arch"], c["memory_model"]) for c in cells))
    at = {(c["design"], c["arch"], c["memory_model"], c["scenario"]): c for c in cells}
    colors, texts = [], []
    for key in keys:
        row = [at.get(key + (h,)) for h in hazards]
        colors.append([VERDICT_COLORS.get(c["verdict"], "#ffffff") if c else "#ffffff"
                       for c in row])
        texts.append([(c.get("invariant") or "") if c and c["verdict"] == "violation"
                      else (c["verdict"] if c and c["verdict"] != "safe" else "") for c in row])
    fig = _grid(plt, [f"{d}  {a} ({m})" for d, a, m in keys], hazards, colors, texts,
                f"gupsim matrix: {len(cells)} cells", VERDICT_COLORS)
    _save(fig, path)
    plt.close(fig)


def _ablation_kind(r: Mapping[str, Any]) -> str:
    if r["protection"] == "(none)":
        return "full design"
    if r["verdict"] == "n/a":
        return "n/a"
    if r.get("necessary") is None:
        return "incomplete"
    return "necessary" if r["necessary"] else "redundant"


def ablation_plot(rows: Sequence[Mapping[str, Any]], path: str) -> None:
    """Protections down, memory models across: necessary, redundant or n/a."""
    plt = _pyplot()
    models = list(dict.fromkeys(r["memory_model"] for r in rows))
    prots = list(dict.fromkeys(r["protection"] for r in rows))
    at = {(r["protection"], r["memory_model"]): r for r in rows}
    colors, texts = [], []
    for p in prots:
        row = [at.get((p, m)) for m in models]
        colors.append([ABLATION_COLORS[_ablation_kind(r)] if r else "#ffffff" for r in row])
        texts.append([(r["verdict"] + (f": {r['invariant']}" if r.get("invariant") else ""))
                      if r else "" for r in row])
    first = rows[0] if rows else {}
    title = (f"ablation of {first.get('design', '?')} on {first.get('arch', '?')}, "
             f"{first.get('scenario', '?')}")
    fig = _grid(plt, prots, models, colors, texts, title, ABLATION_COLORS)
    _save(fig, path)
    plt.close(fig)


def bench_plot(rows: Sequence[Mapping[str, Any]], path: str) -> None:
    """Executions per second per program, and explored vs published counts."""
    plt = _pyplot()
    names = [f"{r['program']}({r['n']})" for r in rows]
    fig, (speed, counts) = plt.subplots(1, 2, figsize=(11, 3.8))
    speed.bar(names, [r["per_second"] for r in rows], color="#0969da")
    speed.set_title("executions / s", fontsize=10)
    xs = range(len(rows))
    counts.bar([x - 0.2 for x in xs], [r["executions"] for r in rows], 0.4,
               label="explored", color="#0969da")
    counts.bar([x + 0.2 for x in xs], [r["expected"] or 0 for r in rows], 0.4,
               label="published", color="#8c959f")
    counts.set_xticks(list(xs), names)
    counts.set_yscale("log")
    counts.set_title("executions: explored vs published", fontsize=10)
    counts.legend(fontsize=8, frameon=False)
    for ax in (speed, counts):
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    strategy = rows[0]["strategy"] if rows else "?"
    fig.suptitle(f"gupsim bench (strategy {strategy})", fontsize=11)
    _save(fig, path)
    plt.close(fig)


__all__ = ["matrix_heatmap", "ablation_plot", "bench_plot", "VERDICT_COLORS"]
