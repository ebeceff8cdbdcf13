"""dpor under axiomatic (weak) memory models, against the enum strategy.

Under a weak model dpor keeps a read's candidate writes and a write's
coherence positions only where the model judges the graph consistent
(``check.weakgraph``). Two oracles:

* with SC and x86-TSO written as axioms and plugged in as the weak model,
  dpor must explore exactly what the operational models' dpor explores;
* with a model that keeps nothing but coherence (the weakest any model here
  is), dpor must find exactly the executions of ``enum``, those whose po | rf
  is acyclic and the load-buffering ones (a read of a write that depends on
  the read's own thread going past it) alike.

``test_dpor_weak_oracle.py`` does the same under the real models.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gupsim import CheckConfig, Program, ThreadSpec, check
from gupsim.check import memory
from gupsim.check.axioms import Judgement, Relations, SCAxioms, TSOAxioms, _union, acyclic
from gupsim.check.strategies.weakresult import event_order

from test_enum import CELLS, PROGRAMS, PROGRAMS_TSO, fenced_thread, run, thread


class CoherenceOnly:
    """SC per location and RMW atomicity, nothing else."""

    def check(self, g):
        rel = Relations(g)
        if not rel.atomic_ok():
            return Judgement(False, "atomic")
        if not acyclic(_union(rel.po_loc, rel.rf, rel.co, rel.fr)):
            return Judgement(False, "coherence")
        return Judgement(True)


@pytest.fixture
def as_weak(monkeypatch):
    """Plug a Python model in under a weak model's name."""
    def plug(model):
        monkeypatch.setitem(memory._LOADED, "lkmm", model)
    return plug


@settings(max_examples=60, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(PROGRAMS_TSO)
def test_sc_and_tso_axioms_explore_like_the_operational_models(as_weak, prog):
    for name, model in (("sc", SCAxioms()), ("tso", TSOAxioms())):
        as_weak(model)
        assert run(prog, "dpor", "lkmm", fenced_thread) == run(prog, "dpor", name, fenced_thread)


def acyclic_executions(prog, strategy):
    """(po | rf-acyclic executions, cyclic ones, the acyclic ones' outcomes, blocked)."""
    n, cyclic, outcomes = 0, 0, set()

    def observe(o):
        nonlocal n, cyclic
        if not event_order(o.graph)[1]:
            cyclic += 1
            return
        n += 1
        outcomes.add((tuple(sorted(o.memory.items())),
                      tuple(o.results[f"T{i}"] for i in range(len(prog)))))

    def factory():
        return Program([ThreadSpec(f"T{i}", thread(ops)) for i, ops in enumerate(prog)],
                       dict.fromkeys(CELLS, 0), interrupts=False)
    result = check(factory, CheckConfig(strategy=strategy, memory_model="lkmm",
                                        stop_on_first=False), observe=observe)
    return n, cyclic, outcomes, result.stats.blocked


# (at most 7 ops in all: a model that allows everything makes enum's
# candidate count explode on three threads of three RMWs)
SMALL = PROGRAMS.filter(lambda prog: sum(map(len, prog)) <= 7)


@settings(max_examples=60, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])
@given(SMALL)
def test_dpor_finds_every_execution_of_a_weak_model(as_weak, prog):
    as_weak(CoherenceOnly())
    assert acyclic_executions(prog, "dpor")[:3] == acyclic_executions(prog, "enum")[:3]


# -- the look for pending IPIs is no fence ---------------------------------------------

def _mp_program():
    """Message passing with no barriers, in a program that takes interrupts:
    a CPU's look for IPIs between two accesses must not order them."""
    from gupsim import Invariant, Load, Store

    def writer():
        yield Store("data", 1)
        yield Store("flag", 1)

    def reader():
        f = yield Load("flag")
        d = yield Load("data")
        yield Store("obs", (f, d))

    def stale(mem, results):
        if mem["obs"] == (1, 0):
            return "saw the flag but not the data"
    return Program([ThreadSpec("writer", writer(), cpu=0), ThreadSpec("reader", reader(), cpu=1)],
                   {"data": 0, "flag": 0, "obs": None},
                   invariants=[Invariant("mp", stale, "end")])


@pytest.mark.parametrize("model", ["lkmm", "armv8", "armv7", "power"])
def test_ipi_looks_do_not_order_the_accesses_around_them(model):
    found = {}
    for strategy in ("dpor", "enum"):
        res = check(_mp_program, CheckConfig(strategy=strategy, memory_model=model,
                                             stop_on_first=False))
        found[strategy] = (res.verdict, res.stats.executions)
    assert found["dpor"] == found["enum"] == ("violation", 4)
