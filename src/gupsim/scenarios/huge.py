"""Huge-page scenarios: khugepaged collapse, mprotect and hugetlbfs munmap vs GUP-fast.

Each runs a write GUP-fast (one call, one page by default) on cpu0 against one
mm operation on cpu1, with 2 entries per pte table. An ablated design is
named like any other, e.g. ``gupsim explain gup-vs-collapse --arch arm64
--design modern-without-walker:recheck-pmd+collapse:tlb_remove_table_sync_one``.

Properties:

* ``gup-write-reaches-mapping`` (end): what the GUP user wrote through its
  reference is in the page the address maps at the end -- the collapse must
  not replace a page somebody holds a reference to;
* ``write-ref-after-mprotect`` (Assert in the GUP thread): a write reference
  the call returns was not taken after mprotect(PROT_READ) returned. While the
  two calls overlap, a write reference from the old pte is allowed (the GUP
  linearises before mprotect); once mprotect returned, its flush_tlb_range()
  has revoked the writable pte for every CPU, and a walker still acting on it
  is a stale TLB entry. (An observer reads ``mprotect_returned`` just before
  each reference the walker takes; see ``watch_references``.)
* the kernel's own Asserts (``get_page-on-free-page``, ...) and
  ``refcount-balanced``.

Verdicts, identical under dpor and dfs with preemption_bound=2 (sc), asserted
in tests/kernel/test_huge_scenarios.py:

====================  ========  ==================  =========================  ========================  ======================
design                arch      without             gup-vs-collapse            gup-vs-mprotect           gup-hugetlb-vs-munmap
====================  ========  ==================  =========================  ========================  ======================
x86-2008              x86-64                        safe                       safe                      safe
x86-2008              x86-64    tlb:flush-ipi       gup-write-reaches-mapping  write-ref-after-mprotect  get_page-on-free-page
arm-rfc-2013          arm64                         gup-write-reaches-mapping  write-ref-after-mprotect  get_page-on-free-page
readers-counter-2013  arm64                         gup-write-reaches-mapping  write-ref-after-mprotect  get_page-on-free-page
powerpc-2008          powerpc                       gup-write-reaches-mapping  safe                      safe
generic-rcu-2014      x86-64                        safe                       safe                      safe
generic-rcu-2014      arm64                         gup-write-reaches-mapping  safe                      safe
generic-rcu-2014      powerpc                       gup-write-reaches-mapping  safe                      safe
modern                x86-64                        safe                       safe                      safe
modern                arm64                         safe                       safe                      safe
modern                powerpc                       safe                       safe                      safe
modern                x86-64    recheck-pmd + IPI   safe                       safe                      safe
modern                x86-64    both + flush-ipi    gup-write-reaches-mapping  safe                      safe
modern                arm64     walker:recheck-pmd  safe                       safe                      safe
modern                arm64     the 2022 IPI        safe                       safe                      safe
modern                arm64     recheck-pmd + IPI   gup-write-reaches-mapping  safe                      safe
modern                arm64     walker:recheck-pte  safe                       write-ref-after-mprotect  safe
modern                arm64     speculative-ref     safe                       safe                      get_page-on-free-page
====================  ========  ==================  =========================  ========================  ======================

("the 2022 IPI" is collapse:tlb_remove_table_sync_one; "recheck-pmd + IPI"
removes both; "both + flush-ipi" removes tlb:flush-ipi as well.)

The same table holds under each arch's own memory model (tso, armv8, power)
and under lkmm (tested). On armv8 and lkmm, modern's safe collapse cell rests
on one more barrier: isolate_lru_page()'s fully ordered TestClearPageLRU()
between the refcount check and the copy (protection
``collapse:isolate_lru_page``). Without it the copy's read of the page's data
may be satisfied before the refcount read, whose value came from the GUP
user's put_page() after its write: the copy misses the write
(gup-write-reaches-mapping), since the only thing between the two reads is
spin_unlock(), a release store on arm64. On powerpc (lwsync) and 32-bit ARM
(dmb) the unlock orders the reads anyway (tests/kernel/test_weak_barriers.py).

gup-vs-collapse: on x86-64 the flush IPI of pmdp_collapse_flush() is held
off by the IRQs-off walker in every era, so the walker's reference is visible
to __collapse_huge_page_isolate(), which refuses the page. Where the flush is
broadcast, nothing waits for the walker before 2022: the 2014 walker re-reads
the pte, which the collapse clears only after it has checked the refcount, so
its reference pins a page that is then copied and freed under the user, and
the user's write is lost (the bug 70cbc3cc78a9 fixed; arm-rfc-2013 loses the
write the same way or takes get_page() on the freed page). Today either fix
alone is enough: the pmd re-check after the reference, or the
tlb_remove_table_sync_one() IPI after the flush. powerpc's own
pmdp_collapse_flush() (hash MMU, which serialises against lockless lookups
with an IPI) is not modelled: the powerpc rows use the generic one.

gup-vs-mprotect: needs the pte re-check where the flush is broadcast; with
an IPI flush the IRQs-off region is enough. The huge-pmd variant
(``huge=True``) has the same verdicts.

gup-hugetlb-vs-munmap: the walker's huge-pmd path is the protection
(speculative reference, or IRQs off against the IPI flush); the pmd
re-check is not needed here because munmap frees the page only after the
flush, and a reference taken before the free keeps the page alive for a GUP
call that overlapped the munmap.
"""

from __future__ import annotations

from ..kernel import Kernel
from ..kernel.gup import (
    __get_user_pages_fast,
    pin_user_pages_fast,
    put_user_pages,
    unpin_user_pages,
)
from ..kernel.hugetlb import map_hugetlb_page
from ..kernel.invariants import GUP_WRITE, gup_write_reaches_mapping, refcount_balanced
from ..kernel.khugepaged import collapse_huge_page, prepare_hugepage
from ..kernel.mmops import munmap
from ..kernel.mprotect import mprotect
from ..kernel.pagetable import PAGE_SIZE
from ..ops import Assert, Load, Rmw, Store
from ..spec import ThreadSpec, scenario
from .gup import _DOCS, gup_thread

_HUGE_DOCS = {k: v for k, v in _DOCS.items() if k in ("arch", "design", "ptrs", "pin")}



def gup_writer(k, t, start, nr, pin=False):
    """A write GUP-fast user (__get_user_pages_fast, or pin_user_pages_fast)
    that writes GUP_WRITE through every page it got. Returns (nr, pages)."""
    return gup_thread(k, t, start, nr, pin=pin, mark=GUP_WRITE)




def _boot_mm(arch, design, ptrs):
    """Two CPUs and one mm."""
    k = Kernel(arch, design, cpus=2, ptrs_per_pte=ptrs)
    k.new_mm()
    return k


def _boot(arch, design, ptrs):
    k = _boot_mm(arch, design, ptrs)
    mm = k.mms[0]
    k.add_vma(mm, 0, k.geo.size("pmd"))
    return k, mm


@scenario("gup-vs-collapse", tags=("gup", "thp", "khugepaged"),
          index="index of the small page the GUP call asks for", **_HUGE_DOCS)
def gup_vs_collapse(arch="arm64", design="modern", ptrs=2, index=0, pin=False):
    """Write GUP-fast on one small page on cpu0 while khugepaged collapses its
    pmd range into a huge page on cpu1. Bugs show as a reference on a freed
    page or as a GUP write lost in a page the collapse replaced."""
    k, mm = _boot(arch, design, ptrs)
    for j in range(ptrs):
        k.map_page(mm, j * PAGE_SIZE)
    hpage = prepare_hugepage(k)
    start = index * PAGE_SIZE
    threads = [ThreadSpec("gup", gup_writer(k, k.task(0, mm), start, 1, pin), cpu=0),
               ThreadSpec("khugepaged", collapse_huge_page(k, k.task(1, mm), 0, hpage),
                          cpu=1)]
    return k.program(threads, [refcount_balanced(k),
                               gup_write_reaches_mapping(k, mm, "gup", start)])


@scenario("gup-hugetlb-vs-munmap", tags=("gup", "hugetlb", "munmap"),
          pages="pages per GUP call (sub-pages of the huge page)", **_HUGE_DOCS)
def gup_hugetlb_vs_munmap(arch="arm64", design="modern", ptrs=2, pages=1, pin=False):
    """Write GUP-fast on a private hugetlbfs page on cpu0 while cpu1 munmaps the
    VMA (unmap_hugepage_range, then free the huge page after the flush). Bugs
    show as a reference taken on a freed huge page."""
    k = _boot_mm(arch, design, ptrs)
    mm = k.mms[0]
    k.add_hugetlb_vma(mm, 0, k.geo.size("pmd"))
    map_hugetlb_page(k, mm, 0)
    threads = [ThreadSpec("gup", gup_writer(k, k.task(0, mm), 0, pages, pin), cpu=0),
               ThreadSpec("munmap", munmap(k, k.task(1, mm), 0, k.geo.size("pmd")), cpu=1)]
    return k.program(threads, [refcount_balanced(k),
                               gup_write_reaches_mapping(k, mm, "gup", 0)])


MPROTECT_RETURNED = "mprotect_returned"
"""Observer cell (not kernel state): set by the mprotect thread once
mprotect() has returned, i.e. after its flush_tlb_range()."""


class watch_references:
    """``yield from watch_references(k, body, done_cell)`` runs the GUP generator
    ``body`` and reads ``done_cell`` just before the reference it takes on a
    page (the first increment of the page's count); ``late`` collects the
    count cells first incremented after ``done_cell`` was set. Reading just before the increment is sound and
    complete for "the reference was taken after the event": the event can
    always be scheduled before the read.

    An observer, not kernel code. It is a generator-protocol object rather
    than a generator so that traces still name the kernel function at each
    step (``gi_frame``/``gi_code``/``gi_yieldfrom`` are those of ``body``)."""

    def __init__(self, k, body, done_cell):
        self.k, self.body, self.done_cell = k, body, done_cell
        self.late: set[str] = set()
        self.seen: set[str] = set()
        self.pending = None

    @property
    def gi_frame(self):
        return self.body.gi_frame

    @property
    def gi_code(self):
        return self.body.gi_code

    @property
    def gi_yieldfrom(self):
        return self.body.gi_yieldfrom

    def __iter__(self):
        return self

    def __next__(self):
        return self.send(None)

    def send(self, value):
        if self.pending is not None:        # value: what the Load of done_cell read
            op, self.pending = self.pending, None
            if value:
                self.late.add(op.cell)
            return op
        op = self.body.send(value)
        if isinstance(op, Rmw) and op.cell.endswith(self.k.COUNT) \
                and op.kind in ("add", "add_unless") and op.cell not in self.seen:
            # The first increment is the reference; FOLL_PIN's bias comes after.
            self.seen.add(op.cell)
            self.pending = op
            return Load(self.done_cell)
        return op

    def throw(self, *args):
        return self.body.throw(*args)


def gup_vs_mprotect_thread(k, t, start, nr, pin):
    """Write GUP-fast while mprotect(PROT_READ) runs: no write reference the
    call returns may have been taken after mprotect() returned."""
    pages: list[int] = []
    call = pin_user_pages_fast if pin else __get_user_pages_fast
    watch = watch_references(k, call(k, t, start, nr, True, pages), MPROTECT_RETURNED)
    n = yield from watch
    for pfn in pages:
        folio = k.memory.get(k.head(pfn)) or pfn      # setup-time compound_head
        yield Assert(k.count(folio) not in watch.late,
                     "GUP-fast returned a write reference taken after mprotect(PROT_READ) "
                     "had write-protected the pte and flushed the TLB: the walker used a "
                     "stale writable entry after flush_tlb_range()",
                     name="write-ref-after-mprotect", page=pfn)
    yield from (unpin_user_pages(k, pages) if pin else put_user_pages(k, pages))
    return (n, tuple(pages))


def mprotect_thread(k, t, start, length, write):
    ret = yield from mprotect(k, t, start, length, write)
    yield Store(MPROTECT_RETURNED, True)
    return ret


@scenario("gup-vs-mprotect", tags=("gup", "mprotect"), huge="map the range with a THP",
          pages="pages per GUP call", **_HUGE_DOCS)
def gup_vs_mprotect(arch="arm64", design="modern", ptrs=2, pages=1, pin=False, huge=False):
    """Write GUP-fast on cpu0 while cpu1 runs mprotect(PROT_READ) on the range.
    A write reference taken from the old writable pte is allowed while the two
    calls overlap; one taken after mprotect() returned (so after its TLB
    flush) is the bug: the walker acted on an entry the flush had revoked."""
    k, mm = _boot(arch, design, ptrs)
    if huge:
        k.map_thp(mm, 0)
    else:
        for j in range(pages):
            k.map_page(mm, j * PAGE_SIZE)
    k.memory[MPROTECT_RETURNED] = False
    threads = [ThreadSpec("gup", gup_vs_mprotect_thread(k, k.task(0, mm), 0, pages, pin),
                          cpu=0),
               ThreadSpec("mprotect", mprotect_thread(k, k.task(1, mm), 0, k.geo.size("pmd"),
                                                      False), cpu=1)]
    return k.program(threads, [refcount_balanced(k)])


__all__ = [
    "MPROTECT_RETURNED",
    "gup_hugetlb_vs_munmap",
    "gup_vs_collapse",
    "gup_vs_mprotect",
    "gup_vs_mprotect_thread",
    "gup_writer",
    "mprotect_thread",
    "watch_references",
]
