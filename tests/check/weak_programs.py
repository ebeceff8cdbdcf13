"""Small generated programs for the weak-model oracles: dpor against enum.

Each thread is a list of ops over two cells; loads name their value (a
register) so later ops can depend on it (and a load then an independent
store, load buffering's shape, is one op): declared dependencies (``data``,
``Branch``) that the models see, an undeclared one (a store of a value
computed from the last load) and plain Python control flow on a loaded value
(a store done only if the load read 1), which dpor meets when it rebuilds a
load-buffering graph and the thread then takes another path.
"""

from __future__ import annotations

from hypothesis import strategies as st

from gupsim import Branch, CheckConfig, Fence, Load, Program, Rmw, Store, ThreadSpec, check

CELLS = ("x", "y")

OP = st.one_of(
    st.tuples(st.just("load"), st.sampled_from(CELLS), st.sampled_from(["once", "acquire"])),
    st.tuples(st.just("store"), st.sampled_from(CELLS), st.sampled_from(["once", "release"]),
              st.integers(1, 2)),
    st.tuples(st.just("store_data"), st.sampled_from(CELLS)),
    st.tuples(st.just("store_dep"), st.sampled_from(CELLS)),
    st.tuples(st.just("branch")),
    st.tuples(st.just("if1_store"), st.sampled_from(CELLS), st.integers(1, 2)),
    st.tuples(st.just("add"), st.sampled_from(CELLS), st.sampled_from(["mb", "once"])),
    st.tuples(st.just("xchg"), st.sampled_from(CELLS), st.integers(1, 2)),
    st.tuples(st.just("fence"), st.sampled_from(["mb", "rmb", "wmb"])),
    # a load, then an independent store to the other cell: load buffering's shape
    st.tuples(st.just("load_store"), st.sampled_from(CELLS), st.integers(1, 2)),
)
PROGRAMS = st.lists(st.lists(OP, min_size=1, max_size=3), min_size=2, max_size=3)
SMALL_PROGRAMS = PROGRAMS.filter(lambda prog: sum(map(len, prog)) <= 7)
"""At most 7 ops in all: the oracle's size (enum, and dpor's duplicates under
load buffering, grow fast past it: three threads of three ops with RMWs and
loads-then-stores take dpor minutes under lkmm)."""


def thread(ops, tid):
    regs: list = []          # (name, value) of each value read
    for i, op in enumerate(ops):
        kind = op[0]
        last = regs[-1] if regs else None
        reg = f"r{tid}_{i}"
        if kind == "load":
            regs.append((reg, (yield Load(op[1], op[2], reg=reg))))
        elif kind == "load_store":
            regs.append((reg, (yield Load(op[1], reg=reg))))
            yield Store("y" if op[1] == "x" else "x", op[2])
        elif kind == "store":
            yield Store(op[1], op[3], op[2])
        elif kind == "store_data":
            yield Store(op[1], 1 + (last[1] if last else 0), data=(last[0],) if last else ())
        elif kind == "store_dep":           # the value depends on it, undeclared
            yield Store(op[1], 1 + (last[1] if last else 0))
        elif kind == "branch":
            if last is not None:
                yield Branch(last[0])
        elif kind == "if1_store":           # Python control flow, undeclared
            if last is not None and last[1] == 1:
                yield Store(op[1], op[2])
        elif kind == "add":
            regs.append((reg, (yield Rmw(op[1], "add", 1, order=op[2], reg=reg))))
        elif kind == "xchg":
            regs.append((reg, (yield Rmw(op[1], "xchg", op[2], reg=reg))))
        else:
            yield Fence(op[1])
    return tuple(v for _, v in regs)


def factory_of(prog):
    def factory():
        return Program([ThreadSpec(f"T{i}", thread(ops, i)) for i, ops in enumerate(prog)],
                       dict.fromkeys(CELLS, 0), interrupts=False)
    return factory


def explore(prog, strategy: str, model: str):
    """(executions, outcomes, duplicates, blocked, load-buffering executions):
    every execution of the program under ``model``; an outcome is the final
    memory and the threads' return values."""
    from gupsim.check.strategies.weakresult import event_order
    outcomes = set()
    cyclic = 0

    def observe(o):
        nonlocal cyclic
        outcomes.add((tuple(sorted(o.memory.items())),
                      tuple(o.results[f"T{i}"] for i in range(len(prog)))))
        cyclic += not event_order(o.graph)[1]
    result = check(factory_of(prog), CheckConfig(strategy=strategy, memory_model=model,
                                                 stop_on_first=False), observe=observe)
    s = result.stats
    return s.executions, frozenset(outcomes), s.duplicates, s.blocked, cyclic
