"""Copy-on-write scenarios: Dirty COW and GUP racing with fork.

Common parameters: ``arch``, ``design`` (as in scenarios/gup.py), ``mm_era``
(the mm side's kernel version, e.g. "4.8", "5.8", "6.12"; default: the last
release of the design's year, see kernel/fault.py) and ``ptrs``.

* ``dirty-cow``: a write to /proc/self/mem (mem_rw -> access_remote_vm ->
  get_user_pages(FOLL_FORCE | FOLL_WRITE)) on a private read-only file mapping
  on cpu0, madvise(MADV_DONTNEED) of the same page on cpu1. Before v4.9
  faultin_page() drops FOLL_WRITE after the COW; if the zap lands between
  that and the next lookup, the lookup read-faults the page-cache page in and
  the "write" goes to the file (CVE-2016-5195). v4.9's FOLL_COW (commit
  19be0eaffa3a) and v6.0's anon-exclusive rule refault a fresh COW copy.
* ``gup-vs-fork``: pin_user_pages_fast(FOLL_WRITE) of an anonymous page on
  cpu0, held as a long-term pin, while cpu1 forks. Without
  mm->write_protect_seq the walker can pin the page after fork's
  page_maybe_dma_pinned() check and before its ptep_set_wrprotect(): the
  child then maps the pinned page. x86's IRQs-off walk does not help: fork's
  flush_tlb_mm comes after the copy. ``ordered=True`` pins first and forks
  afterwards on one CPU: safe from v5.9 (early COW of pinned pages in fork),
  a violation before. ``write=False`` pins read-only: before v5.19 a fork
  that completes first leaves the page shared and read-only, and gup_fast
  pins it as it is; from v5.19 gup_must_unshare() sends the pin to the slow
  path, which unshares the page (FAULT_FLAG_UNSHARE) first.

Verdicts (dfs with preemption_bound=2 and dpor agree; asserted in
tests/kernel/test_cow_scenarios.py):

==================  ================================  =========================
scenario            design / mm era                   x86-64, arm64 (and powerpc)
==================  ================================  =========================
dirty-cow           generic-rcu-2014 (3.18)           violation
                    any design, mm_era=4.8            write-pin-on-pagecache
dirty-cow           mm_era=4.9 (FOLL_COW)             safe
dirty-cow           modern (6.12, anon-exclusive)     safe
gup-vs-fork         modern (6.12)                     safe
gup-vs-fork         modern without                    violation: pin-exclusive
                    walker:write-protect-seq
gup-vs-fork         generic-rcu-2014 (3.18)           violation: pin-exclusive
gup-vs-fork ordered modern (6.12) / mm_era=5.9        safe
gup-vs-fork ordered modern, mm_era=5.8                violation: pin-exclusive
gup-vs-fork read    modern (6.12) / mm_era=5.19       safe
gup-vs-fork read    modern, mm_era=5.18               violation: pin-exclusive
gup-vs-fork read    modern without                    violation: pin-exclusive
                    walker:write-protect-seq
==================  ================================  =========================

Under the weak models: dirty-cow's rows are the same on arm64 under armv8
and lkmm, explored to the end (mm_era=4.8 a violation, 4.9 and modern safe:
64-112 executions, 4-31 s each; tests/kernel/test_cow_scenarios.py). That
became possible when spin_lock() turned into the lock primitive (kernel/mm.py):
as a cmpxchg loop with an Await, the 4.9 row had not finished in 6 minutes
(1,326 executions under lkmm). gup-vs-fork with modern is a
violation (pin-exclusive) on arm64 (armv8, lkmm) and powerpc (power), safe
on x86 (tso) and 32-bit ARM (armv7). fork makes write_protect_seq odd and
then reads each refcount; GUP-fast pins, then re-reads the count: a store
then a load on each side, which needs a full barrier on both, and fork's
side has smp_wmb() and the pte lock's acquire only (ARMv7's spin_lock ends in
a dmb, which is enough). The read-only pin (``write=False``) is the same
violation under them, for the same reason. ``modern+fork:write_protect_seq-smp_mb``
(a barrier no kernel has) is safe, the read-only pin too (lkmm, arm64: 49
executions, 41 s, checked by hand). Under lkmm the other gup-vs-fork rows
are as under sc (tests/kernel/test_cow_scenarios.py). A finding of this model, under study
(kernel/fork.py, tests/kernel/test_weak_barriers.py).
"""

from __future__ import annotations

from ..kernel import Kernel
from ..kernel.fork import fork, prepare_child_mm
from ..kernel.gup import get_user_pages, pin_user_pages_fast
from ..kernel.gup.slow import FOLL_FORCE
from ..kernel.invariants import pin_exclusive, refcount_balanced
from ..kernel.madvise import madvise
from ..kernel.mm import down_read, up_read
from ..kernel.page import FOLL_GET, GUP_PIN_COUNTING_BIAS, put_page
from ..kernel.pagetable import PAGE_SIZE
from ..ops import Store
from ..spec import ThreadSpec, scenario

_DOCS = dict(
    arch="architecture (x86-64, x86-pae, arm, arm-lpae, arm64, powerpc)",
    design="GUP-fast design (x86-2008, arm-rfc-2013, powerpc-2008, generic-rcu-2014, "
           "readers-counter-2013, modern, weak-default)",
    mm_era="kernel version of the mm side (fault, COW, fork, GUP slow path), e.g. 4.8, "
           "4.9, 5.8, 5.9, 6.12; default: the last release of the design's year",
    ptrs="entries per pte table, 2 or 4",
)


def proc_mem_write(k, t, addr, value):
    """write(/proc/self/mem) at ``addr``: __access_remote_vm() with FOLL_FORCE.
    Returns (nr, pages)."""
    pages: list[int] = []
    yield from down_read(t.mm.mmap_sem)
    n = yield from get_user_pages(k, t, addr, 1, True, pages, FOLL_GET | FOLL_FORCE)
    if n == 1:
        yield Store(k.data(pages[0]), value)      # copy_to_user_page()
    yield from up_read(t.mm.mmap_sem)
    for pfn in pages:
        yield from put_page(k, pfn)
    return (n, tuple(pages))


@scenario("dirty-cow", tags=("gup", "cow", "madvise"), **_DOCS)
def dirty_cow(arch="x86-64", design="generic-rcu-2014", mm_era=None, ptrs=2):
    """A FOLL_FORCE write through /proc/self/mem to a private read-only file
    mapping, racing madvise(MADV_DONTNEED) of the same page."""
    k = Kernel(arch, design, cpus=2, ptrs_per_pte=ptrs, mm_era=mm_era)
    mm = k.new_mm()
    k.map_file(mm, 0, PAGE_SIZE, k.add_file(1), write=False, shared=False)
    k.pte_slot(mm, 0)                              # the pte table exists, empty
    threads = [
        ThreadSpec("mem_write", proc_mem_write(k, k.task(0, mm, pages=2), 0, "written"),
                   cpu=0),
        ThreadSpec("madvise", madvise(k, k.task(1, mm), 0, PAGE_SIZE), cpu=1),
    ]
    return k.program(threads, [refcount_balanced(k)])


def pin_and_hold(k, t, addr, write=True):
    """pin_user_pages_fast() of one page, kept pinned (a long-term pin: RDMA
    registration, vfio). Returns (nr, pages)."""
    pages: list[int] = []
    n = yield from pin_user_pages_fast(k, t, addr, 1, write, pages)
    return (n, tuple(pages))


def _pin_then_fork(k, t, child, write):
    r = yield from pin_and_hold(k, t, 0, write)
    yield from fork(k, t, child)
    return r


@scenario("gup-vs-fork", tags=("gup", "cow", "fork"),
          ordered="pin first, then fork, on one CPU (no race)",
          write="FOLL_WRITE pin (False: a read-only pin)", **_DOCS)
def gup_vs_fork(arch="x86-64", design="modern", mm_era=None, ptrs=2, ordered=False,
                write=True):
    """A long-term FOLL_PIN of an anonymous page while (or before) the
    process forks. Bugs show as the pinned page mapped by the child."""
    k = Kernel(arch, design, cpus=1 if ordered else 2, ptrs_per_pte=ptrs, mm_era=mm_era)
    mm = k.new_mm()
    k.add_vma(mm, 0, k.geo.size("pmd"))
    k.map_page(mm, 0)
    child = prepare_child_mm(k, mm)
    t0 = k.task(0, mm, pages=1)
    if ordered:
        t0.pages.append(k.alloc_pages(1))          # fork's early COW copy
        threads = [ThreadSpec("pin", _pin_then_fork(k, t0, child, write), cpu=0)]
    else:
        threads = [ThreadSpec("pin", pin_and_hold(k, t0, 0, write), cpu=0),
                   ThreadSpec("fork", fork(k, k.task(1, mm, pages=1), child), cpu=1)]
    refs = GUP_PIN_COUNTING_BIAS if k.design.walker == "folio" else 1

    def held(results):
        r = results.get("pin")
        return {p: refs for p in r[1]} if isinstance(r, tuple) else {}

    return k.program(threads, [refcount_balanced(k, held), pin_exclusive(k, "pin", mm)])


__all__ = ["proc_mem_write", "pin_and_hold", "dirty_cow", "gup_vs_fork"]
