"""PCT finds bugs of depth d at the promised rate, at least 1/(n k^(d-1)) per run.

Each program has n = 3 threads and k = 6 steps. The depth-1 bug needs one
ordering (T1's load before T0's store); the depth-2 bug needs two (T0's first
store, then T1's load, then T0's second store). Rates are measured by counting,
over fixed seeds, how many executions reach the buggy ordering; the end
invariant that counts them always holds, so PCT keeps going.
"""

from __future__ import annotations

import pytest

from gupsim import CheckConfig, Invariant, Load, Store, check

RUNS, SEEDS, N, K = 200, (1, 2, 3), 3, 6


def noise():
    for i in range(3):
        yield Store("noise", i)


def depth1(make_program, hits=None):
    def t0():
        yield Store("x", 1)
        yield Store("y", 1)

    def t1():
        return (yield Load("x"))
    return _with_bug(make_program(t0(), t1(), noise(), memory={"x": 0, "y": 0, "noise": 0}),
                     lambda results: results["T1"] == 0, hits)


def depth2(make_program, hits=None):
    def t0():
        yield Store("x", 1)
        yield Store("x", 2)

    def t1():
        return (yield Load("x"))
    return _with_bug(make_program(t0(), t1(), noise(), memory={"x": 0, "noise": 0}),
                     lambda results: results["T1"] == 1, hits)


def _with_bug(program, bug, hits):
    if hits is None:      # the real property: the bug is a violation
        program.invariants.append(Invariant(
            "no-bug", lambda mem, results: "bad ordering" if bug(results) else None, "end"))
    else:                 # counting: always holds
        program.invariants.append(Invariant(
            "count", lambda mem, results: hits.append(bug(results)), "end"))
    return program


@pytest.mark.parametrize(("build", "depth"), [(depth1, 1), (depth2, 2)])
@pytest.mark.parametrize("seed", SEEDS)
def test_rate_at_least_promised(build, depth, seed, make_program):
    hits: list[bool] = []
    result = check(lambda: build(make_program, hits),
                   CheckConfig(strategy="pct", pct_depth=depth, seed=seed,
                               max_executions=RUNS, stop_on_first=False))
    assert result.stats.executions == RUNS == len(hits)
    promised = 1 / (N * K ** (depth - 1))
    assert sum(hits) / RUNS >= promised


@pytest.mark.parametrize(("build", "depth"), [(depth1, 1), (depth2, 2)])
def test_pct_reports_the_bug(build, depth, make_program):
    result = check(lambda: build(make_program),
                   CheckConfig(strategy="pct", pct_depth=depth, seed=7, max_executions=200))
    assert result.verdict == "violation" and result.violation.name == "no-bug"
    assert result.bounds["seed"] == 7


def test_pct_is_deterministic(make_program):
    runs = [check(lambda: depth2(make_program),
                  CheckConfig(strategy="pct", seed=11, max_executions=200)) for _ in range(2)]
    assert runs[0].schedule == runs[1].schedule
    assert runs[0].stats.executions == runs[1].stats.executions


def test_pct_reaches_store_buffering_under_tso():
    """Each store buffer has its own priority, so loads can overtake stores."""
    from gupsim.programs.catalog import register
    from gupsim.spec import get_scenario
    register()
    result = check(get_scenario("litmus/SB").factory(),
                   CheckConfig(strategy="pct", memory_model="tso", pct_depth=3, seed=0,
                               max_executions=1000))
    assert result.verdict == "violation"
