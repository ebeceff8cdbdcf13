"""madvise(MADV_DONTNEED): mm/madvise.c madvise_dontneed -> mm/memory.c zap_page_range
(2013 through today's zap_page_range_single).

Runs under mmap_sem held for *reading* -- so it races with page faults and
with the GUP slow path, which hold it for reading too (the Dirty COW window:
get_user_pages' fault, then zap, then get_user_pages' next lookup). Zapping
clears each pte under the page-table lock (zap_pte_range: ptep_get_and_clear,
page_remove_rmap, tlb_remove_page), then tlb_finish_mmu flushes the TLB and
only then drops the mappings' references. Page tables are not freed (no
free_pgtables), unlike munmap.

Protection scheme: the page-table lock against faults and the GUP slow path;
the mmu_gather order (clear, flush, free) against lockless walkers.
Pairs with: gup_fast / follow_page_pte (read the pte, take a reference).

MODEL: only MADV_DONTNEED; the range must lie inside one VMA (-EINVAL
otherwise); no huge pmds (a THP is skipped: split_huge_pmd is not modelled).
"""

from __future__ import annotations

from ..ops import Note
from .gup.slow import find_vma
from .mm import down_read, spin_lock, spin_unlock, up_read
from .mmops import zap_pte_range
from .pagetable import entry_regs, lower_table, read_entry
from .tlb import tlb_finish_mmu, tlb_gather_mmu

MADV_DONTNEED = 4
EINVAL = 22


def zap_page_range(k, t, start, end):
    """Unmap [start, end) of current->mm; pages are released after the flush."""
    mm, enc, geo = t.mm, k.enc, k.geo
    tlb = tlb_gather_mmu(k, mm, t.cpu, start, end)
    addr = start
    while addr < end:
        nxt = min(end, (addr + geo.size("pmd")) & geo.mask("pmd"))
        table, i = k.pmd_slot(mm, addr, create=False)
        pmd = yield from read_entry(k, table, i, "zap_pmd_range", reg="pmd")
        if not enc.pmd_none(pmd) and not enc.pmd_huge(pmd):
            yield from spin_lock(mm.page_table_lock)
            yield from zap_pte_range(k, tlb, lower_table(k, pmd), addr, nxt,
                                     entry_regs("pmd", table))
            yield from spin_unlock(mm.page_table_lock)
        addr = nxt
    yield from tlb_finish_mmu(k, tlb)


def madvise(k, t, start, length, advice=MADV_DONTNEED):
    """sys_madvise(start, length, MADV_DONTNEED): 0 or -EINVAL."""
    if advice != MADV_DONTNEED:
        return -EINVAL
    end = start + length
    yield from down_read(t.mm.mmap_sem)
    vma = yield from find_vma(k, t, start)
    ret = -EINVAL
    if vma is not None and end <= vma.end:
        yield Note(f"madvise(MADV_DONTNEED) [{start:#x}, {end:#x})")
        yield from zap_page_range(k, t, start, end)
        ret = 0
    yield from up_read(t.mm.mmap_sem)
    return ret


__all__ = ["MADV_DONTNEED", "EINVAL", "zap_page_range", "madvise"]
