"""GUP slow path: mm/gup.c (mm/memory.c before v3.19): __get_user_pages,
check_vma_flags, follow_page_mask / follow_page_pte, faultin_page.

Runs under mmap_sem held for reading (taken by the caller). Each lookup takes
the page-table lock, so it serialises with munmap (mmap_sem for writing),
reclaim and THP splitting (page_table_lock) instead of racing with them; what
it races with is a zap under mmap_sem for reading (madvise(MADV_DONTNEED))
between its fault and its next lookup.

Flags: FOLL_GET / FOLL_PIN (the reference taken), FOLL_WRITE, FOLL_FORCE
(ptrace and /proc/pid/mem: write to a read-only private mapping by breaking
COW), FOLL_LONGTERM, FOLL_COW. The write-after-COW rule is the mm era's
(``k.mm_era``, see fault.py):

* before v4.9: faultin_page() drops FOLL_WRITE once do_wp_page returned
  VM_FAULT_WRITE on a mapping without VM_WRITE, and looks the page up again as
  a read -- if the COW copy was zapped in between, the read fault maps the
  page-cache page and that is what the "write" gets: Dirty COW
  (CVE-2016-5195);
* v4.9 to v5.19 (commit 19be0eaffa3a, "mm: remove gup_flags FOLL_WRITE games
  from __get_user_pages()"): faultin_page sets FOLL_COW and
  can_follow_write_pte() accepts a read-only pte only if it is dirty (a COW
  happened on it);
* from v6.0 (David Hildenbrand, "mm/gup: fix FOLL_FORCE COW security issue
  and remove FOLL_COW"): a read-only pte is followed for a FOLL_FORCE write
  only if it maps a PageAnonExclusive page of a private mapping.

FOLL_LONGTERM follows v6.5 (Lorenzo Stoakes, "mm/gup: disallow FOLL_LONGTERM
GUP-nonfast writing to file-backed mappings"): a long-term write pin of a
shared file mapping (one that needs dirty tracking) is -EFAULT; earlier eras
accept it (the FS-DAX-only rule of v5.x is not modelled).

Hugetlb VMAs go to follow_hugetlb_page / hugetlb_fault (kernel/hugetlb.py).

Return contract (get_user_pages): the number of pages pinned, a contiguous
prefix of the range; -errno only if not even the first page could be had.

Property (Assert at the access): ``write-pin-on-pagecache``: a write GUP on a
private file mapping never returns a page-cache page.

From v5.19 a read-only FOLL_PIN of an anon page that is not
PageAnonExclusive unshares it first (gup_must_unshare -> FAULT_FLAG_UNSHARE).

MODEL: no VM_IO/PFNMAP, no FOLL_DUMP/FOLL_NOWAIT; the zero page is returned
for reads (and never pinned as exclusive).
"""

from __future__ import annotations

from ...ops import Assert, Await, Branch, Load, Note, Rmw, SpinHint
from ..fault import (VM_FAULT_ERROR, VM_FAULT_WRITE, __handle_mm_fault, handle_mm_fault,
                     mm_since, vm_fault_to_errno, walk_to_pmd)
from ..filemap import PageAnon
from ..mm import EFAULT, spin_lock, spin_unlock
from ..page import FOLL_GET, FOLL_PIN, FOLL_WRITE, GUP_PIN_COUNTING_BIAS, get_page
from ..pagetable import PAGE_SIZE, entry_regs, lower_table, read_entry, through_entry

RETRY = "retry"
UNSHARE = "unshare"
"""follow_page_pte's -EMLINK: the page must be unshared before a read pin."""
FOLL_FORCE = 0x10
FOLL_COW = 0x4000
FOLL_LONGTERM = 0x10000


def find_vma(k, t, addr):
    """find_vma(): the VMA containing addr if it is still in the mm."""
    for vma in t.mm.vmas:
        if vma.start <= addr < vma.end:
            present = yield Load(vma.cell, reg="find_vma")
            yield Branch("find_vma")
            return vma if present else None
    return None


def _grab(k, pfn, flags, regs=()):
    """try_grab_page() / get_page_foll(): the reference the slow path takes.
    ``regs``: the registers of the entry the page was found through; the
    head is found through page->compound_head (an address dependency)."""
    if k.design.thp_refcount_2013:
        head = yield Load(k.head(pfn), reg="compound_head", addr=regs)
        yield Branch("compound_head")
        if head is not None:
            # __get_page_tail_foll(): head _count and tail _mapcount, under the
            # page_table_lock that keeps the split away.
            yield Rmw(k.count(head), "add", 1, order="once", addr="compound_head")
            yield Rmw(k.mapcount(pfn), "add", 1, order="once", addr=regs)
            return
        yield from through_entry(regs, get_page(k, pfn))
        return
    head = yield Load(k.head(pfn), reg="compound_head", addr=regs)
    folio = pfn if head is None else head
    # the count a pin raises is computed from the folio (folio_test_large()):
    # a data dependency on the head link and the entry
    refs = GUP_PIN_COUNTING_BIAS if (flags & FOLL_PIN and folio not in k.large_folios) else 1
    deps = ("compound_head", *regs)
    yield Branch("compound_head")
    yield Rmw(k.count(folio), "add", refs, order="once", addr=deps, data=deps)
    if flags & FOLL_PIN and folio in k.large_folios:
        yield Rmw(f"page[{folio}]._pincount", "add", 1, order="once", addr=deps)


def follow_page_mask(k, t, vma, addr, flags):
    """Returns a referenced pfn, None (fault needed) or RETRY (waited for a split)."""
    enc, lock = k.enc, t.mm.page_table_lock
    write = flags & FOLL_WRITE
    table, i, pmd = yield from walk_to_pmd(k, t, addr, "follow_page_mask")
    if table is None or enc.pmd_none(pmd):
        return None
    if table.level == "pmd" and enc.pmd_huge(pmd):
        yield from spin_lock(lock)
        pmd = yield from read_entry(k, table, i, "follow_trans_huge_pmd", reg="pmd")
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
            pfn = enc.pmd_pfn(pmd) + k.geo.page_in("pmd", addr)
            yield from _grab(k, pfn, flags, entry_regs("pmd", table))
            yield from spin_unlock(lock)
            return pfn
        yield from spin_unlock(lock)
        return RETRY
    return (yield from follow_page_pte(k, t, vma, addr, lower_table(k, pmd), flags,
                                       entry_regs(table.level, table)))


def follow_page_pte(k, t, vma, addr, ptes, flags, pmd_regs=()):
    """``pmd_regs``: the registers of the pmd the pte table was found through."""
    enc, lock = k.enc, t.mm.page_table_lock
    j = k.geo.index("pte", addr)
    yield from spin_lock(lock)
    pte = yield from read_entry(k, ptes, j, "follow_page_pte", reg="pte", addr=pmd_regs)
    regs = entry_regs("pte", ptes)      # page = vm_normal_page(vma, address, pte)
    pfn = None
    if enc.pte_present(pte) and not enc.pte_protnone(pte):
        pfn = enc.pte_pfn(pte)
        if flags & FOLL_WRITE and not (yield from through_entry(
                regs, can_follow_write_pte(k, vma, pte, flags))):
            pfn = None
        elif enc.pte_special(pte) and pfn != k.zero_pfn:
            pfn = None        # vm_normal_page() is NULL and it is not the zero page
        elif not enc.pte_write(pte) and (yield from through_entry(
                regs, gup_must_unshare(k, flags, pfn))):
            pfn = UNSHARE
        if isinstance(pfn, int):
            yield from _grab(k, pfn, flags, regs)
    yield from spin_unlock(lock)
    return pfn


def gup_must_unshare(k, flags, pfn):
    """v5.19: a read-only FOLL_PIN of an anon page that is not
    PageAnonExclusive must unshare it first (a fork may share it), so the
    pin is never on a page another mm maps."""
    if not mm_since(k, "5.19") or flags & (FOLL_WRITE | FOLL_PIN) != FOLL_PIN \
            or pfn == k.zero_pfn or not (yield from PageAnon(k, pfn)):
        return False
    exclusive = yield Load(k.anon_exclusive(pfn), reg="PageAnonExclusive")
    yield Branch("PageAnonExclusive")
    return not exclusive


def can_follow_write_pte(k, vma, pte, flags):
    """May a FOLL_WRITE lookup use this pte? (The era's rule: module docstring.)"""
    enc = k.enc
    if enc.pte_write(pte):
        return True
    if not mm_since(k, "4.9"):
        return False
    if not mm_since(k, "6.0"):
        return bool(flags & FOLL_FORCE and flags & FOLL_COW and enc.flag(pte, "dirty"))
    pfn = enc.pte_pfn(pte)
    if not flags & FOLL_FORCE or vma.shared or enc.pte_special(pte) or pfn == k.zero_pfn:
        return False
    writable = yield Load(vma.vm_write, reg="vm_write")
    yield Branch("vm_write")
    if writable:
        return False
    if not (yield from PageAnon(k, pfn)):
        return False
    exclusive = yield Load(k.anon_exclusive(pfn), reg="PageAnonExclusive")
    yield Branch("PageAnonExclusive")
    return exclusive


def faultin_page(k, t, vma, addr, flags, unshare=False):
    """handle_mm_fault() for a lookup that failed: (0 or -errno, new flags)."""
    ret = yield from __handle_mm_fault(k, t, vma, addr, bool(flags & FOLL_WRITE), unshare)
    if ret & VM_FAULT_ERROR:
        return vm_fault_to_errno(ret), flags
    # do_wp_page broke COW (or reused the page) but left the pte read-only,
    # as VM_WRITE is clear (a FOLL_FORCE write): (1) remember that, then (2)
    # look the page up again. Pairs with: madvise(MADV_DONTNEED) zapping the
    # pte in between (zap_pte_range).
    if ret & VM_FAULT_WRITE and not (yield from _vm_write(vma)):
        if not mm_since(k, "4.9"):
            yield Note("COW broken but VM_WRITE clear: drop FOLL_WRITE, look up as a read")
            flags &= ~FOLL_WRITE
        elif not mm_since(k, "6.0"):
            flags |= FOLL_COW
    return 0, flags


def _vm_write(vma):
    """vma->vm_flags & VM_WRITE, tested (a control dependency)."""
    writable = yield Load(vma.vm_write, reg="vm_write")
    yield Branch("vm_write")
    return writable


def check_vma_flags(k, vma, flags):
    """0, or -EFAULT when the VMA does not allow this access."""
    if vma.hugetlb or not flags & FOLL_WRITE:
        return 0
    if not (yield from _vm_write(vma)) and (not flags & FOLL_FORCE or vma.shared):
        return -EFAULT     # FOLL_FORCE writes only through COW (is_cow_mapping)
    if flags & FOLL_LONGTERM and vma.shared and not vma.anon and mm_since(k, "6.5"):
        return -EFAULT     # !writable_file_mapping_allowed(): needs dirty tracking
    return 0


def follow_hugetlb(k, t, vma, addr, write, flags):
    """The hugetlb branch of __get_user_pages: a referenced pfn or -errno."""
    try:
        from ..hugetlb import follow_hugetlb_page, hugetlb_fault
    except ImportError:
        return -EFAULT
    while True:
        yield SpinHint("__get_user_pages: follow_hugetlb_page / hugetlb_fault")
        r = yield from follow_hugetlb_page(k, t, vma, addr, write, flags)
        if isinstance(r, int):
            return r
        if r == RETRY:
            continue
        ret = yield from hugetlb_fault(k, t, vma, addr, write)
        if ret:
            return ret


def get_user_pages(k, t, start, nr_pages, write, pages, flags=FOLL_GET):
    """__get_user_pages(): caller holds mmap_sem for reading. ``flags`` adds
    FOLL_FORCE / FOLL_LONGTERM / FOLL_PIN to the reference kind."""
    gup_flags = flags | (FOLL_WRITE if write else 0)
    i = 0
    while i < nr_pages:
        addr = start + i * PAGE_SIZE
        vma = yield from find_vma(k, t, addr)
        err = -EFAULT if vma is None else (yield from check_vma_flags(k, vma, gup_flags))
        if err:
            return i if i else err
        if vma.hugetlb:
            r = yield from follow_hugetlb(k, t, vma, addr, bool(write), gup_flags)
            if r < 0:
                return i if i else r
        else:
            r = yield from _follow_or_fault(k, t, vma, addr, gup_flags)
            if r < 0:
                return i if i else r
        pages.append(r)
        i += 1
    return i


def _follow_or_fault(k, t, vma, addr, gup_flags):
    """The retry loop around one page: a referenced pfn or -errno."""
    foll_flags = gup_flags
    while True:
        yield SpinHint("__get_user_pages: follow_page_mask / faultin_page")
        r = yield from follow_page_mask(k, t, vma, addr, foll_flags)
        if isinstance(r, int):
            break
        if r == RETRY:
            continue
        ret, foll_flags = yield from faultin_page(k, t, vma, addr, foll_flags,
                                                  unshare=r == UNSHARE)
        if ret:
            return ret
    if gup_flags & FOLL_WRITE and not vma.anon and not vma.shared:
        # MODEL: the property's own look at the page (for the Assert), not a
        # kernel access: its address names no register.
        mapping = yield Load(k.mapping(r))
        yield Assert(mapping == "anon", "get_user_pages(FOLL_WRITE) on a private file "
                     "mapping returned a page-cache page (PageAnon() is false): the write "
                     "goes to the file, not to a COW copy (Dirty COW, CVE-2016-5195)",
                     page=r, mapping=mapping, name="write-pin-on-pagecache")
    return r


__all__ = ["find_vma", "follow_page_mask", "follow_page_pte", "can_follow_write_pte",
           "faultin_page", "check_vma_flags", "handle_mm_fault", "get_user_pages",
           "gup_must_unshare", "RETRY", "UNSHARE", "FOLL_FORCE", "FOLL_COW", "FOLL_LONGTERM"]
