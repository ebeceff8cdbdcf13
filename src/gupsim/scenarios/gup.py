"""GUP-fast scenarios: a lockless walker on cpu0 (and more GUP CPUs), a hazard
on the next CPU. Each builds a fresh kernel (``Kernel``) and returns a Program.

Common parameters: ``arch`` and ``design`` (names from kernel.ARCHES and
kernel.DESIGNS, or objects, e.g. ``get_design(x).without(p)``), ``pages``
(pages per GUP call), ``ptrs`` (entries per pte table = base pages per THP),
``gup_cpus`` (GUP threads), ``fast_only`` (True: __get_user_pages_fast, no
slow-path fallback; False: get_user_pages_fast), ``pin`` (pin_user_pages_fast).

Expected verdicts (the matrix; reasons in the design docstrings; checked in
tests/kernel/test_kernel_scenarios.py with dfs and a preemption bound of 2
under SC, and with exhaustive dpor under each arch's own model):

* x86-2008 on x86-64: safe vs split and munmap (the flush IPI is held off).
* arm-rfc-2013 on arm-lpae/arm64: violation vs split (the tail pins move off
  the head under the walker) and vs munmap (get_page() on a page freed after
  the broadcast flush; with speculative refs, the freed pte table is read).
* generic-rcu-2014 and modern: safe on x86-64, arm-lpae, arm64, powerpc.
* readers-counter-2013: safe vs split (SC and TSO); violation vs munmap on
  arm-lpae/arm64 and also on powerpc: RCU-freed tables do not help a walker
  that takes plain get_page() references on pages freed after a broadcast flush.
* x86-pae vs munmap: violation for x86-2008 and generic-rcu-2014 (a torn pmd
  read against pmd_clear), safe for modern (pmdp_get_lockless, 2020).
* futex-thp-tail: weak-default never makes progress; generic-rcu-2014 returns,
  also with a concurrent split.

Under each arch's own memory model (the default: tso, armv8, armv7, power)
every verdict is the same (tests/matrix/test_matrix_cells.py). Under lkmm
(``gupsim matrix --memory-models lkmm``: about 120 s of checks on one core,
a test in tests/matrix/test_matrix_cells.py) every cell is the same except
x86-pae against the split: x86-2008 and generic-rcu-2014
read the pmd's two halves with two plain loads and rely on x86's load-load
order; under LKMM the halves may be read out of order, and the walker follows
a torn pmd (the new low half, the old high half) into the wrong page table
(pfn-valid). modern's pmdp_get_lockless() (low, smp_rmb, high, smp_rmb, low
again) is safe there.
"""

from __future__ import annotations

from ..kernel import Kernel
from ..kernel.futex import get_futex_key
from ..kernel.gup import (Pages, __get_user_pages_fast, get_user_pages_fast,
                          pin_user_pages_fast, put_user_pages, unpin_user_pages)
from ..kernel.invariants import gup_results_consistent, refcount_balanced
from ..kernel.mmops import munmap, shrink_page
from ..kernel.pagetable import PAGE_SIZE
from ..kernel.thp import split_huge_page
from ..ops import Load, Store
from ..spec import ThreadSpec, scenario

_DOCS = dict(
    arch="architecture (x86-64, x86-pae, arm, arm-lpae, arm64, powerpc)",
    design="GUP-fast design (x86-2008, arm-rfc-2013, powerpc-2008, generic-rcu-2014, "
           "readers-counter-2013, modern, weak-default)",
    pages="pages per GUP call",
    ptrs="entries per pte table (= base pages per THP), 2 or 4",
    gup_cpus="number of CPUs running GUP-fast",
    fast_only="call __get_user_pages_fast (no slow-path fallback)",
    pin="use pin_user_pages_fast / unpin_user_page (FOLL_PIN)",
)


def gup_thread(k, t, start, nr, write=True, fast_only=True, pin=False, mark=None,
               generations=False):
    """A GUP user: pin ``nr`` pages, then release them. With ``mark``, it is a
    driver doing DMA: it writes ``mark`` through every page it got before
    releasing them, and with ``generations`` first notes each page's
    allocation generation (the owner it holds). Returns (nr, pages), or
    (nr, pages, generations)."""
    pages = Pages()
    if pin:
        n = yield from pin_user_pages_fast(k, t, start, nr, write, pages)
    else:
        call = __get_user_pages_fast if fast_only else get_user_pages_fast
        n = yield from call(k, t, start, nr, write, pages)
    gens = []
    for j, pfn in enumerate(pages if mark is not None else ()):
        if generations:
            gens.append((yield Load(k.alloc_gen(pfn), addr=pages.regs_of(j))))
        yield Store(k.data(pfn), mark, addr=pages.regs_of(j))    # kmap(pages[j])
    if pin:
        yield from unpin_user_pages(k, pages)
    else:
        yield from put_user_pages(k, pages)
    return (n, tuple(pages), tuple(gens)) if generations else (n, tuple(pages))


def _boot(arch, design, gup_cpus, ptrs):
    k = Kernel(arch, design, cpus=gup_cpus + 1, ptrs_per_pte=ptrs)
    mm = k.new_mm()
    k.add_vma(mm, 0, k.geo.size("pmd"))
    return k, mm


def _gup_threads(k, mm, pages, fast_only, pin, gup_cpus, start=0):
    return [ThreadSpec(f"gup{c}", gup_thread(k, k.task(c, mm), start, pages,
                                             fast_only=fast_only, pin=pin), cpu=c)
            for c in range(gup_cpus)]


def _invariants(k, gup_cpus, expected):
    return [refcount_balanced(k)] + [gup_results_consistent(k, f"gup{c}", expected)
                                     for c in range(gup_cpus)]


@scenario("gup-vs-thp-split", tags=("gup", "thp"),
          offset="index of the first base page of the THP the GUP call asks for", **_DOCS)
def gup_vs_thp_split(arch="arm64", design="generic-rcu-2014", pages=2, ptrs=2,
                     gup_cpus=1, fast_only=True, pin=False, offset=0):
    """GUP-fast on a THP while another CPU splits it (split_huge_page of the
    design's era). Bugs show as references taken across the split."""
    assert 0 <= offset and offset + pages <= ptrs, "the range must lie inside the THP"
    k, mm = _boot(arch, design, gup_cpus, ptrs)
    head = k.map_thp(mm, 0)
    splitter = k.task(gup_cpus, mm)
    threads = _gup_threads(k, mm, pages, fast_only, pin, gup_cpus, start=offset * PAGE_SIZE)
    threads.append(ThreadSpec("split", split_huge_page(k, splitter, 0), cpu=gup_cpus))
    return k.program(threads, _invariants(k, gup_cpus,
                                          {i: head + offset + i for i in range(pages)}))


@scenario("gup-vs-munmap", tags=("gup", "munmap"), huge="map the range with a THP",
          **_DOCS)
def gup_vs_munmap(arch="arm64", design="generic-rcu-2014", pages=1, ptrs=2,
                  gup_cpus=1, fast_only=True, pin=False, huge=False):
    """GUP-fast while another CPU munmaps the range and frees its page table.
    Bugs show as a walker reading a freed page-table page or referencing a
    freed page."""
    k, mm = _boot(arch, design, gup_cpus, ptrs)
    if huge:
        head = k.map_thp(mm, 0)
        expected = {i: head + i for i in range(pages)}
    else:
        expected = {i: k.map_page(mm, i * PAGE_SIZE) for i in range(pages)}
    t = k.task(gup_cpus, mm)
    threads = _gup_threads(k, mm, pages, fast_only, pin, gup_cpus)
    threads.append(ThreadSpec("munmap", munmap(k, t, 0, k.geo.size("pmd")), cpu=gup_cpus))
    return k.program(threads, _invariants(k, gup_cpus, expected))


@scenario("gup-vs-reclaim", tags=("gup", "reclaim"), **_DOCS)
def gup_vs_reclaim(arch="arm64", design="generic-rcu-2014", pages=1, ptrs=2,
                   gup_cpus=1, fast_only=True, pin=False):
    """GUP-fast while reclaim unmaps the first page and frees it if its
    refcount can be frozen. Bugs show as get_page() on a freed page."""
    k, mm = _boot(arch, design, gup_cpus, ptrs)
    expected = {i: k.map_page(mm, i * PAGE_SIZE) for i in range(pages)}
    t = k.task(gup_cpus, mm)
    threads = _gup_threads(k, mm, pages, fast_only, pin, gup_cpus)
    threads.append(ThreadSpec("reclaim", shrink_page(k, t, 0), cpu=gup_cpus))
    return k.program(threads, _invariants(k, gup_cpus, expected))


def futex_thread(k, t, uaddr, max_retries):
    key = yield from get_futex_key(k, t, uaddr, write=True, max_retries=max_retries)
    return key


@scenario("futex-thp-tail", tags=("futex", "thp"),
          split="also split the THP on another CPU",
          max_retries="retries of get_futex_key's 'again' loop before reporting no "
                      "progress (None: unbounded, for a checker that detects the livelock)",
          **_DOCS)
def futex_thp_tail(arch="arm-lpae", design="generic-rcu-2014", ptrs=2, split=False,
                   max_retries=None):
    """get_futex_key() on an address inside a THP tail page (2013 path:
    get_user_pages_fast, PageTail -> __get_user_pages_fast with IRQs off,
    goto again on failure)."""
    k = Kernel(arch, design, cpus=2 if split else 1, ptrs_per_pte=ptrs)
    mm = k.new_mm()
    k.add_vma(mm, 0, k.geo.size("pmd"))
    k.map_thp(mm, 0)
    threads = [ThreadSpec("futex", futex_thread(k, k.task(0, mm), PAGE_SIZE, max_retries),
                          cpu=0)]
    if split:
        threads.append(ThreadSpec("split", split_huge_page(k, k.task(1, mm), 0), cpu=1))
    return k.program(threads, [refcount_balanced(k)])


__all__ = ["gup_thread", "futex_thread", "gup_vs_thp_split", "gup_vs_munmap",
           "gup_vs_reclaim", "futex_thp_tail"]
