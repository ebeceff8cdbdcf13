"""mmu_gather: include/asm-generic/tlb.h and mm/memory.c (2013 and later).

Teardown order, the whole point of the structure: (1) unhook (clear ptes,
clear the pmd pointing at a pte table), (2) invalidate the TLBs, (3) free the
pages and the page-table pages. Lockless walkers rely on (3) waiting for
them:

* without RCU table freeing, page-table pages go into the same batch as data
  pages (pte_free_tlb -> tlb_remove_page) and are freed right after the TLB
  flush, which waits for IRQs-off walkers only on IPI arches;
* with CONFIG_HAVE_RCU_TABLE_FREE, pte_free_tlb -> tlb_remove_table, and the
  batch is freed after an RCU-sched grace period (tlb_table_flush ->
  call_rcu_sched), or after the dummy IPI tlb_remove_table_sync_one() when no
  batch page could be allocated.

The RCU path (mm/memory.c, 2011-2019, then mm/mmu_gather.c): tlb_remove_table
puts the table in the batch page; tlb_table_flush() hands the batch to
call_rcu_sched(tlb_remove_table_rcu), which frees every table after a grace
period (rcu.py). When the batch page cannot be allocated (GFP_NOWAIT fails:
``MmuGather.batch_fails``), tlb_remove_table_one() waits for the dummy IPI
tlb_remove_table_sync_one() and frees the table at once. Both give an
IRQs-off walker the same guarantee; data pages do not wait for either.

MODEL: call_rcu_sched's callback is run by the caller after the grace period
(see rcu.py). A freed page-table page is poisoned (every entry cell becomes
POISON) so that a walker reading it fails an Assert.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ops import Note, Store
from .cpu import flush_tlb_range, tlb_remove_table_sync_one
from .page import put_page
from .pagetable import POISON
from .rcu import call_rcu_sched


@dataclass
class MmuGather:
    """struct mmu_gather: pages and tables waiting for the flush (thread-private)."""

    mm: object
    cpu: int
    start: int
    end: int
    pages: list[int] = field(default_factory=list)
    tables: list[object] = field(default_factory=list)      # tlb_remove_table batch
    table_pages: list[object] = field(default_factory=list)  # non-RCU: freed with pages
    batch_fails: bool = False
    """The batch page allocation fails: tlb_remove_table_one() instead."""
    pending_one: list[object] = field(default_factory=list)  # tlb_remove_table_one


def tlb_gather_mmu(k, mm, cpu, start, end) -> MmuGather:
    return MmuGather(mm, cpu, start, end)


def tlb_remove_page(tlb: MmuGather, pfn: int) -> None:
    """Queue the page for tlb_flush_mmu(). MODEL: the batch is Python-side,
    so the put after the flush does not name the entry the page was found
    through (in the kernel the batch is memory the same CPU reads back)."""
    tlb.pages.append(pfn)


def tlb_remove_table(k, tlb: MmuGather, table) -> None:
    """Queue ``table`` in the batch, or for tlb_remove_table_one() when the
    batch page cannot be had. MODEL: the one-table path runs at the flush
    (tlb_flush_mmu), after the TLB invalidation, as in kernels that invalidate
    the TLB before tlb_remove_table_one() frees (v5.8 and later); earlier it
    freed at once, before the flush."""
    if tlb.batch_fails:
        tlb.pending_one.append(table)
    else:
        tlb.tables.append(table)


def tlb_remove_table_rcu(k, tables):
    """The call_rcu_sched callback: free every table of the batch."""
    for t in tables:
        yield from free_pgtable_page(k, t)


def tlb_table_flush(k, tlb: MmuGather):
    """call_rcu_sched(&batch->rcu, tlb_remove_table_rcu).
    Pairs with: gup_fast's IRQs-off region (the RCU-sched read side)."""
    if tlb.tables:
        yield from call_rcu_sched(k, tlb.cpu, tlb_remove_table_rcu, tlb.tables)


def tlb_remove_table_one(k, tlb: MmuGather, table):
    """tlb_remove_table_sync_one() (the dummy IPI, with wait), then free."""
    yield from tlb_remove_table_sync_one(k, tlb.cpu)
    yield from free_pgtable_page(k, table)


def pte_free_tlb(k, tlb: MmuGather, table) -> None:
    """__pte_free_tlb(): via RCU when the arch/design frees tables that way."""
    if k.rcu_table_free:
        tlb_remove_table(k, tlb, table)
    else:
        tlb.table_pages.append(table)


def free_pgtable_page(k, table):
    """pte_free(): the page-table page goes back to the allocator, poisoned."""
    yield Note(f"free page-table page {table.pfn} ({table.level})")
    for cell in table.all_cells():
        yield Store(cell, POISON)


def tlb_flush_mmu(k, tlb: MmuGather):
    """(2) flush, then (3) free tables (RCU: after the dummy IPI) and pages.

    Pairs with: gup_fast() -- the flush IPI (x86) or the RCU dummy IPI is what
    an IRQs-off walker holds off."""
    if not (tlb.pages or tlb.tables or tlb.table_pages or tlb.pending_one):
        return
    yield from flush_tlb_range(k, tlb.cpu, tlb.start, tlb.end, mm=tlb.mm)
    # Data pages (and, without RCU table freeing, page-table pages) are freed
    # right after the flush: only an IPI flush waits for IRQs-off walkers.
    for pfn in tlb.pages:
        yield from put_page(k, pfn)
    for t in tlb.table_pages:
        yield from free_pgtable_page(k, t)
    # call_rcu_sched() does not delay the data pages above; the tables wait
    # for the grace period (or for the dummy IPI).
    for t in tlb.pending_one:
        yield from tlb_remove_table_one(k, tlb, t)
    yield from tlb_table_flush(k, tlb)
    tlb.pages, tlb.tables, tlb.table_pages, tlb.pending_one = [], [], [], []


def tlb_finish_mmu(k, tlb: MmuGather):
    yield from tlb_flush_mmu(k, tlb)


__all__ = ["MmuGather", "tlb_gather_mmu", "tlb_remove_page", "tlb_remove_table",
           "tlb_remove_table_rcu", "tlb_table_flush", "tlb_remove_table_one",
           "pte_free_tlb", "free_pgtable_page", "tlb_flush_mmu", "tlb_finish_mmu"]
