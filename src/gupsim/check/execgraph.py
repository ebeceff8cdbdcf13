"""Execution graphs as axiomatic memory models see them.

An execution graph is what herd7 calls a candidate execution: the events of
every thread in program order, the initial writes, and the base relations
between them. A weak memory model (``check.cat``) judges a graph by
computing relations from these and checking its axioms (acyclicity,
irreflexivity, emptiness); explorations (the enumerator, ``dpor``) build the
graphs.

Events are numbered 0..n-1, initial writes first (one per cell, in cell
order), then the events of thread 0 in program order, thread 1, and so on.

* ``kind`` is ``"R"``, ``"W"`` or ``"F"`` (a fence). An atomic
  read-modify-write is two events, its read and its write, linked by ``rmw``;
  a failed one (cmpxchg that did not match) is its read alone, still tagged
  as part of an RMW instruction (``rmw_op``).
* ``tags`` are the annotations of the Linux-kernel memory model's
  ``linux-kernel.def``/``lock.cat`` (``ops.LKMM_ACCESS_TAG``,
  ``ops.LKMM_FENCE_TAG``): ``ONCE``, ``ACQUIRE``, ``RELEASE``, ``MB``,
  ``NORETURN``, lock events ``LKR``/``LKW``/``UL``/``LF``/``RL``/``RU``, SRCU
  ``srcu-lock``/``srcu-unlock``, and for a fence its kind (``MB``, ``rmb``,
  ``wmb``, ``before-atomic``, ...). A plain C access has none. Models for a
  hardware architecture map these to the architecture's own instructions.
* ``rf`` maps every read to the write it reads from (an initial write for the
  initial value), ``co`` lists each cell's writes in coherence order, the
  initial write first, ``rmw`` pairs the read and write of each successful
  atomic RMW, ``addr``/``data``/``ctrl`` are dependency edges from a read to
  a later event of the same thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INIT_TID = -1


@dataclass(frozen=True)
class Event:
    id: int
    tid: int                 # thread index; INIT_TID for an initial write
    index: int               # position in the thread's program order (-1: init)
    kind: str                # "R", "W" or "F"
    cell: str | None         # the location; None for most fences
    value: Any = None        # the value read or written
    tags: frozenset = frozenset()
    rmw_op: bool = False     # part of an atomic read-modify-write instruction
    label: str = ""          # for humans: the op, as the thread wrote it
    origin: Any = field(default=None, compare=False, repr=False)
    """For a trace only: where the event came from (``weakgraph.Origin``)."""

    @property
    def is_init(self) -> bool:
        return self.tid == INIT_TID


@dataclass
class ExecutionGraph:
    events: list[Event]
    threads: list[list[int]]                 # per thread: event ids in program order
    rf: dict[int, int]                       # read -> write it reads from
    co: dict[str, list[int]]                 # cell -> writes in coherence order (init first)
    rmw: list[tuple[int, int]] = field(default_factory=list)
    addr: list[tuple[int, int]] = field(default_factory=list)
    data: list[tuple[int, int]] = field(default_factory=list)
    ctrl: list[tuple[int, int]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)   # thread names, for humans

    def __len__(self) -> int:
        return len(self.events)

    def initial(self, cell: str) -> int:
        return self.co[cell][0]

    def final_values(self) -> dict[str, Any]:
        """Each cell's value at the end: its co-last write's."""
        return {cell: self.events[ws[-1]].value for cell, ws in self.co.items()}

    def describe(self, e: int) -> str:
        ev = self.events[e]
        if ev.is_init:
            return f"init {ev.cell} = {ev.value!r}"
        who = self.names[ev.tid] if ev.tid < len(self.names) else f"P{ev.tid}"
        return f"{who}#{ev.index} {ev.label or ev.kind}"


def build(init: dict[str, Any], threads: list[list[dict]], names=None) -> ExecutionGraph:
    """A graph from per-thread event lists (tests and tools).

    Each event is a dict with ``kind``, ``cell``, ``value`` and optional
    ``tags``, ``rmw_op``, ``label``, ``rf`` (for a read: ``"init"`` or
    ``(tid, index)`` of the write), ``rmw`` (for a write: True if it is the
    write of an RMW whose read is the event just before), ``addr``/``data``/
    ``ctrl`` (indices of earlier reads of the thread). ``co`` is given per
    write as ``co`` (its position among the cell's non-initial writes).
    """
    events: list[Event] = []
    ids: dict = {}
    co: dict[str, list] = {}
    for cell in sorted(init):
        e = Event(len(events), INIT_TID, -1, "W", cell, init[cell], label=f"init {cell}")
        events.append(e)
        co[cell] = [e.id]
    order: list[list[int]] = []
    for tid, evs in enumerate(threads):
        row = []
        for i, d in enumerate(evs):
            e = Event(len(events), tid, i, d["kind"], d.get("cell"), d.get("value"),
                      frozenset(d.get("tags", ())), d.get("rmw_op", False), d.get("label", ""))
            events.append(e)
            ids[(tid, i)] = e.id
            row.append(e.id)
        order.append(row)
    g = ExecutionGraph(events, order, {}, co, names=list(names or
                                                          [f"P{t}" for t in range(len(threads))]))
    positions: dict[str, list] = {}
    for tid, evs in enumerate(threads):
        for i, d in enumerate(evs):
            me = ids[(tid, i)]
            if d["kind"] == "R":
                src = d.get("rf", "init")
                g.rf[me] = co[d["cell"]][0] if src == "init" else ids[tuple(src)]
            elif d["kind"] == "W":
                positions.setdefault(d["cell"], []).append((d.get("co", 0), me))
                if d.get("rmw"):
                    g.rmw.append((ids[(tid, i - 1)], me))
            for rel in ("addr", "data", "ctrl"):
                for j in d.get(rel, ()):
                    getattr(g, rel).append((ids[(tid, j)], me))
    for cell, ws in positions.items():
        co[cell].extend(w for _, w in sorted(ws))
    return g


def sequentially_consistent(g: ExecutionGraph) -> bool:
    """Could the graph be an interleaving? True when some total order of its
    events extends po, rf, co and fr (Shasha-Snir: ``po | com`` acyclic) and
    each RMW's write comes right after, in co, the write its read reads from
    (nothing between them: atomicity).

    Every model judged here is weaker than SC on graphs of ordering-only
    primitives, so this is a cheap sufficient test of their consistency
    (``CatModel.consistent``): a topological sort over O(n) edges. fr is
    given by its first edge per read (read -> the co-successor of its
    source); the rest follows through co.
    """
    n = len(g.events)
    succ: list[list[int]] = [[] for _ in range(n)]
    indeg = [0] * n
    pos: dict[int, int] = {}
    for ws in g.co.values():
        for i, w in enumerate(ws):
            pos[w] = i
            if i:
                succ[ws[i - 1]].append(w)
    for row in g.threads:
        for a, b in zip(row, row[1:]):
            succ[a].append(b)
    for r, w in g.rf.items():
        succ[w].append(r)
        ws = g.co[g.events[r].cell]
        i = pos[w] + 1
        if i < len(ws):
            succ[r].append(ws[i])
    for r, w in g.rmw:
        src = g.rf.get(r)
        if src is None or pos[w] != pos[src] + 1:
            return False
    for out in succ:
        for b in out:
            indeg[b] += 1
    ready = [e for e in range(n) if not indeg[e]]
    seen = 0
    while ready:
        a = ready.pop()
        seen += 1
        for b in succ[a]:
            indeg[b] -= 1
            if not indeg[b]:
                ready.append(b)
    return seen == n


def interleaving_cycle(g: ExecutionGraph) -> list[tuple[int, int, str]]:
    """Why no interleaving gives the graph: a shortest cycle of po, rf, co and
    fr (Shasha and Snir, TOPLAS 1988: an execution is sequentially consistent
    iff ``po | rf | co | fr`` is acyclic), as edges ``(a, b, kind)`` with
    ``kind`` one of "po", "rf", "co", "fr"; consecutive program-order steps
    are one "po" edge. Empty if the graph has no such cycle (its only
    departure from SC, if any, is an RMW's atomicity).

    Each "po" edge of the cycle is a pair of the thread's events the model
    let take effect out of program order, or (on a model that is not
    multicopy-atomic) an order another thread did not see in time."""
    n = len(g.events)
    succ: list[list[tuple[int, str]]] = [[] for _ in range(n)]
    for ws in g.co.values():
        for a, b in zip(ws, ws[1:]):
            succ[a].append((b, "co"))
    for row in g.threads:
        for a, b in zip(row, row[1:]):
            succ[a].append((b, "po"))
    for r, w in g.rf.items():
        succ[w].append((r, "rf"))
        ws = g.co[g.events[r].cell]
        i = ws.index(w) + 1
        if i < len(ws):
            succ[r].append((ws[i], "fr"))
    best: list[tuple[int, int, str]] = []
    for start in range(n):
        # breadth first from start back to itself; cost: edges leaving po
        # (the number of steps a reader follows) first, then length
        prev: dict[int, tuple[int, str]] = {}
        frontier = [start]
        found = False
        while frontier and not found:
            nxt = []
            for a in frontier:
                for b, kind in succ[a]:
                    if b == start:
                        prev[start] = (a, kind)
                        found = True
                        break
                    if b not in prev and b != start:
                        prev[b] = (a, kind)
                        nxt.append(b)
                if found:
                    break
            frontier = nxt
        if not found:
            continue
        path, b = [], start
        while True:
            a, kind = prev[b]
            path.append((a, b, kind))
            b = a
            if b == start:
                break
        path.reverse()
        merged: list[tuple[int, int, str]] = []
        for a, b, kind in path:
            if kind == "po" and merged and merged[-1][2] == "po":
                merged[-1] = (merged[-1][0], b, "po")
            else:
                merged.append((a, b, kind))
        if len(merged) > 1 and merged[0][2] == "po" and merged[-1][2] == "po":
            merged = [(merged[-1][0], merged[0][1], "po")] + merged[1:-1]
        if not best or len(merged) < len(best):
            best = merged
    return best


def with_fence_after(g: ExecutionGraph, a: int, tags: frozenset,
                     label: str = "fence") -> ExecutionGraph:
    """``g`` with one more event: a fence tagged ``tags`` right after event
    ``a`` in its thread (ids after ``a`` move up by one). A counterexample's
    report uses it to ask the model which program-order pair of its cycle
    a full fence would forbid."""
    def m(i: int) -> int:
        return i if i <= a else i + 1
    at = g.events[a]
    events: list[Event] = []
    for e in g.events:
        index = e.index + 1 if e.tid == at.tid and e.index > at.index else e.index
        events.append(Event(m(e.id), e.tid, index, e.kind, e.cell, e.value, e.tags, e.rmw_op,
                            e.label, e.origin))
        if e.id == a:
            events.append(Event(a + 1, at.tid, at.index + 1, "F", None, None, tags,
                                label=label))
    threads = []
    for row in g.threads:
        new = []
        for i in row:
            new.append(m(i))
            if i == a:
                new.append(a + 1)
        threads.append(new)
    return ExecutionGraph(events, threads, {m(r): m(w) for r, w in g.rf.items()},
                          {c: [m(w) for w in ws] for c, ws in g.co.items()},
                          [(m(x), m(y)) for x, y in g.rmw], [(m(x), m(y)) for x, y in g.addr],
                          [(m(x), m(y)) for x, y in g.data], [(m(x), m(y)) for x, y in g.ctrl],
                          list(g.names))
