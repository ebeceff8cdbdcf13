"""``dpor``'s graphs under an axiomatic (weak) memory model.

Under ``sc`` and ``tso`` the dpor graph (``check.graph``) keeps consistency
by construction: a read may read the co-latest write among its ancestors or
any later one. A weak model has no such single order, so here a read's
candidates are every write of its cell that coherence allows (not older than
what the thread itself already wrote or read there), and each candidate, like
each coherence position of a new write, is kept only if the model judges the
graph with it consistent. The model sees the graph as an ``ExecutionGraph``:
``to_execgraph`` lays the dpor graph out that way (initial writes of the
cells it touches, events per thread in program order, the tags and
dependencies ``meta`` records for each event).

What is explored this way: every consistent execution whose po ∪ rf is
acyclic, and, through dpor's early reads (``PROMISE`` in ``check.graph``),
load buffering: a read reading from a write that depends, through po and
rf, on the read's own thread going past it. A read whose write is not in
the graph yet has no rf in ``to_execgraph`` (such a graph is only judged
once the write is in).
"""

from __future__ import annotations

from .context import call_chain, short, source_of
from .execgraph import INIT_TID, Event, ExecutionGraph
from .graph import INIT, RMW_R, RMW_W


class Meta:
    """What a weak model needs of one dpor event besides its cell and value."""

    __slots__ = ("tags", "rmw_op", "label", "addr", "data", "ctrl", "origin")

    def __init__(self, tags=frozenset(), rmw_op=False, label="", addr=(), data=(), ctrl=(),
                 origin=None):
        self.tags, self.rmw_op, self.label = tags, rmw_op, label
        self.addr, self.data, self.ctrl = addr, data, ctrl
        self.origin = origin
        """For the trace only: ``Origin`` of the op that made the event."""


class Origin:
    """Where an event came from, for a reader of its trace: the thread's
    source location, its IRQ state, and the op with the program's
    ``describe`` (to name a value in the program's terms)."""

    __slots__ = ("where", "stack", "cpu", "irqs", "in_irq", "op", "describe")

    def __init__(self, ctx, op):
        file, line, fn = source_of(ctx.frames[-1]) if ctx.frames else ("?", 0, "?")
        self.where = (short(file), line, fn)
        self.stack = call_chain(ctx.frames)
        self.cpu, self.irqs, self.in_irq = ctx.cpu, ctx.irqs, 2 in ctx.kinds
        self.op, self.describe = op, ctx.ex.program.describe

    def fields(self, value) -> dict:
        d = {"file": self.where[0], "line": self.where[1], "function": self.where[2],
             "cpu": self.cpu, "irqs": self.irqs, "in_irq": self.in_irq,
             "stack": self.stack}
        if self.describe is not None and self.op is not None:
            text = self.describe(self.op, value)
            if text:
                d["text"] = text
        return d


PLAIN = Meta()


def to_execgraph(g, init: dict, names, extra=None, skip=()) -> ExecutionGraph:
    """The dpor graph ``g`` as a candidate execution.

    ``extra`` is an event not in ``g`` yet, ``(tid, kind, cell, value, rf or
    co position, meta, flags)``: the read or write whose choice is judged;
    ``skip``, events of ``g`` left out (reads no write reads from)."""
    meta = g.meta
    per: dict[int, list[int]] = {}
    for s in sorted(g.ev):
        if s not in skip:
            per.setdefault(g.ev[s].tid, []).append(s)
    cells = sorted({e.cell for e in g.ev.values() if e.cell is not None}
                   | ({extra[2]} if extra is not None and extra[2] is not None else set()))
    events: list[Event] = []
    ids: dict = {}
    for cell in cells:
        ids[("init", cell)] = len(events)
        events.append(Event(len(events), INIT_TID, -1, "W", cell, init.get(cell), label=f"init {cell}"))
    threads = []
    flags = [0] * len(events)
    XS = "extra"
    for tid in range(len(names)):
        row = []
        for i, s in enumerate(per.get(tid, []) + ([XS] if extra is not None and extra[0] == tid
                                                  else [])):
            if s == XS:
                _, kind, cell, value, _, m = extra[:6]
                fl = extra[6] if len(extra) > 6 else 0
            else:
                e = g.ev[s]
                kind, cell, value, m, fl = e.kind, e.cell, e.value, meta.get(s, PLAIN), e.flags
            ev = Event(len(events), tid, i, kind, cell, value, m.tags, m.rmw_op, m.label,
                       m.origin)
            ids[s] = ev.id
            events.append(ev)
            flags.append(fl)
            row.append(ev.id)
        threads.append(row)
    rf = {}
    for s, e in g.ev.items():
        if e.kind == "R" and s in ids and (e.rf == INIT or e.rf in ids):   # (a read of a write
            rf[ids[s]] = ids[("init", e.cell) if e.rf == INIT else e.rf]   # not in yet: none)
    co = {c: [ids[("init", c)]] + [ids[w] for w in g.co.get(c, ())] for c in cells}
    if extra is not None:
        tid, kind, cell, value, choice, _ = extra[:6]
        if kind == "R":
            rf[ids[XS]] = ids[("init", cell) if choice == INIT else choice]
        elif kind == "W":
            co[cell].insert(choice + 1, ids[XS])
    rmw = []
    for row in threads:
        for a, b in zip(row, row[1:]):
            if flags[a] & RMW_R and flags[b] & RMW_W:
                rmw.append((a, b))
    deps = {"addr": [], "data": [], "ctrl": []}
    for s, m in list(meta.items()) + ([(XS, extra[5])] if extra is not None else []):
        if s != XS and s not in ids:
            continue
        for rel in deps:
            for src in getattr(m, rel):
                if src in ids:
                    deps[rel].append((ids[src], ids[s]))
    return ExecutionGraph(events, threads, rf, co, rmw, deps["addr"], deps["data"],
                          deps["ctrl"], list(names))


def coherence_floor(g, tid, cell) -> int:
    """The lowest co[cell] index a new write of ``tid`` may take: after its
    own writes there and the writes its reads there read (0 if none)."""
    lst = g.co.get(cell, [])
    low = 0
    for s, e in g.ev.items():
        if e.tid != tid or e.cell != cell:
            continue
        w = s if e.kind == "W" else e.rf
        if w != INIT and w in lst:
            low = max(low, lst.index(w) + 1)
    return low


def coherent_reads(g, tid, cell) -> list:
    """Writes a new read of ``tid`` may read under coherence alone: not
    co-before the thread's own latest write to the cell or the write its
    latest read of the cell read."""
    lst = g.co.get(cell, [])
    low = coherence_floor(g, tid, cell)
    return lst[low - 1:] if low else [INIT, *lst]


def coherent_positions(g, tid, cell) -> list[int]:
    """Insertion indices in co[cell] for a new write of ``tid`` under
    coherence alone, never between an RMW and the write it read."""
    lst = g.co.get(cell, [])
    return [k for k in range(coherence_floor(g, tid, cell), len(lst) + 1)
            if not (k < len(lst) and g.ev[lst[k]].flags & RMW_W)]


def access_tags(order: str) -> frozenset:
    from ..ops import LKMM_ACCESS_TAG
    tag = LKMM_ACCESS_TAG.get(order)
    return frozenset() if tag is None else frozenset((tag,))


def op_meta(ctx, op, part: str, value=None, success=True) -> Meta:
    """The tags and dependencies of the event ``op`` makes (``part`` "R",
    "W" or "F"; an RMW makes an "R" and, if it writes, a "W")."""
    from ..ops import LKMM_FENCE_TAG
    def deps(field):
        return tuple(ctx.dep_events(op, field))
    ctrl = tuple(sorted(ctx.ctrl))
    code = op.code
    origin = Origin(ctx, op)
    if code == 4:
        return Meta(frozenset((LKMM_FENCE_TAG[op.kind],)), label=op.describe(), ctrl=ctrl,
                    origin=origin)
    if code == 5:
        return Meta(access_tags(op.order), label=op.describe(), ctrl=ctrl, origin=origin)
    if code == 1:
        tags = access_tags(op.order)
        if op.order == "is_locked":
            tags = frozenset(("RL" if value else "RU",))
        return Meta(tags, label=op.describe(), addr=deps("addr"), ctrl=ctrl, origin=origin)
    if code == 2:
        return Meta(access_tags(op.order), label=op.describe(), addr=deps("addr"),
                    data=deps("data"), ctrl=ctrl, origin=origin)
    lock = op.kind in ("lock", "trylock")
    if part == "R":
        tags = (frozenset(("LKR",)) if success else frozenset(("LF",))) if lock \
            else access_tags(op.order)
        return Meta(tags, not lock, op.describe(), addr=deps("addr"), ctrl=ctrl,
                    origin=origin)
    tags = frozenset(("LKW",)) if lock else access_tags(op.order)
    return Meta(tags, not lock, op.describe(), addr=deps("addr"), data=deps("data"), ctrl=ctrl,
                origin=origin)


POLL_LABEL = "look for pending IPIs"
POLL_META = Meta(frozenset(("ACQUIRE",)), label=POLL_LABEL)
# MODEL: taking an interrupt is a context synchronisation point: the handler's
# accesses are ordered after the look that found the IPI (an acquire read of
# the sender's fully ordered increment of cpuN.ipi_sent).
POLL_NONE_META = Meta(frozenset(("ONCE",)), label=POLL_LABEL)
# MODEL: a look that finds no new IPI orders nothing: hardware does not test
# for a pending interrupt with a memory access, so it must not act as a fence
# between the accesses around it (an acquire read is one on power and armv7,
# whose acquire is a load and a barrier).
