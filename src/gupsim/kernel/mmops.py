"""mm operations that race with GUP-fast: munmap, page reclaim, anonymous fault.

munmap (mm/mmap.c do_munmap -> unmap_region, mm/memory.c, 2013 and later):
  under mmap_sem for writing: detach the VMA; tlb_gather_mmu; unmap_vmas ->
  zap_pte_range (ptep_get_and_clear, page_remove_rmap, tlb_remove_page) and
  zap_huge_pmd; free_pgtables (pmd_clear + pte_free_tlb); tlb_finish_mmu
  (flush, then free tables and pages). See tlb.py for who waits for whom.

Reclaim of one anonymous page (mm/vmscan.c shrink_page_list, mm/rmap.c
try_to_unmap_one, __remove_mapping):
  isolate (take a reference), (1) clear the pte and flush, drop the mapping's
  reference, then (2) page_freeze_refs(page, expected) (page_ref_freeze since
  2016): an extra reference (a GUP pin) makes the freeze fail and the page
  stays. Pairs with: gup_pte_range (get the reference, re-read the pte).

MODEL: no swap cache (the expected count at freeze is the isolation
reference only), and a failed reclaim puts the page straight back in its pte
(as the next swap-in fault would); free_pgtables frees only pte tables lying
entirely inside the unmapped range (floor/ceiling = the range); page-table
upper levels found through the setup-time image (they never change in the
scenarios).
"""

from __future__ import annotations

from ..ops import Note, Rmw, Store
from .cpu import flush_tlb_range
from .gup.slow import find_vma, handle_mm_fault
from .hugetlb import unmap_hugetlb_region
from .mm import EFAULT, down_read, down_write, spin_lock, spin_unlock, up_read, up_write
from .page import free_page, get_page, page_ref_freeze, put_page
from .pagetable import PAGE_SIZE, entry_regs, read_entry, write_entry, xchg_entry
from .thp import split_huge_pmd
from .tlb import pte_free_tlb, tlb_finish_mmu, tlb_gather_mmu, tlb_remove_page


def zap_pte_range(k, tlb, ptes, addr, end, pmd_regs=()):
    """``pmd_regs``: the registers of the pmd the pte table was found through.
    MODEL: the page goes to the mmu_gather batch (Python-side), so its free
    after the flush does not name the pte it was found through."""
    enc = k.enc
    regs = entry_regs("ptent", ptes)
    while addr < end:
        j = k.geo.index("pte", addr)
        # (1) clear the pte; the page is freed only after (2) the TLB flush.
        # Pairs with: gup_pte_range (read pte, take a reference).
        old = yield from xchg_entry(k, ptes, j, 0, reg="ptent", addr=pmd_regs)
        if enc.pte_present(old) and not enc.pte_special(old) \
                and enc.pte_pfn(old) != k.zero_pfn:     # vm_normal_page()
            pfn = enc.pte_pfn(old)
            yield Rmw(k.mapcount(pfn), "sub", 1, order="once", addr=regs)   # page_remove_rmap
            tlb_remove_page(tlb, pfn)
        addr += PAGE_SIZE


def zap_huge_pmd(k, tlb, table, i):
    old = yield from xchg_entry(k, table, i, 0)    # pmdp_get_and_clear
    head = k.enc.pmd_pfn(old)                       # page = pmd_page(orig_pmd)
    yield Rmw(k.mapcount(head), "sub", 1, order="once", addr=entry_regs("old_entry", table))
    tlb_remove_page(tlb, head)
    deposit = k.tables[tlb.mm.deposited[table.cell(i)]]
    pte_free_tlb(k, tlb, deposit)    # the withdrawn deposited table


def unmap_region(k, t, start, end):
    mm, enc, geo = t.mm, k.enc, k.geo
    tlb = tlb_gather_mmu(k, mm, t.cpu, start, end)
    freeable = []
    addr = start
    while addr < end:
        nxt = min(end, (addr + geo.size("pmd")) & geo.mask("pmd"))
        table, i = k.pmd_slot(mm, addr, create=False)
        yield from spin_lock(mm.page_table_lock)
        pmd = yield from read_entry(k, table, i, "zap_pmd_range", reg="pmd")
        whole = addr % geo.size("pmd") == 0 and nxt - addr == geo.size("pmd")
        if enc.pmd_huge(pmd) and not whole:
            # zap_pmd_range(): part of a THP goes: __split_huge_pmd() first,
            # then zap the ptes (the loop reads the pmd again).
            yield from spin_unlock(mm.page_table_lock)
            yield from split_huge_pmd(k, t, addr)
            continue
        if enc.pmd_huge(pmd):
            yield from zap_huge_pmd(k, tlb, table, i)
        elif not enc.pmd_none(pmd) and not enc.pmd_huge(pmd):
            ptes = k.tables[enc.pfn(pmd)]
            yield from zap_pte_range(k, tlb, ptes, addr, nxt, entry_regs("pmd", table))
            if addr % geo.size("pmd") == 0 and nxt - addr == geo.size("pmd"):
                freeable.append((table, i, ptes))
        yield from spin_unlock(mm.page_table_lock)
        addr = nxt
    # free_pgtables() -> free_pte_range(): (1) pmd_clear, then the table goes
    # to the mmu_gather, freed only after (2) the flush / grace period.
    # Pairs with: gup_pmd_range -> gup_pte_range (read pmd, then the pte table).
    for table, i, ptes in freeable:
        yield from write_entry(k, table, i, 0)
        pte_free_tlb(k, tlb, ptes)
    yield from tlb_finish_mmu(k, tlb)


def munmap(k, t, start, length):
    """do_munmap(): 0. MODEL: VMAs wholly inside the range are detached; a VMA
    partly inside keeps its bounds (no split_vma) while its part of the range
    is zapped (a huge pmd split first)."""
    mm = t.mm
    end = start + length
    yield from down_write(mm.mmap_sem)
    for vma in mm.vmas:
        if start <= vma.start and vma.end <= end:
            yield Store(vma.cell, False)       # detach_vmas_to_be_unmapped
    if any(v.hugetlb and start <= v.start and v.end <= end for v in mm.vmas):
        # unmap_single_vma() -> __unmap_hugepage_range_final() (hugetlb.py).
        # MODEL: a range with hugetlb VMAs holds only hugetlb VMAs.
        yield from unmap_hugetlb_region(k, t, start, end)
    else:
        yield from unmap_region(k, t, start, end)
    yield from up_write(mm.mmap_sem)
    return 0


def shrink_page(k, t, addr):
    """Reclaim the anonymous page mapped at ``addr``. True if it was freed.
    MODEL: the page is the one the pte maps at setup, as shrink_page_list()
    takes it off the LRU (not through the pte it then unmaps)."""
    mm, enc = t.mm, k.enc
    ptes, j = k.pte_slot(mm, addr, create=False)
    pfn = enc.pte_pfn(k.get_entry(ptes, j))
    yield Note(f"reclaim: page {pfn} at {addr:#x}")
    yield from get_page(k, pfn)                     # isolate_lru_page
    yield from spin_lock(mm.page_table_lock)
    old = yield from xchg_entry(k, ptes, j, 0)      # ptep_clear_flush: (1) clear ...
    yield from flush_tlb_range(k, t.cpu, addr, addr + PAGE_SIZE)  # ... and flush
    yield Rmw(k.mapcount(pfn), "sub", 1, order="once")
    yield from spin_unlock(mm.page_table_lock)
    yield from put_page(k, pfn)                     # the mapping's reference
    # (2) __remove_mapping(): only the isolation reference may be left.
    if (yield from page_ref_freeze(k, pfn, 1)):
        yield from free_page(k, pfn)                # back to the allocator: reusable
        return True
    # Someone (GUP) holds a reference: the page stays. MODEL: mapped back.
    yield Note(f"reclaim: page {pfn} has extra references, kept")
    yield from spin_lock(mm.page_table_lock)
    yield Rmw(k.count(pfn), "add", 1, order="once")
    yield Rmw(k.mapcount(pfn), "add", 1, order="once")
    yield from write_entry(k, ptes, j, old, data=entry_regs("old_entry", ptes))
    yield from spin_unlock(mm.page_table_lock)
    yield from put_page(k, pfn)                     # putback_lru_page
    return False


def do_fault(k, t, addr, write=True):
    """A user access fault at addr (anonymous): handle_mm_fault under mmap_sem."""
    yield from down_read(t.mm.mmap_sem)
    vma = yield from find_vma(k, t, addr)
    ret = -EFAULT
    if vma is not None:
        ret = yield from handle_mm_fault(k, t, vma, addr, write)
    yield from up_read(t.mm.mmap_sem)
    return ret


__all__ = ["zap_pte_range", "zap_huge_pmd", "unmap_region", "munmap", "shrink_page",
           "do_fault"]
