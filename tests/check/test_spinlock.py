"""``spin_lock()`` (``Rmw(kind="lock")``) is mutual exclusion in every strategy.

A thread that finds the lock held waits, like an ``Await``: under dpor its
read of the lock is later revisited by the unlock; it never proceeds without
the lock. A lock that is never released is a deadlock.
"""

from __future__ import annotations

import pytest

from gupsim import CheckConfig, Invariant, Load, Program, Rmw, Store, ThreadSpec, check


def incrementer(nested=False):
    yield Rmw("l", "lock")
    if nested:
        yield Rmw("l", "lock")
    r = yield Load("x")
    yield Store("x", r + 1)
    yield Store("l", 0, order="unlock")


def outcomes(strategy, model, threads=2, nested=False):
    finals = set()

    def factory():
        return Program([ThreadSpec(f"T{i}", incrementer(nested and i == 0))
                        for i in range(threads)], {"l": 0, "x": 0},
                       [Invariant("x", lambda mem, res: finals.add(mem["x"]), "end")],
                       interrupts=False)
    result = check(factory, CheckConfig(strategy=strategy, memory_model=model,
                                        stop_on_first=False))
    return result, finals


@pytest.mark.parametrize("model", ["sc", "tso"])
@pytest.mark.parametrize("strategy", ["dfs", "dpor", "enum"])
def test_critical_sections_do_not_overlap(strategy, model):
    result, finals = outcomes(strategy, model, threads=3)
    assert result.verdict == "safe"
    assert finals == {3}
    if strategy != "dfs":
        assert result.stats.executions == 6       # one per order of the critical sections


@pytest.mark.parametrize("strategy", ["dfs", "dpor", "enum"])
def test_taking_a_held_lock_again_deadlocks(strategy):
    result, _ = outcomes(strategy, "sc", threads=1, nested=True)
    assert result.verdict == "deadlock"


@pytest.mark.parametrize("model", ["sc", "tso", "lkmm", "armv8"])
def test_dpor_never_chooses_to_wait_on_a_replaced_value(model, monkeypatch):
    """A read that would wait (the lock held) on a write that another
    thread's later write already replaced waits for ever in that graph: dpor
    does not take it as a forward choice. (A wait chosen on the latest write
    can still be overtaken by a later write; that write's revisit takes it on.)"""
    import importlib
    from gupsim.check.graph import INIT, REV
    dpor = importlib.import_module("gupsim.check.strategies.dpor")
    stale_forward = []
    real = dpor.GraphRun.outcome

    def spy(self):
        got = real(self)
        if got == "blocked" and not self.dead and not self.promised:
            g = self.g
            for c in self.ex.contexts:
                if c.blocked is None:
                    continue
                w = max(s for s in g.ev if g.ev[s].tid == c.tid and g.ev[s].kind == "R")
                lst = g.co[g.ev[w].cell]
                later = lst if g.ev[w].rf == INIT else lst[lst.index(g.ev[w].rf) + 1:]
                if not g.ev[w].flags & REV and any(x < w and g.ev[x].tid != c.tid
                                                   for x in later):
                    stale_forward.append(w)     # replaced before it chose to wait
        return got
    monkeypatch.setattr(dpor.GraphRun, "outcome", spy)
    result, finals = outcomes("dpor", model, threads=3)
    assert finals == {3} and result.stats.executions == 6
    assert stale_forward == []
