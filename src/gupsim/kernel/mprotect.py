"""mprotect(2) between PROT_READ and PROT_READ|PROT_WRITE: mm/mprotect.c.

Models do_mprotect_pkey() -> mprotect_fixup() -> change_protection() ->
change_protection_range() / change_pmd_range() / change_pte_range() and
change_huge_pmd() (mm/huge_memory.c), hugetlb_change_protection() for hugetlb
VMAs, 2013 to today:

* mmap_sem for writing; VM_WRITE in vma->vm_flags is updated first
  (``vma.vm_write``), then the page tables;
* change_pte_range(): under the page-table lock, for each present pte,
  ptep_modify_prot_start() (get-and-clear: the pte is none meanwhile) then
  ptep_modify_prot_commit() with pte_modify(): write-protect for PROT_READ;
  for PROT_WRITE a private anonymous pte stays read-only (the next write
  fault reuses the page) except, since v6.0 ("mm/mprotect: try avoiding
  write faults for exclusive anonymous pages when changing protection",
  David Hildenbrand, 2022: MM_CP_TRY_CHANGE_WRITABLE), a dirty pte of an
  exclusively mapped anonymous page, which is made writable at once;
* change_huge_pmd(): the same for a huge pmd (hugetlb_change_protection()
  for hugetlbfs, which never makes the entry writable);
* flush_tlb_range() over the range after the walk (the mmu_gather flush
  since v6.0), still under mmap_sem.

Protection scheme against GUP-fast: a write reference needs a writable pte;
mprotect rewrites the pte before the flush and the flush is the point after
which no CPU may still use the old entry. GUP-fast behaves like a TLB here:
an IRQs-off walker on an IPI-flush arch holds the flush off until it has
taken its reference; elsewhere the walker must re-read the pte after taking
the reference (walker:recheck-pte) or it may turn the stale writable pte into
a write reference after mprotect() has returned.

MODEL: the range covers whole VMAs and, where a huge pmd is mapped, whole
pmds (no split_huge_pmd, no vma split or merge); "exclusively mapped" is
_mapcount == 0 (no PageAnonExclusive); no NUMA (PROT_NONE) entries; the
huge entry is cleared rather than invalidated while it is being changed
(pmdp_invalidate() in later kernels: both leave the entry unusable to
GUP-fast until set_pmd_at()).
"""

from __future__ import annotations

from ..ops import Branch, Load, Note, Store
from .cpu import flush_tlb_range
from .mm import EFAULT, down_write, spin_lock, spin_unlock, up_write
from .page import HEAD
from .pagetable import entry_regs, lower_table, read_entry, write_entry, xchg_entry

MM_CP_TRY_CHANGE_WRITABLE_ERA = 2022


def pte_modify(k, v, write: bool):
    """pte_modify()/pmd_modify() for the two protections: only the write bit
    changes (pfn, dirty, young and special are kept)."""
    enc = k.enc
    flags = {name: enc.flag(v, name) for name in enc.bit}
    flags["write"] = write
    return enc.mk(enc.pfn(v), **flags)


def _try_change_writable(k, vma, write):
    """MM_CP_TRY_CHANGE_WRITABLE: since v6.0 for non-hugetlb VMAs."""
    return write and k.design.era >= MM_CP_TRY_CHANGE_WRITABLE_ERA and not vma.hugetlb


def can_change_writable(k, v, regs=()):
    """can_change_pte_writable(): a dirty pte of an anonymous page mapped once.
    ``regs``: the registers ``v`` was read into (page = vm_normal_page())."""
    if regs:
        yield Branch(*regs)                 # if (!pte_dirty(pte)) return false
    if not k.enc.flag(v, "dirty"):
        return False
    pfn = k.enc.pfn(v)
    head = yield Load(k.head(pfn), reg=HEAD, addr=regs)
    yield Branch(HEAD)
    mapcount = yield Load(k.mapcount(pfn if head is None else head), reg="page_mapcount",
                          addr=(HEAD, *regs))
    yield Branch("page_mapcount")
    return mapcount == 0


def _new_entry(k, vma, old, write, regs=()):
    if not write:
        return pte_modify(k, old, False)
    if _try_change_writable(k, vma, write) and (yield from can_change_writable(k, old, regs)):
        return pte_modify(k, old, True)
    return old


def change_pte_range(k, mm, vma, ptes, addr, end, write, pmd_regs=()):
    """Returns the number of ptes changed. ``pmd_regs``: the registers of the
    pmd the pte table was found through."""
    enc, pages = k.enc, 0
    regs = entry_regs("oldpte", ptes)
    yield from spin_lock(mm.page_table_lock)
    while addr < end:
        j = k.geo.index("pte", addr)
        pte = yield from read_entry(k, ptes, j, "change_pte_range", addr=pmd_regs)
        if enc.pte_present(pte) and not enc.pte_protnone(pte):
            # (1) ptep_modify_prot_start: the pte is none, then (2) commit the
            # new protection. Pairs with: gup_pte_range (read the pte, take a
            # reference, re-read the pte).
            old = yield from xchg_entry(k, ptes, j, 0, reg="oldpte", branch=False,
                                        addr=pmd_regs)
            new = yield from _new_entry(k, vma, old, write, regs)
            yield from write_entry(k, ptes, j, new, data=regs)
            pages += 1
        addr += k.geo.size("pte")
    yield from spin_unlock(mm.page_table_lock)
    return pages


def change_huge_pmd(k, mm, vma, table, i, write):
    """change_huge_pmd() / hugetlb_change_protection() for one huge entry: 1 if
    it was changed. (1) clear, then (2) set_pmd_at(). Pairs with: gup_huge_pmd
    (read the pmd, take the reference, re-read the pmd)."""
    yield from spin_lock(mm.page_table_lock)
    pmd = yield from read_entry(k, table, i, "change_huge_pmd")
    done = 0
    if k.enc.pmd_huge(pmd) and k.enc.pmd_present(pmd):
        old = yield from xchg_entry(k, table, i, 0, reg="oldpmd", branch=False)
        regs = entry_regs("oldpmd", table)
        new = yield from _new_entry(k, vma, old, write, regs)
        yield from write_entry(k, table, i, new, data=regs)
        done = 1
    yield from spin_unlock(mm.page_table_lock)
    return done


def change_pmd_range(k, mm, vma, addr, end, write):
    enc, geo, pages = k.enc, k.geo, 0
    while addr < end:
        nxt = min(end, (addr + geo.size("pmd")) & geo.mask("pmd"))
        table, i = k.pmd_slot(mm, addr, create=False)
        pmd = yield from read_entry(k, table, i, "change_pmd_range", reg="pmd")
        if enc.pmd_huge(pmd):
            assert addr % geo.size("pmd") == 0 and nxt - addr == geo.size("pmd"), \
                "MODEL: no split_huge_pmd for a partial huge pmd"
            pages += yield from change_huge_pmd(k, mm, vma, table, i, write)
        elif not enc.pmd_none(pmd):
            pages += yield from change_pte_range(k, mm, vma, lower_table(k, pmd), addr,
                                                 nxt, write, entry_regs("pmd", table))
        addr = nxt
    return pages


def change_protection(k, t, vma, start, end, write):
    """change_protection_range(): the walk, then flush_tlb_range() if anything
    changed. Returns the number of entries changed."""
    pages = yield from change_pmd_range(k, t.mm, vma, start, end, write)
    if pages:
        # (1) every entry is rewritten, then (2) the flush: after it no CPU uses
        # an old entry. Pairs with: gup_fast()'s IRQs-off region (IPI arches).
        yield from flush_tlb_range(k, t.cpu, start, end)
    return pages


def mprotect(k, t, start, length, write: bool):
    """mprotect(start, length, PROT_READ | (PROT_WRITE if write)): 0 or -EFAULT.

    MODEL: [start, start + length) is a union of whole VMAs."""
    mm, end = t.mm, start + length
    yield from down_write(mm.mmap_sem)
    vmas = [v for v in mm.vmas if start <= v.start and v.end <= end]
    for vma in vmas:
        present = yield Load(vma.cell, reg="vma")
        yield Branch("vma")
        if not present:
            yield from up_write(mm.mmap_sem)
            return -EFAULT
    for vma in vmas:
        if write and not vma.write:
            # MODEL: VM_MAYWRITE is the write permission the VMA had at mmap.
            yield from up_write(mm.mmap_sem)
            return -EFAULT
        yield Store(vma.vm_write, write)         # mprotect_fixup(): vm_flags
        n = yield from change_protection(k, t, vma, vma.start, vma.end, write)
        yield Note(f"mprotect: [{vma.start:#x}, {vma.end:#x}) PROT_READ"
                   + ("|PROT_WRITE" if write else "") + f", {n} entries changed")
    yield from up_write(mm.mmap_sem)
    return 0


__all__ = [
    "can_change_writable",
    "change_huge_pmd",
    "change_pmd_range",
    "change_protection",
    "change_pte_range",
    "mprotect",
    "pte_modify",
]
