"""The ``enum`` strategy (every candidate execution, judged by axioms).

Under ``sc`` and ``tso`` it must find exactly the executions the
interleaving runtime finds: one per reads-from/coherence class (the brute-force
oracle's classes under SC, dpor's under TSO) and the same outcomes. Those are
its credentials as the ground truth for the weak models.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gupsim import CheckConfig, Fence, Invariant, Load, Program, Rmw, Store, ThreadSpec, check
from gupsim.check.strategies.enum import all_traces
from gupsim.programs.dpor_bench import BENCHMARKS

from test_oracle import CELLS, PROGRAMS, oracle, thread

OP_TSO = st.tuples(st.sampled_from(["load", "store", "store_dep", "add", "cas", "mb"]),
                   st.sampled_from(CELLS), st.integers(1, 3))
PROGRAMS_TSO = st.lists(st.lists(OP_TSO, min_size=1, max_size=3), min_size=2, max_size=3)


def fenced_thread(ops):
    regs: list = []
    for kind, cell, arg in ops:
        if kind == "mb":
            yield Fence("mb")
        else:
            regs.extend((yield from thread([(kind, cell, arg)])))
    return tuple(regs)


def run(prog, strategy, model, body=thread):
    outcomes = set()

    def record(mem, results):
        outcomes.add((tuple(sorted((c, mem[c]) for c in CELLS)),
                      tuple(results[f"T{i}"] for i in range(len(prog)))))

    def factory():
        return Program([ThreadSpec(f"T{i}", body(ops)) for i, ops in enumerate(prog)],
                       dict.fromkeys(CELLS, 0), [Invariant("record", record, "end")],
                       interrupts=False)
    result = check(factory, CheckConfig(strategy=strategy, memory_model=model,
                                        stop_on_first=False))
    assert result.verdict == "safe"
    return result.stats.executions, outcomes


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PROGRAMS)
def test_enum_sc_matches_oracle(prog):
    # (as below: a draw of many RMWs on one cell kept enum busy for minutes)
    assume(sum(op[0] in ("add", "cas") for ops in prog for op in ops) <= 4)
    _, classes, outcomes = oracle(prog)
    assert run(prog, "enum", "sc") == (len(classes), outcomes)


@pytest.mark.slow
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PROGRAMS_TSO)
def test_enum_tso_matches_dpor(prog):
    """(dpor under TSO is itself checked against dfs in test_dpor.py; dfs is
    left out here: under TSO it can take minutes on three threads.)"""
    # (enum tries every coherence order: eight RMWs of one cell took it
    # minutes, so a drawn program keeps at most four atomic RMWs)
    assume(sum(op[0] in ("add", "cas") for ops in prog for op in ops) <= 4)
    n, outcomes = run(prog, "enum", "tso", fenced_thread)
    assert (n, outcomes) == run(prog, "dpor", "tso", fenced_thread)


@pytest.mark.parametrize(("name", "n"), [
    ("readers", 3), ("lastzero", 3), ("casrot", 4), ("wcas", 3), ("ainc", 4), ("CoA", 2),
    ("inc", 3),
])
def test_enum_counts_published_sc_executions(name, n):
    """The DPOR benchmark programs: enum explores the published number."""
    bench = BENCHMARKS[name]
    result = check(lambda: bench.build(n), CheckConfig(strategy="enum", memory_model="sc",
                                                       stop_on_first=False))
    assert result.stats.executions == bench.expected[n]


def test_values_reach_a_fixpoint_from_the_initial_ones():
    """A read can only return a value some thread writes (no thin air)."""
    def t0():
        r = yield Load("x")
        yield Store("y", r)
        return r

    def t1():
        r = yield Load("y")
        yield Store("x", r)
        return r

    def factory():
        return Program([ThreadSpec("T0", t0()), ThreadSpec("T1", t1())], {"x": 0, "y": 0},
                       interrupts=False)
    traces = all_traces(factory, {"x": 0, "y": 0}, 2)
    assert [[values for values, _ in per] for per in traces] == [[(0,)], [(0,)]]


def test_await_that_never_holds_is_a_deadlock():
    from gupsim import Await

    def waiter():
        yield Await("flag", lambda v: v == 1, "flag == 1")

    def factory():
        return Program([ThreadSpec("W", waiter())], {"flag": 0}, interrupts=False)
    result = check(factory, CheckConfig(strategy="enum", memory_model="sc"))
    assert result.verdict == "deadlock"
    assert result.schedule.startswith("g1:")


def test_graph_schedule_replays_the_same_execution():
    from gupsim.programs.litmus import LITMUS
    result = check(LITMUS["SB"].build, CheckConfig(strategy="enum", memory_model="tso"))
    sb = LITMUS["SB"]
    result = check(lambda: _with_exists(sb), CheckConfig(strategy="enum", memory_model="tso"))
    assert result.verdict == "violation"
    again = check(lambda: _with_exists(sb),
                  CheckConfig(strategy="replay", memory_model="tso", schedule=result.schedule))
    assert again.verdict == "violation"
    assert again.trace == result.trace
    assert again.graph["rf"] == result.graph["rf"]


def _with_exists(test):
    prog = test.build()
    prog.invariants.append(test.exists_invariant())
    return prog
