"""dpor under the real weak models against the enumerator, on generated
programs (``weak_programs``): the same number of executions (one per
consistent rf/co class, load buffering included) and the same outcomes.

The ground truth is ``enum``: every candidate execution of the threads'
traces, judged by the model's axioms. CI runs a few dozen programs per model;
``python benchmarks/weak_oracle.py`` runs thousands and prints the figures.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gupsim import CheckConfig, Load, Program, Store, ThreadSpec, check

from test_dpor_waits_oracle import no_irqs, outcomes
from weak_programs import SMALL_PROGRAMS, explore


@pytest.mark.parametrize("model", ["lkmm", "armv8", "power", "armv7"])
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.filter_too_much])
@given(prog=SMALL_PROGRAMS)
def test_dpor_explores_what_enum_enumerates(model, prog):
    enum, dpor = explore(prog, "enum", model), explore(prog, "dpor", model)
    assert (dpor[0], dpor[1], dpor[4]) == (enum[0], enum[1], enum[4])


def _lb(dep: str):
    """LB: each thread reads one cell, then writes the other."""
    def t(src, dst):
        r = yield Load(src, reg="r")
        if dep == "data":          # the value 1, computed from r (herd's r ^ r + 1)
            yield Store(dst, 1, data=("r",))
        else:
            yield Store(dst, 1)
        return r

    def factory():
        return Program([ThreadSpec("T0", t("x", "y")), ThreadSpec("T1", t("y", "x"))],
                       {"x": 0, "y": 0}, interrupts=False)
    return factory


@pytest.mark.parametrize("model", ["lkmm", "armv8", "power", "armv7"])
def test_load_buffering_is_reached_by_dpor(model):
    """LB+poonceonces is allowed by every weak model here (e.g. Pulte et al.,
    POPL 2018, for ARMv8): four executions, one of them r0 = r1 = 1; with a
    data dependency on each side it is forbidden: three."""
    results = []

    def observe(o):
        results.append((o.results["T0"], o.results["T1"]))
    res = check(_lb("none"), CheckConfig(strategy="dpor", memory_model=model,
                                         stop_on_first=False), observe=observe)
    assert res.stats.executions == 4 and (1, 1) in results
    results.clear()
    res = check(_lb("data"), CheckConfig(strategy="dpor", memory_model=model,
                                         stop_on_first=False), observe=observe)
    assert res.stats.executions == 3 and (1, 1) not in results


# The two routes to one load-buffering graph. In ``[[r = y; x = 1], [r' = x;
# y = 1]]`` the graph where both read 1 is reached (a) when T1 reads x = 1 and
# its y = 1 then reads back into T0's load (T0 must redo x = 1 with y = 1), or
# (b) when y = 1 revisits T0's load first and the x = 1 T0 then writes reads
# back into T1's load (T1 must redo y = 1 with x = 1). Each route needs one
# thread to do the same with either value, which only running it tells (the
# program's own control flow on the value, not a declared dependency): here T1
# writes y only if it read x = 1, so only route (a) reaches the graph ...
ROUTE_A_ONLY = [[("load_store", "y", 1)],
                [("add", "x", "once"), ("branch",), ("if1_store", "y", 1)]]
# ... and here T0 writes x only if it read y = 1, so only route (b) does.
ROUTE_B_ONLY = [[("load", "y", "once"), ("if1_store", "x", 1)], [("load_store", "x", 1)]]


@pytest.mark.parametrize("model", ["lkmm", "armv8", "power", "armv7"])
@pytest.mark.parametrize("prog", [ROUTE_A_ONLY, ROUTE_B_ONLY], ids=["route-a", "route-b"])
def test_each_route_to_a_load_buffering_graph_is_kept(model, prog):
    """Neither route may be dropped to save the duplicate (a rule that drops
    the one where the exit from the revisited read's thread is a plain read
    loses the first program's r0 = r1 = 1 graph, and the rule the other way
    round the second's): dpor must find all of enum's executions, the
    load-buffering one included."""
    enum, dpor = explore(prog, "enum", model), explore(prog, "dpor", model)
    assert enum[4] == 1                      # the load-buffering execution exists
    assert (dpor[0], dpor[1], dpor[4]) == (enum[0], enum[1], enum[4])


# Three threads whose loads-then-stores and exchanges close many load-buffering
# cycles: the same load-buffering graph is reached by many routes.
LB_HEAVY = [[("load_store", "y", 2), ("load_store", "y", 2), ("load_store", "y", 1)],
            [("xchg", "x", 2)],
            [("load", "x", "acquire"), ("load_store", "x", 1), ("xchg", "y", 2)]]


def test_a_load_buffering_graph_is_rebuilt_once(monkeypatch):
    """A load-buffering work item reached again is skipped, not rebuilt: its
    subtree was explored the first time. Without that, this program rebuilds
    tens of thousands of such items, most of them repeats (measured: 37,587
    rebuilt, 4,024 distinct), and dpor spends a minute on it; the executions
    must stay enum's."""
    import importlib
    dpor = importlib.import_module("gupsim.check.strategies.dpor")
    from gupsim.check.graph import PROMISE
    rebuilt = []
    real = dpor.GraphRun.__init__

    def spy(self, factory, item, *args, **kwargs):
        if item[0] == "records" and any(rec[4] & PROMISE for rec in item[1]):
            rebuilt.append(dpor.item_key(item))
        real(self, factory, item, *args, **kwargs)
    monkeypatch.setattr(dpor.GraphRun, "__init__", spy)
    got = explore(LB_HEAVY, "dpor", "armv8")
    assert rebuilt and len(rebuilt) == len(set(rebuilt))
    monkeypatch.undo()
    enum = explore(LB_HEAVY, "enum", "armv8")
    assert (got[0], got[1], got[4]) == (enum[0], enum[1], enum[4])




@pytest.mark.parametrize("model", ["lkmm", "armv8", "power", "armv7"])
def test_writes_ordered_after_a_read_are_not_offered_to_it(model, monkeypatch):
    """A read with a path to a new write in (po ordered by smp_mb(), an
    acquire or a release | rf between threads) cannot read it early: dpor
    does not ask the model, and still finds exactly enum's executions."""
    import importlib
    dpor = importlib.import_module("gupsim.check.strategies.dpor")
    dropped = []
    real = dpor._ordered_before

    def spy(g, tid, meta):
        got = real(g, tid, meta)
        dropped.extend(got)
        return got
    monkeypatch.setattr(dpor, "_ordered_before", spy)
    programs = [[[("load", "x", "once"), ("fence", "mb"), ("store", "y", "once", 1)],
                 [("load", "y", "once"), ("fence", "mb"), ("store", "x", "once", 1)]],
                [[("load", "x", "acquire"), ("store", "y", "once", 1)],
                 [("load", "y", "once"), ("store", "x", "release", 1)]],
                [[("load", "x", "once"), ("fence", "mb"), ("store", "y", "once", 1)],
                 [("load", "y", "once"), ("store", "x", "once", 1)]]]
    counts = []
    for prog in programs:
        got = explore(prog, "dpor", model)
        enum = explore(prog, "enum", model)
        assert (got[0], got[1], got[4]) == (enum[0], enum[1], enum[4])
        counts.append((got[0], got[4]))
    assert dropped                                   # the shortcut was taken
    assert counts[0] == (3, 0) and counts[1] == (3, 0)   # LB+mbs, LB+acq+rel: forbidden
    assert counts[2] == (4, 1)                       # one fence only: LB allowed


@pytest.mark.parametrize("model", ["lkmm", "armv8", "power", "armv7"])
@pytest.mark.parametrize("spec", [
    [[("store", "x", 2)], [("store", "x", 1)], [("await", "x", 2)]],
    [[("store", "y", 1), ("cs", "x")], [("cs", "x"), ("store", "x", 1)],
     [("await", "x", 1), ("await", "x", 1)]],
], ids=["await-then-overwritten", "awaits-and-locks"])
def test_an_await_that_ends_and_one_that_waits_are_two_executions(spec, model):
    """x = 2 then x = 1 in coherence: the await may read the 2 and end, or
    read the 1 and wait for ever. The two graphs differ only in what the
    await read, which the access signature leaves out (an interleaving spins
    through any number of such reads): the second was taken as a duplicate
    of the first and its outcome lost."""
    enum, full = outcomes(no_irqs(spec), "enum", model)
    dpor, result = outcomes(no_irqs(spec), "dpor", model)
    assert dpor == enum
    assert result.stats.executions == full.stats.executions


_wait_steps = st.one_of(
    st.builds(lambda c: ("load", c), st.sampled_from("xy")),
    st.builds(lambda c, v: ("store", c, v), st.sampled_from("xy"), st.integers(1, 2)),
    st.builds(lambda c: ("cs", c), st.sampled_from("xy")),
    st.builds(lambda c, w: ("sem", c, w), st.sampled_from("xy"), st.booleans()),
    st.builds(lambda c, v: ("await", c, v), st.sampled_from("xy"), st.integers(1, 2)),
)


@pytest.mark.parametrize("model", ["lkmm", "armv8", "power", "armv7"])
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(spec=st.lists(st.lists(_wait_steps, min_size=1, max_size=2), min_size=2, max_size=3))
def test_dpor_reaches_what_enum_enumerates_with_locks_and_awaits(model, spec):
    """spin_lock() critical sections, rwsems and Awaits under the weak
    models: dpor reaches every outcome the enumerator finds (deadlocks too).
    (At most two critical sections: the enumerator's candidates grow fast
    with locks, four take it half a minute.)"""
    assume(sum(step[0] in ("cs", "sem") for thread in spec for step in thread) <= 2)
    enum, full = outcomes(no_irqs(spec), "enum", model, limit=3_000)
    assume(full.stats.exhausted)
    dpor, result = outcomes(no_irqs(spec), "dpor", model)
    assert result.stats.exhausted
    assert dpor == enum
