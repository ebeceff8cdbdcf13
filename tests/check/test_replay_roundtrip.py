"""A found violation's schedule replays to the same violation and the same trace."""

from __future__ import annotations

import pytest

from gupsim import (Assert, CheckConfig, Load, NondeterminismError, Rmw, Store, check,
                    replay)
from gupsim.programs.catalog import register
from gupsim.spec import get_scenario


def lost_update(make_program):
    def inc():
        v = yield Load("count")
        yield Store("count", v + 1)

    def checker():
        yield from inc()
        done = yield Rmw("done", "add", 1)
        if done == 1:
            total = yield Load("count")
            yield Assert(total == 2, "no lost update", count=total)
    return make_program(inc(), checker(), memory={"count": 0, "done": 1})


def sb_tso():
    register()
    return get_scenario("litmus/SB").factory()


CASES = [
    ("assertion", lambda mp: (lambda: lost_update(mp)), "sc"),
    ("invariant", lambda mp: sb_tso(), "tso"),
]


@pytest.mark.parametrize(("kind", "make", "model"), CASES)
@pytest.mark.parametrize("strategy", ["dfs", "dpor", "random", "pct"])
def test_schedule_replays_to_same_violation_and_trace(kind, make, model, strategy,
                                                      make_program):
    factory = make(make_program)
    found = check(factory, CheckConfig(strategy=strategy, memory_model=model, seed=3,
                                       max_executions=500))
    assert found.violation is not None and found.violation.kind == kind
    again = replay(factory, found.schedule, memory_model=model)
    assert again.violation == found.violation
    assert again.trace == found.trace
    assert again.schedule == found.schedule


def test_replay_of_a_wrong_schedule_is_a_determinism_error(make_program):
    factory = lambda: lost_update(make_program)  # noqa: E731
    with pytest.raises(NondeterminismError, match="diverged"):
        replay(factory, "s1:0*2.5")
