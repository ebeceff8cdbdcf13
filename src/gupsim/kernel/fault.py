"""Page faults and copy-on-write: mm/memory.c handle_mm_fault -> __handle_mm_fault ->
handle_pte_fault, do_anonymous_page, do_fault (do_read_fault / do_cow_fault /
do_shared_fault), do_wp_page (wp_page_reuse / wp_page_copy).

The mm era (``Kernel(mm_era="4.8")``; by default the last release of the
design's year, see ``VERSIONS_BY_YEAR``) selects what changed over the years:

* the reuse decision of do_wp_page on an anonymous page:
  before v5.9, reuse when the page is mapped once (reuse_swap_page: page_mapcount
  == 1); from v5.9 (commit 09854ba94c6a, "mm: do_wp_page() simplification")
  only when page_count == 1, so a GUP reference forces a copy; from v5.19
  (David Hildenbrand's anon-exclusive series, "mm: remember exclusively
  mapped anonymous pages with PG_anon_exclusive") reuse when
  PageAnonExclusive, else when page_count == 1 (and mark it exclusive again);
* v5.19 FAULT_FLAG_UNSHARE (``unshare``): a read-only FOLL_PIN of a shared
  anon page copies or reuses it as a write fault would, but leaves the pte
  read-only;
* gup/slow.py reads it for FOLL_COW (v4.9) and the v6.0 anon-exclusive
  can_follow_write_pte; fork.py for the early COW of pinned pages.

Protection scheme: every pte update happens under the page-table lock after
re-checking the pte the fault started from (pte_same); COW (1) clears the old
pte and flushes the TLB, then (2) installs the copy. Pairs with: gup_fast,
which reads ptes without the lock and re-checks them after taking its
reference.

MODEL: returns vm_fault_t bits from __handle_mm_fault (handle_mm_fault itself
turns them into 0 / -errno, the arch fault handler's view, which is what
mmops.do_fault and callers of the model expect); no huge-pmd faults, swap,
NUMA hinting, userfaultfd, KSM, page lock, page_mkwrite or dirty accounting;
an access fault (present pte, no write needed) just returns 0.
"""

from __future__ import annotations

from functools import lru_cache

from ..errors import UsageError
from ..ops import Branch, Fence, Load, Note, Rmw, Store
from .cpu import flush_tlb_range
from .filemap import PageAnon, filemap_fault
from .mm import EFAULT, ENOMEM, spin_lock, spin_unlock
from .page import alloc_page, get_page, put_page
from .pagetable import PAGE_SIZE, entry_regs, lower_table, read_entry, through_entry, write_entry, xchg_entry

ZERO_PFN = 4095
"""my_zero_pfn(): the frame of empty_zero_page (outside the allocator's range)."""

VM_FAULT_OOM, VM_FAULT_SIGBUS, VM_FAULT_WRITE, VM_FAULT_SIGSEGV = 0x1, 0x2, 0x8, 0x40
VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV

VERSIONS_BY_YEAR = {
    2008: "2.6.28", 2009: "2.6.32", 2010: "2.6.37", 2011: "3.2", 2012: "3.7",
    2013: "3.12", 2014: "3.18", 2015: "4.3", 2016: "4.9", 2017: "4.14", 2018: "4.20",
    2019: "5.4", 2020: "5.10", 2021: "5.15", 2022: "6.1", 2023: "6.6", 2024: "6.12",
}
"""The last release of each year: the default mm era of a design of that year."""


@lru_cache(maxsize=None)
def parse_version(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.removeprefix("v").split("."))
    except ValueError:
        raise UsageError(f"mm_era={text!r}: expected a kernel version such as 4.8, "
                         "5.9 or 6.12") from None


def mm_version(era: str | None, design_year: int) -> tuple[int, ...]:
    """The mm side's kernel version: ``era`` or the design year's release."""
    if era is None:
        years = [y for y in VERSIONS_BY_YEAR if y <= design_year] or [min(VERSIONS_BY_YEAR)]
        era = VERSIONS_BY_YEAR[max(years)]
    return parse_version(str(era))


def mm_since(k, version: str) -> bool:
    """Does the modelled mm include the change merged in ``version``?"""
    return k.mm_era >= parse_version(version)


# --- entries and new pages ----------------------------------------------------------

def mk_pte(k, pfn, write, dirty, special=False):
    """mk_pte() + pte_mkdirty()/maybe_mkwrite(); young (just accessed)."""
    return k.enc.mk(pfn, present=True, user=True, write=write, young=True, dirty=dirty,
                    special=special)


def pte_modify(k, v, **flags):
    """pte_wrprotect()/pte_mkwrite()/pte_mkdirty(): ``v`` with some flags changed."""
    now = {n: k.enc.flag(v, n) for n in k.enc.bit}
    now.update(flags)
    return k.enc.mk(k.enc.pfn(v), **now)


def copy_user_highpage(k, dst, src):
    """The page contents: (1) read the old page, (2) write the new one (a data
    dependency)."""
    v = yield Load(k.data(src), reg="copy")
    yield Store(k.data(dst), v, data="copy")


def prep_new_anon_page(k, pfn):
    """The new page's struct page before set_pte_at publishes it: count 1,
    page_add_new_anon_rmap() (mapcount 0, PageAnon, PageAnonExclusive from
    v5.19). MODEL: a private page; nobody can see these stores yet."""
    yield Store(k.count(pfn), 1)
    yield Store(k.mapcount(pfn), 0)
    yield Store(k.mapping(pfn), "anon")
    if mm_since(k, "5.19"):
        yield Store(k.anon_exclusive(pfn), True)


def finish_fault(k, t, ptes, j, pfn, entry, file_rmap, data=()):
    """Install ``entry`` if the pte is still none (page_add_file_rmap for a
    page-cache page; a new anon page was prepared already), else drop the
    page (raced with another fault). Takes and drops the page-table lock.
    ``data``: the registers ``entry`` was computed from (VM_WRITE)."""
    lock = t.mm.page_table_lock
    yield from spin_lock(lock)
    installed = k.enc.pte_none((yield from read_entry(k, ptes, j, "finish_fault")))
    if installed:
        if not file_rmap:
            # (1) the new page is initialised (its zeroing and struct page),
            # smp_wmb() (__SetPageUptodate), then (2) set_pte_at().
            # Pairs with: gup_fast's lockless pte read, then the struct page
            # and the page's contents through it (address dependencies).
            if k.design.enabled("fault:smp_wmb"):
                yield Fence("wmb")
        yield from write_entry(k, ptes, j, entry, data=data)
        if file_rmap:
            yield Rmw(k.mapcount(pfn), "add", 1, order="once")
    yield from spin_unlock(lock)
    if not installed:
        yield from put_page(k, pfn)
    return 0


# --- __handle_mm_fault ------------------------------------------------------------------

def walk_to_pmd(k, t, addr, what):
    """pgd_offset .. pmd_offset with READ_ONCEs; returns (table, index, pmd), table
    None when an upper level is empty."""
    geo, enc = k.geo, k.enc
    table, above = t.mm.pgd, ()
    for level in geo.present[1:]:
        i = geo.index(table.level, addr)
        # each table is found through the entry above (an address dependency)
        v = yield from read_entry(k, table, i, what, reg=table.level, addr=above)
        above = entry_regs(table.level, table)
        if level == "pte":
            return table, i, v
        if enc.pmd_none(v):
            return None, i, v      # MODEL: upper levels are populated at VMA setup
        table = lower_table(k, v)
    raise AssertionError("unreachable")


def pte_alloc_one(k, t):
    """pte_alloc_one(): a page-table page for ``current`` (``t``), zeroed
    (GFP_PGTABLE_USER has __GFP_ZERO), or None.

    The zeroing is a run of plain stores to the frame; nothing orders them
    before the store that later publishes the table but the smp_wmb() in
    __pte_alloc() (fault:pte_alloc-smp_wmb).
    MODEL: a table page from the setup pool is already zero in the initial
    memory; only a frame the scenario recycled (Kernel.recycle_table: its
    old contents read as entries) has its zeroing as stores, so every other
    scenario's fault path is as short as before."""
    new = t.alloc_table()
    if new is not None and new.pfn in k.recycled_tables:
        for j in range(new.nentries):
            yield from write_entry(k, new, j, 0)     # clear_page()
    return new


def __pte_alloc(k, t, table, i):
    """A pte table for an empty pmd; returns the pmd, or None (-ENOMEM)."""
    enc, lock = k.enc, t.mm.page_table_lock
    new = yield from pte_alloc_one(k, t)
    if new is None:
        return None
    yield from spin_lock(lock)
    now = yield from read_entry(k, table, i, "__pte_alloc")
    if enc.pmd_none(now):
        # (1) the empty table is initialised (pte_alloc_one's zeroing),
        # smp_wmb() (pmd_install), then (2) the pmd is populated.
        # Pairs with: gup_fast's lockless pmd read, then its pte read through
        # the new pmd (an address dependency).
        if k.design.enabled("fault:pte_alloc-smp_wmb"):
            yield Fence("wmb")
        now = enc.mk_table(new.pfn)
        yield from write_entry(k, table, i, now)
    yield from spin_unlock(lock)
    return now


def __handle_mm_fault(k, t, vma, addr, write, unshare=False):
    """The fault at ``addr`` in ``vma``: vm_fault_t bits (VM_FAULT_WRITE when
    do_wp_page broke COW or reused the page). ``unshare``: FAULT_FLAG_UNSHARE
    (v5.19), make the anon page exclusive without making the pte writable."""
    table, i, pmd = yield from walk_to_pmd(k, t, addr, "__handle_mm_fault")
    if table is None:
        return VM_FAULT_SIGSEGV
    if k.enc.pmd_none(pmd):
        pmd = yield from __pte_alloc(k, t, table, i)
        if pmd is None:
            return VM_FAULT_OOM
    if k.enc.pmd_huge(pmd):
        return VM_FAULT_SIGSEGV      # MODEL: no huge-pmd fault paths (COW, NUMA)
    ptes = lower_table(k, pmd)
    return (yield from handle_pte_fault(k, t, vma, addr, ptes, k.geo.index("pte", addr),
                                        write, unshare, entry_regs(table.level, table)))


def handle_mm_fault(k, t, vma, addr, write):
    """handle_mm_fault() as the arch fault handler sees it: 0 or -errno."""
    return vm_fault_to_errno((yield from __handle_mm_fault(k, t, vma, addr, write)))


def vm_fault_to_errno(ret):
    if ret & VM_FAULT_OOM:
        return -ENOMEM
    if ret & VM_FAULT_ERROR:
        return -EFAULT
    return 0


def handle_pte_fault(k, t, vma, addr, ptes, j, write, unshare=False, pmd_regs=()):
    """``pmd_regs``: the registers of the pmd the pte table was found through."""
    enc, lock = k.enc, t.mm.page_table_lock
    pte = yield from read_entry(k, ptes, j, "handle_pte_fault", reg="pte", addr=pmd_regs)
    if enc.pte_none(pte):
        if vma.anon:
            return (yield from do_anonymous_page(k, t, vma, addr, ptes, j, write))
        return (yield from do_fault(k, t, vma, addr, ptes, j, write))
    if not (write or unshare) or enc.pte_write(pte):
        return 0                     # MODEL: no young/dirty updates on access
    yield from spin_lock(lock)
    if pte != (yield from read_entry(k, ptes, j, "handle_pte_fault", reg="pte",
                                     addr=pmd_regs)):
        yield from spin_unlock(lock)   # !pte_same(): someone else handled it
        return 0
    return (yield from do_wp_page(k, t, vma, addr, ptes, j, pte, unshare))


def do_anonymous_page(k, t, vma, addr, ptes, j, write):
    """Read: map the zero page (a special, read-only pte). Write: a new zeroed
    page, mapped writable if VM_WRITE (maybe_mkwrite)."""
    if not write:
        entry = mk_pte(k, k.zero_pfn, write=False, dirty=False, special=True)
        yield Note(f"read fault at {addr:#x}: map the zero page")
        lock = t.mm.page_table_lock
        yield from spin_lock(lock)
        if k.enc.pte_none((yield from read_entry(k, ptes, j, "do_anonymous_page"))):
            yield from write_entry(k, ptes, j, entry)
        yield from spin_unlock(lock)
        return 0
    pfn = yield from alloc_page(k, t)
    if pfn is None:
        return VM_FAULT_OOM
    yield Store(k.data(pfn), 0)          # alloc_zeroed_user_highpage
    yield from prep_new_anon_page(k, pfn)
    writable = yield Load(vma.vm_write, reg="vm_write")
    return (yield from finish_fault(k, t, ptes, j, pfn, mk_pte(k, pfn, writable, True),
                                    False, "vm_write"))


# --- file faults (mm/memory.c do_fault, 2014+ split by Kirill Shutemov) ---------------

def do_fault(k, t, vma, addr, ptes, j, write):
    if not write:
        return (yield from do_read_fault(k, t, vma, addr, ptes, j))
    if not vma.shared:
        return (yield from do_cow_fault(k, t, vma, addr, ptes, j))
    return (yield from do_shared_fault(k, t, vma, addr, ptes, j))


def do_read_fault(k, t, vma, addr, ptes, j):
    """Map the page-cache page read-only (the lookup's reference becomes the
    mapping's)."""
    pfn = yield from filemap_fault(k, vma, addr)
    if pfn is None:
        return VM_FAULT_SIGBUS
    return (yield from finish_fault(k, t, ptes, j, pfn, mk_pte(k, pfn, False, False), True))


def do_cow_fault(k, t, vma, addr, ptes, j):
    """A write to a private file mapping: copy the page-cache page into a new
    anonymous page, mapped dirty (and writable only if VM_WRITE)."""
    new = yield from alloc_page(k, t)
    if new is None:
        return VM_FAULT_OOM
    pfn = yield from filemap_fault(k, vma, addr)
    if pfn is None:
        return VM_FAULT_SIGBUS
    yield from copy_user_highpage(k, new, pfn)
    yield from prep_new_anon_page(k, new)
    yield from put_page(k, pfn)           # the lookup's reference
    writable = yield Load(vma.vm_write, reg="vm_write")
    return (yield from finish_fault(k, t, ptes, j, new, mk_pte(k, new, writable, True),
                                    False, "vm_write"))


def do_shared_fault(k, t, vma, addr, ptes, j):
    """A write to a shared file mapping: map the page-cache page writable and
    dirty. MODEL: no ->page_mkwrite, no balance_dirty_pages."""
    pfn = yield from filemap_fault(k, vma, addr)
    if pfn is None:
        return VM_FAULT_SIGBUS
    writable = yield Load(vma.vm_write, reg="vm_write")
    return (yield from finish_fault(k, t, ptes, j, pfn, mk_pte(k, pfn, writable, True), True,
                                    "vm_write"))


# --- do_wp_page: a write to a present, read-only pte -------------------------------------

def do_wp_page(k, t, vma, addr, ptes, j, pte, unshare=False):
    """Called with the page-table lock held and ``pte`` current; drops it.
    ``unshare`` (a read pin of a shared anon page, v5.19): copy or reuse as
    for a write, but leave the pte read-only; nothing to do for other pages."""
    enc, lock = k.enc, t.mm.page_table_lock
    pfn = enc.pte_pfn(pte)
    regs = entry_regs("pte", ptes)        # vmf->page = vm_normal_page(vma, addr, pte)
    special = enc.pte_special(pte) or pfn == k.zero_pfn   # vm_normal_page() is NULL
    if not special and (yield from through_entry(regs, PageAnon(k, pfn))):
        reuse = yield from through_entry(regs, wp_can_reuse_anon_page(k, pfn))
    else:
        reuse = vma.shared or unshare   # wp_page_shared; unshare: no anon page, done
    if reuse:
        if unshare:
            yield from spin_unlock(lock)
            return 0
        return (yield from wp_page_reuse(k, t, vma, ptes, j, pte))   # or wp_page_shared
    if not special:
        yield from through_entry(regs, get_page(k, pfn))   # old_page stays ours
    yield from spin_unlock(lock)
    return (yield from wp_page_copy(k, t, vma, addr, ptes, j, pte,
                                    None if special else pfn, unshare))


def wp_can_reuse_anon_page(k, pfn):
    """The era's rule for writing to an anon page in place (see the module
    docstring). Under the page-table lock, which GUP-fast never takes: (1) the
    count is read here, then (2) the page is reused; a read-only gup_fast may
    take a reference in between, and keeps a page this mm goes on writing to
    (what the pinner wants). Pairs with: gup_fast (try_grab_folio_fast)."""
    if mm_since(k, "5.19"):
        exclusive = yield Load(k.anon_exclusive(pfn), reg="PageAnonExclusive")
        yield Branch("PageAnonExclusive")
        if exclusive:
            return True
        count = yield Load(k.count(pfn), reg="page_count")
        yield Branch("page_count")
        if count != 1:
            return False
        yield Store(k.anon_exclusive(pfn), True)      # page_move_anon_rmap
        return True
    if mm_since(k, "5.9"):
        count = yield Load(k.count(pfn), reg="page_count")
        yield Branch("page_count")
        return count == 1
    mapcount = yield Load(k.mapcount(pfn), reg="page_mapcount")
    yield Branch("page_mapcount")                      # reuse_swap_page()
    return mapcount == 0


def wp_page_reuse(k, t, vma, ptes, j, pte):
    """Write in place: pte_mkdirty + maybe_mkwrite (writable only if VM_WRITE:
    a FOLL_FORCE write to a read-only mapping leaves the pte read-only)."""
    writable = yield Load(vma.vm_write, reg="vm_write")
    yield from write_entry(k, ptes, j, pte_modify(k, pte, dirty=True, write=writable),
                           data=("vm_write", *entry_regs("pte", ptes)))
    yield from spin_unlock(t.mm.page_table_lock)
    return VM_FAULT_WRITE


def wp_page_copy(k, t, vma, addr, ptes, j, orig, old, unshare=False):
    """Break COW: copy ``old`` (None: the zero page) into a new anon page and
    install it (read-only and clean for an unshare); the old page loses this
    mapping and its reference."""
    new = yield from alloc_page(k, t)
    if new is None:
        if old is not None:
            yield from put_page(k, old)
        return VM_FAULT_OOM
    regs = entry_regs("pte", ptes)        # old_page = vm_normal_page(vma, addr, orig)
    if old is None:
        yield Store(k.data(new), 0)
    else:
        yield from through_entry(regs, copy_user_highpage(k, new, old))
    yield from prep_new_anon_page(k, new)
    writable = not unshare and (yield Load(vma.vm_write, reg="vm_write"))
    lock = t.mm.page_table_lock
    yield from spin_lock(lock)
    copied = orig == (yield from read_entry(k, ptes, j, "wp_page_copy"))
    if copied:
        # (1) ptep_clear_flush(): clear the old pte and flush the TLB, then (2)
        # set_pte_at() the copy. Pairs with: gup_fast (pte read, ref, re-read).
        yield from xchg_entry(k, ptes, j, 0, branch=False)
        yield from flush_tlb_range(k, t.cpu, addr, addr + PAGE_SIZE)
        yield from write_entry(k, ptes, j, mk_pte(k, new, writable, not unshare),
                               data=() if unshare else "vm_write")
        if old is not None:
            yield Rmw(k.mapcount(old), "sub", 1, order="once", addr=regs)  # page_remove_rmap
    yield from spin_unlock(lock)
    if copied and old is not None:
        yield from put_page(k, old, addr=regs)   # the old mapping's reference
    if not copied:
        yield from put_page(k, new)
    if old is not None:
        yield from put_page(k, old, addr=regs)   # do_wp_page's get_page()
    return VM_FAULT_WRITE if copied and not unshare else 0


__all__ = ["ZERO_PFN", "VM_FAULT_OOM", "VM_FAULT_SIGBUS", "VM_FAULT_WRITE",
           "VM_FAULT_SIGSEGV", "VM_FAULT_ERROR", "VERSIONS_BY_YEAR", "parse_version",
           "mm_version", "mm_since", "mk_pte", "pte_modify", "copy_user_highpage",
           "prep_new_anon_page", "finish_fault", "walk_to_pmd", "pte_alloc_one", "__handle_mm_fault", "handle_mm_fault",
           "vm_fault_to_errno", "handle_pte_fault", "do_anonymous_page", "do_fault",
           "do_read_fault", "do_cow_fault", "do_shared_fault", "do_wp_page",
           "wp_can_reuse_anon_page", "wp_page_reuse", "wp_page_copy"]
