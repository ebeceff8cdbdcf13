"""Every candidate execution, judged by an axiomatic model: the ``enum`` strategy.

The ground truth for the weak memory models, the way herd7 computes a litmus
test's outcomes (Alglave, Maranget, Tautschnig, "Herding cats", TOPLAS 2014):

1. **Threads alone.** Each thread runs by itself; every read may return any
   value its cell can hold (its initial value or a value some thread writes
   to it). Which values those are is a least fixpoint: start from the initial
   values, run every thread on every choice, add the values written, repeat
   until nothing new appears. Each run is a *trace*: the thread's events in
   program order, with their dependencies (``reg``/``addr``/``data``,
   ``Branch``) and its return value. No value is made up out of thin air:
   a value is only ever read if some trace writes it.
2. **Candidates.** For one trace per thread, every reads-from map (each read
   from a write of its cell with the value it read, never a later write of
   its own thread) and every coherence order (per cell, keeping each
   thread's writes in program order and each RMW right after the write it
   read) is a candidate execution.
3. **Judgement.** The model's axioms keep the consistent candidates. Each is
   one execution; its outcome is the threads' return values and the final
   memory.

A thread that waits for ever (an ``Await`` whose condition never holds, a
``spin_lock`` that never gets the lock, a spinning loop) ends its trace
there; such a candidate is kept only if the reads it waits on read the
coherence-final writes (nothing would ever change them): a deadlock or
livelock. Exponential in the program's size: for litmus tests and as the
oracle the other explorations are tested against, not for kernel scenarios.
"""

from __future__ import annotations

import time
from itertools import permutations, product

from ...errors import ScenarioError, UsageError
from ...ops import BLOCKING_RMW, LKMM_ACCESS_TAG, LKMM_FENCE_TAG, NO_WRITE
from ...spec import make_violation
from ..execgraph import INIT_TID, Event, ExecutionGraph
from ..memory.sc import undeclared_cell
from ..result import Stats
from ..runtime import Execution

MAX_TRACE = 5000          # events of one thread's trace
MAX_ROUNDS = 50           # rounds of the value fixpoint
MAX_VALUES = 64           # values one cell may take


class Trace:
    """One run of one thread on one sequence of read values."""

    __slots__ = ("events", "result", "violation", "waits", "reads")

    def __init__(self):
        self.events: list[dict] = []
        self.result = None
        self.violation = None
        self.waits = None        # reads that must read co-final writes (blocked)
        self.reads: list[int] = []


def _tags(order):
    tag = LKMM_ACCESS_TAG.get(order)
    return frozenset() if tag is None else frozenset((tag,))


class _Need(Exception):
    """A read whose value is not chosen yet."""

    def __init__(self, cells, op):
        self.cells, self.op = cells, op


def run_thread(factory, tid: int, values: list) -> Trace:
    """Run thread ``tid`` alone, reads returning ``values`` in order.

    Raises ``_Need`` at the first read past the end of ``values``."""
    ex = Execution(factory, None, start=False)
    ctx = ex.contexts[tid]
    ctx.regs = {}
    ctx.start()
    tr = Trace()
    evs = tr.events
    k = 0

    def deps(op, ev, *fields):
        for field in fields:
            found = ctx.dep_events(op, field)
            if found:
                ev[field] = found
        if ctx.ctrl:
            ev["ctrl"] = sorted(ctx.ctrl)

    def take(cells, op):
        nonlocal k
        if k + len(cells) > len(values):
            raise _Need(cells, op)
        got = values[k:k + len(cells)]
        k += len(cells)
        return got

    def bind(op, index):
        if getattr(op, "reg", None):
            ctx.regs[op.reg] = index

    while True:
        if ex.violation is not None:
            tr.violation = ex.violation
            break
        if ctx.done:
            tr.result = ctx.result
            break
        if ctx.blocked is not None:       # a spinning loop that made no progress
            tr.waits = [w for _, w in ctx.blocked[2]]
            tr.violation = "livelock"
            break
        op = ctx.op
        if op is None:
            raise ScenarioError(f"{ctx.name}: stopped without finishing")
        if len(evs) > MAX_TRACE:
            raise ScenarioError(f"{ctx.name}: more than {MAX_TRACE} events in one run; the "
                                f"enum strategy needs threads that end (loops need a SpinHint)")
        code = op.code
        if code == 1:                                   # Load
            (v,) = take((op.cell,), op)
            tags = _tags(op.order)
            if op.order == "is_locked":
                tags = frozenset(("RL" if v else "RU",))
            ev = {"kind": "R", "cell": op.cell, "value": v, "tags": tags,
                  "label": op.describe()}
            deps(op, ev, "addr")
            evs.append(ev)
            tr.reads.append(len(evs) - 1)
            bind(op, len(evs) - 1)
            ctx.record_read(op.cell, len(evs) - 1, v)
            ctx.advance(v if op.order != "is_locked" else bool(v))
        elif code == 2:                                 # Store
            ev = {"kind": "W", "cell": op.cell, "value": op.value,
                  "tags": _tags(op.order), "label": op.describe()}
            deps(op, ev, "addr", "data")
            evs.append(ev)
            ctx.record_write(op.cell, op.value)
            ctx.advance(None)
        elif code == 3:                                 # Rmw
            (old,) = take((op.cell,), op)
            new = op.apply(old)
            lock = op.kind in ("lock", "trylock")
            rtag = (frozenset(("LKR",)) if new is not NO_WRITE else frozenset(("LF",))) \
                if lock else _tags(op.order)
            ev = {"kind": "R", "cell": op.cell, "value": old, "tags": rtag,
                  "rmw_op": not lock, "label": op.describe()}
            deps(op, ev, "addr")
            evs.append(ev)
            tr.reads.append(len(evs) - 1)
            bind(op, len(evs) - 1)
            ctx.record_read(op.cell, len(evs) - 1, old)
            if new is NO_WRITE and op.kind in BLOCKING_RMW:   # waits for ever
                if lock:
                    evs[-1]["tags"] = frozenset(("LKR",))
                tr.waits = [len(evs) - 1]
                tr.violation = "deadlock"
                break
            if new is not NO_WRITE:
                w = {"kind": "W", "cell": op.cell, "value": new, "rmw": True,
                     "tags": frozenset(("LKW",)) if lock else _tags(op.order),
                     "rmw_op": not lock, "label": op.describe()}
                deps(op, w, "addr", "data")
                evs.append(w)
                ctx.record_write(op.cell, new)
            ctx.advance(old if op.kind != "trylock" else new is not NO_WRITE)
        elif code == 4:                                 # Fence
            ev = {"kind": "F", "cell": op.cell, "tags": frozenset((LKMM_FENCE_TAG[op.kind],)),
                  "label": op.describe()}
            if ctx.ctrl:
                ev["ctrl"] = sorted(ctx.ctrl)
            evs.append(ev)
            ctx.advance(None)
        elif code == 5:                                 # Await
            got = take(op.cells, op)
            first = len(evs)
            for cell, v in zip(op.cells, got):
                evs.append({"kind": "R", "cell": cell, "value": v,
                            "tags": frozenset(("ONCE",)), "label": op.describe()})
                tr.reads.append(len(evs) - 1)
                ctx.record_read(cell, len(evs) - 1, v)
            if not op.predicate(*got):
                tr.waits = list(range(first, len(evs)))
                tr.violation = "deadlock"
                break
            ctx.advance(tuple(got))
        elif code == 7:                                 # IrqDisable as a step
            ctx.irq_disable()
        else:
            raise UsageError(f"{ctx.name}: {op.describe()} is not supported by the enum "
                             f"strategy (it explores loads, stores, RMWs, fences and awaits)")
    return tr


def thread_traces(factory, tid, domain) -> list[tuple[tuple, Trace]]:
    """Every trace of thread ``tid`` with reads drawn from ``domain``."""
    out = []
    stack = [[]]
    while stack:
        values = stack.pop()
        try:
            out.append((tuple(values), run_thread(factory, tid, values)))
        except _Need as need:
            missing = [c for c in need.cells if c not in domain]
            if missing:
                raise undeclared_cell(missing[0], domain)
            choices = [domain[c] for c in need.cells]
            for combo in reversed(list(product(*choices))):
                stack.append(values + list(combo))
    out.sort(key=lambda p: _key(p[0]))
    return out


def _key(values):
    return tuple((type(v).__name__, repr(v)) for v in values)


def all_traces(factory, init, nthreads):
    """The value fixpoint of step 1: per thread, every trace.

    Round k adds the values written by traces whose reads were drawn from
    the values known after round k-1. A value of a real execution is written
    by a chain of at most W writes from the initial values, W being the
    number of writes of an execution, so W + 1 rounds find them all; what
    still grows after that (an ``x += 1`` feeding on itself) belongs to no
    execution and is left out."""
    domain = {c: [v] for c, v in init.items()}
    rounds = 0
    while True:
        traces = [thread_traces(factory, t, domain) for t in range(nthreads)]
        writes = sum(max((sum(1 for e in tr.events if e["kind"] == "W") for _, tr in per),
                         default=0) for per in traces)
        rounds += 1
        if rounds > writes + 1:
            return traces
        grown = False
        for per in traces:
            for _, tr in per:
                for ev in tr.events:
                    if ev["kind"] == "W":
                        if ev["cell"] not in init:
                            raise undeclared_cell(ev["cell"], init)
                        vals = domain[ev["cell"]]
                        if ev["value"] not in vals:
                            vals.append(ev["value"])
                            grown = True
        if not grown:
            return traces
        if rounds >= MAX_ROUNDS or any(len(v) > MAX_VALUES for v in domain.values()):
            raise ScenarioError(
                f"the values the threads write did not settle after {rounds} rounds; the "
                f"enum strategy needs few values per cell (at most {MAX_VALUES})")


class Candidate:
    """One trace per thread, laid out as graph events (init writes first)."""

    def __init__(self, init, traces, names):
        self.traces = traces
        self.events: list[Event] = []
        co_init = {}
        for cell in sorted(init):
            e = Event(len(self.events), INIT_TID, -1, "W", cell, init[cell],
                      label=f"init {cell}")
            self.events.append(e)
            co_init[cell] = e.id
        self.co_init = co_init
        self.threads, self.rmw, self.deps = [], [], {"addr": [], "data": [], "ctrl": []}
        self.waits = []
        for tid, tr in enumerate(traces):
            base = len(self.events)
            row = []
            for i, d in enumerate(tr.events):
                e = Event(base + i, tid, i, d["kind"], d.get("cell"), d.get("value"),
                          d.get("tags", frozenset()), d.get("rmw_op", False), d.get("label", ""))
                self.events.append(e)
                row.append(e.id)
                if d.get("rmw"):
                    self.rmw.append((e.id - 1, e.id))
                for rel in ("addr", "data", "ctrl"):
                    for j in d.get(rel, ()):
                        self.deps[rel].append((base + j, e.id))
            self.threads.append(row)
            if tr.waits:
                self.waits.extend(base + j for j in tr.waits)
        self.names = names

    def reads(self):
        return [e for e in self.events if e.kind == "R"]

    def writes(self, cell):
        return [e for e in self.events if e.kind == "W" and e.cell == cell and not e.is_init]

    def graph(self, rf, co) -> ExecutionGraph:
        return ExecutionGraph(self.events, self.threads, rf, co, list(self.rmw),
                              list(self.deps["addr"]), list(self.deps["data"]),
                              list(self.deps["ctrl"]), self.names)


def _needs_offers(init, tr):
    """What a trace reads that it cannot have from the initial value or its
    own earlier writes, and what it writes, as (cell, value) pairs."""
    needs, offers = set(), set()
    for ev in tr.events:
        key = (ev["cell"], _hashable(ev.get("value")))
        if ev["kind"] == "W":
            offers.add(key)
        elif ev["kind"] == "R" and key not in offers and \
                (ev["cell"] not in init or _hashable(init[ev["cell"]]) != key[1]):
            needs.add(key)
    return frozenset(needs), frozenset(offers)


def _hashable(v):
    try:
        hash(v)
        return v
    except TypeError:
        return repr(v)


def feasible_combinations(init, per_thread):
    """One trace per thread, such that every value read is written by some
    trace of the combination (or is the initial value): the others can have
    no reads-from map. Threads are chosen in order; a branch stops as soon as
    a value it needs is written by no trace of the threads still to choose."""
    info = [[(tr, *_needs_offers(init, tr)) for tr in per] for per in per_thread]
    n = len(info)
    later = [frozenset()] * (n + 1)
    for t in range(n - 1, -1, -1):
        later[t] = later[t + 1].union(*(o for _, _, o in info[t]))
    chosen: list = []

    def rec(t, outstanding, offered):
        if t == n:
            if not outstanding:
                yield list(chosen)
            return
        for tr, needs, offers in info[t]:
            got = offered | offers
            left = (outstanding | needs) - got
            if left <= later[t + 1]:
                chosen.append(tr)
                yield from rec(t + 1, left, got)
                chosen.pop()
    yield from rec(0, frozenset(), frozenset())


def cell_choices(cand: Candidate, cell):
    """Every (rf, co) of one cell that is coherent on its own: each read
    from a write of the same value, writes in coherence order keeping
    program order and each RMW right after the write it read, and no
    coherence cycle (po-loc | rf | co | fr). Every model gupsim judges with
    includes SC per location, so the others need not reach the model."""
    reads = [e for e in cand.events if e.kind == "R" and e.cell == cell]
    writes = cand.writes(cell)
    init = cand.co_init.get(cell)
    opts = []
    for r in reads:
        o = [init] if init is not None and cand.events[init].value == r.value else []
        o += [w.id for w in writes if w.value == r.value
              and not (w.tid == r.tid and w.index > r.index)]
        if not o:
            return []
        opts.append(o)
    rmw = [(a, b) for a, b in cand.rmw if cand.events[b].cell == cell]
    orders = []
    for perm in permutations(writes):
        if any(a.tid == b.tid and a.index > b.index
               for i, a in enumerate(perm) for b in perm[i + 1:]):
            continue
        orders.append([init] + [w.id for w in perm])
    out = []
    for combo in product(*opts):
        rf = {r.id: w for r, w in zip(reads, combo)}
        for order in orders:
            pos = {w: i for i, w in enumerate(order)}
            if any(pos[b] != pos[rf[a]] + 1 for a, b in rmw):
                continue
            if _coherent(cand, reads, rf, pos):
                out.append((rf, order))
    return out


def _coherent(cand, reads, rf, pos) -> bool:
    """SC per location, by its five forbidden shapes (CoRR, CoRW1, CoRW2,
    CoWR, CoWW; Alglave, Maranget, Tautschnig, TOPLAS 2014, sec. 4.7):
    along each thread the coherence position an access sees (a read: the
    write it reads; a write: itself) never goes back, and a write is always
    later than what its thread saw before (reading a later own write, CoRW1,
    is excluded with the reads-from options)."""
    seen: dict[int, float] = {}
    evs = cand.events
    accesses = sorted([(evs[r].tid, evs[r].index, "R", r) for r in (x.id for x in reads)]
                      + [(w.tid, w.index, "W", w.id) for w in cand.events
                         if w.kind == "W" and not w.is_init and w.id in pos])
    for tid, _, kind, e in accesses:
        here = pos[rf[e]] if kind == "R" else pos[e]
        last = seen.get(tid, -1)
        if here < last or (kind == "W" and here == last):
            return False
        seen[tid] = here
    return True


def executions(factory, model, limit_seconds=None):
    """Yield ``(candidate, graph, judgement)`` for every consistent execution."""
    for cand, g in candidates(factory, limit_seconds):
        j = model.check(g)
        if j.consistent:
            yield cand, g, j


def candidates(factory, limit_seconds=None):
    """Yield ``(candidate, graph)`` for every candidate execution of the
    program, consistent with a model or not (each thread's reads take values
    some write gives, co any order of each cell's writes)."""
    t0 = time.perf_counter()
    ex = Execution(factory, None, start=False)
    program = ex.program
    init = dict(ex.init)
    names = [t.name for t in program.threads]
    traces = all_traces(factory, init, len(names))
    for combo in feasible_combinations(init, [[tr for _, tr in per] for per in traces]):
        cand = Candidate(init, combo, names)
        cells = sorted({e.cell for e in cand.events if e.cell is not None and e.kind != "F"}
                       | set(cand.co_init))
        per_cell = [cell_choices(cand, c) for c in cells]
        for picks in product(*per_cell):
            rf, co = {}, {}
            for cell, (rf_c, order) in zip(cells, picks):
                rf.update(rf_c)
                co[cell] = order
            if any(co[cand.events[r].cell][-1] != rf[r] for r in cand.waits):
                continue
            yield cand, cand.graph(rf, co)
            if limit_seconds is not None and time.perf_counter() - t0 > limit_seconds:
                return


def violation_of(cand: Candidate, g: ExecutionGraph, end_invariants, evaluate):
    """The violation a consistent execution shows, if any."""
    stuck = []
    for tid, tr in enumerate(cand.traces):
        v = tr.violation
        if v is None:
            continue
        if isinstance(v, str):
            stuck.append((cand.names[tid], v))
        else:
            return v
    if stuck:
        kind = "livelock" if any(k == "livelock" for _, k in stuck) else "deadlock"
        names = ", ".join(n for n, _ in stuck)
        return make_violation(kind, "progress",
                              f"{names} waits for ever: nothing it reads changes again",
                              {n: ("spins" if k == "livelock" else "waits") for n, k in stuck})
    memory = g.final_values()
    results = {cand.names[t]: tr.result for t, tr in enumerate(cand.traces)}
    for inv in end_invariants:
        v = evaluate(inv, memory, results)
        if v is not None:
            return v
    return None


def explore(factory, config, progress=None, observe=None):
    from ..explorer import Outcome
    from ..memory import axiomatic_model
    from .weakresult import weak_result
    from .weakresult import decode_graph_schedule
    model = axiomatic_model(config.memory_model)
    stats = Stats()
    t0 = time.perf_counter()
    found = shown = None
    target = decode_graph_schedule(config.schedule) if config.strategy == "replay" else None
    probe = Execution(factory, None, start=False)
    ends = probe.end_invariants
    for cand, g, j in executions(factory, model, config.max_seconds):
        if target is not None:
            if signature(g) != target:
                continue
            shown = g
        stats.executions += 1
        stats.events += len(g.events)
        v = violation_of(cand, g, ends, probe._evaluate)
        if observe is not None:
            results = {cand.names[t]: tr.result for t, tr in enumerate(cand.traces)}
            observe(Outcome(results, g.final_values(), signature(g), v, j.flags, g))
        if v is not None and found is None:
            found = (g, v)
            if config.stop_on_first:
                break
        if config.max_executions is not None and stats.executions >= config.max_executions:
            break
        if progress is not None and stats.executions % 512 == 0:
            stats.seconds = time.perf_counter() - t0
            progress(stats)
    else:
        stats.exhausted = config.max_seconds is None or time.perf_counter() - t0 <= \
            config.max_seconds
    stats.seconds = time.perf_counter() - t0
    if target is not None and shown is None:
        from ...errors import NondeterminismError
        raise NondeterminismError(
            f"replay found no consistent execution of this program under "
            f"{config.memory_model} with the reads-from and coherence the schedule names. "
            f"Is it the same scenario, parameters and memory model?")
    return weak_result(config, stats, found, model, shown, factory)


def signature(g: ExecutionGraph) -> tuple:
    """Reads-from and coherence by (thread, index): comparable across runs."""
    def key(e):
        ev = g.events[e]
        return None if ev.is_init else (ev.tid, ev.index)
    rf = tuple(sorted((key(r), key(w)) for r, w in g.rf.items()))
    co = tuple(sorted((c, tuple(key(w) for w in ws[1:])) for c, ws in g.co.items() if ws[1:]))
    return (rf, co)
