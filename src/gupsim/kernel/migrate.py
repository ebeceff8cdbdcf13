"""Page migration of one anonymous page: mm/migrate.c migrate_pages ->
unmap_and_move -> __unmap_and_move, mm/rmap.c try_to_unmap_one (TTU_MIGRATION)
and remove_migration_pte; v4.x to v6.x (folio names since v5.16, same steps).

1. isolate_lru_page(): the migration's own reference;
2. try_to_unmap(): under the page-table lock, ptep_clear_flush() (clear the
   pte and flush the TLBs), then set_pte_at() a migration entry (a non-present
   swap entry naming the old pfn), page_remove_rmap() and put_page() of the
   mapping's reference;
3. move_to_new_page() -> migrate_page() -> migrate_page_move_mapping(): an
   anonymous page without a mapping (no swap cache) must have exactly the
   expected count, the isolation reference (page_count(page) != expected_count
   -> -EAGAIN; page_ref_freeze() is used only when there is a mapping);
4. migrate_page_copy(): copy the contents to the new page;
5. remove_migration_ptes(): each migration entry becomes a pte of the new page
   (or, after -EAGAIN, of the old one again);
6. put_page() of the isolation reference: the old page goes back to the
   allocator; the new page's allocation reference is dropped.

Protection scheme: (1) the ptes become non-present migration entries, then
(2) the count is compared with the expected one. A lockless GUP-fast either
took its reference before (2), and the migration fails with -EAGAIN, or read
the pte before (1) and re-reads it after taking the reference (the pte recheck),
or runs with IRQs off and holds the flush in (1) off (IPI arches).
GUP-fast declines a migration entry: it is not pte_present (gup_pte_range
returns 0 and the slow path waits in migration_entry_wait).

MODEL: one attempt (migrate_pages retries -EAGAIN up to 10 times); the page
lock, the anon_vma lock and the LRU are not modelled; the page is mapped by
one pte of the task's mm (rmap_walk visits that pte only); a migration entry
is the pfn with no flag set (non-present, non-none).
"""

from __future__ import annotations

from ..ops import Branch, Fence, Load, Note, Rmw, Store
from .cpu import flush_tlb_page
from .mm import EAGAIN, ENOMEM, spin_lock, spin_unlock
from .page import alloc_page, get_page, put_page
from .pagetable import entry_regs, read_entry, write_entry, xchg_entry

MIGRATEPAGE_SUCCESS = 0


def make_migration_entry(k, pfn: int) -> int:
    """swp_entry_to_pte(make_migration_entry(page, write)): non-present."""
    return k.enc.mk(pfn)


def is_migration_entry(k, pte) -> bool:
    return isinstance(pte, int) and pte != 0 and not k.enc.pte_present(pte)


def try_to_unmap(k, t, pfn, ptes, j, addr):
    """try_to_unmap_one(TTU_MIGRATION) on the pte at ``ptes[j]`` (mapping
    ``addr``): returns the old pte.

    (1) clear the pte and flush, then (2) install the migration entry.
    Pairs with: gup_pte_range (read pte, take a reference, re-read the pte)."""
    yield from spin_lock(t.mm.page_table_lock)
    old = yield from xchg_entry(k, ptes, j, 0, reg="pteval")    # ptep_clear_flush
    yield from flush_tlb_page(k, t.cpu, t.mm, addr)
    yield from write_entry(k, ptes, j, make_migration_entry(k, pfn))
    yield Rmw(k.mapcount(pfn), "sub", 1, order="once")          # page_remove_rmap
    yield from spin_unlock(t.mm.page_table_lock)
    yield from put_page(k, pfn)                                 # the mapping's ref
    return old


def migrate_page_move_mapping(k, pfn, expected_count=1):
    """Anonymous page without a mapping: 0 or -EAGAIN.

    (2) read the count after (1) the ptes became migration entries.
    Pairs with: try_get_folio / get_page_unless_zero in gup_pte_range."""
    count = yield Load(k.count(pfn), reg="folio_ref_count")
    yield Branch("folio_ref_count")
    if count != expected_count:
        yield Note(f"migrate_page_move_mapping: page {pfn} count {count}, expected "
                   f"{expected_count}: -EAGAIN")
        return -EAGAIN
    return MIGRATEPAGE_SUCCESS


def migrate_page_copy(k, new, old):
    """copy_highpage(): the contents move to the new page.

    (2) the count check, then (3) the copy's reads of the old page. Pairs
    with: a GUP user's store through its reference, then its put_page() (fully
    ordered), which the check saw. Nothing in the kernel orders the two reads
    (a control dependency does not order loads on arm64 or powerpc): under
    armv8, power and lkmm the copy may miss that store
    (tests/kernel/test_memory_scenarios.py). The protection migrate:smp_rmb,
    not in any kernel, adds the read barrier."""
    if k.design.enabled("migrate:smp_rmb"):
        yield Fence("rmb")
    v = yield Load(k.data(old), reg="copy")
    yield Store(k.data(new), v, data="copy")
    # folio_migrate_flags() -> folio_mark_uptodate(): (1) the copy, smp_wmb(),
    # then PG_uptodate, and after it (2) remove_migration_pte() publishes the
    # new page. Pairs with: a GUP-fast walker that reads the new pte and
    # writes through its reference: its store lands after the copy's.
    # MODEL: the flag itself is not modelled.
    if k.design.enabled("migrate:smp_wmb"):
        yield Fence("wmb")


def remove_migration_pte(k, t, ptes, j, old, new, write, write_regs=()):
    """The migration entry for ``old`` becomes a pte mapping ``new``;
    ``write`` (the old pte's write bit) was read into ``write_regs``."""
    yield from spin_lock(t.mm.page_table_lock)
    pte = yield from read_entry(k, ptes, j, "remove_migration_pte")
    if is_migration_entry(k, pte) and k.enc.pte_pfn(pte) == old:
        yield from get_page(k, new)
        yield Rmw(k.mapcount(new), "add", 1, order="once")      # page_add_anon_rmap
        yield from write_entry(k, ptes, j, k.enc.mk_pte(new, write=write), data=write_regs)
    yield from spin_unlock(t.mm.page_table_lock)


def migrate_pages(k, t, addr):
    """Migrate the anonymous page mapped at ``addr`` of ``t.mm`` to a newly
    allocated frame: 0 (MIGRATEPAGE_SUCCESS), -EAGAIN or -ENOMEM."""
    enc = k.enc
    ptes, j = k.pte_slot(t.mm, addr, create=False)
    old = enc.pte_pfn(k.get_entry(ptes, j))
    new = yield from alloc_page(k, t)                           # new_page()
    if new is None:
        return -ENOMEM
    yield Store(k.count(new), 1)                                # set_page_refcounted
    yield Note(f"migrate_pages: page {old} at {addr:#x} -> page {new}")
    yield from get_page(k, old)                                 # isolate_lru_page
    pte = yield from try_to_unmap(k, t, old, ptes, j, addr)
    rc = yield from migrate_page_move_mapping(k, old)
    regs = entry_regs("pteval", ptes)
    if rc == MIGRATEPAGE_SUCCESS:
        yield from migrate_page_copy(k, new, old)
        yield from remove_migration_pte(k, t, ptes, j, old, new, enc.pte_write(pte), regs)
    else:
        yield from remove_migration_pte(k, t, ptes, j, old, old, enc.pte_write(pte), regs)
    yield from put_page(k, old)                 # the isolation reference
    yield from put_page(k, new)                 # the allocation reference
    return rc


__all__ = ["MIGRATEPAGE_SUCCESS", "make_migration_entry", "is_migration_entry",
           "try_to_unmap", "migrate_page_move_mapping", "migrate_page_copy",
           "remove_migration_pte", "migrate_pages"]
