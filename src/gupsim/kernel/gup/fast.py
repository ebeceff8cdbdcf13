"""GUP-fast: the lockless page-table walk, one walker for every design.

Models arch/x86/mm/gup.c (2008, THP 2011), its ARM copy (the 2013 seed RFC),
arch/powerpc/mm/gup.c (2008), mm/gup.c's generic RCU walker (Steve Capper,
v3.19, 2014) and today's mm/gup.c (gup_fast*, try_grab_folio_fast). The
design (gup/designs.py) picks the walker shape and which protections are in
force; the code below asks ``k.design.enabled(...)`` at each one.

The problem: the walk takes no lock, while munmap frees the page tables it
walks, reclaim frees the pages it references and THP splitting rewrites the
pmd and moves the references it takes. The protection schemes:

1. IRQs off + an IPI that the other side waits for (x86 TLB shootdown,
   kick_all_cpus_sync(), tlb_remove_table_sync_one()): the freer/splitter
   cannot get past its IPI while the walker is inside the IRQs-off region.
2. RCU table freeing: page-table pages are freed after a grace period, which
   an IRQs-off region holds off; the walker must then cope with entries
   changing under it: speculative references that fail on a zero count, and
   re-reads of the pte/pmd (and of page_folio()) after the reference.
3. The readers counter (2013 proposal): the splitter waits for zero readers
   after publishing the splitting pmd; each side has a full barrier between
   its write and its read.

Assumptions: an entry read is single-copy atomic except on split-entry arches
(x86 PAE, handled by gup_get_pte's retry loop in the x86 shape); the arch's
flush and table freeing match one of the schemes above
(``Arch.assumption_violations``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...ops import AddrScope, Assert, Branch, Fence, IrqDisable, IrqEnable, Load, Rmw, SpinHint
from ..page import (FOLL_GET, FOLL_PIN, GUP_PIN_COUNTING_BIAS, HEAD, compound_head,
                    folio_put_refs, get_head_page_multiple, get_huge_page_tail, get_page,
                    page_cache_add_speculative, page_cache_get_speculative, put_page)
from ..pagetable import PAGE_SIZE, POISON, entry_regs, join_halves, lower_table, read_entry
from .slow import gup_must_unshare


@dataclass
class Walk:
    """The walker's private state: flags, the pages array and *nr."""

    write: bool
    flags: int = FOLL_GET
    pages: list[int] = field(default_factory=list)
    regs: dict = field(default_factory=dict)
    """(weak models) Per level, the registers its entry was read into: what
    the reads through that entry depend on (``entry_regs``)."""
    page_regs: list[tuple[str, ...]] = field(default_factory=list)
    """(weak models) Per page in ``pages``, the registers of the entry it was
    found through (entry.Pages), or () once a later read has taken them."""

    @property
    def nr(self) -> int:
        return len(self.pages)

    def found(self, pfns, regs: tuple[str, ...]) -> None:
        """``pfns`` were found through the entry read into ``regs``. A register
        names its latest read only, so a page found through an earlier read
        into the same register keeps no dependency (``()``: its accesses may
        then be reordered more than the kernel's, never less)."""
        self.page_regs = [() if set(r) & set(regs) else r for r in self.page_regs]
        self.pages.extend(pfns)
        self.page_regs.extend([regs] * len(pfns))


# --- reference helpers per shape -------------------------------------------------

def _get_ref(k, pfn):
    """Speculative where the design says so, else a plain get_page()."""
    if k.design.enabled("walker:speculative-ref"):
        return (yield from page_cache_get_speculative(k, pfn))
    yield from get_page(k, pfn)
    return True


def try_get_folio(k, pfn, refs):
    """mm/gup.c try_get_folio(): ref the folio, then check the page is still in it."""
    while True:
        yield SpinHint("try_get_folio retry")
        folio = yield from compound_head(k, pfn)
        if k.design.enabled("walker:speculative-ref"):
            old = yield Rmw(k.count(folio), "add_unless", refs, expected=0, order="mb",
                            reg="folio_ref_try_add", addr=HEAD)
            yield Branch("folio_ref_try_add")
            if old == 0:
                return None
        else:
            old = yield Rmw(k.count(folio), "add", refs, order="mb", addr=HEAD)
            yield Assert(old > 0, "folio reference taken on a free page", page=folio, name="get_page-on-free-page")
        if not k.design.enabled("walker:recheck-folio"):
            return folio
        # (1) take the folio reference, then (2) re-read page_folio(page): a
        # split between the two would leave the ref on a folio the page no
        # longer belongs to. Pairs with: thp.split_huge_page_2016 (tail unfreeze).
        now = yield from compound_head(k, pfn)
        if now == folio:
            return folio
        yield from folio_put_refs(k, folio, refs, addr=HEAD)


def try_grab_folio_fast(k, pfn, refs, flags):
    """mm/gup.c try_grab_folio_fast(): FOLL_GET or FOLL_PIN (bias / _pincount)."""
    folio = yield from try_get_folio(k, pfn, refs)
    if folio is None or not flags & FOLL_PIN:
        return folio
    if folio in k.large_folios:
        yield Rmw(f"page[{folio}]._pincount", "add", refs, order="once", addr=HEAD)
    else:
        yield Rmw(k.count(folio), "add", refs * (GUP_PIN_COUNTING_BIAS - 1), order="once",
                  addr=HEAD)
    # (1) raise the pin count, then (2) the caller re-checks the pte/pmd.
    # Pairs with: a page_maybe_dma_pinned() check after clearing the pte or the
    # anon-exclusive bit (fork, migration, swap-out).
    if k.design.enabled("walker:pin-smp_mb__after_atomic"):
        yield Fence("mb__after_atomic")
    return folio


def gup_put_folio(k, folio, refs, flags, addr=()):
    """``addr``: the registers the folio's address came from (``HEAD``)."""
    if flags & FOLL_PIN:
        if folio in k.large_folios:
            yield Rmw(f"page[{folio}]._pincount", "sub", refs, order="once", addr=addr)
        else:
            refs *= GUP_PIN_COUNTING_BIAS
    yield from folio_put_refs(k, folio, refs, addr)


# --- the levels ---------------------------------------------------------------------

def lockless_read(k, table, i, protection, *, reg=None, addr=()):
    """gup_get_pte() (x86, 2008) / ptep_get_lockless() / pmdp_get_lockless() (2020).

    On split-entry arches with ``protection`` in force: (1) low, smp_rmb(),
    (2) high, smp_rmb(), (3) low again, retry if it changed -- the present bit
    lives in the low half, so a torn value is never taken for present.
    Pairs with: pagetable.write_entry (high, wmb, low when setting; low, wmb,
    high when clearing). Otherwise a plain READ_ONCE (two loads on PAE).
    ``reg``/``addr``: as for ``read_entry``."""
    if table.halves == 1 or not k.design.enabled(protection):
        return (yield from read_entry(k, table, i, reg=reg, addr=addr))
    c = table.cell(i)
    reg = reg or "lockless_read"
    lo_reg, hi_reg = entry_regs(reg, table)
    while True:
        yield SpinHint(f"{protection} retry")
        lo = yield Load(c + ".lo", reg=reg + ".first", addr=addr)
        yield Fence("rmb")
        hi = yield Load(c + ".hi", reg=hi_reg, addr=addr)
        yield Fence("rmb")
        again = yield Load(c + ".lo", reg=lo_reg, addr=addr)
        yield Branch(reg + ".first", lo_reg)       # if (unlikely(pte.pte_low != ptep->pte_low))
        if again == lo:
            v = join_halves(lo, hi)
            yield Assert(v != POISON, "lockless walker read a freed page-table page "
                         "(use-after-free of a page table)", entry=c, name="pgtable-use-after-free")
            return v


def gup_get_pte(k, table, i):
    """The pte, read into register ``pte``; the caller's ``AddrScope`` gives
    the address dependency on the pmd."""
    return (yield from lockless_read(k, table, i, "walker:gup_get_pte", reg="pte"))


def gup_pte_range(k, w: Walk, pmd, pmd_ref, addr, end):
    """gup_fast_pte_range() and its ancestors.

    Dependencies (weak models): the pte is read at ``pte_offset_map(&pmd,
    addr)``, an address computed from the pmd read above (so ``addr`` deps on
    it); every ``struct page`` access after it goes through ``pte_page(pte)``
    (``AddrScope`` of the pte); the branches on the pte's bits are control
    dependencies. Pairs with: the smp_wmb() in __pte_alloc()/finish_fault()
    before the pmd/pte that publishes a table or a page (fault.py), which
    these dependencies complete on arm64 and powerpc as READ_ONCE's address
    dependency ordering does in the kernel."""
    d, enc = k.design, k.enc
    pmd_regs = w.regs.get("pmd", ())
    table = lower_table(k, pmd)
    yield Assert(table is not None, "pmd points to something that is not a page table "
                 "(torn or stale pmd)", pmd=enc.describe(pmd), name="torn-pmd")
    if table is None:
        return False
    if d.walker == "generic" and not k.arch.has_pte_special:
        return False     # mm/gup.c 2014 without __HAVE_ARCH_PTE_SPECIAL
    pte_regs = entry_regs("pte", table)
    while True:
        i = k.geo.index("pte", addr)
        yield AddrScope(*pmd_regs)          # ptep = pte_offset_map(&pmd, addr)
        pte = yield from gup_get_pte(k, table, i)
        yield AddrScope()
        yield Branch(*pte_regs)
        if d.walker == "folio" and enc.pte_protnone(pte):
            return False
        if not enc.pte_access_permitted(pte, w.write) or enc.pte_special(pte):
            return False
        pfn = enc.pte_pfn(pte)
        yield Assert(k.page_kind.get(pfn) == "data", "VM_BUG_ON(!pfn_valid(pte_pfn(pte)))",
                     pte=enc.describe(pte), name="pfn-valid")
        yield AddrScope(*pte_regs)          # page = pte_page(pte)
        if d.walker == "folio":
            folio = yield from try_grab_folio_fast(k, pfn, 1, w.flags)
            yield AddrScope()
            if folio is None:
                return False
            # (1) reference, then (2) re-read pmd and pte. Pairs with:
            # mmops.zap_pte_range, mmops.shrink_page (unmap, then look at the
            # count) and thp.split_huge_page_2016 (pmdp_invalidate, then freeze).
            if d.enabled("walker:recheck-pmd") and pmd != (yield from _reread(k, pmd_ref)):
                yield from _through_entry(k, pte_regs, gup_put_folio(k, folio, 1, w.flags, addr=HEAD))
                return False
            if d.enabled("walker:recheck-pte") and pte != (
                    yield from read_entry(k, table, i, addr=pmd_regs)):
                yield from _through_entry(k, pte_regs, gup_put_folio(k, folio, 1, w.flags, addr=HEAD))
                return False
            # v5.19: a read-only pin of a maybe-shared anon page goes to the slow
            # path, which unshares it. Pairs with: fork.page_try_dup_anon_rmap.
            if not enc.pte_write(pte) and (yield from _through_entry(
                    k, pte_regs, gup_must_unshare(k, w.flags, pfn))):
                yield from _through_entry(k, pte_regs, gup_put_folio(k, folio, 1, w.flags, addr=HEAD))
                return False
        else:
            ok = yield from _get_ref(k, pfn)
            yield AddrScope()
            if not ok:
                return False
            # (1) speculative reference, then (2) re-read the pte.
            # Pairs with: zap_pte_range (clear pte, then put_page) and reclaim
            # (clear pte, then page_freeze_refs).
            if d.enabled("walker:recheck-pte") and pte != (
                    yield from read_entry(k, table, i, addr=pmd_regs)):
                yield from put_page(k, pfn, addr=pte_regs)
                return False
        w.found([pfn], pte_regs)
        addr += PAGE_SIZE
        if addr == end:
            return True


def _reread(k, ref):
    """Re-read an entry where the walk found it (``ref``). MODEL: without the
    address dependency on the level above; the re-reads follow a fully
    ordered atomic, which orders them on every model anyway."""
    table, i = ref
    return (yield from read_entry(k, table, i))


def _through_entry(k, regs, body):
    """Run ``body`` (accesses to the page an entry maps) with their addresses
    computed from that entry's registers ``regs``."""
    yield AddrScope(*regs)
    out = yield from body
    yield AddrScope()
    return out


def gup_huge_pmd(k, w: Walk, pmd, pmd_ref, addr, end):
    """gup_fast_pmd_leaf() and its ancestors. The caller runs it in an
    ``AddrScope`` of the pmd: every ``struct page`` access goes through
    ``pmd_page(pmd)``, an address dependency on the pmd read."""
    d, enc = k.design, k.enc
    if not enc.pte_access_permitted(pmd, w.write):
        return False
    head = enc.pmd_pfn(pmd)
    first = head + k.geo.page_in("pmd", addr)
    refs = (end - addr) // PAGE_SIZE
    pages = list(range(first, first + refs))
    if d.walker == "folio":
        folio = yield from try_grab_folio_fast(k, first, refs, w.flags)
        if folio is None:
            return False
        if d.enabled("walker:recheck-pmd") and pmd != (yield from _reread(k, pmd_ref)):
            yield from gup_put_folio(k, folio, refs, w.flags, addr=HEAD)
            return False
        w.found(pages, w.regs["pmd"])
        return True
    # Pre-2016 shapes: (1) check every page is still a tail of ``head`` ...
    tails = []
    for pfn in pages:
        h = yield Load(k.head(pfn), reg=HEAD)
        yield Branch(HEAD)                  # PageTail(page): pin it in _mapcount
        yield Assert((h or pfn) == head, "gup_huge_pmd: page is no longer part of the "
                     "THP the pmd maps (VM_BUG_ON(compound_head(page) != head)): the "
                     "split ran under the walker", page=pfn, head=head, compound_head=h, name="ref-across-split")
        if h is not None:
            tails.append(pfn)
    if d.walker == "x86":
        # ... then (2) pin tails in _mapcount and (3) add all refs to the head.
        # Pairs with: thp.__split_huge_page_refcount, held off by the IPI in
        # pmdp_splitting_flush (x86) or by the readers counter.
        for pfn in tails:
            yield from get_huge_page_tail(k, pfn)
        yield from get_head_page_multiple(k, head, refs)
        w.found(pages, w.regs["pmd"])
        return True
    # generic (powerpc 2008 hugepte, mm/gup.c 2014): speculative head refs,
    # (2) re-read the pmd, then (3) pin the tails.
    if d.enabled("walker:speculative-ref"):
        if not (yield from page_cache_add_speculative(k, head, refs)):
            return False
    else:
        yield from get_head_page_multiple(k, head, refs)
    if d.enabled("walker:recheck-pmd") and pmd != (yield from _reread(k, pmd_ref)):
        yield from folio_put_refs(k, head, refs)
        return False
    for pfn in tails:
        yield from get_huge_page_tail(k, pfn)
    w.found(pages, w.regs["pmd"])
    return True


def gup_pmd_range(k, w: Walk, pud, pud_ref, addr, end):
    d, enc, geo = k.design, k.enc, k.geo
    folded = geo.folded("pmd")
    table = None if folded else lower_table(k, pud)
    while True:
        nxt = geo.addr_end("pmd", addr, end)
        if folded:
            pmd, ref = pud, pud_ref
            w.regs["pmd"] = w.regs.get("pud", ())
        else:
            i = geo.index("pmd", addr)
            pmd = yield from lockless_read(k, table, i, "walker:pmdp_get_lockless", reg="pmd",
                                           addr=w.regs.get("pud", ()))
            ref = (table, i)
            w.regs["pmd"] = entry_regs("pmd", table)
            yield Branch(*w.regs["pmd"])
        if enc.pmd_none(pmd) or (d.walker == "folio" and not enc.pmd_present(pmd)):
            return False
        # The 2013 walkers: a splitting pmd sends us to the slow path, which
        # waits for the split (wait_split_huge_page); we cannot wait with IRQs off.
        if d.enabled("walker:pmd-splitting-check") and enc.pmd_trans_splitting(pmd):
            return False
        if enc.pmd_huge(pmd):
            if d.walker == "folio" and enc.pte_protnone(pmd):
                return False
            ok = yield from _through_entry(k, w.regs["pmd"],
                                         gup_huge_pmd(k, w, pmd, ref, addr, nxt))
        else:
            ok = yield from gup_pte_range(k, w, pmd, ref, addr, nxt)
        if not ok:
            return False
        addr = nxt
        if addr == end:
            return True


def gup_pud_range(k, w: Walk, pgd, pgd_ref, addr, end):
    geo = k.geo
    if geo.folded("pud"):
        w.regs["pud"] = w.regs.get("pgd", ())
        return (yield from gup_pmd_range(k, w, pgd, pgd_ref, addr, end))
    table = lower_table(k, pgd)
    while True:
        nxt = geo.addr_end("pud", addr, end)
        i = geo.index("pud", addr)
        pud = yield from read_entry(k, table, i, reg="pud", addr=w.regs.get("pgd", ()))
        w.regs["pud"] = entry_regs("pud", table)
        yield Branch(*w.regs["pud"])
        if k.enc.pmd_none(pud):
            return False
        if not (yield from gup_pmd_range(k, w, pud, (table, i), addr, nxt)):
            return False
        addr = nxt
        if addr == end:
            return True


def gup_pgd_range(k, mm, w: Walk, addr, end):
    geo = k.geo
    while True:
        nxt = geo.addr_end("pgd", addr, end)
        i = geo.index("pgd", addr)
        pgd = yield from read_entry(k, mm.pgd, i, reg="pgd")
        w.regs["pgd"] = entry_regs("pgd", mm.pgd)
        yield Branch(*w.regs["pgd"])
        if k.enc.pmd_none(pgd):
            return
        if not (yield from gup_pud_range(k, w, pgd, (mm.pgd, i), addr, nxt)):
            return
        addr = nxt
        if addr == end:
            return


def raw_read_seqcount(cell):
    """raw_read_seqcount(): READ_ONCE, then smp_rmb(). The value is named
    ``seq`` (register): the caller tests it (odd: a writer is inside)."""
    seq = yield Load(cell, reg="seq")
    yield Fence("rmb")
    return seq


def _unpin_all(k, w: Walk):
    """unpin_user_pages() on what the walk pinned; *nr becomes 0."""
    for pfn in w.pages:
        folio = yield from compound_head(k, pfn)
        yield from gup_put_folio(k, folio, 1, w.flags, addr=HEAD)
    w.pages.clear()
    w.page_regs.clear()


def gup_fast(k, mm, w: Walk, start, end):
    """The IRQs-off walk (and the readers counter around it). Returns nr.

    Reader side of the 2013 proposal, as posted: atomic_inc(readers);
    smp_mb__after_atomic_inc(); walk; smp_mb__before_atomic_dec();
    atomic_dec(readers). Pairs with: thp.pmdp_splitting_flush (set the
    splitting pmd; smp_mb(); wait for readers == 0).

    FOLL_PIN with walker:write-protect-seq (v5.13, lockless_pages_from_mm):
    give up if mm->write_protect_seq is odd before the walk, unpin everything
    and return 0 if it changed after it."""
    d = k.design
    seq = None
    if w.flags & FOLL_PIN and d.enabled("walker:write-protect-seq"):
        seq = yield from raw_read_seqcount(mm.write_protect_seq)
        yield Branch("seq")
        if seq & 1:
            return 0                     # a fork is copying this mm right now
    if d.enabled("reader:readers-count"):
        yield Rmw("gup_readers", "add", 1, order="once")
        if d.enabled("reader:smp_mb__after_atomic"):
            yield Fence("mb__after_atomic")
    was_on = False
    if d.enabled("walker:irqs-off"):
        was_on = yield IrqDisable()
    yield from gup_pgd_range(k, mm, w, start, end)
    if was_on:
        yield IrqEnable()
    if seq is not None:
        # (1) pin the pages, then (2) re-read the sequence count: a fork that started in
        # between may have shared them with the child after its
        # page_maybe_dma_pinned() check. Pairs with: fork.copy_page_range
        # (write_seqcount_begin, then copy_present_pte).
        yield Fence("rmb")
        now = yield Load(mm.write_protect_seq, reg="seq_retry")
        yield Branch("seq", "seq_retry")    # read_seqcount_retry()
        if now != seq:
            yield from _unpin_all(k, w)
    if d.enabled("reader:readers-count"):
        if d.enabled("reader:smp_mb__before_atomic"):
            yield Fence("mb__before_atomic")
        yield Rmw("gup_readers", "sub", 1, order="once")
    return w.nr


__all__ = ["Walk", "gup_fast", "gup_pgd_range", "gup_pud_range", "gup_pmd_range",
           "gup_pte_range", "gup_huge_pmd", "gup_get_pte", "lockless_read", "try_get_folio",
           "try_grab_folio_fast", "gup_put_folio"]
