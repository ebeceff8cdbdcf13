"""GUP slow path: mm/memory.c (2013) / mm/gup.c: __get_user_pages, follow_page_mask,
and the minimal anonymous fault it needs (handle_mm_fault -> do_anonymous_page).

Runs under mmap_sem held for reading (taken by the caller). Each step takes the
page-table lock, so it serialises with munmap (mmap_sem for writing), reclaim
and THP splitting (page_table_lock) instead of racing with them.

Return contract (get_user_pages): the number of pages pinned, a contiguous
prefix of the range; -EFAULT only if not even the first page could be had.

MODEL: only private anonymous VMAs; no COW, no FOLL_FORCE, no VM_IO/PFNMAP,
no hugetlb; a read-only mapping asked for write is -EFAULT (no COW fault).
"""

from __future__ import annotations

from ...ops import Await, Fence, Load, Rmw, SpinHint, Store
from ..mm import EFAULT, ENOMEM, spin_lock, spin_unlock
from ..page import FOLL_PIN, GUP_PIN_COUNTING_BIAS, alloc_page, get_page
from ..pagetable import PAGE_SHIFT, PAGE_SIZE, lower_table, read_entry, write_entry

RETRY = "retry"


def find_vma(k, t, addr):
    """find_vma(): the VMA containing addr if it is still in the mm."""
    for vma in t.mm.vmas:
        if vma.start <= addr < vma.end:
            present = yield Load(vma.cell)
            return vma if present else None
    return None


def _walk_to_pmd(k, t, addr, what):
    """pgd_offset .. pmd_offset with READ_ONCEs; returns (table, index, pmd) or None."""
    geo, enc = k.geo, k.enc
    table = t.mm.pgd
    for level in geo.present[1:]:
        i = geo.index(table.level, addr)
        v = yield from read_entry(k, table, i, what)
        if level == "pte":
            return table, i, v
        if enc.pmd_none(v):
            return None, i, v      # MODEL: upper levels are populated at VMA setup
        table = lower_table(k, v)
    raise AssertionError("unreachable")


def _grab(k, pfn, flags):
    """try_grab_page() / get_page_foll(): the reference the slow path takes."""
    if k.design.thp_refcount_2013:
        head = yield Load(k.head(pfn))
        if head is not None:
            # __get_page_tail_foll(): head _count and tail _mapcount, under the
            # page_table_lock that keeps the split away.
            yield Rmw(k.count(head), "add", 1, order="once")
            yield Rmw(k.mapcount(pfn), "add", 1, order="once")
            return
        yield from get_page(k, pfn)
        return
    head = yield Load(k.head(pfn))
    folio = pfn if head is None else head
    refs = GUP_PIN_COUNTING_BIAS if (flags & FOLL_PIN and folio not in k.large_folios) else 1
    yield Rmw(k.count(folio), "add", refs, order="once")
    if flags & FOLL_PIN and folio in k.large_folios:
        yield Rmw(f"page[{folio}]._pincount", "add", 1, order="once")


def follow_page_mask(k, t, addr, write, flags):
    """Returns a referenced pfn, None (fault needed) or RETRY (waited for a split)."""
    enc, lock = k.enc, t.mm.page_table_lock
    table, i, pmd = yield from _walk_to_pmd(k, t, addr, "follow_page_mask")
    if table is None or enc.pmd_none(pmd):
        return None
    if table.level == "pmd" and enc.pmd_huge(pmd):
        yield from spin_lock(lock)
        pmd = yield from read_entry(k, table, i, "follow_trans_huge_pmd")
        if enc.pmd_trans_splitting(pmd):
            yield from spin_unlock(lock)
            # wait_split_huge_page(): MODEL: wait until the pmd is not splitting
            # (the splitter holds the anon_vma lock for the whole split).
            cells = table.cells(i)
            yield Await(cells[:1], lambda v: not enc.pmd_trans_splitting(v),
                        "wait_split_huge_page")
            return RETRY
        if enc.pmd_huge(pmd) and enc.pmd_present(pmd):
            if write and not enc.pmd_write(pmd):
                yield from spin_unlock(lock)
                return None
            pfn = enc.pmd_pfn(pmd) + ((addr & ~k.geo.mask("pmd")) >> PAGE_SHIFT)
            yield from _grab(k, pfn, flags)
            yield from spin_unlock(lock)
            return pfn
        yield from spin_unlock(lock)
        return RETRY
    ptes = lower_table(k, pmd)
    j = k.geo.index("pte", addr)
    yield from spin_lock(lock)
    pte = yield from read_entry(k, ptes, j, "follow_page_pte")
    pfn = None
    if enc.pte_present(pte) and not enc.pte_protnone(pte) and not enc.pte_special(pte) \
            and (enc.pte_write(pte) or not write):
        pfn = enc.pte_pfn(pte)
        yield from _grab(k, pfn, flags)
    yield from spin_unlock(lock)
    return pfn


def handle_mm_fault(k, t, vma, addr, write):
    """__handle_mm_fault -> __pte_alloc + do_anonymous_page. 0 or -errno."""
    enc, lock = k.enc, t.mm.page_table_lock
    table, i, v = yield from _walk_to_pmd(k, t, addr, "handle_mm_fault")
    if table is None:
        return -EFAULT
    if enc.pmd_none(v):
        new = t.alloc_table()
        if new is None:
            return -ENOMEM
        yield from spin_lock(lock)
        now = yield from read_entry(k, table, i, "__pte_alloc")
        if enc.pmd_none(now):
            # (1) the empty table is initialised, smp_wmb(), then (2) the pmd
            # is populated. Pairs with: gup_fast's lockless pmd read.
            yield Fence("wmb")
            yield from write_entry(k, table, i, enc.mk_table(new.pfn))
            v = enc.mk_table(new.pfn)
        else:
            v = now
        yield from spin_unlock(lock)
    if enc.pmd_huge(v):
        return -EFAULT     # MODEL: no huge-pmd fault paths (COW, NUMA)
    ptes = lower_table(k, v)
    j = k.geo.index("pte", addr)
    pfn = yield from alloc_page(k, t)
    if pfn is None:
        return -ENOMEM
    # do_anonymous_page(): the new page is private until set_pte_at publishes it.
    yield Store(k.count(pfn), 1)
    yield Store(k.mapcount(pfn), 0)
    yield from spin_lock(lock)
    pte = yield from read_entry(k, ptes, j, "do_anonymous_page")
    if enc.pte_none(pte):
        yield from write_entry(k, ptes, j, enc.mk_pte(pfn, write=vma.write))
    else:
        yield Store(k.count(pfn), 0)   # raced with another fault: page_cache_release
    yield from spin_unlock(lock)
    return 0


def get_user_pages(k, t, start, nr_pages, write, pages, flags=1):
    """__get_user_pages(): caller holds mmap_sem for reading."""
    i = 0
    while i < nr_pages:
        addr = start + i * PAGE_SIZE
        vma = yield from find_vma(k, t, addr)
        if vma is None or (write and not vma.write):
            return i if i else -EFAULT
        while True:
            yield SpinHint("__get_user_pages: follow_page_mask / handle_mm_fault")
            r = yield from follow_page_mask(k, t, addr, write, flags)
            if isinstance(r, int):
                break
            if r == RETRY:
                continue
            ret = yield from handle_mm_fault(k, t, vma, addr, write)
            if ret:
                return i if i else ret
        pages.append(r)
        i += 1
    return i


__all__ = ["find_vma", "follow_page_mask", "handle_mm_fault", "get_user_pages", "RETRY"]
