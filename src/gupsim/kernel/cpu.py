"""CPUs, per-CPU TLBs and TLB flushes: arch/x86/mm/tlb.c (flush_tlb_mm_range,
flush_tlb_func), arch/arm64/include/asm/tlbflush.h (__flush_tlb_range),
kernel/smp.c (smp_call_function_many, kick_all_cpus_sync); v3.x to v6.x.

Remote TLB invalidation (flush_tlb_range / flush_tlb_mm / flush_tlb_page):

* IPI arches (x86): smp_call_function_many(mm_cpumask, flush_tlb_func,
  wait=1). The handler runs on each other CPU and invalidates that CPU's TLB
  cells for the range; the sender waits until every other CPU ran it, and a
  CPU runs it only with IRQs enabled, so an IRQs-off walker (and a user
  access, which is one instruction) holds the flusher off.
* broadcast arches (ARM, arm64, POWER): dsb ishst; tlbi ..is; dsb ish. The
  flushing CPU invalidates every CPU's cells itself; no CPU is interrupted
  and nobody waits for an IRQs-off region. The final dsb completes only when
  every access that used an invalidated entry has completed: it waits for
  the other CPUs' in-flight user access (one instruction, ``cpuN.uaccess``).
* an IPI arch whose design does without the flush IPI (the ``tlb:flush-ipi``
  ablation): only the local TLB is flushed; the other CPUs keep their
  entries.

The local CPU's own TLB is flushed too (__flush_tlb_one_user / local tlbi).

TLB contents: a TLB cell per (CPU, mm, page address) that a scenario declares
at setup (``tlb_declare``); it holds None, a translation ``(pfn, writable,
generation)`` filled by the hardware walk of user.py, or the value a
broadcast invalidation wrote. A scenario without TLB cells gets exactly the
old ops: the IPI with a Note in the handler, or the barrier.

MODEL: the TLB is shrunk to the pages a scenario declares (no capacity, no
eviction, no ASIDs: an entry is tagged with its mm); mm_cpumask is every other
CPU of the program; paging-structure caches are not modelled (the walk reads
every level). A broadcast invalidation writes a value unique to the flush
(``flushed by cpuN #i``) so that a fill whose walk started before the
invalidation fails its cmpxchg and walks again (the hardware guarantees that
a walk in flight at a tlbi does not leave a stale entry behind).

RCU-sched grace periods live in rcu.py; tlb_remove_table_sync_one() and
kick_all_cpus_sync() are dummy IPIs with wait (an IRQs-off region holds them
off).
"""

from __future__ import annotations

from ..ops import Await, Fence, Note, SendIpi, Store


# --- setup time ----------------------------------------------------------------------

def tlb_declare(k, cpu: int, mm, addr: int, fill: bool = False) -> str:
    """Give ``cpu`` a TLB cell for ``addr`` of ``mm`` (setup time, no yields).

    ``fill``: the CPU already accessed the page, so the cell holds the
    translation the page tables give now (None if there is none)."""
    k.tlb.setdefault(cpu, []).append((mm.id, addr))
    k.memory.setdefault(k.uaccess_cell(cpu), 0)
    cell = k.tlb_cell(cpu, mm.id, addr)
    k.memory[cell] = _setup_translation(k, mm, addr) if fill else None
    return cell


def _setup_translation(k, mm, addr):
    try:
        ptes, j = k.pte_slot(mm, addr, create=False)
    except KeyError:
        return None
    pte = k.get_entry(ptes, j)
    if not k.enc.pte_present_user(pte):
        return None
    pfn = k.enc.pte_pfn(pte)
    gen = None if k.enc.pte_special(pte) else k.memory[k.alloc_gen(pfn)]
    return (pfn, k.enc.pte_write(pte), gen)


def tlb_cells(k, cpu: int, start: int, end: int, mm=None) -> list[str]:
    """The TLB cells of ``cpu`` inside [start, end) (of ``mm``, or of every mm)."""
    return [k.tlb_cell(cpu, m, a) for m, a in k.tlb.get(cpu, ())
            if start <= a < end and (mm is None or m == mm.id)]


# --- flushes ---------------------------------------------------------------------------

def _flush_func(k, start, end, mm, what):
    """flush_tlb_func(): the IPI handler, run on the target CPU."""
    def handler(cpu: int):
        yield Note(f"cpu{cpu}: {what}")
        for cell in tlb_cells(k, cpu, start, end, mm):
            yield Store(cell, None)
    return handler


def local_flush_tlb_range(k, cpu: int, start: int, end: int, mm=None, value=None):
    """__flush_tlb_one_user() on each page / a local tlbi: this CPU's cells."""
    for cell in tlb_cells(k, cpu, start, end, mm):
        yield Store(cell, value)


def flush_tlb_range(k, cpu: int, start: int, end: int, mm=None):
    """flush_tlb_range()/flush_tlb_mm(): by IPI with wait, or broadcast.

    (1) the caller cleared the entries, then (2) every TLB drops them, then
    (3) the caller may free what they mapped.
    Pairs with: gup_fast's IRQs-off region (IPI arches only) and user.py's
    user access (the TLB fill and the access through the entry)."""
    what = f"flush_tlb_func [{start:#x}, {end:#x})"
    if k.flush_by_ipi:
        yield from local_flush_tlb_range(k, cpu, start, end, mm)
        targets = k.other_cpus(cpu)
        if targets:
            yield SendIpi(targets, _flush_func(k, start, end, mm, what), wait=True,
                          name="flush_tlb_range")
        return
    if k.arch.tlb_flush_ipi:
        yield from flush_tlb_local_only(k, cpu, start, end, mm)
        return
    # MODEL: dsb ishst; tlbi ...is; dsb ish -- the barrier is all an IRQs-off
    # walker sees of it.
    yield Fence("mb")
    yield from _broadcast(k, cpu, start, end, mm)


def flush_tlb_local_only(k, cpu, start, end, mm=None):
    """An IPI arch without the shootdown IPI (the ``tlb:flush-ipi`` ablation):
    invlpg on this CPU only (serialising: a full barrier); the other CPUs keep
    their entries."""
    yield Fence("mb")
    yield from local_flush_tlb_range(k, cpu, start, end, mm)


def _broadcast(k, cpu, start, end, mm):
    """tlbi ..is on every CPU's cells, then dsb ish: wait for the accesses in
    flight on the other CPUs (a user access is one instruction)."""
    n = k.tlb_flushes[cpu] = k.tlb_flushes.get(cpu, 0) + 1
    token = f"flushed by cpu{cpu} #{n}"
    busy = []
    for c in sorted(k.tlb):
        cells = tlb_cells(k, c, start, end, mm)
        for cell in cells:
            yield Store(cell, token if c != cpu else None)
        if cells and c != cpu:
            busy.append(k.uaccess_cell(c))
    if busy:
        yield Fence("mb")                   # dsb ish
    for cell in busy:
        yield Await((cell,), lambda v: v == 0, f"dsb ish: {cell} access completes")


def flush_tlb_mm(k, cpu: int, mm):
    """flush_tlb_mm(): the whole address space of ``mm``."""
    yield from flush_tlb_range(k, cpu, 0, k.geo.task_size, mm=mm)


def flush_tlb_page(k, cpu: int, mm, addr: int):
    """flush_tlb_page(): one page of ``mm``."""
    from .pagetable import PAGE_SIZE
    yield from flush_tlb_range(k, cpu, addr, addr + PAGE_SIZE, mm=mm)


# --- dummy IPIs ------------------------------------------------------------------------

def _handler(what: str):
    def handler(cpu: int):
        yield Note(f"cpu{cpu}: {what}")
    return handler


def _sync_ipi(k, cpu: int, name: str):
    """smp_mb(); smp_call_function(do_nothing-like handler, wait=1)."""
    yield Fence("mb")
    targets = k.other_cpus(cpu)
    if targets:
        yield SendIpi(targets, _handler(name), wait=True, name=name)


def kick_all_cpus_sync(k, cpu: int):
    """kernel/smp.c: smp_mb(); smp_call_function(do_nothing, NULL, 1)."""
    yield from _sync_ipi(k, cpu, "kick_all_cpus_sync")


def tlb_remove_table_sync_one(k, cpu: int):
    """mm/memory.c (2011): the dummy IPI tlb_remove_table_smp_sync, with wait."""
    yield from _sync_ipi(k, cpu, "tlb_remove_table_smp_sync")


def synchronize_sched(k, cpu: int):
    """rcu.synchronize_sched (kept here for the callers that import it from cpu)."""
    from .rcu import synchronize_sched as grace_period
    yield from grace_period(k, cpu)


__all__ = ["tlb_declare", "tlb_cells", "local_flush_tlb_range", "flush_tlb_range",
           "flush_tlb_local_only",
           "flush_tlb_mm", "flush_tlb_page", "kick_all_cpus_sync",
           "synchronize_sched", "tlb_remove_table_sync_one"]
