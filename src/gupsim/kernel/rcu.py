"""RCU-sched: kernel/rcu/tree.c and include/linux/rcupdate.h (v3.x to v4.19, when
RCU-sched was folded into plain RCU; the guarantee used here is unchanged).

* rcu_read_lock_sched() / rcu_read_unlock_sched(): a read-side critical
  section is any region with preemption (or IRQs) disabled; GUP-fast's
  local_irq_disable() region is one.
* synchronize_sched(): returns after a grace period, i.e. after every CPU
  passed a quiescent state (a context switch, idle, or user mode: in any case
  a point where it was not inside a read-side critical section).
* call_rcu_sched(head, func): func runs after a grace period that started
  after the call.

MODEL: a grace period is a dummy IPI to every other CPU with wait
(smp_call_function semantics): a CPU takes it only with IRQs enabled, so it
cannot complete while any CPU is inside an IRQs-off region. That is exact for
IRQs-off readers, which are the only readers in the model (a preempt-off
region with IRQs on is not modelled). call_rcu_sched() callbacks are not run
from softirq context on some CPU later: the caller waits for the grace period
and runs the callback itself (``call_rcu_sched``), so the callback runs
exactly when the earliest real callback could, and the caller is delayed by
the grace period (which only removes interleavings where the caller runs on
before the callback; nothing in the model depends on those).
"""

from __future__ import annotations

from ..ops import IrqDisable, IrqEnable
from .cpu import _sync_ipi


def rcu_read_lock_sched(k):
    """preempt_disable(): MODEL: IRQs off. Returns the state to restore."""
    return (yield IrqDisable())


def rcu_read_unlock_sched(k, was_on):
    """preempt_enable(): a quiescent state may follow."""
    if was_on:
        yield IrqEnable()


def synchronize_sched(k, cpu: int):
    """Wait for a full RCU-sched grace period: every other CPU passed a point
    with IRQs on. Pairs with: rcu_read_lock_sched / gup_fast's IRQs-off region."""
    yield from _sync_ipi(k, cpu, "synchronize_sched")


def call_rcu_sched(k, cpu: int, func, *args):
    """call_rcu_sched(head, func): ``func(k, *args)`` (a generator) runs after a
    grace period. MODEL: run by the caller once synchronize_sched() returned."""
    yield from synchronize_sched(k, cpu)
    yield from func(k, *args)


__all__ = ["rcu_read_lock_sched", "rcu_read_unlock_sched", "synchronize_sched",
           "call_rcu_sched"]
