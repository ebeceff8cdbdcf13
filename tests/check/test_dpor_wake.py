"""A lock's read that waits is woken in place (``dpor._wake``).

A CPU spinning on a held ``spin_lock()``/rwsem whose release another CPU
writes reads the release where it waited, instead of the write revisiting it
and the graph where it still waits being explored to a blocked end. So lock
waits explore no blocked graph (a class may still come twice: waits woken in
a chain, below); the oracles (dfs) prove
nothing is lost, including the graphs where a CPU with IRQs on takes an IPI
while it spins and only then sees the release.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gupsim.check import CheckConfig, check
from gupsim.matrix import _scenarios

from test_dpor_waits_oracle import build, no_irqs, outcomes


def counted(factory, model="sc"):
    return check(factory, CheckConfig(strategy="dpor", memory_model=model,
                                      stop_on_first=False, count_classes=True))


def test_three_cpus_taking_one_lock_explore_each_order_once():
    spec = [[("cs", "x")], [("cs", "x")], [("cs", "x")]]
    result = counted(no_irqs(spec))
    assert result.stats.executions == result.stats.classes == 6      # 3! lock orders
    assert result.stats.blocked == 0 and result.stats.duplicates == 0
    assert outcomes(no_irqs(spec), "dpor", "sc")[0] == outcomes(no_irqs(spec), "dfs", "sc")[0]


# Programs on which a first version of the wake lost outcomes (each checked):
# the woken read moved to the end of the graph (a later revisit then found it
# not maximal), and waits added after the woken one kept (the revisit the wake
# stands for deletes them).
PINNED_NO_IRQS = [
    [[("cs", "y"), ("load", "x"), ("await", "x", 2)],
     [("store", "x", 1), ("cs", "y"), ("sem", "y", True)], [("store", "y", 1)]],
    [[("load", "y"), ("cs", "y"), ("load", "x")], [("cs", "y")],
     [("cs", "x"), ("load", "y"), ("store", "y", 2)]],
]


@pytest.mark.parametrize("spec", PINNED_NO_IRQS, ids=["await-after-cs", "cs-between-loads"])
def test_woken_waits_lose_no_outcome(spec):
    assert outcomes(no_irqs(spec), "dpor", "sc")[0] == outcomes(no_irqs(spec), "dfs", "sc")[0]


def signatures(factory, strategy):
    seen = set()
    check(factory, CheckConfig(strategy=strategy, memory_model="sc", stop_on_first=False),
          observe=lambda o: seen.add(o.signature))
    return seen


# With IRQs on, a CPU spinning on the lock may take an IPI sent after the
# release and see the release only after the handler: a class of its own
# (the handler runs before the critical section), which waking it at the
# release alone lost (these two programs lost one class each).
@pytest.mark.parametrize("spec", [
    [[("cs", "y")], [("cs", "x")], [("load", "x"), ("load", "y"), ("ipi", 0, True)]],
    [[("store", "y", 2), ("cs_ipi", 2)], [("cs", "y")], [("irqs",), ("ipi", 0, True)]],
], ids=["ipi-after-release", "ipi-under-lock"])
def test_a_cpu_spinning_with_irqs_on_may_take_an_ipi_first(spec):
    assert signatures(build(spec), "dfs") <= signatures(build(spec), "dpor")


def test_cpus_waking_each_other_in_turn_terminate():
    """Three CPUs that send IPIs under the lock wake each other's waits in
    turn; the same woken graph is reached by several routes and explored once."""
    spec = [[("cs_ipi", 2), ("cs_ipi", 0)], [("cs_ipi", 2), ("cs", "x")],
            [("cs_ipi", 2), ("cs", "x")]]
    smart, result = outcomes(build(spec), "dpor", "sc")
    assert result.stats.exhausted
    assert smart == outcomes(build(spec), "dfs", "sc")[0]


lock_steps = st.one_of(
    st.builds(lambda c: ("load", c), st.sampled_from("xy")),
    st.builds(lambda c, v: ("store", c, v), st.sampled_from("xy"), st.integers(1, 2)),
    st.builds(lambda c: ("cs", c), st.sampled_from("xy")),
    st.builds(lambda c, w: ("sem", c, w), st.sampled_from("xy"), st.booleans()),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(st.lists(st.lists(lock_steps, min_size=1, max_size=3), min_size=3, max_size=3),
       st.sampled_from(["sc", "tso"]))
def test_programs_with_locks_explore_no_blocked_graph(spec, model):
    brute, full = outcomes(no_irqs(spec), "dfs", model, limit=5_000)
    assume(full.stats.exhausted)
    result = counted(no_irqs(spec), model)
    assert result.stats.blocked == 0
    assert outcomes(no_irqs(spec), "dpor", model)[0] == brute


def test_an_rwsem_with_two_readers_and_a_writer_explores_each_class_once():
    """A writer waits for two readers: the second reader's down_read() may
    revisit the writer's read (woken by the first reader's up_read()) only to
    make it wait again, which the graph where it waits on at its own place
    already covers (``AGAIN``): 16 executions for 14 classes without it."""
    spec = [[("sem", "x", True)], [("sem", "x", False)], [("sem", "x", False)]]
    result = counted(no_irqs(spec))
    assert result.stats.executions == result.stats.classes == 14
    assert result.stats.blocked == 0 and result.stats.duplicates == 0


@pytest.mark.xfail(strict=True, reason="known: waits woken in a chain (a writer behind "
                   "two readers, one of which then writes) reach some classes 2-3 times")
def test_a_chain_of_rwsem_waits_explores_each_class_once():
    spec = [[("sem", "x", True)], [("sem", "x", False)], [("sem", "x", False), ("sem", "x", True)]]
    result = counted(no_irqs(spec))
    assert result.stats.executions == result.stats.classes


def test_a_release_does_not_come_after_the_ipi_its_waiter_sent():
    """cpu0 sends an IPI to cpu1, then waits for the rwsem cpu1 holds. The
    wait is woken at cpu1's up_write(), so that release does not come after
    cpu0's send: cpu1 may look for IPIs before the send, release, and take
    the IPI only later, in its Await (the handler's y = 5 seen there, not in
    the critical section). Ordering the release after the stale wait, and
    so after the send, lost that outcome."""
    spec = [[("ipi", 1, False), ("sem", "y", True)], [("sem", "y", True), ("await", "y", 2)],
            [("load", "x")]]
    smart, result = outcomes(build(spec), "dpor", "sc")
    assert result.stats.exhausted
    assert smart == outcomes(build(spec), "dfs", "sc")[0]
    assert any(dict(results)["T1"] == (0, (5,)) and dict(memory)["y"] == 5
               for results, memory, _ in smart)


@pytest.mark.parametrize("scenario,params", [
    ("gup-vs-fork", {"design": "modern", "arch": "x86-64"}),
    ("gup-vs-thp-split", {"design": "x86-2008", "arch": "x86-64"}),
    ("dirty-cow", {"arch": "x86-64"}),
], ids=["fork-x86", "thp-split-x86", "dirty-cow"])
def test_kernel_lock_waits_explore_no_blocked_graph(scenario, params):
    """mmap_sem, the page-table lock and the compound lock: every graph
    explored is an execution of its own class."""
    factory = _scenarios()[scenario].factory(**params)
    result = counted(factory, "tso")
    assert result.stats.exhausted
    assert result.stats.blocked == 0 and result.stats.duplicates == 0
    assert result.stats.executions == result.stats.classes


# Under the weak models a lock's read is woken in place too.
WEAK = ["lkmm", "armv8", "power", "armv7"]


def same_as_enum(spec, model):
    enum, full = outcomes(no_irqs(spec), "enum", model)
    dpor, result = outcomes(no_irqs(spec), "dpor", model)
    assert dpor == enum
    assert result.stats.executions == full.stats.executions
    return result


@pytest.mark.parametrize("model", WEAK)
def test_weak_models_wake_three_cpus_waiting_for_one_lock(model):
    result = same_as_enum([[("cs", "x")], [("cs", "x")], [("cs", "x")]], model)
    assert result.stats.executions == 6 and result.stats.blocked == 0


@pytest.mark.parametrize("model", WEAK)
def test_a_woken_lock_read_kept_without_its_write_loses_no_outcome(model):
    """T1's critical section reads T2's y = 2 early (load buffering through
    the x = 2 after its unlock), and T0, woken at T1's unlock, takes the lock
    after it: a revisit keeps T0's woken read and deletes its write part, and
    lock.cat derives a lock read's rf from that write (judged without it, the
    graph was inconsistent and the outcome lost under lkmm)."""
    same_as_enum([[("cs", "y")], [("cs", "y"), ("store", "x", 2)],
                  [("load", "x"), ("store", "y", 2)]], model)


def test_a_revisiting_write_comes_after_what_the_read_saw_before():
    """T0 writes y, then its critical section reads y; T1's y = 1 revisits
    that read. The revisit may only place T1's write after T0's own (the read
    comes after it in program order: coherence); placed before it, the graph
    was built only to be found inconsistent."""
    spec = [[("store", "y", 1), ("sem", "y", False)], [("store", "y", 1)]]
    enum, full = outcomes(no_irqs(spec), "enum", "armv8")
    dpor, result = outcomes(no_irqs(spec), "dpor", "armv8")
    assert dpor == enum and result.stats.executions == full.stats.executions == 3
    assert result.stats.blocked == 0


@pytest.mark.parametrize("scenario,params", [
    ("gup-vs-thp-split", {"design": "generic-rcu-2014", "arch": "arm64"}),
    ("gup-vs-thp-split", {"design": "arm-rfc-2013", "arch": "arm64"}),
], ids=["generic-rcu-arm64", "arm-rfc-arm64"])
def test_kernel_lock_waits_under_armv8_are_woken(scenario, params):
    """The page-table and anon_vma locks of the split under armv8: no graph
    ends waiting for a lock (before, 6 and 8 did); the RFC walker keeps one
    load-buffering graph whose write never came (``promised``)."""
    factory = _scenarios()[scenario].factory(**params)
    result = counted(factory, "armv8")
    assert result.stats.exhausted
    assert result.stats.executions == result.stats.classes
    assert result.stats.blocked == (0 if params["design"] == "generic-rcu-2014" else 1)
