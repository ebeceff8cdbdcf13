"""What a cat model sees of an execution graph before its first line.

The predefined names of herd7 (its core and ``stdlib.cat``), computed from an
``ExecutionGraph``:

* sets ``R``, ``W``, ``M``, ``F``, ``IW`` (initial writes, also ``I``), ``FW``
  (the co-last write of each observed cell, see below), ``RMW`` (events of an
  atomic read-modify-write instruction, lock operations excepted, as in herd),
  and one set per tag, named as herd names them: the tag with its first
  letter upper-cased (``'rmb`` -> ``Rmb``, ``'ONCE`` -> ``ONCE``). The lock
  sets ``LKR LKW UL LF RL RU`` always exist (empty when absent);
* relations ``id``, ``loc``, ``int`` (same thread, initial writes excluded),
  ``ext`` (different threads), ``po``, ``po-loc``, ``rf``, ``rfe``, ``rfi``,
  ``co`` (transitive), ``coe``, ``coi``, ``fr = (rf^-1 ; co) \\ id``, ``fre``,
  ``fri``, ``rmw``, ``addr``, ``data``, ``ctrl``, ``co0``;
* herd's primitives and stdlib functions: ``domain``, ``range``,
  ``fencerel(S) = (po & (_ * S)) ; po``, ``ctrlcfence``, ``toid``,
  ``different-values``, ``same-values``, ``map``, ``cross`` (of cross.cat),
  ``singlestep``, ``nodetour``, ``classes-loc`` (``partition``), ``emptyset``.

``FW``: herd's final writes are those the test's final condition reads. A
candidate graph does not say which cells that is; ``observed`` names them,
and by default every cell no lock or srcu operation touches (a litmus
condition never tests a spinlock or an srcu_struct: lock.cat flags one that
does as ``lock-final``).

Lock operations (herd's lock.cat view) keep only their lock tag (herd gives
lock events no ``ONCE``/``ACQUIRE``/... annotation; lock.cat makes ``LKR`` an
acquire and ``UL`` a release); a spin_is_locked() read tagged ``RL``
that read 0 (the lock free) is herd's ``RU``; an ``LKR`` with no ``LKW``
partner (a failed spin_trylock()) is herd's ``LF``. With ``lock_reads_hidden``
(models that include lock.cat) the base ``rf`` and ``rmw`` leave out the lock
reads and lock pairs, and ``R``, ``W``, ``M`` leave out the lock operations,
as herd's core does: lock.cat computes them and adds them back.
"""

from __future__ import annotations

from .compile import Builtin, apply
from .operators import collect, elements
from .values import EMPTY, Algebra, CatError, Rel, VSet, bits

LOCK_SETS = ("LKR", "LKW", "UL", "LF", "RL", "RU")
LOCK_READS = ("LKR", "LF", "RL", "RU")
LOCKS = frozenset(LOCK_SETS)
SYNC_TAGS = ("srcu-lock", "srcu-unlock", "sync-srcu")


def set_name(tag: str) -> str:
    """herd's name for the set of events carrying ``tag``."""
    return tag[:1].upper() + tag[1:]


def event_tags(g) -> list[set[str]]:
    """Each event's herd tags, lock reads reclassified (module docstring)."""
    evs = g.events
    lkw_after = {r for r, w in g.rmw if "LKW" in evs[w].tags}
    out = []
    for ev in evs:
        tags = set(ev.tags)
        if tags & LOCKS:                # herd's lock events carry no annotation
            tags &= LOCKS
        if "RL" in tags and not ev.value:
            tags.discard("RL")
            tags.add("RU")
        if "LKR" in tags and ev.id not in lkw_after:
            nxt = _po_next(g, ev)
            if nxt is None or "LKW" not in evs[nxt].tags or evs[nxt].cell != ev.cell:
                tags.discard("LKR")
                tags.add("LF")
        out.append(tags)
    return out


def _po_next(g, ev):
    if ev.is_init:
        return None
    row = g.threads[ev.tid]
    return row[ev.index + 1] if ev.index + 1 < len(row) else None


def predefined(g, alg: Algebra, *, lock_reads_hidden: bool, observed=None,
               declared=()) -> dict:
    """The predefined names for graph ``g`` (module docstring)."""
    n = alg.n
    evs = g.events
    tags = event_tags(g)
    sets: dict[str, int] = {name: 0 for name in LOCK_SETS}
    sets.update((set_name(t), 0) for t in declared)
    init = kind_r = kind_w = kind_f = rmw_set = 0
    lock_ev = lock_reads = 0
    for e, ev in enumerate(evs):
        bit = 1 << e
        if ev.is_init:
            init |= bit
        kind_r |= bit if ev.kind == "R" else 0
        kind_w |= bit if ev.kind == "W" else 0
        kind_f |= bit if ev.kind == "F" else 0
        for t in tags[e]:
            name = set_name(t)
            sets[name] = sets.get(name, 0) | bit
        if tags[e] & set(LOCK_SETS):
            lock_ev |= bit
            if tags[e] & set(LOCK_READS):
                lock_reads |= bit
        if ev.rmw_op and not tags[e] & set(LOCK_SETS):
            rmw_set |= bit
    po = [0] * n
    same_thread = [0] * n
    for row in g.threads:
        mask = 0
        for e in row:
            mask |= 1 << e
        later = mask
        for e in row:
            later &= ~(1 << e)
            po[e] = later
            same_thread[e] = mask
    cells: dict[str, int] = {}
    for e, ev in enumerate(evs):
        if ev.cell is not None:
            cells[ev.cell] = cells.get(ev.cell, 0) | 1 << e
    loc = [cells[ev.cell] if ev.cell is not None else 0 for ev in evs]
    ext = [alg.all & ~(init if ev.is_init else same_thread[e]) for e, ev in enumerate(evs)]
    rf, rf_all = [0] * n, [0] * n
    for r, w in g.rf.items():
        rf_all[w] |= 1 << r
        if not (lock_reads_hidden and lock_reads >> r & 1):
            rf[w] |= 1 << r
    co = [0] * n
    for ws in g.co.values():
        after = 0
        for w in reversed(ws):
            co[w] = after
            after |= 1 << w
    locked_cells = {ev.cell for e, ev in enumerate(evs)
                    if tags[e] & (set(LOCK_SETS) | set(SYNC_TAGS))}
    wanted = set(observed) if observed is not None else set(g.co) - locked_cells
    fw = 0
    for cell, ws in g.co.items():
        if cell in wanted and len(ws) > 1:
            fw |= 1 << ws[-1]
    if lock_reads_hidden:       # herd's core: lock operations are neither R nor W
        kind_r &= ~lock_ev
        kind_w &= ~lock_ev
    b = {
        "R": kind_r, "W": kind_w, "M": kind_r | kind_w, "F": kind_f, "IW": init, "I": init,
        "FW": fw, "RMW": rmw_set, "emptyset": 0, "LK": sets["LKR"] | sets["LKW"],
        "id": alg.id, "po": Rel(po), "loc": Rel(loc), "ext": Rel(ext),
        "int": Rel(same_thread[e] if not ev.is_init else 0 for e, ev in enumerate(evs)),
        "rf": Rel(rf), "graph.rf": Rel(rf_all), "co": Rel(co), "graph.co": Rel(co),
        "rmw": _pairs(alg, g.rmw, lock_ev if lock_reads_hidden else 0),
        "addr": _pairs(alg, g.addr), "data": _pairs(alg, g.data), "ctrl": _pairs(alg, g.ctrl),
        "amo": alg.zero,
    }
    for name, s in sets.items():
        b.setdefault(name, s)
    _derived(alg, b)
    b.update(BUILTINS)
    return b


def _pairs(alg: Algebra, pairs, exclude: int = 0) -> Rel:
    rows = [0] * alg.n
    for a, c in pairs:
        if not ((exclude >> a | exclude >> c) & 1):
            rows[a] |= 1 << c
    return Rel(rows)


def _derived(alg: Algebra, b: dict) -> None:
    inter = lambda r, s: Rel(x & y for x, y in zip(r.rows, s.rows))    # noqa: E731
    minus = lambda r, s: Rel(x & ~y for x, y in zip(r.rows, s.rows))   # noqa: E731
    b["po-loc"] = inter(b["po"], b["loc"])
    b["rfe"], b["rfi"] = inter(b["rf"], b["ext"]), inter(b["rf"], b["int"])
    b["coe"], b["coi"] = inter(b["co"], b["ext"]), inter(b["co"], b["int"])
    fr = minus(alg.seq(alg.inv(b["rf"]), b["co"]), alg.id)
    b["fr"], b["fre"], b["fri"] = fr, inter(fr, b["ext"]), inter(fr, b["int"])
    w, iw, fw = b["W"], b["IW"], b["FW"]
    first = alg.cart(iw, w & ~iw)
    last = alg.cart(w & ~fw, fw)
    b["co0"] = inter(b["loc"], Rel(x | y for x, y in zip(first.rows, last.rows)))


# -- functions ---------------------------------------------------------------------

def _domain(E, v):
    return 0 if v is EMPTY else E.alg.domain(E.alg.rel(v))


def _range(E, v):
    return 0 if v is EMPTY else E.alg.range(E.alg.rel(v))


def _fencerel(E, s):
    alg = E.alg
    po = E.base["po"]
    to_s = Rel(row & alg.set(s) for row in po.rows)
    return alg.seq(to_s, po)


def _ctrlcfence(E, s):
    alg = E.alg
    ctrl = alg.rel(E.base["ctrl"])
    return alg.seq(Rel(row & alg.set(s) for row in ctrl.rows), E.base["po"])


def _values(keep_same: bool):
    def run(E, r):
        evs = E.graph.events
        rows = [0] * E.alg.n
        for a, c in E.alg.rel(r).pairs():
            if (evs[a].value == evs[c].value) == keep_same:
                rows[a] |= 1 << c
        return Rel(rows)
    return run


def _map(E, f):
    return Builtin("map " + getattr(f, "name", "fun"),
                   lambda E2, s: collect(E2, [apply(E2, f, x) for x in elements(E2, s)]))


def _cross(E, sets):
    """cross.cat's cross: every union of one member of each set."""
    alg = E.alg
    choices = [alg.zero]
    for s in elements(E, sets):
        members = [alg.rel(m) for m in elements(E, s)]
        choices = [Rel(x | y for x, y in zip(c.rows, m.rows)) for c in choices for m in members]
    return VSet(choices)


def _nodetour(E, args):
    if type(args) is not tuple or len(args) != 3:
        raise CatError("nodetour takes three relations")
    alg = E.alg
    r1, r2, r3 = (alg.rel(a) for a in args)
    detour = alg.seq(r2, r3)
    return Rel(x & ~y for x, y in zip(r1.rows, detour.rows))


def _singlestep(E, r):
    return _nodetour(E, (r, r, r))


def _classes_loc(E, s):
    alg = E.alg
    s = alg.set(s)
    seen, out = 0, []
    for e in bits(s):
        if not seen >> e & 1:
            cls = s & E.base["loc"].rows[e]
            seen |= cls
            out.append(cls)
    return VSet(out) if out else EMPTY


def _toid(E, s):
    return E.alg.toid(E.alg.set(s))


def _imply(E, args):
    a, b = args
    from .operators import complement, union
    return union(E, complement(E, a), b)


BUILTINS = {name: Builtin(name, fn) for name, fn in {
    "domain": _domain, "range": _range, "fencerel": _fencerel, "ctrlcfence": _ctrlcfence,
    "different-values": _values(False), "same-values": _values(True), "map": _map,
    "cross": _cross, "nodetour": _nodetour, "singlestep": _singlestep,
    "classes-loc": _classes_loc, "partition": _classes_loc, "toid": _toid, "imply": _imply,
}.items()}

__all__ = ["predefined", "set_name", "event_tags", "BUILTINS", "LOCK_SETS"]
