"""Invariants over every step (spec.Invariant when="always") under each strategy."""

import pytest

from gupsim.check import CheckConfig, check
from gupsim.ops import Load, Store
from gupsim.spec import Invariant, Program, ThreadSpec


def transient():
    """x and y are both 1 only between T0's two stores, and only if T1 ran before."""
    def t0():
        yield Store("x", 1)
        yield Store("x", 0)

    def t1():
        yield Store("y", 1)
        yield Load("x")

    both = Invariant("never-both", lambda m: "x and y both 1" if m["x"] == m["y"] == 1
                     else None)
    return Program([ThreadSpec("T0", t0()), ThreadSpec("T1", t1())], {"x": 0, "y": 0},
                   [both], interrupts=False)


@pytest.mark.parametrize("strategy", ["dfs", "dpor"])
def test_a_step_invariant_is_checked_under_every_exhaustive_strategy(strategy):
    result = check(transient, CheckConfig(strategy=strategy))
    assert result.verdict == "violation"
    assert result.violation.name == "never-both"
