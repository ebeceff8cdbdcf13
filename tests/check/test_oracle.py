"""dfs against a brute-force oracle on tiny random programs.

The oracle is an independent SC interpreter: it enumerates every interleaving
of straight-line threads by recursion, and for each computes the outcome
(final memory and registers) and the reads-from/coherence class in the
checker's own terms (a write is named by its thread and the index of the
access in that thread; a read from the initial value reads from None). dfs
must run exactly as many executions as there are interleavings, count the same
number of classes, and produce the same set of outcomes; dpor
must run one execution per class and produce the same outcomes.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gupsim import CheckConfig, Invariant, Load, Program, Rmw, Store, ThreadSpec, check

CELLS = ("x", "y")
# (kind, cell, arg): load; store a constant; store 1 + the last value loaded;
# fetch_add; cmpxchg 0 -> arg.
OP = st.tuples(st.sampled_from(["load", "store", "store_dep", "add", "cas"]),
               st.sampled_from(CELLS), st.integers(1, 3))
PROGRAMS = st.lists(st.lists(OP, min_size=1, max_size=3), min_size=2, max_size=3)


def effect(op, mem, regs):
    """(read?, write value or None, register value or None) of one op; pure."""
    kind, cell, arg = op
    old = mem[cell]
    if kind == "load":
        return True, None, old
    if kind == "store":
        return False, arg, None
    if kind == "store_dep":
        return False, 1 + (regs[-1] if regs else 0), None
    if kind == "add":
        return True, old + arg, old
    return True, (arg if old == 0 else None), old          # cas: writes only on success


def thread(ops):
    regs: list = []
    for kind, cell, arg in ops:
        if kind == "load":
            regs.append((yield Load(cell)))
        elif kind == "store":
            yield Store(cell, arg)
        elif kind == "store_dep":
            yield Store(cell, 1 + (regs[-1] if regs else 0))
        elif kind == "add":
            regs.append((yield Rmw(cell, "add", arg)))
        else:
            regs.append((yield Rmw(cell, "cmpxchg", arg, expected=0)))
    return tuple(regs)


def oracle(prog):
    """(number of interleavings, set of classes, set of outcomes)."""
    runs, classes, outcomes = 0, set(), set()

    def explore(pcs, mem, src, regs, rf, co):
        nonlocal runs
        live = [t for t, ops in enumerate(prog) if pcs[t] < len(ops)]
        if not live:
            runs += 1
            outcomes.add((tuple(sorted(mem.items())), tuple(tuple(r) for r in regs)))
            classes.add((tuple(sorted(rf)),
                         tuple(sorted((c, tuple(w)) for c, w in co.items()))))
            return
        for t in live:
            op = prog[t][pcs[t]]
            reads, write, reg = effect(op, mem, regs[t])
            wid = (t, pcs[t])
            cell = op[1]
            new_rf = rf + [(wid, src.get(cell))] if reads else rf
            new_mem, new_src, new_co = mem, src, co
            if write is not None:
                new_mem = {**mem, cell: write}
                new_src = {**src, cell: wid}
                new_co = {**co, cell: co.get(cell, []) + [wid]}
            new_regs = [list(r) for r in regs]
            if reg is not None:
                new_regs[t].append(reg)
            new_pcs = list(pcs)
            new_pcs[t] += 1
            explore(new_pcs, new_mem, new_src, new_regs, new_rf, new_co)

    explore([0] * len(prog), dict.fromkeys(CELLS, 0), {}, [[] for _ in prog], [], {})
    return runs, classes, outcomes


def checked(prog, strategy, **options):
    outcomes = set()

    def record(mem, results):
        outcomes.add((tuple(sorted((c, mem[c]) for c in CELLS)),
                      tuple(results[f"T{i}"] for i in range(len(prog)))))

    def factory():
        return Program([ThreadSpec(f"T{i}", thread(ops)) for i, ops in enumerate(prog)],
                       dict.fromkeys(CELLS, 0), [Invariant("record", record, "end")])
    result = check(factory, CheckConfig(strategy=strategy, stop_on_first=False, **options))
    assert result.verdict == "safe"
    return result.stats, outcomes


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PROGRAMS)
def test_dfs_matches_oracle(prog):
    runs, classes, outcomes = oracle(prog)
    stats, got = checked(prog, "dfs", count_classes=True)
    assert stats.executions == runs
    assert stats.classes == len(classes)
    assert got == outcomes


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PROGRAMS)
def test_dpor_matches_oracle(prog):
    _, classes, outcomes = oracle(prog)
    stats, got = checked(prog, "dpor")
    assert stats.executions == len(classes)
    assert got == outcomes


def test_oracle_agrees_with_published_inc():
    """The oracle itself on a known program: inc(2) has 6 interleavings, 4 classes."""
    inc2 = [[("load", "x", 1), ("store_dep", "x", 1)]] * 2
    runs, classes, _ = oracle(inc2)
    assert (runs, len(classes)) == (6, 4)
