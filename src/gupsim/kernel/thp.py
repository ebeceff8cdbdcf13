"""THP splitting: mm/huge_memory.c, two eras.

2011-2016 (split_huge_page -> __split_huge_page):
  (1) __split_huge_page_splitting(): under page_table_lock,
      pmdp_splitting_flush() sets the splitting bit in the pmd and flushes the
      TLB "only to serialize against gup-fast" (x86: the flush IPI waits for
      IRQs-off walkers); arm64 in 2014 uses kick_all_cpus_sync() instead; the
      2013 readers-counter proposal polls the counter down to zero instead.
  (2) __split_huge_page_refcount(): under compound_lock, for each tail, move
      the GUP pins the tail accumulated in _mapcount (get_huge_page_tail) into
      its own _count, clear PageTail, and take them off the head.
  (3) __split_huge_page_map(): write ptes into the deposited page table,
      pmdp_invalidate() (flush again), pmd_populate().
  Protection: no walker may be between reading a non-splitting huge pmd and
  finishing its tail pins when (2) starts.

2016+ (split_huge_page_to_list, folio era): split_huge_pmd (pmdp_invalidate,
ptes into the deposited table, pmd_populate), unmap the ptes, then
folio_ref_freeze(head, expected): any extra (GUP) reference makes the split
fail with -EBUSY; otherwise tails become independent pages
(clear_compound_head, then page_ref_unfreeze), and the ptes are restored.
Protection: the speculative walker cannot get a reference on a frozen page,
and re-checks page_folio(page), the pmd and the pte after taking one.

MODEL: the split caller's own head reference and the per-tail extra
reference __split_huge_page_refcount adds (and that is dropped right after)
are folded away; mapcount bookkeeping is modelled only before 2016; the
splitter finds its pmd through the setup-time image of the upper levels
(which no thread changes in the scenarios); the anon_vma lock that
serialises splitters is not modelled (one splitter per scenario).
"""

from __future__ import annotations

from ..ops import AddrScope, Assert, Branch, Fence, Load, Note, Rmw, SpinHint, Store
from .cpu import flush_tlb_range, kick_all_cpus_sync
from .mm import EBUSY, spin_lock, spin_unlock
from .page import compound_lock, compound_unlock, page_ref_freeze, page_ref_unfreeze
from .pagetable import entry_regs, read_entry, through_entry, write_entry, xchg_entry


def pmdp_splitting_flush(k, cpu, table, i, pmd, addr=0, regs=()):
    """Set the splitting bit, then make sure no lockless walker still uses the
    old pmd: x86 flush IPI / kick_all_cpus_sync() / the readers counter.
    ``regs``: the registers ``pmd`` was read into (pmd_mksplitting(pmd)).

    Pairs with: gup_pmd_range()'s pmd_trans_splitting() check (walkers that
    read the pmd after the bit is set) and the walker's IRQs-off region or
    readers count (walkers that read it before)."""
    d = k.design
    if k.arch.tlb_flush_ipi and table.halves == 1:
        # x86: test_and_set_bit(_PAGE_BIT_SPLITTING, pmdp), a locked op.
        yield Rmw(table.cell(i), "or", k.enc.bit["splitting"])
    else:
        yield from write_entry(k, table, i, k.enc.pmd_mksplitting(pmd), data=regs)
    if d.enabled("splitter:wait-readers") or d.enabled("splitter:smp_mb"):
        # The 2013 proposal: set_pmd_at(splitting); smp_mb();
        # while (atomic_read(readers) != 0) cpu_relax();
        if d.enabled("splitter:smp_mb"):
            yield Fence("mb")
        if d.enabled("splitter:wait-readers"):
            while True:
                yield SpinHint("pmdp_splitting_flush: wait for gup readers")
                n = yield Load("gup_readers", reg="gup_readers")
                yield Branch("gup_readers")
                if n == 0:
                    break
    yield from flush_tlb_range(k, cpu, addr, addr + k.geo.size("pmd"))
    if d.enabled("split:ipi") and not k.flush_by_ipi:
        yield from kick_all_cpus_sync(k, cpu)


def __split_huge_page_refcount(k, head):
    """Move tail pins from _mapcount to _count; clear PageTail; unpin the head.

    (1) read each tail's pin count, (2) add it to the tail, (3) clear PageTail,
    (4) subtract the total from the head. A walker that pins a tail after (1)
    leaves its reference on the head for a page that is no longer a tail.
    Pairs with: get_huge_page_tail() / get_head_page_multiple() in gup_huge_pmd.
    The counts added and subtracted are computed from the mapcounts read
    (data dependencies)."""
    nr = k.geo.hpage_pmd_nr
    was_on = yield from compound_lock(k, head)
    head_mapcount = yield Load(k.mapcount(head), reg="page_mapcount")
    tail_count, tails = 0, []
    for pfn in range(head + nr - 1, head, -1):
        reg = f"page_mapcount(page_tail {pfn})"
        mc = yield Load(k.mapcount(pfn), reg=reg)
        tails.append(reg)
        pins = mc + 1
        yield Assert(pins >= 0, "BUG_ON(page_mapcount(page_tail) < 0)", page=pfn, name="ref-across-split")
        tail_count += pins
        yield Rmw(k.count(pfn), "add", (head_mapcount + 1) + pins, order="once",
                  data=("page_mapcount", reg))
        # (1) the tail's _count holds its pins, then (2) PageTail is cleared: after
        # that the GUP user's put_page() drops the tail's own count.
        # Pairs with: put_page()'s compound_head() read, then its decrement.
        if k.design.enabled("split:smp_mb__after_atomic"):
            yield Fence("mb__after_atomic")
        yield Store(k.head(pfn), None)     # PageTail cleared, first_page overwritten
        yield Store(k.mapcount(pfn), head_mapcount, data="page_mapcount")
    old = yield Rmw(k.count(head), "sub", tail_count, order="once", data=tuple(tails))
    yield Assert(old - tail_count > 0, "BUG_ON(atomic_read(&page->_count) <= 0) after "
                 "moving the tail pins off the head", page=head, count=old - tail_count, name="ref-across-split")
    yield from compound_unlock(k, head, was_on)


def __split_huge_page_map(k, cpu, mm, table, i, head, addr=0, head_regs=()):
    """The ptes of the split page, then the pmd pointing at them. ``head``
    came from the pmd read into ``head_regs`` (split_huge_page_pmd())."""
    enc, nr = k.enc, k.geo.hpage_pmd_nr
    yield from spin_lock(mm.page_table_lock)
    pmd = yield from read_entry(k, table, i, "__split_huge_page_map", reg="_pmd")
    regs = entry_regs("_pmd", table) + tuple(head_regs)
    ptes = k.tables[mm.deposited[table.cell(i)]]   # pgtable_trans_huge_withdraw
    for j in range(nr):
        yield from write_entry(k, ptes, j, enc.mk_pte(head + j, write=enc.pmd_write(pmd)),
                               data=regs)
    # (1) the pte table's entries, then (2) the pmd that points at it.
    # Pairs with: the walker reading the ptes through the pmd (address dependency).
    if k.design.enabled("split:smp_wmb"):
        yield Fence("wmb")
    # pmdp_invalidate(): not present (still splitting), flush; then populate.
    yield from write_entry(k, table, i, enc.pmd_mknotpresent(pmd), data=regs)
    yield from flush_tlb_range(k, cpu, addr, addr + k.geo.size("pmd"))
    yield from write_entry(k, table, i, enc.mk_table(ptes.pfn))
    yield from spin_unlock(mm.page_table_lock)


def split_huge_page_2013(k, t, addr):
    """split_huge_page_pmd() -> split_huge_page() for the THP mapped at addr.
    Returns 0, or 1 when there was nothing to split."""
    mm, enc = t.mm, k.enc
    table, i = k.pmd_slot(mm, addr, create=False)
    yield from spin_lock(mm.page_table_lock)
    pmd = yield from read_entry(k, table, i, "__split_huge_page_splitting", reg="pmd")
    regs = entry_regs("pmd", table)
    if not enc.pmd_huge(pmd) or enc.pmd_trans_splitting(pmd):
        yield from spin_unlock(mm.page_table_lock)
        return 1
    head = enc.pmd_pfn(pmd)
    yield Note(f"split_huge_page: THP head page {head}")
    yield from pmdp_splitting_flush(k, t.cpu, table, i, pmd, addr & k.geo.mask("pmd"), regs)
    yield from spin_unlock(mm.page_table_lock)
    # split_huge_page_pmd(): page = pmd_page(*pmd), then split_huge_page(page)
    yield from through_entry(regs, __split_huge_page_refcount(k, head))
    yield from __split_huge_page_map(k, t.cpu, mm, table, i, head, addr & k.geo.mask("pmd"),
                                     regs)
    return 0


def __split_huge_pmd_locked(k, cpu, table, i, pmd, ptes, addr, regs=()):
    """The pmd mapping of a THP becomes pte mappings of its sub-pages; the page
    stays compound. Caller holds the page-table lock.

    (1) pmdp_invalidate() + flush, (2) the ptes into the deposited table, one
    head reference per pte mapping, smp_wmb(), (3) pmd_populate().
    Pairs with: gup_fast_pmd_leaf()'s pmd recheck.
    MODEL: sub-page mapcounts are not tracked from 2016 (module docstring).
    ``regs``: the registers ``pmd`` was read into (page = pmd_page(old_pmd),
    the new entries are computed from it)."""
    enc, nr, head = k.enc, k.geo.hpage_pmd_nr, k.enc.pmd_pfn(pmd)
    yield from write_entry(k, table, i, enc.pmd_mknotpresent(pmd), data=regs)
    yield from flush_tlb_range(k, cpu, addr, addr + k.geo.size("pmd"))
    for j in range(nr):
        yield from write_entry(k, ptes, j, enc.mk_pte(head + j, write=enc.pmd_write(pmd)),
                               data=regs)
    yield Rmw(k.count(head), "add", nr - 1, order="once", addr=regs)   # one ref per pte mapping
    # (1) the pte table and the counts, then (2) pmd_populate(). Pairs with: the
    # walker reading the ptes through the new pmd (address dependency).
    if k.design.enabled("split:smp_wmb"):
        yield Fence("wmb")
    yield from write_entry(k, table, i, enc.mk_table(ptes.pfn))


def split_huge_pmd(k, t, addr):
    """split_huge_pmd() (v4.5+): map the THP at ``addr`` with ptes, keep it
    compound; before 2016 there is no pte-mapped THP and split_huge_page_pmd()
    splits the page itself. Returns 0, or 1 when there was nothing to split."""
    if k.design.thp_refcount_2013:
        return (yield from split_huge_page_2013(k, t, addr))
    mm = t.mm
    addr &= k.geo.mask("pmd")
    table, i = k.pmd_slot(mm, addr, create=False)
    yield from spin_lock(mm.page_table_lock)
    pmd = yield from read_entry(k, table, i, "__split_huge_pmd", reg="pmd")
    if not k.enc.pmd_huge(pmd):
        yield from spin_unlock(mm.page_table_lock)
        return 1
    ptes = k.tables[mm.deposited[table.cell(i)]]   # pgtable_trans_huge_withdraw
    yield from __split_huge_pmd_locked(k, t.cpu, table, i, pmd, ptes, addr,
                                       entry_regs("pmd", table))
    yield from spin_unlock(mm.page_table_lock)
    return 0


def split_huge_page_2016(k, t, addr):
    """split_huge_pmd() then split_huge_page(): 0, -EBUSY, or 1 (nothing to do)."""
    mm, enc, nr = t.mm, k.enc, k.geo.hpage_pmd_nr
    table, i = k.pmd_slot(mm, addr, create=False)
    yield from spin_lock(mm.page_table_lock)
    pmd = yield from read_entry(k, table, i, "__split_huge_pmd", reg="pmd")
    regs = entry_regs("pmd", table)      # folio = page_folio(pmd_page(*pmd))
    if not enc.pmd_huge(pmd):
        yield from spin_unlock(mm.page_table_lock)
        return 1
    head = enc.pmd_pfn(pmd)
    ptes = k.tables[mm.deposited[table.cell(i)]]
    write = enc.pmd_write(pmd)
    yield from __split_huge_pmd_locked(k, t.cpu, table, i, pmd, ptes, addr, regs)
    yield from spin_unlock(mm.page_table_lock)
    # unmap_folio(): (1) clear every pte, flush, drop the mapping refs, then
    # (2) freeze. Pairs with: gup_fast_pte_range()'s pte recheck.
    yield from spin_lock(mm.page_table_lock)
    for j in range(nr):
        yield from xchg_entry(k, ptes, j, 0, branch=False)    # try_to_migrate_one: ptep_clear_flush
    yield from spin_unlock(mm.page_table_lock)
    yield from flush_tlb_range(k, t.cpu, addr, addr + k.geo.size("pmd"))
    # MODEL: the split caller's reference is the one the mappings held: the
    # expected count with no extra pin is 1.
    yield Rmw(k.count(head), "sub", nr - 1, order="once", addr=regs)
    yield AddrScope(*regs)               # the folio's accesses, through the pmd
    frozen = yield from page_ref_freeze(k, head, 1)
    if frozen:
        # __split_huge_page(): tails first (clear_compound_head, then unfreeze),
        # the head last. Pairs with: try_get_folio()'s page_folio recheck.
        for pfn in range(head + nr - 1, head, -1):
            yield Store(k.head(pfn), None)
            if k.design.enabled("split:smp_wmb-tail"):
                yield Fence("wmb")
            yield from page_ref_unfreeze(k, pfn, 1)
        yield from page_ref_unfreeze(k, head, 1)
        yield Note(f"split_huge_page: page {head} split")
    else:
        yield Rmw(k.count(head), "add", nr - 1, order="once")
        yield Note(f"split_huge_page: page {head} has extra references: -EBUSY")
    yield AddrScope()
    # remap_page(): restore the ptes (MODEL: migration entries are plain none).
    yield from spin_lock(mm.page_table_lock)
    for j in range(nr):
        yield from write_entry(k, ptes, j, enc.mk_pte(head + j, write=write), data=regs)
    yield from spin_unlock(mm.page_table_lock)
    return 0 if frozen else -EBUSY


def split_huge_page(k, t, addr):
    """The split of the design's era (before/after the 2016 THP refcount rework)."""
    if k.design.thp_refcount_2013:
        return (yield from split_huge_page_2013(k, t, addr))
    return (yield from split_huge_page_2016(k, t, addr))


__all__ = ["split_huge_pmd", "__split_huge_pmd_locked", "pmdp_splitting_flush", "__split_huge_page_refcount", "__split_huge_page_map",
           "split_huge_page_2013", "split_huge_page_2016", "split_huge_page"]
