"""fork(): kernel/fork.c dup_mmap, mm/memory.c copy_page_range -> copy_pte_range ->
copy_one_pte (copy_present_pte from v5.9).

dup_mmap() runs with the parent's mmap_sem held for writing; for each VMA of
a private (COW) mapping, every present pte is shared with the child: a
writable pte is write-protected in the parent and in the child
(ptep_set_wrprotect), the page gets a reference and a mapcount
(page_dup_rmap), and at the very end flush_tlb_mm(parent) -- after the copy.
Shared file mappings are not copied (the child refaults them).

Eras (``k.mm_era``, see fault.py) and protections:

* before v5.9: copy_one_pte write-protects, then takes the reference; a page
  pinned by GUP is shared with the child like any other, and the parent's
  next write fault COWs it away from the pin (the "GUP after fork" problem);
* v5.9 (commit 70e806e4e645, Peter Xu, "mm: Do early cow for pinned pages
  during fork() for ptes"): copy_present_pte copies a page that
  page_maybe_dma_pinned() says is pinned (page_needs_cow_for_dma) into a new
  page for the child at once, and the parent keeps the pinned page writable;
* v5.19 (anon-exclusive): page_try_dup_anon_rmap() refuses to share an
  exclusive, maybe-pinned page (copy instead) and otherwise clears
  PageAnonExclusive;
* the design protection ``walker:write-protect-seq`` (v5.13, commit
  57efa1fe5957, "mm/gup: prevent gup_fast from racing with COW during fork"):
  copy_page_range() brackets the copy with write_seqcount_begin/end on
  mm->write_protect_seq, and a FOLL_PIN gup_fast that saw it move gives up.
  Without it, gup_fast may (1) read the writable pte and pin the page after
  copy_present_pte's page_maybe_dma_pinned() check, then (2) fork
  write-protects and shares it: the pin is on a page the child maps.
  Pairs with: gup_fast (raw_read_seqcount before, read_seqcount_retry after).

MODEL: the child mm and its page tables are built at setup
(``prepare_child_mm``) and filled by the fork thread; nobody runs in the
child; mm->has_pinned is taken as set; no huge pmds, swap entries or
anon_vma chains; the child's mapcount is the page's _mapcount.
"""

from __future__ import annotations

from dataclasses import replace

from ..ops import Branch, Fence, Load, Note, Rmw, Store
from .cpu import flush_tlb_range
from .fault import copy_user_highpage, mk_pte, mm_since, prep_new_anon_page, pte_modify
from .filemap import PageAnon
from .mm import ENOMEM, down_write, spin_lock, spin_unlock, up_write
from .page import GUP_PIN_COUNTING_BIAS, alloc_page, get_page
from .pagetable import PAGE_SIZE, entry_regs, lower_table, read_entry, through_entry, write_entry

EARLY_COW = "5.9"
"""The release with the early COW of pinned pages in fork."""


def prepare_child_mm(k, parent):
    """Setup time: the child's mm_struct with the parent's VMAs (not yet
    linked: their presence cells are False until dup_mmap) and empty pte
    tables under each of them."""
    child = k.new_mm()
    for vma in parent.vmas:
        v = k.add_vma(child, vma.start, vma.end, vma.write)
        v = replace(vma, mm=child.id, index=v.index)
        child.vmas[-1] = v
        k.memory[v.cell] = False
        for addr in range(vma.start, vma.end, k.geo.size("pmd")):
            k.pte_slot(child, addr)
    return child


def _child_ptes(k, child, addr):
    """The child's pte table for addr. MODEL: built at setup and never changed
    by anyone but this fork, so the setup image is exact."""
    table, i = k.pmd_slot(child, addr, create=False)
    return lower_table(k, k.get_entry(table, i))


def page_maybe_dma_pinned(k, pfn):
    """page_ref_count(page) >= GUP_PIN_COUNTING_BIAS (small pages); every
    caller tests it (a control dependency)."""
    count = yield Load(k.count(pfn), reg="page_maybe_dma_pinned")
    yield Branch("page_maybe_dma_pinned")
    return count >= GUP_PIN_COUNTING_BIAS


def page_try_dup_anon_rmap(k, pfn):
    """May the child share this anon page? False means copy it now
    (page_needs_cow_for_dma; -EBUSY from page_try_dup_anon_rmap in v5.19)."""
    if mm_since(k, "5.19"):
        exclusive = yield Load(k.anon_exclusive(pfn), reg="PageAnonExclusive")
        yield Branch("PageAnonExclusive")
        if not exclusive:
            return True
        if (yield from page_maybe_dma_pinned(k, pfn)):
            return False
        yield Store(k.anon_exclusive(pfn), False)     # ClearPageAnonExclusive
        return True
    return not (yield from page_maybe_dma_pinned(k, pfn))


def copy_present_page(k, t, vma, dst, j, src_pfn, src_regs=()):
    """The child gets its own copy of a pinned page now; the parent's pte is
    left as it is (writable). 0 or -ENOMEM. ``src_regs``: the registers of
    the pte the source page was found through."""
    new = yield from alloc_page(k, t)
    if new is None:
        return -ENOMEM
    yield Note(f"page {src_pfn} may be pinned: the child gets a copy, page {new}")
    yield from through_entry(src_regs, copy_user_highpage(k, new, src_pfn))
    yield from prep_new_anon_page(k, new)
    writable = yield Load(vma.vm_write, reg="vm_write")
    yield from write_entry(k, dst, j, mk_pte(k, new, writable, True), data="vm_write")
    return 0


def ptep_set_wrprotect(k, table, j, pte, regs=()):
    """MODEL: an atomic clear of the write bit in the kernel; a store under the
    page-table lock here (hardware accessed/dirty updates are not modelled).
    ``regs``: the registers ``pte`` was read into."""
    yield from write_entry(k, table, j, pte_modify(k, pte, write=False), data=regs)


def copy_present_pte(k, t, vma, src, dst, j):
    """One pte of a COW mapping (copy_one_pte before v5.9). 0 or -errno."""
    enc = k.enc
    pte = yield from read_entry(k, src, j, "copy_pte_range", reg="pte")
    regs = entry_regs("pte", src)
    if not enc.pte_present(pte):
        return 0                      # MODEL: pte_none; no swap entries
    pfn = enc.pte_pfn(pte)
    page = None if enc.pte_special(pte) or pfn == k.zero_pfn else pfn
    cow, early = not vma.shared, mm_since(k, EARLY_COW)
    wrprotect = cow and enc.pte_write(pte)
    if wrprotect and not early:
        yield from ptep_set_wrprotect(k, src, j, pte, regs)
    if page is not None:
        # page = vm_normal_page(vma, addr, pte): its accesses go through the pte
        if early and cow and (yield from through_entry(regs, PageAnon(k, page))) \
                and not (yield from through_entry(regs, page_try_dup_anon_rmap(k, page))):
            return (yield from copy_present_page(k, t, vma, dst, j, page, regs))
        # get_page() + page_dup_rmap(): the child's mapping of the page.
        yield from through_entry(regs, get_page(k, page))
        yield Rmw(k.mapcount(page), "add", 1, order="once", addr=regs)
    if wrprotect and early:
        # (1) page_maybe_dma_pinned() said no, then (2) write-protect and
        # share. Pairs with: gup_fast (pin after (1), pte unchanged until (2)).
        yield from ptep_set_wrprotect(k, src, j, pte, regs)
    yield from write_entry(k, dst, j, pte_modify(k, pte, write=False) if wrprotect else pte,
                           data=regs)
    return 0


def copy_pte_range(k, t, vma, src, dst, addr, end):
    yield from spin_lock(t.mm.page_table_lock)
    ret = 0
    while addr < end and not ret:
        ret = yield from copy_present_pte(k, t, vma, src, dst, k.geo.index("pte", addr))
        addr += PAGE_SIZE
    yield from spin_unlock(t.mm.page_table_lock)
    return ret


def raw_write_seqcount(cell, begin):
    """raw_write_seqcount_begin() (++, smp_wmb) / _end() (smp_wmb, ++)."""
    if not begin:
        yield Fence("wmb")
    yield Rmw(cell, "add", 1, order="once")
    if begin:
        yield Fence("wmb")


def copy_page_range(k, t, child, vma):
    """Copy the ptes of one private VMA into the child. 0 or -errno."""
    mm, geo, enc = t.mm, k.geo, k.enc
    seq = k.design.enabled("walker:write-protect-seq")
    if seq:
        # (1) the count goes odd, then (2) copy_present_pte() reads each page's
        # refcount (page_maybe_dma_pinned). Pairs with: gup_fast's pin, then its
        # re-read of the count (read_seqcount_retry). A store then a load on
        # each side: only a full barrier on both orders it. The kernel has
        # smp_wmb() here (and the pte lock's acquire below): x86 and ARMv7
        # (whose spin_lock ends in dmb) order it anyway, arm64 and powerpc do
        # not (tests/kernel/test_weak_barriers.py). The protection
        # fork:write_protect_seq-smp_mb adds the full barrier.
        yield from raw_write_seqcount(mm.write_protect_seq, begin=True)
        if k.design.enabled("fork:write_protect_seq-smp_mb"):
            yield Fence("mb")
    ret, addr = 0, vma.start
    while addr < vma.end and not ret:
        nxt = min(vma.end, (addr + geo.size("pmd")) & geo.mask("pmd"))
        table, i = k.pmd_slot(mm, addr, create=False)
        pmd = yield from read_entry(k, table, i, "copy_pmd_range")
        if not enc.pmd_none(pmd) and not enc.pmd_huge(pmd):   # MODEL: no copy_huge_pmd
            ret = yield from copy_pte_range(k, t, vma, lower_table(k, pmd),
                                            _child_ptes(k, child, addr), addr, nxt)
        addr = nxt
    if seq:
        yield from raw_write_seqcount(mm.write_protect_seq, begin=False)
    return ret


def fork(k, t, child):
    """dup_mmap(child, current->mm): 0 or -errno."""
    mm = t.mm
    yield from down_write(mm.mmap_sem)
    ret = 0
    for vma, cvma in zip(mm.vmas, child.vmas):
        present = yield Load(vma.cell, reg="vma")
        yield Branch("vma")
        if not present:
            continue
        yield Store(cvma.vm_write, (yield Load(vma.vm_write, reg="vm_write")), data="vm_write")
        yield Store(cvma.cell, True)                  # vma_link into the child
        if vma.shared and not vma.anon:
            continue          # "Don't copy ptes where a page fault will fill them"
        ret = yield from copy_page_range(k, t, child, vma)
        if ret:
            break
    yield from flush_tlb_range(k, t.cpu, 0, k.geo.task_size)    # flush_tlb_mm(oldmm)
    yield from up_write(mm.mmap_sem)
    return ret


__all__ = ["EARLY_COW", "prepare_child_mm", "page_maybe_dma_pinned",
           "page_try_dup_anon_rmap", "copy_present_page", "ptep_set_wrprotect",
           "copy_present_pte", "copy_pte_range", "raw_write_seqcount", "copy_page_range",
           "fork"]
