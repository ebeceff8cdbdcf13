"""Execution graphs from a result's JSON: the relations, and Graphviz DOT.

A result carries a weak model's execution graph under the key ``graph``
(check/execgraph.py is the contract)::

    {"events": [{"id", "tid", "index", "kind", "cell", "value", "tags", "label"}],
     "rf": [[read, write]], "co": {cell: [write, ...]}, "edges": [[a, b, name]]}

``relations`` turns it into the edges an axiomatic model reasons with: po
(program order, per thread), rf (reads-from), co (coherence, each write to
the next), fr (from-read: a read to every write coherence-after the one it
read) and the named edges the model reported (ppo, addr, data, ctrl, ...:
the ones that made the outcome possible). A result without a graph (an
interleaving under SC or TSO) gets one built from its trace: each access an
event, rf from ``read_from``, co in the order writes reached memory.

``to_dot`` writes the graph for ``dot -Tsvg``; gupsim does not need Graphviz.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

COLORS = {"po": "#555555", "rf": "#1a7f37", "co": "#8250df", "fr": "#cf222e"}
"""Edge colours by relation; any other (a model's named edge) is drawn orange."""
OTHER = "#d4730b"


def graph_of(data: Mapping[str, Any]) -> dict | None:
    """The execution graph of a result's JSON: its own ``graph`` key, else one
    built from the trace (None when the result has neither)."""
    if data.get("graph"):
        return data["graph"]
    trace = data.get("trace")
    return from_trace(trace) if trace else None


def from_trace(trace: Sequence[Mapping[str, Any]]) -> dict:
    """Events, rf and co of an interleaved trace (notes skipped; a write takes
    its place in co where it reached memory: its step, or its store-buffer
    drain's under TSO)."""
    events: list[dict] = []
    by_wid: dict[tuple, int] = {}
    counts: dict[int, int] = {}
    rf: list[list[int]] = []
    co: dict[str, list[int]] = {}
    for ev in trace:
        kind, tid = ev.get("kind"), ev.get("tid", 0)
        if kind in ("note", "flush"):
            continue
        cell = ev.get("cell")
        cell = ",".join(cell) if isinstance(cell, list) else cell
        idx = counts.get(tid, 0)
        counts[tid] = idx + 1
        eid = len(events)
        events.append({"id": eid, "tid": tid, "index": idx, "cell": cell,
                       "kind": {"W": "W", "U": "RMW", "F": "F"}.get(kind, "R"),
                       "value": ev.get("value"), "tags": [], "label": ev.get("op", ""),
                       "step": ev.get("step")})
        by_wid[(tid, idx)] = eid
        src = ev.get("read_from")
        if isinstance(src, list) and tuple(src) in by_wid:
            rf.append([eid, by_wid[tuple(src)]])
        if kind in ("W", "U"):
            co.setdefault(cell, []).append(eid)
    for cell in co:
        co[cell].sort(key=lambda e: _drain_order(trace, events[e]))
    return {"events": events, "rf": rf, "co": co, "edges": [], "derived": True}


def _drain_order(trace, event) -> int:
    """Where a write reached memory: its own step, or its drain's under TSO."""
    step = event.get("step") or 0
    for ev in trace[step + 1:]:
        if ev.get("kind") == "flush" and ev.get("tid") == event["tid"] \
                and ev.get("cell") == event["cell"]:
            return ev["step"]
        if ev.get("tid") == event["tid"] and ev.get("kind") == "W" \
                and ev.get("cell") == event["cell"]:
            break
    return step


def relations(graph: Mapping[str, Any]) -> list[tuple[int, int, str]]:
    """(a, b, name) for po, rf, co, fr and the graph's own named edges."""
    events = graph.get("events", [])
    threads: dict[int, list] = {}
    for e in events:
        if e.get("tid", -1) >= 0:
            threads.setdefault(e["tid"], []).append(e)
    out = []
    for evs in threads.values():
        evs.sort(key=lambda e: e.get("index", 0))
        out += [(a["id"], b["id"], "po") for a, b in zip(evs, evs[1:])]
    out += [(w, r, "rf") for r, w in graph.get("rf", [])]
    co = graph.get("co", {})
    for ws in co.values():
        out += [(a, b, "co") for a, b in zip(ws, ws[1:])]
    where = {w: (cell, i) for cell, ws in co.items() for i, w in enumerate(ws)}
    for r, w in graph.get("rf", []):
        if w in where:
            cell, i = where[w]
            out += [(r, later, "fr") for later in co[cell][i + 1:] if later != r]
    out += [(a, b, str(name)) for a, b, name in graph.get("edges", [])]
    # the cycle no interleaving has (weakresult._cycle), drawn as the model's edges
    out += [(a, b, f"cycle {kind}") for a, b, kind, *_ in graph.get("cycle", [])]
    return out


def event_label(e: Mapping[str, Any]) -> str:
    """``W x=1`` / ``R y=0`` / ``F mb``, with its LKMM tags."""
    tags = e.get("tags") or []
    kind = e.get("kind", "?")
    if kind == "F":
        body = f"F {' '.join(map(str, tags)) or e.get('value') or ''}".strip()
    else:
        body = f"{kind} {e.get('cell')}={e.get('value')!r}"
        if tags:
            body += f" [{' '.join(map(str, tags))}]"
    return body


def _q(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(graph: Mapping[str, Any], title: str = "execution") -> str:
    """The graph in DOT: one cluster per thread, init writes on top."""
    lines = [f"digraph {_q(title)} {{", "  rankdir=TB;", "  node [shape=box, fontname=monospace];"]
    by_tid: dict[int, list] = {}
    for e in graph.get("events", []):
        by_tid.setdefault(e.get("tid", -1), []).append(e)
    for tid, evs in sorted(by_tid.items()):
        name = "init" if tid < 0 else f"thread {tid}"
        lines.append(f"  subgraph cluster_{tid if tid >= 0 else 'init'} {{ label={_q(name)};")
        for e in sorted(evs, key=lambda e: e.get("index", 0)):
            lines.append(f"    e{int(e['id'])} [label={_q(event_label(e))}];")
        lines.append("  }")
    for a, b, name in relations(graph):
        color = COLORS.get(name, OTHER)
        style = ', style=dashed' if name in ("fr", "co") else ""
        lines.append(f"  e{int(a)} -> e{int(b)} [label={_q(name)}, color={_q(color)}, "
                     f"fontcolor={_q(color)}{style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


__all__ = ["graph_of", "from_trace", "relations", "event_label", "to_dot", "COLORS"]
