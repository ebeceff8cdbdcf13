"""IPIs: a handler never runs while its target CPU has IRQs off, and a sender
that waits is held until the handler has run.

The target (cpu0) marks an IRQs-off region in the cell ``critical``; the
handler records what it saw there. The sender (cpu1) sends with ``wait`` and
then marks ``sender_done``. The negative controls (no IRQ disabling, no wait)
show the invariants can fail.
"""

from __future__ import annotations

import pytest

from gupsim import (CheckConfig, Invariant, IrqDisable, IrqEnable, Load, SendIpi, Store,
                    check)

MEMORY = {"critical": 0, "seen": -1, "handled": 0, "sender_done": 0, "work": 0}


def handler(cpu):
    saw = yield Load("critical")
    yield Store("seen", saw)
    yield Store("handled", 1)


def target(irqs_off: bool):
    if irqs_off:
        yield IrqDisable()
    yield Store("critical", 1)
    yield Store("work", 1)
    yield Store("work", 2)
    yield Store("critical", 0)
    if irqs_off:
        yield IrqEnable()


def sender(wait: bool):
    yield SendIpi([0], handler, wait=wait, name="flush")
    yield Store("sender_done", 1)


def not_in_critical(mem):
    if mem["seen"] == 1:
        return "the handler ran inside the IRQs-off region"


def waited(mem):
    if mem["sender_done"] == 1 and mem["handled"] == 0:
        return "the sender went on before the handler ran"


def ipi_program(make_program, irqs_off=True, wait=True):
    return make_program(target(irqs_off), sender(wait), memory=MEMORY, cpus=[0, 1],
                        invariants=[Invariant("irqs-off-holds-ipi", not_in_critical),
                                    Invariant("sender-waits", waited)])


# (dfs under TSO runs ~80,000 interleavings here: the handler may run before
# the region, right before its cli, and both buffer stores; dpor covers TSO.)
@pytest.mark.parametrize(("strategy", "model"), [("dfs", "sc"), ("dpor", "sc"),
                                                 ("dpor", "tso")])
def test_handler_waits_for_irqs_on_and_sender_waits_for_handler(strategy, model,
                                                                make_program):
    result = check(lambda: ipi_program(make_program), CheckConfig(strategy=strategy,
                                                                  memory_model=model))
    assert result.verdict == "safe" and result.stats.executions > 1


def test_handler_runs_in_every_execution(make_program):
    def handled(mem, results):
        if mem["handled"] != 1:
            return "the IPI was never handled"
    def factory():
        program = ipi_program(make_program)
        program.invariants.append(Invariant("handled", handled, "end"))
        return program
    assert check(factory, CheckConfig(strategy="dfs")).verdict == "safe"


def test_without_irqs_off_the_handler_interrupts_the_region(make_program):
    result = check(lambda: ipi_program(make_program, irqs_off=False),
                   CheckConfig(strategy="dfs"))
    assert result.violation is not None and result.violation.name == "irqs-off-holds-ipi"
    assert any(ev.get("in_irq") for ev in result.trace)


def test_without_wait_the_sender_runs_ahead(make_program):
    result = check(lambda: ipi_program(make_program, wait=False),
                   CheckConfig(strategy="dfs"))
    assert result.violation is not None and result.violation.name == "sender-waits"


def test_trace_shows_irq_state(make_program):
    result = check(lambda: ipi_program(make_program, irqs_off=False),
                   CheckConfig(strategy="dfs"))
    handler_steps = [ev for ev in result.trace if ev.get("in_irq")]
    assert handler_steps and all(ev["irqs"] is False for ev in handler_steps)
    assert all(ev["cpu"] == 0 for ev in handler_steps)


# -- the handshake under weak memory models -------------------------------------------
# The target writes ``data`` and then takes the IPI; its handler reads ``data``
# and publishes what it saw. A sender that waited for the ack and then sees
# the handler's ``saw == 1`` must see ``data == 1`` too: the ack is a release
# store and the wait reads it with acquire, as a synchronous cross-CPU call
# orders everything the target did before it. Without the wait it is the
# message-passing shape, which every weak model allows.

MP_MEMORY = {"data": 0, "saw": 0, "obs_saw": -1, "obs_data": -1}


def mp_handler(cpu):
    saw = yield Load("data")
    yield Store("saw", saw)


def mp_target():
    yield Store("data", 1)


def mp_sender(wait: bool):
    yield SendIpi([0], mp_handler, wait=wait, name="call")
    yield Store("obs_saw", (yield Load("saw")))
    yield Store("obs_data", (yield Load("data")))


def saw_the_data(mem, results):
    if mem["obs_saw"] == 1 and mem["obs_data"] == 0:
        return "the sender saw the handler's result but not the data it read"


def mp_program(make_program, wait):
    return make_program(mp_target(), mp_sender(wait), memory=MP_MEMORY, cpus=[0, 1],
                        invariants=[Invariant("ack-orders", saw_the_data, "end")])


@pytest.mark.parametrize("model", ["lkmm", "armv8", "armv7", "power"])
def test_a_waited_ipi_orders_the_targets_earlier_accesses(model, make_program):
    waited_run = check(lambda: mp_program(make_program, True),
                       CheckConfig(strategy="dpor", memory_model=model))
    assert waited_run.verdict == "safe" and waited_run.stats.executions > 1
    unwaited = check(lambda: mp_program(make_program, False),
                     CheckConfig(strategy="dpor", memory_model=model))
    assert unwaited.violation is not None and unwaited.violation.name == "ack-orders"


def _acks_program(ntargets):
    """A sender IPIs every other CPU and then reads what each handler wrote."""
    from gupsim import Program, ThreadSpec

    def h(cpu):
        yield Store(f"h{cpu}", 1)

    def tgt(i):
        yield Store(f"w{i}", 1)

    def snd():
        yield SendIpi(list(range(ntargets)), h, name="flush")
        seen = []
        for i in range(ntargets):
            seen.append((yield Load(f"h{i}")))
        return tuple(seen)
    memory = {f"{c}{i}": 0 for c in "hw" for i in range(ntargets)}
    return Program([ThreadSpec(f"T{i}", tgt(i), cpu=i) for i in range(ntargets)]
                   + [ThreadSpec("S", snd(), cpu=ntargets)], memory)


@pytest.mark.parametrize(("strategy", "model"), [("dfs", "sc"), ("dpor", "sc"),
                                                 ("dpor", "tso"), ("dpor", "armv8")])
def test_a_sender_waits_for_each_targets_ack_in_turn(strategy, model):
    """smp_call_function_many() waits for each target's call data in turn
    (one wait per target): after the last one every handler's store is
    visible to the sender, in every execution of every strategy and model."""
    results = set()
    res = check(lambda: _acks_program(2),
                CheckConfig(strategy=strategy, memory_model=model, stop_on_first=False),
                observe=lambda o: results.add(o.results["S"]))
    assert res.verdict == "safe" and results == {(1, 1)}
