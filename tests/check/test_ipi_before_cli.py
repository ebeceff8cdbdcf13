"""An IPI can land right before ``local_irq_disable()``.

cpu0 runs an IRQs-off region that reads ``handled`` (set by the IPI handler),
``x`` and ``y``; cpu1 stores ``x = 1``, sends the IPI and waits for the ack,
then stores ``y = 1``. On hardware the IPI may be taken just before the cli,
also when the cli is the thread's first instruction (gup_fast starts with
local_irq_save()) and when it follows a shared access. So the region may see
the handler done, and then also ``x == 1`` (stored before the send) and
possibly ``y == 1``. What stays impossible: the region seeing ``y == 1``
without seeing the handler done (the ack needs the handler, and once the
region has begun the handler waits for IRQs on).
"""

from __future__ import annotations

import pytest

from gupsim import CheckConfig, Invariant, IrqDisable, IrqEnable, Load, SendIpi, Store, check
from gupsim.check.explorer import run_schedule
from gupsim.check.schedule import decode

MEMORY = {"x": 0, "y": 0, "handled": 0}
STRATEGIES = [CheckConfig(strategy="dfs"), CheckConfig(strategy="dfs", memory_model="tso"),
              CheckConfig(strategy="dpor"), CheckConfig(strategy="dpor", memory_model="tso"),
              CheckConfig(strategy="dfs", preemption_bound=2)]


def handler(cpu):
    yield Store("handled", 1)


def region():
    yield IrqDisable()
    h = yield Load("handled")
    x = yield Load("x")
    y = yield Load("y")
    yield IrqEnable()
    return h, x, y


def starts_with_cli():
    return (yield from region())


def load_then_cli():
    before = yield Load("x")
    return (before, *(yield from region()))


def sender():
    yield Store("x", 1)
    yield SendIpi([0], handler, wait=True, name="flush")
    yield Store("y", 1)


def outcomes(make_program, target, config, interrupts=True, invariants=()):
    def factory():
        program = make_program(target(), sender(), memory=MEMORY, cpus=[0, 1],
                               invariants=list(invariants))
        program.interrupts = interrupts
        return program
    seen = set()
    check(factory, config, observe=lambda o: seen.add(o.results["T0"]))
    return seen, factory


@pytest.mark.parametrize("config", STRATEGIES, ids=lambda c: f"{c.strategy}-{c.memory_model}"
                         f"-pb{c.preemption_bound}")
def test_an_ipi_can_be_taken_before_the_first_cli(config, make_program):
    seen, _ = outcomes(make_program, starts_with_cli, config)
    # (0, *, 0): the region ran first; the IPI waits for local_irq_enable().
    # (1, 1, *): taken before the cli, so x (stored before the send) is seen,
    # and y too if the sender, acked, went on before the region read it.
    assert seen == {(0, 0, 0), (0, 1, 0), (1, 1, 0), (1, 1, 1)}


@pytest.mark.parametrize("config", STRATEGIES, ids=lambda c: f"{c.strategy}-{c.memory_model}"
                         f"-pb{c.preemption_bound}")
def test_an_ipi_can_be_taken_between_a_load_and_the_cli(config, make_program):
    seen, _ = outcomes(make_program, load_then_cli, config)
    # before == 0 and handled == 1: the IPI was sent after the first load (x
    # is stored before the send) and still taken before the cli.
    assert (0, 1, 1, 0) in seen and (0, 1, 1, 1) in seen
    assert all(not (y == 1 and h == 0) for _, h, _, y in seen)
    assert all(x == 1 for _, h, x, _ in seen if h == 1)
    assert len(seen) == 7     # before == 1 implies x == 1: 3 outcomes, and 4 with 0


def region_saw_y(mem, results):
    if results["T0"][2] == 1:
        return "the IRQs-off region saw the store made after the ack"


def test_the_counterexample_replays_with_its_cli_step(make_program):
    inv = Invariant("region-saw-y", region_saw_y, "end")
    for strategy, model in (("dpor", "sc"), ("dpor", "tso"), ("dfs", "sc")):
        _, factory = outcomes(make_program, starts_with_cli, CheckConfig(strategy="dpor"),
                              invariants=[inv])
        found = check(factory, CheckConfig(strategy=strategy, memory_model=model))
        assert found.violation is not None and found.violation.name == "region-saw-y"
        actions = decode(found.schedule)
        # T0 takes the IPI before its first step; then the handler's two stores,
        # the cli and the three loads are steps
        assert actions.index((0, "i")) < actions.index((0, "s"))
        assert actions.count((0, "s")) == 6
        again = run_schedule(factory, actions, model)
        assert again.violation == found.violation
        replayed = check(factory, CheckConfig(strategy="replay", schedule=found.schedule,
                                              memory_model=model))
        assert replayed.violation == found.violation


def test_without_interrupts_the_cli_is_no_step(make_program):
    def quiet():
        yield Store("x", 1)

    def counts(interrupts):
        def factory():
            program = make_program(starts_with_cli(), quiet(), memory=MEMORY, cpus=[0, 1])
            program.interrupts = interrupts
            return program
        return [check(factory, CheckConfig(strategy=s)).stats.executions
                for s in ("dfs", "dpor")]
    # three loads against one store: 4 interleavings, 2 classes (x read 0 or 1)
    assert counts(False) == [4, 2]
    # with interrupts the cli is a step of its own (dfs) and a look for IPIs (dpor)
    assert counts(True)[0] == 5
