"""Parked waits in dpor: a CPU that waits or has finished with IRQs on, and a
monotone ``Await`` (an IPI's ack), add no event until what they wait for is
there. So a wait that a later write ends explores no graph in which it waits
for ever (no blocked graph), and nothing is lost: dfs reaches the same
outcomes, deadlocks included."""

from __future__ import annotations

import pytest

import gupsim.scenarios  # noqa: F401  (registers the scenarios)
from gupsim.check import CheckConfig, check
from gupsim.ops import Await, IrqDisable, IrqEnable, Load, SendIpi, Store
from gupsim.spec import SCENARIOS, Program, ThreadSpec
from test_dpor_waits_oracle import outcomes  # (results, final memory, violation kind)


def handler(cpu):
    yield Store("y", 5)


def program(*bodies, memory=None):
    return lambda: Program([ThreadSpec(f"T{i}", b(), cpu=i) for i, b in enumerate(bodies)],
                           memory or {"x": 0, "y": 0, "f": 0})


def finishes_early():
    r = yield Load("x")
    return r


def sends(wait):
    def body():
        yield Store("x", 1)
        yield SendIpi([0], handler, wait=wait)
        return (yield Load("y"))
    return body


def waits_for_flag():      # (a flag set once: monotone)
    return (yield Await(("f",), lambda v: v >= 1, "f >= 1", monotone=True))


def sets_flag_then_sends():
    yield SendIpi([0], handler, wait=True)
    yield Store("f", 1)


@pytest.mark.parametrize("model", ["sc", "tso", "armv8"])
@pytest.mark.parametrize("bodies", [
    (finishes_early, sends(True)),        # the target has finished when the IPI comes
    (finishes_early, sends(False)),
    (waits_for_flag, sets_flag_then_sends),   # parked in an Await with IRQs on
], ids=["finished-wait", "finished-nowait", "waiting"])
def test_ipis_to_a_waiting_or_finished_cpu_explore_no_blocked_graph(model, bodies):
    factory = program(*bodies)
    smart, res = outcomes(factory, "dpor", model)
    assert res.stats.exhausted and res.stats.blocked == 0
    if model != "armv8":                  # (dfs is the interleaving semantics)
        brute, _ = outcomes(factory, "dfs", model)
        assert smart == brute


def test_a_monotone_await_that_never_holds_is_still_a_deadlock():
    def never():
        yield Await(("f",), lambda v: v >= 1, "f >= 1", monotone=True)

    def other():
        yield Store("x", 1)
    for strategy in ("dfs", "dpor"):
        res = check(program(never, other), CheckConfig(strategy=strategy))
        assert res.verdict == "deadlock"
        assert dict(res.violation.evidence)["T0 (cpu0)"] == "waits at await f >= 1"


def test_two_cpus_that_send_each_other_an_ipi_with_irqs_off_deadlock():
    """The x86 rule the seed's walker relies on, turned around: a CPU that
    waits for an IPI's ack with IRQs off cannot take the other's IPI. (If
    one sends before the other turns IRQs off, the other takes it.)"""
    def cpu(target):
        def body():
            yield IrqDisable()
            yield SendIpi([target], handler, wait=True)
            yield IrqEnable()
        return body
    factory = program(cpu(1), cpu(0))
    for model in ("sc", "tso"):
        brute, _ = outcomes(factory, "dfs", model)
        smart, res = outcomes(factory, "dpor", model)
        assert smart == brute and {kind for *_, kind in smart} == {"deadlock", None}
        assert res.stats.blocked == 0


@pytest.mark.parametrize("design,arch", [("x86-2008", "x86-64"), ("generic-rcu-2014", "arm64")])
def test_munmap_explores_no_blocked_graph(design, arch):
    """x86's TLB-flush IPI and the RCU walker's synchronize_sched(): the
    targets have finished or run with IRQs on when the IPI comes."""
    from gupsim.kernel import get_arch
    res = check(SCENARIOS["gup-vs-munmap"].factory(arch=arch, design=design),
                CheckConfig(strategy="dpor", memory_model=get_arch(arch).memory_model,
                            stop_on_first=False))
    assert res.verdict == "safe" and res.stats.exhausted
    assert res.stats.blocked == 0


def test_monotone_await_waits_on_one_cell():
    with pytest.raises(ValueError, match="one cell"):
        Await(("a", "b"), lambda a, b: a and b, monotone=True)
