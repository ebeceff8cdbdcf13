"""Execution graphs for the ``dpor`` strategy (see ``strategies/dpor.py``).

An execution is a graph: events per thread in program order (po), the write
each read reads from (rf) and, per cell, the order of writes (co). ``Graph``
keeps, for every event, the bitset of its ancestors under the memory model's
global order (so a new read's possible writes and a new write's possible
coherence positions are read off directly: consistency by construction) and
the bitset of its po/rf prefix (for revisits).
"""

from __future__ import annotations

INIT = -1
# event flags
POLL, IDLE, AWAIT, RMW_R, RMW_W = 1, 2, 4, 8, 16


class GEvent:
    __slots__ = ("s", "tid", "kind", "cell", "value", "rf", "flags", "code")

    def __init__(self, s, tid, kind, cell, value, rf, flags, code):
        self.s, self.tid, self.kind, self.cell = s, tid, kind, cell
        self.value, self.rf, self.flags, self.code = value, rf, flags, code


class Graph:
    """Events, with ancestor and po/rf-prefix bitsets kept incrementally.

    ``anc[e]`` is the set of events that must precede ``e`` in the memory
    model's global order: all of po, rf, co and fr under SC; under TSO
    (x86-TSO, Owens, Sarkar and Sewell, TPHOLs 2009) po minus write-to-read
    pairs not separated by a drain (``smp_mb()``, an atomic RMW, an Await,
    taking an IPI), and rf only between threads (a CPU reads its own buffered
    store early). ``porf[e]`` is e's po/rf prefix, for revisits.
    """

    def __init__(self, tso: bool = False):
        self.tso = tso
        self.ev: dict[int, GEvent] = {}
        self.anc: dict[int, int] = {}
        self.porf: dict[int, int] = {}
        self.co: dict[str, list[int]] = {}
        self.readers: dict = {}          # write stamp or ("init", cell) -> [read stamps]
        self.taken: set = set()          # writes read by a successful RMW
        self.last: dict[int, int] = {}   # tid -> last stamp (po)
        self.last_r: dict[int, int] = {}  # TSO: last plain read
        self.last_w: dict[int, int] = {}  # TSO: last write
        self.last_d: dict[int, int] = {}  # TSO: last drain
        self.own: dict = {}              # TSO: (tid, cell) -> last own write
        self.order: list[int] = []       # replay order (po/rf-topological)
        self.reads: dict[str, list[int]] = {}   # cell -> its reads, in ``order``
        self.top = -1
        self.meta: dict = {}             # weak models: stamp -> weakgraph.Meta
        self.woken: dict = {}            # WOKEN read -> (rf, flags, irqs on) it waited with

    def stamp(self) -> int:
        self.top += 1
        return self.top

    def clone(self) -> "Graph":
        g = Graph.__new__(Graph)
        g.tso, g.top = self.tso, self.top
        g.ev, g.anc, g.porf = dict(self.ev), dict(self.anc), dict(self.porf)
        g.co = {c: list(ws) for c, ws in self.co.items()}
        g.meta = dict(self.meta)
        g.woken = dict(self.woken)
        g.readers = {k: list(v) for k, v in self.readers.items()}
        g.taken = set(self.taken)
        g.last, g.order = dict(self.last), list(self.order)
        g.reads = {c: list(rs) for c, rs in self.reads.items()}
        if self.tso:
            g.last_r, g.last_w = dict(self.last_r), dict(self.last_w)
            g.last_d, g.own = dict(self.last_d), dict(self.own)
        else:                       # only TSO reads these
            g.last_r, g.last_w, g.last_d, g.own = self.last_r, self.last_w, self.last_d, self.own
        return g

    def _up(self, table, tid):
        p = table.get(tid)
        return 0 if p is None else self.anc[p] | (1 << p)

    def base(self, tid, drain=True, cell=None):
        """Ancestors a new event of ``tid`` starts with; a plain read (drain
        False) under TSO skips its thread's writes since the last drain.
        With ``cell``, the thread's own latest write to it is added: the
        lower bound for what such a read may read (coherence), which is not
        a global-order edge (store forwarding)."""
        if not self.tso:
            return self._up(self.last, tid)
        b = self._up(self.last_r, tid) | self._up(self.last_d, tid)
        if drain:
            return b | self._up(self.last_w, tid)
        own = self.own.get((tid, cell))
        return b | (1 << own) if own is not None else b

    def porf_pred(self, tid):
        p = self.last.get(tid)
        return 0 if p is None else self.porf[p] | (1 << p)

    def _wkey(self, w, cell):
        return ("init", cell) if w == INIT else w

    def candidates(self, base, cell):
        """Writes a read with ancestors ``base`` may read from (co order)."""
        lst = self.co.get(cell, ())
        j = len(lst) - 1
        while j >= 0 and not (base >> lst[j]) & 1:
            j -= 1
        return lst[j:] if j >= 0 else [INIT, *lst]

    def read_candidates(self, tid, cell, drain=False):
        return self.candidates(self.base(tid, drain, cell), cell)

    def _after(self, tid, s, kind, drain):
        self.last[tid] = s
        if not self.tso:
            return
        if drain:
            self.last_d[tid] = s
            self.last_r.pop(tid, None)
            self.last_w.pop(tid, None)
        elif kind == "R":
            self.last_r[tid] = s
        elif kind == "W":
            self.last_w[tid] = s

    def add_read(self, s, tid, cell, rf, flags, code, value, drain=False):
        # Under TSO a plain read is not ordered after its own thread's
        # buffered write to the cell: that write only bounds which writes the
        # read may read (``base(..., cell)``, coherence), it is no ancestor.
        anc = self.base(tid, drain)
        porf = self.porf_pred(tid)
        if flags & PROMISE and rf not in self.ev:
            # load buffering (weak models only): the write it reads comes
            # later in the graph; ``fulfil`` completes its prefix then
            e = GEvent(s, tid, "R", cell, value, rf, flags, code)
            self.ev[s], self.anc[s], self.porf[s] = e, anc, porf
            self._after(tid, s, "R", drain)
            self.readers.setdefault(rf, []).append(s)
            self.order.append(s)
            self.reads.setdefault(cell, []).append(s)
            return e
        if rf != INIT:
            porf |= self.porf[rf] | (1 << rf)
            if not self.tso or drain or self.ev[rf].tid != tid:
                anc |= self.anc[rf] | (1 << rf)
        e = GEvent(s, tid, "R", cell, value, rf, flags, code)
        self.ev[s], self.anc[s], self.porf[s] = e, anc, porf
        self._after(tid, s, "R", drain)
        self.readers.setdefault(self._wkey(rf, cell), []).append(s)
        self.order.append(s)
        self.reads.setdefault(cell, []).append(s)
        lst = self.co.get(cell, ())
        nxt = lst[0] if rf == INIT and lst else None
        if rf != INIT:
            i = lst.index(rf)
            nxt = lst[i + 1] if i + 1 < len(lst) else None
        if nxt is not None:               # fr: this read precedes the next write
            self._propagate(nxt, anc | (1 << s))
        return e

    def write_positions(self, tid, cell, extra_anc=0):
        """Insertion indices in co[cell] a new plain write may take."""
        base = self.base(tid) | extra_anc
        lst = self.co.get(cell, [])
        j = len(lst) - 1
        while j >= 0 and not (base >> lst[j]) & 1:
            j -= 1
        out = []
        for k in range(j + 1, len(lst) + 1):
            if k < len(lst) and self.ev[lst[k]].flags & RMW_W:
                continue                   # keep an RMW right after the write it read
            out.append(k)
        return out

    def add_write(self, s, tid, cell, value, pos, flags, code, drain=False, waking=()):
        """``waking``: reads waiting at a lock that this write makes stale and
        that are made again in place right after it (``dpor._wake``): they
        stand for a spin that goes on, so they do not precede the write."""
        anc = self.base(tid)
        porf = self.porf_pred(tid)
        prev = self.last.get(tid)
        lst = self.co.setdefault(cell, [])
        before = lst[:pos]
        if before:
            w = before[-1]
            anc |= self.anc[w] | (1 << w)
        for key in [("init", cell), *before]:     # fr: their readers precede this write
            for r in self.readers.get(key, ()):
                if r not in waking:
                    anc |= self.anc[r] | (1 << r)
        e = GEvent(s, tid, "W", cell, value, None, flags, code)
        self.ev[s], self.anc[s], self.porf[s] = e, anc, porf
        self._after(tid, s, "W", drain or bool(flags & RMW_W))
        if self.tso:
            self.own[(tid, cell)] = s
        self.order.append(s)
        lst.insert(pos, s)
        if pos + 1 < len(lst):
            self._propagate(lst[pos + 1], anc | (1 << s))
        if flags & RMW_W:
            self.taken.add(self._wkey(self.ev[prev].rf, cell))
        return e

    def fulfil(self, r, w):
        """The write ``w`` read early by ``r`` is in: everything whose po/rf
        prefix holds ``r`` now holds ``w``'s as well (a po | rf cycle)."""
        extra = self.porf[w] | (1 << w)
        bit = 1 << r
        porf = self.porf
        for x in porf:
            if x == r or porf[x] & bit:
                porf[x] |= extra

    def add_fence(self, s, tid, code, value):
        anc = self.base(tid)
        self.ev[s] = GEvent(s, tid, "F", None, value, None, 0, code)
        self.anc[s], self.porf[s] = anc, self.porf_pred(tid)
        self._after(tid, s, "F", value == "mb")
        self.order.append(s)

    def _propagate(self, target, extra):
        """Everything ``target`` precedes now also has ``extra`` as ancestors."""
        bit = 1 << target
        anc = self.anc
        for x in anc:
            if x == target or anc[x] & bit:
                anc[x] |= extra

    def co_max(self, cell):
        lst = self.co.get(cell)
        return lst[-1] if lst else INIT

    def value_of(self, w, init):
        return init if w == INIT else self.ev[w].value


TAKE, LAST = 32, 64      # a poll that took IPIs; the last read of an Await
REV = 256                # a read placed by a backward revisit
DRAINW = 512             # a fully ordered store (straight to memory under TSO)
FAILED = 1024            # the last read of an Await whose condition did not hold
CHOOSE = 128             # (record) a revisiting write whose co position is open
CLI = 2048               # a poll right before local_irq_disable(): if it takes no
                         # IPI, IRQs go off at the poll (it stands for the cli step)
PROMISE = 4096           # weak models: a read of a write added after it (load
                         # buffering: the write's po | rf prefix holds the read)
WAKE = 8192              # (record) a waiting lock's read made again in place, from
                         # the writes after the one it read (rf field)
WOKEN = 16384            # a lock's read made again in place (``Graph.woken``)
SPIN = 32768             # a waiting lock's read that waits on for an IPI pending
                         # for its CPU (the lock's release is seen after the handler)
AGAIN = 65536            # (record) a revisited read that was a woken lock's read
                         # and lost the write that woke it: dropped if it waits


def maximal(g: Graph, e: int, prefix: int) -> bool:
    """Was ``e`` added maximally w.r.t. the events before it plus ``prefix``?
    A WOKEN read stands for two graphs, the one where it waits with what it
    read first and the one where it was revisited: it is maximal if it is
    so in either (they exclude each other: the write that woke it is in
    ``prefix`` or not)."""
    ev = g.ev[e]
    if ev.kind == "F":
        return True
    lst = g.co.get(ev.cell, ())
    if ev.kind == "R":
        if ev.flags & WOKEN:
            rf, flags, _ = g.woken[e]
            if _maximal_read(lst, e, rf, flags, prefix):
                return True
        return _maximal_read(lst, e, ev.rf, ev.flags, prefix)
    return _none_after(lst, lst.index(e) + 1, e, prefix)


def _maximal_read(lst, e, w, flags, prefix) -> bool:
    if flags & REV and (w == INIT or not (prefix >> w) & 1):
        return False     # re-adding it would not find the write it reads
    return _none_after(lst, 0 if w == INIT else lst.index(w) + 1, e, prefix)


def _none_after(lst, start, e, prefix) -> bool:
    for w2 in lst[start:]:
        if w2 <= e or (prefix >> w2) & 1:
            return False
    return True


def access_signature(g: Graph, awaits: bool = False) -> tuple:
    """Like ``Execution.signature``: accesses numbered per thread, an atomic
    read-modify-write counting once, so both kinds of run compare equal.
    With ``awaits``, also what each ``Await``'s reads read (an interleaving
    spins through any number of them, so ``Execution.signature`` leaves them
    out): two graphs that differ only there, one where the await ends and
    one where it waits for ever, are two executions."""
    key, count = {}, {}
    for s in sorted(g.ev):
        e = g.ev[s]
        t = e.tid
        if e.flags & RMW_W:
            prev = max(x for x in key if g.ev[x].tid == t and x < s)
            key[s] = key[prev]
            continue
        if e.flags & (POLL | IDLE) and not e.flags & TAKE or e.flags & AWAIT and not e.flags & LAST:
            key[s] = None
            continue
        key[s] = (t, count.get(t, 0))
        count[t] = count.get(t, 0) + 1
    rf = tuple(sorted((key[s], key.get(e.rf)) for s, e in g.ev.items()
                      if e.kind == "R" and not e.flags & (POLL | IDLE | AWAIT)))
    co = tuple(sorted((c, tuple(key[w] for w in ws)) for c, ws in g.co.items() if ws))
    if not awaits:
        return (rf, co)
    waits: dict = {}
    for s in sorted(g.ev):
        e = g.ev[s]
        if e.kind == "R" and e.flags & AWAIT:
            waits.setdefault(e.tid, []).append(key.get(e.rf))
    return (rf, co, tuple(sorted((t, tuple(ws)) for t, ws in waits.items())))
