"""Self-contained HTML pages: the trace viewer, the matrix and the ablation.

A trace page shows one execution of a result's JSON (``Result.to_json()``
plus ``scenario``/``params``): a swimlane per CPU with the steps in order
(function, source line, what the step did in kernel terms, the value read
or written and the write it read from), IRQs-off spans shaded on the lane,
IPIs drawn from the sender to the handler on the target and back to the
wait for the ack, TLB flushes and RCU grace periods marked; beside it the
state panel for the selected step (the snapshots the kernel model put in
the trace, see kernel/snapshot.py; under a weak memory model, of the memory
as the step's CPU has observed it) and, when the result carries one, the
weak model's execution graph. The violating step is selected on open.

Pages are one file each (CSS, JS and SVG inline, nothing fetched), rendered
with jinja2 with autoescaping on; the data the script reads is JSON in a
``<script type="application/json">`` block with ``<``, ``>`` and ``&``
escaped, and the script writes text with ``textContent`` only.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .dot import COLORS, OTHER, event_label, relations
from .story import _Story, _function, cycle_lines, threads_line
from .text import replay_command

FOUND = ("violation", "deadlock", "livelock")


def _env():
    try:
        import jinja2
    except ModuleNotFoundError:
        from ..errors import UsageError
        raise UsageError("--html needs jinja2: pip install 'gupsim[html]'") from None
    here = os.path.join(os.path.dirname(__file__), "templates")
    return jinja2.Environment(loader=jinja2.FileSystemLoader(here),
                              autoescape=True, trim_blocks=True, lstrip_blocks=True)


def script_json(data: Any) -> str:
    """JSON safe inside a <script> element (no ``</script>``, no ``<!--``)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


# -- the steps --------------------------------------------------------------------------

def _value(ev: Mapping[str, Any]) -> str:
    kind, v = ev.get("kind"), ev.get("value")
    if kind in ("note", "F") or v is None and kind != "R":
        return ""
    if ev.get("text"):                  # a decoded entry: the phrase says it all
        return ""
    if kind == "U":
        return f"{ev.get('old')!r} → {v!r}"
    return ("read " if kind in ("R", "A") else "wrote ") + repr(v)


def _read_from(ev: Mapping[str, Any], writers: Mapping) -> str:
    src = ev.get("read_from")
    if src is None:
        return ""
    if src == "init":
        return "read from the initial value"
    w = writers.get(tuple(src))
    return f"read from step {w['step']} ({w['thread']})" if w else ""


def _marks(ev: Mapping[str, Any]) -> list[str]:
    """What the step is part of: a TLB flush (by IPI or broadcast), an RCU
    grace period, an IPI sent, taken or acknowledged."""
    names = list(ev.get("stack") or ()) + [ev.get("function") or ""]
    cell, kind = ev.get("cell"), ev.get("kind")
    out = []
    flush = any("flush_tlb" in n or n == "_broadcast" for n in names)
    if isinstance(cell, str) and cell.endswith(".ipi_sent") and kind == "U":
        out.append("TLB flush IPI" if flush else "IPI sent")
    elif flush and kind == "F":
        out.append("TLB flush (broadcast)")
    if any("rcu" in n or n.startswith("synchronize_sched") for n in names):
        out.append("RCU grace period")
    if ev.get("op") == "take pending IPIs":
        out.append("IPI taken")
    if isinstance(cell, str) and cell.endswith(".ipi_done") and kind in ("W", "U"):
        out.append("IPI ack")
    return out


def _writers(trace) -> dict[tuple[int, int], Mapping]:
    counts: dict[int, int] = {}
    out = {}
    for ev in trace:
        if ev.get("kind") in ("note", "flush"):
            continue
        tid = ev.get("tid", 0)
        out[(tid, counts.get(tid, 0))] = ev
        counts[tid] = counts.get(tid, 0) + 1
    return out


def _cpu_of_cell(cell: Any, suffix: str) -> int | None:
    if isinstance(cell, str) and cell.startswith("cpu") and cell.endswith(suffix):
        head = cell[3:-len(suffix)]
        return int(head) if head.isdigit() else None
    return None


def ipi_arrows(trace: Sequence[Mapping[str, Any]]) -> list[dict]:
    """Arrows sender -> handler taken on the target, and the target's ack ->
    the sender's wait for it: ``{"from", "to", "kind"}`` by step number."""
    sends: dict[int, list[dict]] = {}      # target cpu -> sends not yet taken
    acks: list[tuple[int, dict]] = []      # (target cpu, ack step)
    out = []
    for ev in trace:
        cell, kind, step = ev.get("cell"), ev.get("kind"), ev.get("step")
        target = _cpu_of_cell(cell, ".ipi_sent")
        if target is not None and kind == "U":
            sends.setdefault(target, []).append(ev)
        elif target is not None and ev.get("op") == "take pending IPIs":
            for s in sends.pop(target, []):
                out.append({"from": s["step"], "to": step, "kind": "ipi"})
        done = _cpu_of_cell(cell, ".ipi_done")
        if done is not None and kind in ("W", "U"):
            acks.append((done, ev))
        if kind == "A" and isinstance(cell, list):
            for c in cell:
                waited = _cpu_of_cell(c, ".ipi_done")
                for a in [a for a in acks if a[0] == waited]:
                    out.append({"from": a[1]["step"], "to": step, "kind": "ack"})
                    acks.remove(a)
    return out


def steps(trace: Sequence[Mapping[str, Any]]) -> list[dict]:
    """One row per step: the lane, the texts shown, and the classes."""
    story = _Story()
    writers = _writers(trace)
    rows = []
    for ev in trace:
        what = story.phrase(ev)
        fn = "store buffer" if ev.get("kind") == "flush" else _function(ev)
        where = f"{ev['file']}:{ev['line']}" if ev.get("file") else ""
        rows.append({"step": ev.get("step", len(rows)), "cpu": ev.get("cpu", 0),
                     "thread": ev.get("thread", ""), "function": fn, "where": where,
                     "what": what, "op": ev.get("op", ""), "value": _value(ev),
                     "from": _read_from(ev, writers), "kind": ev.get("kind", ""),
                     "irqs_off": ev.get("irqs") is False, "in_irq": bool(ev.get("in_irq")),
                     "marks": _marks(ev), "cell": _cell_key(ev.get("cell"))})
    return rows


def _cell_key(cell: Any) -> str:
    """The state panel's name of a touched cell: ``pmd2[0]``, ``page[3]``, ``cpu1``."""
    if not isinstance(cell, str):
        return ""
    if cell.startswith("page["):
        return cell.split(".", 1)[0]
    if cell.startswith("mm") and "." in cell:
        return cell.split(".", 1)[1].removesuffix(".lo").removesuffix(".hi")
    return cell.split(".", 1)[0] if cell.startswith("cpu") else cell


def lanes(rows: Sequence[Mapping[str, Any]]) -> list[dict]:
    """The CPUs in order, each with the threads that ran on it, and per row
    whether that CPU had IRQs off (to shade the whole span on its lane)."""
    cpus = sorted({r["cpu"] for r in rows}) or [0]
    names: dict[int, list[str]] = {c: [] for c in cpus}
    for r in rows:
        if r["thread"] and r["thread"] not in names[r["cpu"]] and not r["in_irq"]:
            names[r["cpu"]].append(r["thread"])
    return [{"cpu": c, "threads": names[c]} for c in cpus]


def shading(rows: Sequence[Mapping[str, Any]], cpus: Sequence[int]) -> list[list[str]]:
    """Per row, per lane: "off" (IRQs off), "irq" (in an IPI handler) or ""."""
    state = {c: "" for c in cpus}
    out = []
    for r in rows:
        state[r["cpu"]] = "irq" if r["in_irq"] else "off" if r["irqs_off"] else ""
        out.append([state[c] for c in cpus])
    return out


def states(trace: Sequence[Mapping[str, Any]]) -> tuple[list, list[int]]:
    """The distinct snapshots and, per step, the index of the one in force."""
    snaps, index, cur = [], [], -1
    for ev in trace:
        if "state" in ev:
            snaps.append(ev["state"])
            cur = len(snaps) - 1
        index.append(cur)
    return snaps, index


# -- the execution graph ------------------------------------------------------------------

def graph_svg(graph: Mapping[str, Any]) -> dict:
    """Positions for the graph's SVG: a column per thread, a row per event in
    program order (initial writes on top), and the edges with their colours."""
    events = graph.get("events", [])
    tids = sorted({e.get("tid", -1) for e in events})     # init (-1) is the first column
    col = {t: i for i, t in enumerate(tids)}
    pos, nodes, inits = {}, [], 0
    for e in events:
        tid = e.get("tid", -1)
        if tid < 0:
            row, inits = inits, inits + 1
        else:
            row = e.get("index", 0)
        x, y = 20 + 190 * col[tid], 40 + 46 * row
        pos[e["id"]] = (x, y)
        nodes.append({"id": e["id"], "x": x, "y": y, "label": event_label(e)})
    edges = []
    for a, b, name in relations(graph):
        if a not in pos or b not in pos:
            continue
        (x1, y1), (x2, y2) = pos[a], pos[b]
        bend = 0 if name == "po" else 40 if x1 == x2 else 0
        edges.append({"x1": x1 + 80, "y1": y1 + 14, "x2": x2 + 80, "y2": y2 + 14,
                      "bend": bend, "name": name, "color": COLORS.get(name, OTHER),
                      "model": name not in COLORS})
    height = 60 + 46 * (max([e.get("index", 0) + 1 for e in events] + [inits]))
    return {"nodes": nodes, "edges": edges, "width": 40 + 190 * len(tids), "height": height,
            "threads": [{"x": 20 + 190 * col[t], "name": "init" if t < 0 else f"P{t}"}
                        for t in tids],
            "derived": bool(graph.get("derived"))}


# -- pages ----------------------------------------------------------------------------

def _replay(data: Mapping[str, Any]) -> str | None:
    if not data.get("schedule") or not data.get("scenario"):
        return None
    return replay_command(data["scenario"], data["schedule"],
                          (data.get("config") or {}).get("memory_model"), data.get("params"))


def trace_page(data: Mapping[str, Any], title: str | None = None) -> str:
    """The trace viewer for one result's JSON (see the module doc)."""
    trace = data.get("trace") or []
    rows = steps(trace)
    ls = lanes(rows)
    snaps, state_of = states(trace)
    witness = data.get("verdict") == "witness"     # a litmus test's condition reached
    found = (data.get("verdict") in FOUND or witness) and bool(rows)
    violation = data.get("violation") or {}
    params = data.get("params") or {}
    name = data.get("scenario") or "program"
    head = title or " ".join([name] + [f"{k}={v}" for k, v in sorted(params.items())])
    graph = graph_svg(data["graph"]) if data.get("graph") else None
    memory_model = (data.get("config") or {}).get("memory_model", "")
    why = cycle_lines(trace, data.get("graph"), memory_model) if found else []
    payload = {"states": snaps, "stateOf": state_of, "cells": [r["cell"] for r in rows],
               "cpus": [r["cpu"] for r in rows], "witness": witness,
               "arrows": ipi_arrows(trace), "violating": len(rows) - 1 if found else None,
               "final": _final_texts(data.get("final_memory")) if not snaps or data.get("graph")
               else None,
               "weak": bool(data.get("graph"))}
    return _env().get_template("trace.html.j2").render(
        title=head, data=data, rows=rows, lanes=ls,
        shade=shading(rows, [lane["cpu"] for lane in ls]), violation=violation,
        found=found, threads=threads_line(trace), replay=_replay(data), graph=graph,
        memory_model=memory_model, why=why, payload=script_json(payload),
        word="reached" if witness else "violated", mark="●" if witness else "✗")


def _final_texts(memory: Mapping[str, Any] | None) -> dict[str, str] | None:
    """The memory at the end as the panel prints it, each value as JSON text
    written here: the browser's JSON.parse would round an integer past 2**53
    (a page-table entry with high bits set) to its nearest double."""
    if memory is None:
        return None
    return {cell: json.dumps(v, sort_keys=True, separators=(",", ":"))
            for cell, v in memory.items()}


def cell_file(stem: str, cell: Mapping[str, Any]) -> str:
    """The file name of a matrix cell's counterexample page, beside the matrix page."""
    parts = [cell["design"], cell["arch"], cell["scenario"], cell["memory_model"]]
    # no ':' or '/': a relative link "a-x:y.html" would read as a URL scheme
    return f"{stem}-" + "-".join(re.sub(r"[^\w.+-]", "_", str(p)) for p in parts) + ".html"


def matrix_page(cells: Sequence[Mapping[str, Any]], links: Mapping[int, str]) -> str:
    """designs x arches rows, hazards columns, coloured by verdict; ``links``
    maps a cell's index to the page it links to."""
    hazards = list(dict.fromkeys(c["scenario"] for c in cells))
    rows: dict[tuple, dict] = {}
    for i, c in enumerate(cells):
        key = (c["design"], c["arch"], c["memory_model"])
        rows.setdefault(key, {"design": c["design"], "arch": c["arch"],
                              "model": c["memory_model"], "cells": {}})
        rows[key]["cells"][c["scenario"]] = dict(c, href=links.get(i))
    counts: dict[str, int] = {}
    for c in cells:
        counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
    shown = [r for r in rows.values() if any(c["verdict"] != "n/a" for c in r["cells"].values())]
    for prev, r in zip([None] + shown, shown):      # the design named on its first row only
        r["first"] = prev is None or prev["design"] != r["design"]
    return _env().get_template("matrix.html.j2").render(
        hazards=hazards, rows=shown, counts=sorted(counts.items()), total=len(cells),
        hidden=len(rows) - len(shown))


def ablation_page(rows: Sequence[Mapping[str, Any]], links: Mapping[int, str]) -> str:
    """The ablation table: each protection, each memory model, with links to
    the counterexample found without it."""
    first = rows[0] if rows else {}
    return _env().get_template("ablation.html.j2").render(
        rows=[dict(r, href=links.get(i)) for i, r in enumerate(rows)],
        design=first.get("design", ""), arch=first.get("arch", ""),
        scenario=first.get("scenario", ""))


def litmus_page(rows: Sequence[Mapping[str, Any]], links: Mapping[int, str]) -> str:
    """The litmus tests' results (``LitmusResult.to_json``) as a table, each
    with a link to its witness's trace page where there is one."""
    return _env().get_template("litmus.html.j2").render(
        rows=[dict(r, href=links.get(i)) for i, r in enumerate(rows)],
        models=list(dict.fromkeys(r["model"] for r in rows)))


def write(path: str, text: str) -> None:
    """Write a page; a directory that does not exist is a usage error."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        from ..errors import UsageError
        raise UsageError(f"{path}: folder {folder} does not exist; "
                         f"create it or give a path in an existing folder")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


__all__ = ["trace_page", "matrix_page", "ablation_page", "litmus_page", "cell_file", "write",
           "steps",
           "ipi_arrows", "states", "graph_svg", "script_json"]
