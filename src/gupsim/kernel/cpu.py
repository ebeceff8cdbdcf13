"""CPUs, TLB flushes and RCU-sched: arch/x86/mm/tlb.c, kernel/smp.c, kernel/rcu.

Remote TLB invalidation (flush_tlb_range / flush_tlb_mm / flush_tlb_page):

* IPI arches (x86): smp_call_function_many(mm_cpumask, flush_tlb_func,
  wait=1). The sender waits until every other CPU ran the handler, and a CPU
  runs it only with IRQs enabled, so an IRQs-off walker holds the flusher off.
* broadcast arches (ARM, arm64, POWER): dsb; tlbi ..is; dsb. Nothing runs on
  the other CPUs and nothing waits for them.

RCU-sched grace periods (synchronize_sched, call_rcu_sched) and the
tlb_remove_table_sync_one() / kick_all_cpus_sync() dummy IPIs are modelled the
same way: an IPI to every other CPU with wait. That is exact for what GUP-fast
needs from them: an IRQs-off region is an RCU-sched read-side critical
section, and a grace period (or the dummy IPI) cannot complete while any CPU
is inside one.

MODEL: mm_cpumask is every other CPU of the program. No per-CPU TLB contents
are modelled (GUP-fast never consults the TLB; the flush matters for whom it
waits for, not for what it invalidates).
"""

from __future__ import annotations

from ..ops import Fence, Note, SendIpi


def _handler(what: str):
    def handler(cpu: int):
        yield Note(f"cpu{cpu}: {what}")
    return handler


def flush_tlb_range(k, cpu: int, start: int, end: int):
    """flush_tlb_range()/flush_tlb_mm(): by IPI with wait, or broadcast.

    Pairs with: gup_fast's IRQs-off region (on IPI arches only)."""
    if k.flush_by_ipi:
        targets = k.other_cpus(cpu)
        if targets:
            yield SendIpi(targets, _handler(f"flush_tlb_func [{start:#x}, {end:#x})"),
                          wait=True, name="flush_tlb_range")
    else:
        # MODEL: dsb ishst; tlbi ...is; dsb ish -- the barrier is all the others see.
        yield Fence("mb")


def _sync_ipi(k, cpu: int, name: str):
    yield Fence("mb")
    targets = k.other_cpus(cpu)
    if targets:
        yield SendIpi(targets, _handler(name), wait=True, name=name)


def kick_all_cpus_sync(k, cpu: int):
    """kernel/smp.c: smp_mb(); smp_call_function(do_nothing, NULL, 1)."""
    yield from _sync_ipi(k, cpu, "kick_all_cpus_sync")


def synchronize_sched(k, cpu: int):
    """A full RCU-sched grace period: every other CPU passed a point with IRQs on."""
    yield from _sync_ipi(k, cpu, "synchronize_sched")


def tlb_remove_table_sync_one(k, cpu: int):
    """mm/memory.c (2011): the dummy IPI tlb_remove_table_smp_sync, with wait."""
    yield from _sync_ipi(k, cpu, "tlb_remove_table_smp_sync")


__all__ = ["flush_tlb_range", "kick_all_cpus_sync", "synchronize_sched",
           "tlb_remove_table_sync_one"]
