"""Results of the graph explorations under axiomatic models.

A weak-memory counterexample is an execution graph, not an interleaving: it
is reported with its events in an order that respects program order and
reads-from where one exists (under load buffering none does: then thread by
thread), each read naming the write it read, the graph itself (``graph`` in
the JSON: events, rf, co and the model's named relations between them), and a
``g1:`` schedule that names every reads-from and coherence choice, so that
``gupsim replay`` rebuilds exactly this execution.

A program with a ``snapshot`` hook gets a state per step as under an
interleaving, but the state at an event is the memory as that event has
observed it (``observed_memories``): what its thread could have seen
there, not a global moment of the execution.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

from ...errors import UsageError
from ..execgraph import ExecutionGraph, interleaving_cycle, with_fence_after
from ..weakgraph import POLL_LABEL
from ..result import Result, Stats

GRAPH_VERSION = "g1"


def encode_graph_schedule(signature) -> str:
    rf, co = signature
    data = {"rf": [[list(r), list(w) if w is not None else None] for r, w in rf],
            "co": {c: [list(w) for w in ws] for c, ws in co}}
    raw = zlib.compress(json.dumps(data, separators=(",", ":"), sort_keys=True).encode(), 9)
    return f"{GRAPH_VERSION}:" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_graph_schedule(text: str):
    """The (rf, co) signature a ``g1:`` schedule names."""
    if not text.startswith(f"{GRAPH_VERSION}:"):
        raise UsageError(f"schedule={text[:20]!r}...: a weak-memory execution is replayed "
                         f"from a '{GRAPH_VERSION}:' schedule, as printed with its counterexample")
    body = text[len(GRAPH_VERSION) + 1:]
    try:
        raw = zlib.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        data = json.loads(raw)
        rf = tuple(sorted((tuple(r), tuple(w) if w is not None else None)
                          for r, w in data["rf"]))
        co = tuple(sorted((c, tuple(tuple(w) for w in ws)) for c, ws in data["co"].items()))
    except (ValueError, KeyError, TypeError, zlib.error):
        raise UsageError(f"schedule={text[:20]!r}...: not a valid '{GRAPH_VERSION}:' schedule "
                         f"(copy it whole from the counterexample)") from None
    return (rf, co)


def event_order(g: ExecutionGraph) -> tuple[list[int], bool]:
    """Non-initial events in an order extending po and rf, if there is one."""
    n = len(g.events)
    succ: dict[int, list[int]] = {i: [] for i in range(n)}
    indeg = [0] * n
    for row in g.threads:
        for a, b in zip(row, row[1:]):
            succ[a].append(b)
            indeg[b] += 1
    for r, w in g.rf.items():
        if not g.events[w].is_init and g.events[w].tid != g.events[r].tid:
            succ[w].append(r)
            indeg[r] += 1
    ready = sorted(i for i in range(n) if indeg[i] == 0)
    out = []
    while ready:
        e = ready.pop(0)
        out.append(e)
        for s in succ[e]:
            indeg[s] -= 1
            if indeg[s] == 0:
                ready.append(s)
                ready.sort(key=lambda x: (g.events[x].tid, g.events[x].index))
    if len(out) < n:       # a po/rf cycle (load buffering): thread by thread
        return [e for row in g.threads for e in row], False
    return [e for e in out if not g.events[e].is_init], True


def observed_memories(g: ExecutionGraph, init: Mapping[str, Any]) -> dict[int, dict]:
    """Per event of a thread, the memory as that event has observed it: for
    each cell, the coherence-latest write among those the event's thread has
    observed up to it (the event included): its own writes and the writes
    its reads read from. A cell it has not observed has its initial value
    (``init`` gives the cells the graph does not touch). That is what the
    thread could have seen at that point: another thread's write it has not
    read is not shown, and by coherence it can never again see an older one
    of a cell shown.

    Not the writes of the event's whole causal past, ``(po | rf)*``: a write
    the other thread made before the one read is in that past, but a weak
    model need not have shown it to this thread (message passing: the reader
    that read the flag would be shown the data write it then reads the
    initial value over). Each event's observation is its thread's prefix
    alone, so a ``po | rf`` cycle (load buffering) changes nothing here."""
    position = {w: i for ws in g.co.values() for i, w in enumerate(ws)}
    base = dict(init)
    base.update((cell, g.events[ws[0]].value) for cell, ws in g.co.items())
    out: dict[int, dict] = {}
    for row in g.threads:
        latest: dict[str, int] = {}
        mem = dict(base)
        for e in row:
            ev = g.events[e]
            w = e if ev.kind == "W" else g.rf.get(e) if ev.kind == "R" else None
            if w is not None and w in position:
                cell = g.events[w].cell
                if cell not in latest or position[w] > position[latest[cell]]:
                    latest[cell] = w
                    mem[cell] = g.events[w].value
            out[e] = dict(mem)
    return out


Snapshot = Callable[[Mapping[str, Any]], Any]


def snapshot_hook(factory) -> tuple[dict, Snapshot] | None:
    """The program's ``snapshot`` hook bound to its context, with the
    program's initial memory, from a fresh world of ``factory``; None
    without a factory or a hook. (A graph's events come from worlds that
    are gone: the hook decodes the memory it is handed, as it does under
    an interleaving.)"""
    if factory is None:
        return None
    from ..runtime import Execution
    probe = Execution(factory, None, start=False)
    snap, context = probe.program.snapshot, probe.program.context
    if snap is None:
        return None
    return dict(probe.init), lambda mem: snap(context, mem)


def graph_trace(g: ExecutionGraph, hook: tuple[dict, Snapshot] | None = None) -> list[dict]:
    """The graph's events in an order extending po and rf, as trace steps.

    An atomic read-modify-write's read and write make one step (kind "U",
    ``old`` the value read); a look for pending IPIs that found none new is
    left out (it is still an event of the graph). With ``hook``
    (``snapshot_hook``) a step carries ``state``, the snapshot of the memory
    its event (an RMW's: its write) has observed (``observed_memories``),
    when it differs from the one the step before carries or inherits."""
    order, _ = event_order(g)
    seen = observed_memories(g, hook[0]) if hook is not None else None
    shown = None
    pair = dict(g.rmw)
    writes = set(pair.values())
    polled: dict[int, Any] = {}
    out = []
    for e in order:
        ev = g.events[e]
        if e in writes:
            continue
        if ev.label == POLL_LABEL:
            if ev.value == polled.get(ev.tid, 0):
                continue
            polled[ev.tid] = ev.value
        kind, value, old = ev.kind, ev.value, None
        if e in pair:
            kind, value, old = "U", g.events[pair[e]].value, ev.value
        d = {"step": len(out), "thread": g.names[ev.tid], "tid": ev.tid, "cpu": ev.tid,
             "kind": kind, "op": ev.label or ev.kind, "cell": ev.cell,
             "value": _show(value), "event": e}
        if kind == "U":
            d["old"] = _show(old)
            d["write_event"] = pair[e]
        if ev.kind == "R":
            d["read_from"] = g.rf[e]           # an event id until the pass below
        if ev.origin is not None:
            d.update(ev.origin.fields(value))
        if seen is not None:
            state = hook[1](seen[d.get("write_event", e)])
            if state != shown:
                d["state"] = shown = state
        out.append(d)
    _name_sources(g, out, pair)
    return out


def _name_sources(g: ExecutionGraph, steps: list[dict], pair: Mapping[int, int]) -> None:
    """Each read's ``read_from`` as the sc/tso traces give it: ``"init"`` or
    [thread, that thread's step count before the writing step] (an RMW's
    write is its read's step). The writing step can come later in the trace
    only under load buffering."""
    at, counts = {}, {}
    for d in steps:
        if d.get("kind") == "note":
            continue
        idx = counts.get(d["tid"], 0)
        counts[d["tid"]] = idx + 1
        at[d["event"]] = [d["tid"], idx]
        if d["event"] in pair:
            at[pair[d["event"]]] = [d["tid"], idx]
    for d in steps:
        if "read_from" in d:
            w = d["read_from"]
            d["read_from"] = "init" if g.events[w].is_init else at[w]


def graph_json(g: ExecutionGraph, model=None) -> dict:
    events = [{"id": e.id, "tid": e.tid, "index": e.index, "kind": e.kind, "cell": e.cell,
               "value": _show(e.value), "tags": sorted(e.tags), "label": e.label}
              for e in g.events]
    edges = []
    for rel in ("addr", "data", "ctrl"):
        edges.extend([a, b, rel] for a, b in getattr(g, rel))
    edges.extend([a, b, "rmw"] for a, b in g.rmw)
    explain = getattr(model, "explain", None)
    if explain is not None:
        try:
            edges.extend([a, b, name] for a, name, b in (explain(g) or ()))
        except Exception:        # explanations are a courtesy, never a failure
            pass
    return {"events": events, "threads": g.names,
            "rf": [[r, w] for r, w in sorted(g.rf.items())],
            "co": {c: list(ws) for c, ws in g.co.items()}, "edges": edges,
            "cycle": _cycle(g, model)}


def _cycle(g: ExecutionGraph, model) -> list:
    """The graph's po | rf | co | fr cycle (``interleaving_cycle``) as
    ``[a, b, kind, fence]``: for a program-order edge, ``fence`` says what a
    full fence between its two events does to the model's verdict: "alone"
    (that one fence forbids the graph), "together" (no single fence does,
    one between every program-order pair of the cycle does), "no" (the pair
    is kept in order already, or fences do not help), None (no model)."""
    from ...ops import LKMM_FENCE_TAG
    cycle = interleaving_cycle(g)
    tag = frozenset((LKMM_FENCE_TAG["mb"],))

    def forbids(points) -> bool | None:
        fenced = g
        for a in sorted(points, reverse=True):     # (later ids move, earlier ones stay)
            fenced = with_fence_after(fenced, a, tag, "smp_mb()")
        try:
            return not model.check(fenced).consistent
        except Exception:        # explanations are a courtesy, never a failure
            return None
    po = [a for a, _, kind in cycle if kind == "po"]
    alone = {a: forbids([a]) for a in po} if model is not None else {}
    together = forbids(po) if model is not None and len(po) > 1 and \
        not any(alone.values()) else None
    out = []
    for a, b, kind in cycle:
        fence = None
        if kind == "po" and model is not None and alone.get(a) is not None:
            fence = "alone" if alone[a] else ("together" if together else "no")
        out.append([a, b, kind, fence])
    return out


def weak_result(config, stats, found, model, shown=None, factory=None) -> Result:
    """Verdict and counterexample of a graph exploration (see module doc);
    ``found`` is ``(graph, violation)``, the graph an ``ExecutionGraph`` or
    its ``counterexample``; ``shown`` is the execution a replay ran, reported
    with or without a violation; ``factory`` the program's, for the states
    of its ``snapshot`` hook (``graph_trace``)."""
    from .enum import signature
    bounds = {"memory_model": config.memory_model, "strategy": config.strategy,
              "executions": stats.executions, "complete": stats.exhausted}
    cfg = asdict(config)
    if found is None:
        verdict = "safe" if stats.exhausted else "incomplete"
        res = Result(verdict, cfg, stats, None, bounds=bounds)
        if shown is not None:
            res.schedule = encode_graph_schedule(signature(shown))
            res.trace = graph_trace(shown, snapshot_hook(factory))
            res.final_memory = shown.final_values()
            res.graph = graph_json(shown, model)
        return res
    g, violation = found
    shown = g if isinstance(g, dict) else counterexample(g, model, factory)
    verdict = violation.kind if violation.kind in ("deadlock", "livelock") else "violation"
    results = None
    res = Result(verdict, cfg, stats, violation, shown["schedule"], shown["trace"],
                 shown["final_memory"], results, bounds)
    res.graph = shown["graph"]
    return res


def counterexample(g: ExecutionGraph, model, factory=None) -> dict:
    """What a result reports of the execution graph ``g``: its ``g1:``
    schedule, trace (with states if ``factory``'s program has a ``snapshot``
    hook), final memory and graph, as plain data. A split run
    (``gupsim.distributed``) sends this back from the worker that found the
    execution, not the graph: the graph's events hold the program's ops,
    which need not pickle (an ``Await``'s predicate is often a lambda)."""
    from .enum import signature
    return {"schedule": encode_graph_schedule(signature(g)),
            "trace": graph_trace(g, snapshot_hook(factory)),
            "final_memory": g.final_values(), "graph": graph_json(g, model)}


def _show(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple):
        return [_show(v) for v in value]
    return repr(value)


def replay_graph(factory, config) -> Result:
    """Rebuild the execution a ``g1:`` schedule names and report it.

    dpor is asked first (it scales to kernel scenarios); if it does not
    reach the execution (one with more early reads of a write than dpor
    combines, see ``dpor._subsets``), it is looked for among every candidate
    execution (``enum``)."""
    from ...errors import NondeterminismError
    from .enum import explore as enumerate_all, signature
    target = decode_graph_schedule(config.schedule)
    found = []

    class Found(Exception):
        pass

    def observe(outcome):
        if signature(outcome.graph) == target:
            found.append(outcome)
            raise Found
    from . import dpor
    from ..memory import WEAK
    if config.memory_model not in WEAK:      # sc, tso: the enumerator names its graphs
        return enumerate_all(factory, config)
    try:
        dpor.explore(factory, config.with_(strategy="dpor", stop_on_first=False),
                     observe=observe)
    except Found:
        pass
    if not found:
        return enumerate_all(factory, config)
    outcome = found[0]
    stats = Stats(executions=1, exhausted=True)
    from ..memory import axiomatic_model
    model = axiomatic_model(config.memory_model)
    if outcome.violation is not None:
        return weak_result(config, stats, (outcome.graph, outcome.violation), model,
                           factory=factory)
    return weak_result(config, stats, None, model, outcome.graph, factory)
