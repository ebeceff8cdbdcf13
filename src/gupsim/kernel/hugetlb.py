"""hugetlbfs: private huge-page mappings, mm/hugetlb.c (v3.5 .. v6.4 shape).

A hugetlbfs page is a compound page (PageHuge) of HPAGE_PMD_NR frames mapped
by one huge pmd: no deposited pte table, never split. The functions:

* hugetlb_fault() -> hugetlb_no_page(): alloc_huge_page() takes a page off
  the hstate free list under hugetlb_lock, clear_huge_page(), then under the
  page-table lock re-check the entry is still none and set_huge_pte_at();
  a write fault on a read-only entry of a VM_WRITE mapping goes to
  hugetlb_wp() (hugetlb_cow() before 2022), whose reuse branch makes the
  entry writable when the anonymous page is mapped once.
* follow_hugetlb_page() (the GUP slow path for hugetlb VMAs, replaced by
  hugetlb_follow_page_mask() in v6.5): under the page-table lock, an absent
  or (for FOLL_WRITE) read-only entry needs a fault; otherwise take the
  reference try_grab_page() takes (gup/slow.py ``_grab``) on the sub-page.
* unmap_hugepage_range() -> __unmap_hugepage_range() (with an mmu_gather
  since v3.5): under the page-table lock
  huge_ptep_get_and_clear(), page_remove_rmap(), tlb_remove_page(); the
  page is freed only after the TLB flush of tlb_finish_mmu().

GUP-fast reaches hugetlb pages through the huge-pmd path of the walker
(gup_huge_pmd; x86 has done so since 2008, mm/gup.c since 2014, and
gup_fast_pmd_leaf() since 2024): its protection is the generic one, a
speculative reference plus a pmd re-check, or IRQs off against the IPI TLB
flush that precedes the free.

MODEL: MAP_PRIVATE anonymous hugetlb only (no page cache, no reservation
map, no hugetlb_fault_mutex, no shared pmd tables); huge pages are pmd-sized;
the free list is one cell holding a tuple of free heads, filled at setup
(``reserve_huge_pages``); a freed huge page is not put back on the list
(frames are not reused within an execution, see core.py); the pmd table
holding the huge entries is never freed (the VMA never covers a whole pud);
tail references are counted as for a THP of the design's era (hugetlbfs
tails were refcounted like THP tails until v3.13, "mm: hugetlbfs: fix
hugetlbfs optimization", which drops the tail _mapcount pins for them; the
pins balance either way).
"""

from __future__ import annotations

from ..ops import Branch, Load, Note, Rmw, Store
from .mm import EFAULT, ENOMEM, spin_lock, spin_unlock
from .page import put_page
from .pagetable import entry_regs, read_entry, write_entry, xchg_entry
from .tlb import tlb_finish_mmu, tlb_gather_mmu, tlb_remove_page

FREE_HUGE_PAGES = "hstate.hugepage_freelist"
HUGETLB_LOCK = "hugetlb_lock"


# --- setup (no yields) -----------------------------------------------------------

def reserve_huge_pages(k, n: int = 1) -> list[int]:
    """Setup time: ``n`` free huge pages on the hstate free list (the boot-time
    pool of hugepages=N). Returns their head pfns."""
    heads = [k.prep_compound_page(k.geo.hpage_pmd_nr) for _ in range(n)]
    k.memory[FREE_HUGE_PAGES] = tuple(heads) + tuple(k.memory.get(FREE_HUGE_PAGES, ()))
    k.memory.setdefault(HUGETLB_LOCK, 0)
    return heads


def map_hugetlb_page(k, mm, addr: int, write: bool = True) -> int:
    """Setup time: an already-faulted private hugetlb page at ``addr`` (in a VMA
    from Kernel.add_hugetlb_vma): huge pmd, head count 1 and mapcount 1."""
    assert addr % k.geo.size("pmd") == 0, hex(addr)
    head = k.prep_compound_page(k.geo.hpage_pmd_nr)
    k.memory[k.count(head)] = 1
    k.memory[k.mapcount(head)] = 0
    k.memory.setdefault(HUGETLB_LOCK, 0)
    k.memory.setdefault(FREE_HUGE_PAGES, ())
    t, i = k.pmd_slot(mm, addr)
    k.set_entry(t, i, k.enc.mk_huge_pmd(head, write=write))
    return head


# --- run time --------------------------------------------------------------------

def alloc_huge_page(k):
    """dequeue_huge_page_vma() under hugetlb_lock: a head pfn or None.
    MODEL: the page's accesses after it do not name this read (the lock's
    acquire and release order them; nobody else sees the page yet)."""
    yield from spin_lock(HUGETLB_LOCK)
    free = yield Load(FREE_HUGE_PAGES, reg="hugepage_freelists")
    yield Branch("hugepage_freelists")
    if free:
        yield Store(FREE_HUGE_PAGES, free[1:], data="hugepage_freelists")
    yield from spin_unlock(HUGETLB_LOCK)
    return free[0] if free else None


def huge_pte_offset(k, mm, addr):
    """The pmd-level slot mapping ``addr`` (MODEL: populated at VMA setup)."""
    return k.pmd_slot(mm, addr, create=False)


def hugetlb_no_page(k, t, vma, table, i, write):
    enc = k.enc
    head = yield from alloc_huge_page(k)
    if head is None:
        return -ENOMEM                         # VM_FAULT_OOM
    for p in range(head, head + k.geo.hpage_pmd_nr):
        yield Store(k.data(p), 0)              # clear_huge_page()
    # The page is private until set_huge_pte_at() publishes it.
    yield Store(k.count(head), 1)
    writable = write and (yield Load(vma.vm_write, reg="vm_write"))
    yield from spin_lock(t.mm.page_table_lock)
    pmd = yield from read_entry(k, table, i, "hugetlb_no_page")
    if not enc.pmd_none(pmd):
        # Raced with another fault: backout_unlocked.
        yield from spin_unlock(t.mm.page_table_lock)
        yield from put_page(k, head)
        return 0
    yield Store(k.mapcount(head), 0)           # hugepage_add_new_anon_rmap()
    yield from write_entry(k, table, i, enc.mk_huge_pmd(head, write=writable),
                           data="vm_write" if write else ())
    yield from spin_unlock(t.mm.page_table_lock)
    return 0


def hugetlb_wp(k, t, vma, table, i):
    """Write fault on a read-only entry: reuse a page mapped once (MODEL: the
    copy branch is not modelled; a shared page is -EFAULT)."""
    enc = k.enc
    yield from spin_lock(t.mm.page_table_lock)
    pmd = yield from read_entry(k, table, i, "hugetlb_wp", reg="pte")
    regs = entry_regs("pte", table)      # old_page = pte_page(pte)
    ret = 0
    if enc.pmd_present(pmd) and not enc.pmd_write(pmd):
        mapcount = yield Load(k.mapcount(enc.pmd_pfn(pmd)), reg="page_mapcount", addr=regs)
        yield Branch("page_mapcount")
        if mapcount == 0:
            yield Note(f"hugetlb_wp: reuse huge page {enc.pmd_pfn(pmd)}")
            yield from write_entry(k, table, i, enc.mk_huge_pmd(enc.pmd_pfn(pmd), write=True),
                                   data=regs)
        else:
            ret = -EFAULT
    yield from spin_unlock(t.mm.page_table_lock)
    return ret


def hugetlb_fault(k, t, vma, addr, write):
    """The fault handler for hugetlb VMAs (caller holds mmap_sem). 0 or -errno."""
    enc = k.enc
    if write:
        writable = yield Load(vma.vm_write, reg="vm_write")
        yield Branch("vm_write")
        if not writable:
            return -EFAULT
    table, i = huge_pte_offset(k, t.mm, addr)
    pmd = yield from read_entry(k, table, i, "hugetlb_fault")
    if enc.pmd_none(pmd):
        return (yield from hugetlb_no_page(k, t, vma, table, i, write))
    if write and not enc.pmd_write(pmd):
        return (yield from hugetlb_wp(k, t, vma, table, i))
    return 0


def follow_hugetlb_page(k, t, vma, addr, write, flags):
    """One page of follow_hugetlb_page(): a referenced sub-page pfn, or None when
    a fault is needed. (Never RETRY: hugetlb pages are not split.)"""
    from .gup.slow import _grab
    enc = k.enc
    table, i = huge_pte_offset(k, t.mm, addr)
    yield from spin_lock(t.mm.page_table_lock)
    pmd = yield from read_entry(k, table, i, "follow_hugetlb_page", reg="pte")
    pfn = None
    if enc.pmd_present(pmd) and enc.pmd_huge(pmd) and (enc.pmd_write(pmd) or not write):
        pfn = enc.pmd_pfn(pmd) + k.geo.page_in("pmd", addr)
        yield from _grab(k, pfn, flags, entry_regs("pte", table))
    yield from spin_unlock(t.mm.page_table_lock)
    return pfn


def unmap_hugepage_range(k, tlb, vma, start, end):
    """__unmap_hugepage_range(): clear each huge entry and queue its page on the
    mmu_gather. (1) clear the entry, then the page is freed only after
    (2) tlb_finish_mmu()'s flush. Pairs with: gup_huge_pmd (read the pmd, take
    a reference, re-read the pmd)."""
    mm, enc = tlb.mm, k.enc
    for addr in range(start, end, k.geo.size("pmd")):
        table, i = huge_pte_offset(k, mm, addr)
        yield from spin_lock(mm.page_table_lock)
        old = yield from xchg_entry(k, table, i, 0)     # huge_ptep_get_and_clear
        if enc.pmd_present(old):
            head = enc.pmd_pfn(old)                     # page = pte_page(pte)
            yield Rmw(k.mapcount(head), "sub", 1, order="once",
                      addr=entry_regs("old_entry", table))   # page_remove_rmap
            tlb_remove_page(tlb, head)
        yield from spin_unlock(mm.page_table_lock)


def unmap_hugetlb_region(k, t, start, end):
    """unmap_region() for hugetlb VMAs: unmap_vmas -> unmap_single_vma ->
    __unmap_hugepage_range_final, then tlb_finish_mmu (flush, free)."""
    tlb = tlb_gather_mmu(k, t.mm, t.cpu, start, end)
    for vma in t.mm.vmas:
        if vma.hugetlb and start <= vma.start and vma.end <= end:
            yield from unmap_hugepage_range(k, tlb, vma, vma.start, vma.end)
    yield from tlb_finish_mmu(k, tlb)


__all__ = [
    "FREE_HUGE_PAGES",
    "HUGETLB_LOCK",
    "alloc_huge_page",
    "follow_hugetlb_page",
    "huge_pte_offset",
    "hugetlb_fault",
    "hugetlb_no_page",
    "hugetlb_wp",
    "map_hugetlb_page",
    "reserve_huge_pages",
    "unmap_hugepage_range",
    "unmap_hugetlb_region",
]
