"""Physical-memory scenarios: frames freed and handed out again, stale TLB
entries, page migration (kernel/page.py allocator, kernel/user.py,
kernel/cpu.py TLBs, kernel/migrate.py).

The GUP thread here is a driver doing DMA into user memory: it pins one page
with __get_user_pages_fast (write), notes the page's allocation generation
while it holds the reference, writes ``GUP_WRITE`` through the pin and
releases it. Besides the Asserts at the accesses (page-use-after-free,
access-to-reused-page, get_page-on-free-page, ...) two end-of-run properties
apply: ``gup-returned-mapped-pages`` (the pinned frame is the page the address
mapped, same allocation generation: not someone else's page after reuse) and
``gup-write-reaches-mapping`` (what the driver wrote is what the process sees
at the address at the end, unless the address was unmapped).

Verdicts (checked in tests/kernel/test_memory_scenarios.py, each with dpor and
with dfs and a preemption bound of 2; ``check <scenario> --param ...``):

=====================  ========  =============================  =========
scenario               arch      design                         verdict
=====================  ========  =============================  =========
gup-vs-reclaim-reuse   arm64     arm-rfc-2013                   violation
gup-vs-reclaim-reuse   arm64     generic-rcu-2014               safe
gup-vs-reclaim-reuse   arm64     generic-rcu-2014 without       violation
                                 walker:recheck-pte
gup-vs-reclaim-reuse   arm64     modern                         safe
gup-vs-reclaim-reuse   x86-64    x86-2008                       safe
user-vs-munmap         x86-64    x86-2008                       safe
user-vs-munmap         x86-64    x86-2008 without tlb:flush-ipi violation
user-vs-munmap         arm64     generic-rcu-2014, modern,      safe
                                 arm-rfc-2013
gup-vs-migration       arm64     modern, generic-rcu-2014       safe
gup-vs-migration       x86-64    x86-2008, modern               safe
gup-vs-migration       arm64     arm-rfc-2013,                  violation
                                 readers-counter-2013
gup-vs-migration       arm64     generic-rcu-2014 without       violation
                                 walker:recheck-pte
gup-vs-fault           arm64     modern, generic-rcu-2014,      safe
                                 arm-rfc-2013
=====================  ========  =============================  =========

* gup-vs-reclaim-reuse: the seed walker's plain get_page() lands on the frame
  after reclaim freed it (get_page on a free page) or after a fault of another
  mm got it from the allocator (a reference on someone else's page). A
  speculative reference alone does not help: get_page_unless_zero() succeeds
  on the new owner's page; the pte re-check is what sends it back.
* user-vs-munmap: the user access is one instruction; on x86 the flush IPI
  cannot be taken inside it and invalidates the TLB entry before munmap frees
  the frame; arm64's broadcast tlbi invalidates it and the dsb waits for the
  instruction in flight. Without the IPI, x86 keeps a stale entry and the
  next load reads the freed frame.
* gup-vs-fault: the fault zeroes what it allocated (a recycled pte table, a
  frame that held someone else's data) and publishes it with smp_wmb() and
  then the pmd or pte store; GUP-fast reads through those entries with
  address dependencies. Under sc and tso every design is safe with or
  without the two barriers (tests/kernel/test_gup_vs_fault.py).
* gup-vs-migration: migration compares the count with the expected one after
  turning the pte into a migration entry; a walker without the pte re-check
  keeps a pin on the old page while the process is moved to the new one (the
  DMA write is lost), or takes get_page() on the freed old page.

Under the weak models (tested under each arch's own model and under lkmm):
the same table, except gup-vs-migration for modern and generic-rcu-2014 on
arm64 (armv8, lkmm) and on x86-64 under lkmm (tso is safe): a violation,
gup-write-reaches-mapping. Migration reads the count, then copies the page,
and nothing orders the two reads (a control dependency does not order loads
on arm64 or powerpc): a GUP user's store, then its put_page(), which the
check saw, may be missing from the copy. With ``+migrate:smp_rmb`` (a read
barrier no kernel has) the cells are safe, and then the kernel's smp_wmb() in
folio_mark_uptodate() before the new page is mapped (``migrate:smp_wmb``) is
necessary: without it the copy's store may land after the GUP write through
the new pte. A finding of this model, under study (kernel/migrate.py).

gup-vs-fault under the weak models: safe with the kernel's barriers. Without
``fault:pte_alloc-smp_wmb`` (__pte_alloc's smp_wmb) GUP-fast may read the new
pmd and then the table's old contents, a stale pte: it pins another process's
page (gup-returned-mapped-pages). Without ``fault:smp_wmb``
(__SetPageUptodate) the page's zeroing may land after GUP-fast saw the pte:
the DMA write is lost (gup-write-reaches-mapping), or with ``dma=read`` the
GUP user reads the frame's old contents (stale-page-contents). Both under
armv8, power and lkmm; under armv7 both are redundant, because the
page-table lock is taken between the zeroing and the publication and
ARMv7's spin_lock() ends in dmb; arm64's is an acquire only.
"""

from __future__ import annotations

from ..errors import UsageError
from ..kernel import Kernel
from ..kernel.cpu import tlb_declare
from ..kernel.invariants import (GUP_WRITE, gup_results_consistent, gup_write_reaches_mapping,
                                 refcount_balanced)
from ..kernel.mm import Task
from ..kernel.gup import Pages, __get_user_pages_fast, put_user_pages
from ..kernel.migrate import migrate_pages
from ..kernel.mmops import do_fault, munmap, shrink_page
from ..kernel.page import PAGE_POISON
from ..kernel.user import user_load
from ..ops import Assert, Load
from ..spec import ThreadSpec, scenario
from .gup import gup_thread

"""What the GUP thread writes through its pin."""
USER_DATA = 42
"""The page's contents at setup in user-vs-munmap."""

_DOCS = dict(
    arch="architecture (x86-64, x86-pae, arm, arm-lpae, arm64, powerpc)",
    design="GUP-fast design (x86-2008, arm-rfc-2013, powerpc-2008, generic-rcu-2014, "
           "readers-counter-2013, modern, weak-default)",
    ptrs="entries per pte table (= base pages per THP), 2 or 4",
)


def gup_dma_thread(k, t, addr):
    """Pin the page at ``addr``, write GUP_WRITE through the pin, release.
    Returns (nr, pages, generations seen while holding the references)."""
    return gup_thread(k, t, addr, 1, mark=GUP_WRITE, generations=True)


def _boot(arch, design, ptrs, mms=1):
    k = Kernel(arch, design, cpus=2, ptrs_per_pte=ptrs)
    out = []
    for _ in range(mms):
        mm = k.new_mm()
        k.add_vma(mm, 0, k.geo.size("pmd"))
        out.append(mm)
    return k, out


def _gup_program(k, mm, other: ThreadSpec, expected=None):
    gup = ThreadSpec("gup0", gup_dma_thread(k, k.task(0, mm), 0), cpu=0)
    invariants = [refcount_balanced(k), gup_write_reaches_mapping(k, mm, "gup0", 0)]
    if expected is not None:
        invariants.append(gup_results_consistent(k, "gup0", expected))
    return k.program([gup, other], invariants)


def reclaim_then_fault(k, t, other):
    """Reclaim the page at 0 of ``t.mm``; if it was freed, fault address 0 of
    ``other`` (another task's mm, on the same CPU), which gets the frame."""
    if (yield from shrink_page(k, t, 0)):
        return (yield from do_fault(k, other, 0))
    return None


@scenario("gup-vs-reclaim-reuse", tags=("gup", "reclaim", "memory"), **_DOCS)
def gup_vs_reclaim_reuse(arch="arm64", design="generic-rcu-2014", ptrs=2):
    """GUP-fast on cpu0 while cpu1 reclaims the page and then faults a page for
    another mm, which reuses the freed frame. Bugs show as a reference taken
    on the frame after it was freed or reused."""
    k, (mm, mm1) = _boot(arch, design, ptrs, mms=2)
    pfn = k.map_page(mm, 0)
    k.pte_slot(mm1, 0)                      # mm1's pte table exists already
    other = Task(1, mm1)                    # no pool: the frame must come back
    thread = reclaim_then_fault(k, k.task(1, mm), other)
    return _gup_program(k, mm, ThreadSpec("reclaim", thread, cpu=1), {0: pfn})


@scenario("gup-vs-migration", tags=("gup", "migration", "memory"), **_DOCS)
def gup_vs_migration(arch="arm64", design="modern", ptrs=2):
    """GUP-fast on cpu0 while cpu1 migrates the page to a new frame. Bugs show
    as a pin left on the old page (the DMA write is lost) or get_page() on
    the freed old page."""
    k, (mm,) = _boot(arch, design, ptrs)
    k.map_page(mm, 0)
    thread = migrate_pages(k, k.task(1, mm, pages=1), 0)
    # The page GUP returns is the old or the new one, both legitimately.
    return _gup_program(k, mm, ThreadSpec("migrate", thread, cpu=1))


def gup_read_thread(k, t, addr):
    """A driver reading user memory by DMA (an O_DIRECT write(2) of the
    buffer): pin the page at ``addr``, read it through the pin, release.
    What it read must be what the process could have put there, never the
    frame's contents from before it was handed out (``stale-page-contents``:
    without page poisoning, the previous owner's data -- an information
    leak). Returns (nr, pages)."""
    pages = Pages()
    n = yield from __get_user_pages_fast(k, t, addr, 1, False, pages)
    for j, pfn in enumerate(pages):
        v = yield Load(k.data(pfn), addr=pages.regs_of(j))     # kmap(pages[j])
        yield Assert(v != PAGE_POISON, "the GUP user read the page's contents from "
                     "before it was handed out (the zeroing was not visible before "
                     "the pte that maps it: an information leak)", page=pfn, data=v,
                     name="stale-page-contents")
    yield from put_user_pages(k, pages)
    return n, tuple(pages)


@scenario("gup-vs-fault", tags=("gup", "fault", "memory"),
          table="the fault allocates the pte table too (a recycled frame with stale "
                "entries); else the table exists and only the page is new",
          dma="what the GUP user does through the page: write (DMA into it) or read",
          **_DOCS)
def gup_vs_fault(arch="arm64", design="modern", ptrs=2, table=True, dma="write"):
    """GUP-fast on cpu0 while cpu1 takes the first fault on the address (an
    anonymous write fault: pte table and page allocated, zeroed, published).
    Bugs show as GUP-fast following a pte the zeroing should have hidden (it
    pins another process's page) or reaching the new page's old contents."""
    if dma not in ("write", "read"):
        raise UsageError(f"dma={dma!r}: the GUP user's access through the page is "
                         "'write' or 'read'")
    k, (mm, mm1) = _boot(arch, design, ptrs, mms=2)
    other = k.map_page(mm1, 0)                 # another process's page
    fault = k.task(1, mm, pages=1, tables=1 if table else 0)
    new = fault.pages[0]
    k.memory[k.data(new)] = PAGE_POISON        # freed earlier (free_page poisons it)
    if table:
        # MODEL: the table's frame was used before; its bytes read as present
        # ptes pointing at another process's page until pte_alloc_one() zeroes it.
        stale = k.enc.mk_pte(other, write=True)
        k.recycle_table(fault.tables[0], [stale] * fault.tables[0].nentries)
    else:
        k.pte_slot(mm, 0)                      # the pte table exists, the pte is none
    cpu0 = k.task(0, mm)
    if dma == "write":
        gup = ThreadSpec("gup0", gup_thread(k, cpu0, 0, 1, mark=GUP_WRITE), cpu=0)
    else:
        gup = ThreadSpec("gup0", gup_read_thread(k, cpu0, 0), cpu=0)
    threads = [gup, ThreadSpec("fault", do_fault(k, fault, 0), cpu=1)]
    invariants = [refcount_balanced(k), gup_results_consistent(k, "gup0", {0: new})]
    if dma == "write":
        invariants.append(gup_write_reaches_mapping(k, mm, "gup0", 0))
    return k.program(threads, invariants)


def user_thread(k, t, addr, loads):
    """``loads`` user loads from ``addr``: the values read (or -EFAULT)."""
    out = []
    for _ in range(loads):
        out.append((yield from user_load(k, t, addr)))
    return tuple(out)


@scenario("user-vs-munmap", tags=("tlb", "munmap", "memory"),
          filled="the TLB entry is filled at setup (else by the thread's first load)",
          **_DOCS)
def user_vs_munmap(arch="x86-64", design="x86-2008", ptrs=2, filled=True):
    """A user load on cpu0 (through its TLB) while cpu1 munmaps the range.
    Bugs show as a load through a stale TLB entry from a freed frame."""
    k, (mm,) = _boot(arch, design, ptrs)
    pfn = k.map_page(mm, 0)
    k.memory[k.data(pfn)] = USER_DATA
    tlb_declare(k, 0, mm, 0, fill=filled)
    loads = 1 if filled else 2
    threads = [ThreadSpec("user", user_thread(k, k.task(0, mm), 0, loads), cpu=0),
               ThreadSpec("munmap", munmap(k, k.task(1, mm), 0, k.geo.size("pmd")),
                          cpu=1)]
    return k.program(threads, [refcount_balanced(k)])


__all__ = ["gup_dma_thread", "reclaim_then_fault", "gup_read_thread",
           "user_thread", "gup_vs_reclaim_reuse", "gup_vs_migration", "gup_vs_fault",
           "user_vs_munmap"]
