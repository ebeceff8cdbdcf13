"""The page cache: mm/filemap.c (2008 lockless pagecache and later), include/linux/pagemap.h.

One ``address_space`` per file: its slots (the radix tree, today the
``i_pages`` xarray) are cells holding a pfn or None, and ``tree_lock``
(``mapping->tree_lock``, today the xa_lock) serialises the writers.

* find_get_page(): Nick Piggin's lockless lookup (v2.6.27, commit
  e286781d5f2e "mm: speculative page references" and its series): under
  rcu_read_lock, (1) read the slot, (2) page_cache_get_speculative() -- which
  fails on a page whose count already reached zero -- then (3) re-read the slot
  and drop the reference if the page moved ("Has the page moved?").
  Pairs with: delete_from_page_cache() (clear the slot, then drop the cache's
  reference) and reclaim's page_freeze_refs().
* add_to_page_cache() / delete_from_page_cache(): under tree_lock; the
  page cache holds one reference on each cached page, and ``page->mapping``
  names the file (PageAnon() is "mapping is anon").
* filemap_fault(): the ->fault handler of a file mapping, a cache lookup.

Protection scheme: readers are lockless (speculative reference + re-check of
the slot); writers take tree_lock.

MODEL: every page of a file is cached at setup (no readahead, no I/O, no
PG_locked / PG_uptodate, no page->index beyond the slot number); vm_pgoff is
0 (page i of a VMA maps file page i); a lookup beyond the file is
VM_FAULT_SIGBUS.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..ops import Branch, Load, Note, SpinHint, Store
from .mm import spin_lock, spin_unlock
from .page import get_page, page_cache_get_speculative, put_page
from .pagetable import PAGE_SHIFT

EEXIST = 17


@dataclass(frozen=True)
class AddressSpace:
    """struct address_space of one file: ``nr_pages`` slots and the tree_lock."""

    id: int
    nr_pages: int

    @property
    def name(self) -> str:
        return f"file{self.id}"

    def slot(self, index: int) -> str:
        """Cell: the page-cache slot of file page ``index`` (pfn or None)."""
        return f"{self.name}.i_pages[{index}]"

    @property
    def tree_lock(self) -> str:
        return f"{self.name}.tree_lock"


# --- setup time (plain Python, before threads run) ----------------------------------

def setup_file(k, nr_pages: int) -> AddressSpace:
    """A file with every page cached: count 1 (the page cache's reference),
    mapping = the file, contents ``"file<N>[<i>]"``."""
    f = AddressSpace(len(k.files), nr_pages)
    k.files.append(f)
    k.memory[f.tree_lock] = 0
    for i in range(nr_pages):
        pfn = k.alloc_pages(1)
        k.memory[k.count(pfn)] = 1
        k.memory[k.mapping(pfn)] = f.name
        k.memory[k.data(pfn)] = f"{f.name}[{i}]"
        k.memory[f.slot(i)] = pfn
    return f


def setup_file_vma(k, mm, start, end, f: AddressSpace, write, shared, populate):
    """mmap(f) at [start, end); ``populate``: read faults already happened
    (read-only ptes to the cached pages, page_add_file_rmap)."""
    v = k.add_vma(mm, start, end, write)
    v = replace(v, anon=False, shared=shared, file=f.id)
    mm.vmas[-1] = v
    if populate:
        for addr in range(start, end, 1 << PAGE_SHIFT):
            pfn = k.memory[f.slot(file_index(v, addr))]
            t, i = k.pte_slot(mm, addr)
            k.set_entry(t, i, k.enc.mk_pte(pfn, write=False))
            k.memory[k.count(pfn)] += 1
            k.memory[k.mapcount(pfn)] += 1
    return v


def file_index(vma, addr: int) -> int:
    """linear_page_index(): the file page ``addr`` maps (vm_pgoff 0)."""
    return (addr - vma.start) >> PAGE_SHIFT


def mapping_of(k, vma) -> AddressSpace:
    """vma->vm_file->f_mapping."""
    return k.files[vma.file]


# --- run time -------------------------------------------------------------------------

def find_get_page(k, mapping: AddressSpace, index: int):
    """The lockless lookup: a referenced pfn, or None if not cached."""
    if index >= mapping.nr_pages:
        return None
    slot = mapping.slot(index)
    while True:
        yield SpinHint("find_get_page: repeat")
        # (1) radix_tree_deref_slot(), then (2) the speculative reference, then
        # (3) the slot again. Pairs with: delete_from_page_cache().
        pfn = yield Load(slot)
        if pfn is None:
            return None
        if not (yield from page_cache_get_speculative(k, pfn)):
            continue
        if (yield Load(slot)) == pfn:
            return pfn
        yield from put_page(k, pfn)


def add_to_page_cache(k, pfn: int, mapping: AddressSpace, index: int):
    """add_to_page_cache_locked(): 0, or -EEXIST if the slot is taken."""
    yield from spin_lock(mapping.tree_lock)
    old = yield Load(mapping.slot(index))
    if old is not None:
        yield from spin_unlock(mapping.tree_lock)
        return -EEXIST
    yield from get_page(k, pfn)                       # the page cache's reference
    yield Store(k.mapping(pfn), mapping.name)
    yield Store(mapping.slot(index), pfn)
    yield from spin_unlock(mapping.tree_lock)
    return 0


def delete_from_page_cache(k, pfn: int, mapping: AddressSpace, index: int):
    """(1) clear the slot and page->mapping under tree_lock, then (2) drop the
    cache's reference (page_cache_release). MODEL: the caller has unmapped
    the page (truncate_inode_pages does so first).
    Pairs with: find_get_page() (speculative ref, then slot re-check)."""
    yield from spin_lock(mapping.tree_lock)
    yield Store(mapping.slot(index), None)
    yield Store(k.mapping(pfn), None)
    yield from spin_unlock(mapping.tree_lock)
    yield from put_page(k, pfn)


def filemap_fault(k, vma, addr):
    """vma->vm_ops->fault for a file mapping: the referenced page-cache page,
    or None (VM_FAULT_SIGBUS: beyond the file)."""
    mapping, index = mapping_of(k, vma), file_index(vma, addr)
    pfn = yield from find_get_page(k, mapping, index)
    if pfn is not None:
        yield Note(f"page {pfn} is {mapping.name} page {index}")
    return pfn


def PageAnon(k, pfn):
    """PageAnon(): page->mapping is an anon_vma (a load of page->mapping);
    every caller tests it (a control dependency)."""
    mapping = yield Load(k.mapping(pfn), reg="PageAnon")
    yield Branch("PageAnon")
    return mapping == "anon"


__all__ = ["AddressSpace", "EEXIST", "setup_file", "setup_file_vma", "file_index",
           "mapping_of", "find_get_page", "add_to_page_cache", "delete_from_page_cache",
           "filemap_fault", "PageAnon"]
