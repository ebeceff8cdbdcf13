"""khugepaged: collapse_huge_page() of one pmd range of small anonymous pages.

Models mm/huge_memory.c (Andrea Arcangeli, v2.6.38, 2011) and mm/khugepaged.c
(split out in v4.8, 2016) as of v6.1: collapse_huge_page(),
__collapse_huge_page_isolate(), __collapse_huge_page_copy() and
pmdp_collapse_flush(). The same steps in every era:

1. mmap_sem for writing (no fault, no GUP slow path, no munmap can run);
2. under the pmd lock, pmdp_collapse_flush() (pmdp_clear_flush() until
   2015): clear the pmd that points at the pte table, then flush the TLB
   (x86: an IPI that waits for every CPU). Until 2022 the kernel's comment
   there said that GUP-fast could no longer run after it -- true only where
   the flush is an IPI that IRQs-off walkers hold off;
3. tlb_remove_table_sync_one() (commit 2ba99c5e0881, Jann Horn, 2022): on
   RCU-table-free arches the flush does not interrupt anybody, so a dummy IPI
   now waits for GUP-fast walkers that read the old pmd (protection
   ``collapse:tlb_remove_table_sync_one``);
4. under the pte lock, __collapse_huge_page_isolate(): refuse a page whose
   refcount is more than its mappings account for (a GUP reference); on
   failure put the pmd back (pmd_populate);
5. __collapse_huge_page_copy(): copy each small page into the huge page,
   clear its pte, drop its mapping and free it;
6. smp_wmb(), then under the pmd lock deposit the old pte table
   (pgtable_trans_huge_deposit) and install the huge pmd (set_pmd_at).

The race with GUP-fast: a walker that read the old pmd and pte before (2)
takes its reference after (4) looked at the count: the page is pinned, but
(5) copies and replaces it, and whatever the GUP user writes through the pin
never reaches the mapping. Two fixes, either is enough:

* the IRQs-off walker holds off an IPI sent after (2) -- the x86 flush in
  every era, tlb_remove_table_sync_one() since 2022 elsewhere; the walker's
  reference is then visible to (4), which refuses the page;
* the walker re-reads the pmd after taking its reference and backs off if it
  changed (commit 70cbc3cc78a9, Yang Shi, 2022: gup_pte_range), protection
  ``walker:recheck-pmd`` of the folio walker.

MODEL: one pmd range whose every pte maps a present small page (no
max_ptes_none/swap); LRU isolation is its ordered bitop only, without the
isolation reference (the refcount a mapped page
should have is its mapcount, as is_refcount_suitable() says); the anon_vma
lock and mmu notifiers are not modelled (the mmap_sem writer excludes every
other mm operation of the scenarios); the huge page comes from frames
reserved at setup (``prepare_hugepage``), taken at run time with
khugepaged_alloc_page's reference; the deposited table is recorded in the
Python-side ``mm.deposited`` (read only by a later split or munmap of the
same thread).
"""

from __future__ import annotations

from ..ops import Branch, Fence, Load, Note, Rmw, Store
from .cpu import flush_tlb_range, tlb_remove_table_sync_one
from .mm import down_write, spin_lock, spin_unlock, up_write
from .page import put_page
from .pagetable import PAGE_SIZE, entry_regs, read_entry, through_entry, write_entry, xchg_entry

SCAN_SUCCEED = "SCAN_SUCCEED"
SCAN_PMD_NULL = "SCAN_PMD_NULL"
SCAN_PTE_NON_PRESENT = "SCAN_PTE_NON_PRESENT"
SCAN_PAGE_COUNT = "SCAN_PAGE_COUNT"
SCAN_VMA_CHECK = "SCAN_VMA_CHECK"


def prepare_hugepage(k) -> int:
    """Setup time: HPAGE_PMD_NR contiguous free frames prepared as a compound
    page (prep_compound_page: tails point at the head), not yet allocated.
    Returns the head pfn to pass to collapse_huge_page()."""
    return k.prep_compound_page(k.geo.hpage_pmd_nr)


def pmdp_collapse_flush(k, cpu, table, i, addr):
    """pmdp_huge_get_and_clear() then flush_tlb_range(): returns the old pmd.

    (1) clear the pmd, then (2) flush. Pairs with: gup_pmd_range's lockless
    pmd read (on IPI arches the flush waits for an IRQs-off walker)."""
    old = yield from xchg_entry(k, table, i, 0, reg="_pmd")
    yield from flush_tlb_range(k, cpu, addr, addr + k.geo.size("pmd"))
    return old


def is_refcount_suitable(k, pfn):
    """page_count(page) == page_mapcount(page): no reference but the mappings'.

    Pairs with: the GUP-fast reference (try_grab_folio_fast / get_page) --
    a walker whose reference lands before this read makes the collapse fail."""
    count = yield Load(k.count(pfn), reg="page_count")
    mapcount = yield Load(k.mapcount(pfn), reg="page_mapcount")
    yield Branch("page_count", "page_mapcount")   # if (!is_refcount_suitable(page))
    return count == mapcount + 1


def __collapse_huge_page_isolate(k, ptes, addr, pmd_regs=()):
    """Check every pte maps a collapsible page. SCAN_SUCCEED or the reason.
    The ptes are read through the old pmd (``pmd_regs``), each page through
    its pte (vm_normal_page())."""
    enc = k.enc
    regs = entry_regs("pte", ptes)
    for j in range(k.geo.hpage_pmd_nr):
        pte = yield from read_entry(k, ptes, j, "__collapse_huge_page_isolate", reg="pte",
                                    addr=pmd_regs)
        if not enc.pte_present(pte) or enc.pte_special(pte):
            return SCAN_PTE_NON_PRESENT
        pfn = enc.pte_pfn(pte)
        # "Check if the page has any GUP (or other external) pins."
        if not (yield from through_entry(regs, is_refcount_suitable(k, pfn))):
            yield Note(f"khugepaged: page {pfn} at {addr + j * PAGE_SIZE:#x} has an "
                       "extra reference: SCAN_PAGE_COUNT")
            return SCAN_PAGE_COUNT
        yield from through_entry(regs, isolate_lru_page(k, pfn))
    return SCAN_SUCCEED


def isolate_lru_page(k, pfn):
    """isolate_lru_page(): TestClearPageLRU() takes the page off its LRU.

    (1) the refcount check, then (2) a value-returning bitop, fully ordered,
    then (3) __collapse_huge_page_copy() reads the page's data: whatever a GUP
    user wrote before the put_page() that the check saw is in the copy.
    Pairs with: the GUP user's store through its reference, then put_page()
    (a fully ordered atomic_dec_and_test). MODEL: the LRU itself is not
    modelled (the flag only; the page is never put back on failure), and
    trylock_page() before the check is left out: this bitop already orders
    the check before the copy. Without protection ``collapse:isolate_lru_page``
    the bitop is a relaxed one (as clear_bit() is)."""
    order = "mb" if k.design.enabled("collapse:isolate_lru_page") else "once"
    was = yield Rmw(k.lru(pfn), "xchg", False, order=order)
    return was


def __collapse_huge_page_copy(k, mm, ptes, hpage, pmd_regs=()):
    """copy_user_highpage() each small page into the huge page, then clear its
    pte, page_remove_rmap() and free it (free_page_and_swap_cache). Each
    source page is src_page = pte_page(pteval) (an address dependency)."""
    enc = k.enc
    regs = entry_regs("pte", ptes)
    for j in range(k.geo.hpage_pmd_nr):
        pte = yield from read_entry(k, ptes, j, "__collapse_huge_page_copy", reg="pte",
                                    addr=pmd_regs)
        src = enc.pte_pfn(pte)
        v = yield Load(k.data(src), reg="copy", addr=regs)
        yield Store(k.data(hpage + j), v, data="copy")
        yield from spin_lock(mm.page_table_lock)
        yield from xchg_entry(k, ptes, j, 0, branch=False)        # ptep_clear
        yield Rmw(k.mapcount(src), "sub", 1, order="once", addr=regs)   # page_remove_rmap
        yield from spin_unlock(mm.page_table_lock)
        yield from put_page(k, src, addr=regs)


def _install_huge_pmd(k, mm, vma, table, i, ptes, hpage):
    """mk_huge_pmd(); page_add_new_anon_rmap(); deposit; set_pmd_at()."""
    writable = yield Load(vma.vm_write, reg="vm_write")       # maybe_pmd_mkwrite
    # (1) the copied data and the page's counters, smp_wmb(), then (2) the pmd.
    # Pairs with: gup_pmd_range -> gup_huge_pmd reading the new pmd.
    yield Store(k.mapcount(hpage), 0)
    if k.design.enabled("collapse:smp_wmb"):
        yield Fence("wmb")
    yield from spin_lock(mm.page_table_lock)
    # MODEL: the deposit is Python-side state (see the module docstring).
    mm.deposited[table.cell(i)] = ptes.pfn
    yield from write_entry(k, table, i, k.enc.mk_huge_pmd(hpage, write=writable),
                           data="vm_write")
    yield from spin_unlock(mm.page_table_lock)


def _restore_pmd(k, mm, table, i, pmd, hpage):
    """The failure path: pmd_populate() the old table back (the value of the
    pmd read into ``_pmd``); free the huge page."""
    yield from spin_lock(mm.page_table_lock)
    yield from write_entry(k, table, i, pmd, data=entry_regs("_pmd", table))
    yield from spin_unlock(mm.page_table_lock)
    yield from put_page(k, hpage)


def _vma_present(vma):
    """The VMA is still linked (tested: a control dependency)."""
    present = yield Load(vma.cell, reg="vma")
    yield Branch("vma")
    return present


def _find_vma(mm, addr, size):
    """hugepage_vma_revalidate(): a VMA covering the whole pmd range."""
    for vma in mm.vmas:
        if vma.start <= addr and addr + size <= vma.end and vma.anon and not vma.hugetlb:
            return vma
    return None


def collapse_huge_page(k, t, addr, hpage):
    """Collapse the pmd range at ``addr`` into the huge page ``hpage`` (from
    prepare_hugepage). Returns SCAN_SUCCEED or the reason it gave up."""
    mm, enc, size = t.mm, k.enc, k.geo.size("pmd")
    assert addr % size == 0, hex(addr)
    # khugepaged_alloc_page(): the huge page comes with the mapping's reference.
    yield Store(k.count(hpage), 1)
    yield from down_write(mm.mmap_sem)
    vma = _find_vma(mm, addr, size)
    present = vma is not None and (yield from _vma_present(vma))
    table, i = k.pmd_slot(mm, addr, create=False)
    pmd = yield from read_entry(k, table, i, "find_pmd_or_thp_or_none")
    if not present or enc.pmd_none(pmd) or enc.pmd_huge(pmd):
        yield from put_page(k, hpage)
        yield from up_write(mm.mmap_sem)
        return SCAN_VMA_CHECK if not present else SCAN_PMD_NULL
    yield from spin_lock(mm.page_table_lock)
    pmd = yield from pmdp_collapse_flush(k, t.cpu, table, i, addr)
    yield from spin_unlock(mm.page_table_lock)
    # (1) the pmd is gone and flushed, then (2) wait for lockless walkers that
    # may still hold it. Pairs with: gup_fast()'s IRQs-off region.
    if k.rcu_table_free and k.design.enabled("collapse:tlb_remove_table_sync_one"):
        yield from tlb_remove_table_sync_one(k, t.cpu)
    ptes = k.tables[enc.pfn(pmd)]
    pmd_regs = entry_regs("_pmd", table)       # pte = pte_offset_map(&_pmd, address)
    yield from spin_lock(mm.page_table_lock)
    result = yield from __collapse_huge_page_isolate(k, ptes, addr, pmd_regs)
    yield from spin_unlock(mm.page_table_lock)
    if result != SCAN_SUCCEED:
        yield from _restore_pmd(k, mm, table, i, pmd, hpage)
        yield from up_write(mm.mmap_sem)
        return result
    yield from __collapse_huge_page_copy(k, mm, ptes, hpage, pmd_regs)
    yield from _install_huge_pmd(k, mm, vma, table, i, ptes, hpage)
    yield Note(f"khugepaged: {addr:#x} collapsed into huge page {hpage}")
    yield from up_write(mm.mmap_sem)
    return SCAN_SUCCEED


__all__ = [
    "SCAN_PAGE_COUNT",
    "SCAN_PMD_NULL",
    "SCAN_PTE_NON_PRESENT",
    "SCAN_SUCCEED",
    "SCAN_VMA_CHECK",
    "__collapse_huge_page_copy",
    "__collapse_huge_page_isolate",
    "collapse_huge_page",
    "is_refcount_suitable",
    "pmdp_collapse_flush",
    "prepare_hugepage",
]
