"""Parked waits in dpor: a CPU that waits or has finished with IRQs on, and a
monotone ``Await`` (an IPI's ack), add no event until what they wait for is
there. So a wait that a later write ends explores no graph in which it waits
for ever (no blocked graph), and nothing is lost: dfs reaches the same
outcomes, deadlocks included."""

from __future__ import annotations

import pytest

import gupsim.scenarios  # noqa: F401  (registers the scenarios)
from gupsim.check import CheckConfig, check
from gupsim.ops import Await, IrqDisable, IrqEnable, Load, Rmw, SendIpi, Store
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


LOCKS = {   # a waiting RMW and what releases it
    "lock": lambda: Store("L", 0, order="unlock"),
    "bit_spin_lock": lambda: Store("L", 0, order="release"),
    "down_write": lambda: Store("L", 0, order="release"),
    "down_read": lambda: Rmw("L", "sub", 1, order="release"),
}


def lock_and_ipi(kind, spinner_cpu, ipi=True):
    """The lock holder sends the spinner's CPU an IPI and waits for the ack
    while the spinner waits for the lock with IRQs on (x86's TLB flush under
    mmap_sem or page_table_lock); either may take the lock first."""
    writer = kind == "down_read"      # (readers share: the holder is a writer)

    def holder():
        yield Rmw("L", "down_write" if writer else kind)
        if ipi:
            yield SendIpi([spinner_cpu], handler, wait=True)
        yield LOCKS["down_write" if writer else kind]()

    def spinner():
        yield Rmw("L", kind)
        r = yield Load("y")
        yield LOCKS[kind]()
        return r
    bodies = (spinner, holder) if spinner_cpu == 0 else (holder, spinner)
    return program(*bodies, memory={"x": 0, "y": 0, "f": 0, "L": 0})


@pytest.mark.parametrize("model", ["sc", "tso"])
@pytest.mark.parametrize("kind", sorted(LOCKS))
@pytest.mark.parametrize("spinner_cpu", [0, 1])
def test_a_cpu_waiting_for_a_lock_while_its_holder_sends_it_an_ipi(kind, spinner_cpu, model):
    """Both orders of the lock: the spinner reads y = 0 if it takes the lock
    first and 5 (the handler's) if it takes the holder's IPI while it waits.
    (Were a lock's read parked until the lock is free, it would have the
    holder in its past by then, and dpor would lose the first order when the
    spinner is explored second.)"""
    factory = lock_and_ipi(kind, spinner_cpu)
    smart, _ = outcomes(factory, "dpor", model)
    brute, _ = outcomes(factory, "dfs", model)
    assert smart == brute
    assert {dict(r)["T0" if spinner_cpu == 0 else "T1"] for r, _, _ in smart} == {0, 5}
