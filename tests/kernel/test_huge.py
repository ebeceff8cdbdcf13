"""Huge pages run sequentially: khugepaged collapse, hugetlbfs and mprotect.

Each test builds a fresh kernel, runs one thread on cpu0 through
check(strategy="dfs") and asserts on the thread's result and the final memory
(the refcount-balanced invariant is checked at the end of every run).
"""

import pytest

from gupsim.kernel.gup import (
    __get_user_pages_fast,
    pin_user_pages_fast,
    put_user_pages,
    unpin_user_pages,
)
from gupsim.kernel.hugetlb import (
    FREE_HUGE_PAGES,
    follow_hugetlb_page,
    hugetlb_fault,
    map_hugetlb_page,
    reserve_huge_pages,
)
from gupsim.kernel.khugepaged import (
    SCAN_PAGE_COUNT,
    SCAN_SUCCEED,
    collapse_huge_page,
    prepare_hugepage,
)
from gupsim.kernel.mm import EFAULT, ENOMEM
from gupsim.kernel.mmops import munmap
from gupsim.kernel.mprotect import mprotect
from gupsim.kernel.page import FOLL_GET, get_page, put_page
from gupsim.kernel.pagetable import PAGE_SIZE
from gupsim.ops import Load
from one_thread import run_alone

PAIRS = [("x86-64", "x86-2008"), ("arm64", "generic-rcu-2014"), ("arm64", "modern"),
         ("x86-64", "modern"), ("powerpc", "powerpc-2008")]


def run(setup, body, arch="x86-64", design="modern", ptrs=2):
    """setup(k) -> ctx; body(k, ctx) -> generator. Returns (result, final memory, k)."""
    res, k = run_alone(setup, body, arch, design, ptrs_per_pte=ptrs)
    return res.results["t"], res.final_memory, k


def small_pages(k):
    """A task whose mm maps every page of the first pmd range with a small
    page holding data "d<j>"; a huge page prepared for khugepaged."""
    mm = k.new_mm()
    k.add_vma(mm, 0, k.geo.size("pmd"))
    pfns = [k.map_page(mm, j * PAGE_SIZE) for j in range(k.geo.hpage_pmd_nr)]
    for j, p in enumerate(pfns):
        k.memory[k.data(p)] = f"d{j}"
    return k.task(0, mm), pfns, prepare_hugepage(k)


def gup_all(k, t, n, write=True):
    """__get_user_pages_fast of n pages from 0, released at once: (nr, pages)."""
    pages = []
    nr = yield from __get_user_pages_fast(k, t, 0, n, write, pages)
    yield from put_user_pages(k, pages)
    return nr, tuple(pages)


def pmd_of(k, mem, mm):
    table, i = k.pmd_slot(mm, 0, create=False)
    return mem[table.cell(i)]


# --- khugepaged ----------------------------------------------------------------------

@pytest.mark.parametrize("arch,design", PAIRS)
@pytest.mark.parametrize("ptrs", [2, 4])
def test_collapse_makes_one_huge_pmd_with_the_data_and_frees_the_small_pages(arch, design,
                                                                               ptrs):
    def body(k, ctx):
        t, _, hpage = ctx
        ret = yield from collapse_huge_page(k, t, 0, hpage)
        got = yield from gup_all(k, t, ptrs)
        return ret, got

    (ret, (nr, pages)), mem, k = run(small_pages, body, arch, design, ptrs)
    hpage = max(k.large_folios)
    assert ret == SCAN_SUCCEED
    assert nr == ptrs and pages == tuple(range(hpage, hpage + ptrs))
    pmd = pmd_of(k, mem, k.mms[0])
    assert k.enc.pmd_huge(pmd) and k.enc.pmd_pfn(pmd) == hpage and k.enc.pmd_write(pmd)
    assert [mem[k.data(hpage + j)] for j in range(ptrs)] == [f"d{j}" for j in range(ptrs)]
    small = [p for p in k.data_pages() if p < hpage]
    assert all(mem[k.count(p)] == 0 for p in small)        # freed
    assert mem[k.count(hpage)] == 1


@pytest.mark.parametrize("arch,design", PAIRS)
def test_collapse_refuses_a_pinned_page_and_puts_the_pmd_back(arch, design):
    def body(k, ctx):
        t, pfns, hpage = ctx
        yield from get_page(k, pfns[1])           # a GUP pin held across the collapse
        ret = yield from collapse_huge_page(k, t, 0, hpage)
        yield from put_page(k, pfns[1])
        got = yield from gup_all(k, t, 2)
        return ret, got, tuple(pfns), hpage

    (ret, (nr, pages), pfns, hpage), mem, k = run(small_pages, body, arch, design)
    assert ret == SCAN_PAGE_COUNT
    assert nr == 2 and pages == pfns
    pmd = pmd_of(k, mem, k.mms[0])
    assert not k.enc.pmd_huge(pmd) and k.enc.pmd_present(pmd)
    assert [mem[k.data(p)] for p in pfns] == ["d0", "d1"]
    assert mem[k.count(hpage)] == 0                   # the huge page went back


# --- hugetlbfs -----------------------------------------------------------------------

def hugetlb_mm(k, pool=1, mapped=False):
    mm = k.new_mm()
    vma = k.add_hugetlb_vma(mm, 0, k.geo.size("pmd"))
    heads = reserve_huge_pages(k, pool)
    if mapped:
        heads = [map_hugetlb_page(k, mm, 0)]
    return k.task(0, mm), vma, heads


@pytest.mark.parametrize("arch,design", PAIRS)
@pytest.mark.parametrize("ptrs", [2, 4])
def test_hugetlb_fault_then_gup_returns_the_sub_pages(arch, design, ptrs):
    def body(k, ctx):
        t, vma, _ = ctx
        ret = yield from hugetlb_fault(k, t, vma, PAGE_SIZE, True)
        slow = yield from follow_hugetlb_page(k, t, vma, (ptrs - 1) * PAGE_SIZE, True,
                                              FOLL_GET)
        yield from put_user_pages(k, [slow])
        pages = []
        nr = yield from pin_user_pages_fast(k, t, PAGE_SIZE, ptrs - 1, True, pages)
        yield from unpin_user_pages(k, pages)
        return ret, slow, nr, tuple(pages)

    (ret, slow, nr, pages), mem, k = run(lambda k: hugetlb_mm(k), body, arch, design, ptrs)
    head = max(k.large_folios)
    assert ret == 0 and slow == head + ptrs - 1
    assert nr == ptrs - 1 and pages == tuple(range(head + 1, head + ptrs))
    assert mem[FREE_HUGE_PAGES] == () and mem[k.count(head)] == 1


def test_hugetlb_fault_without_a_free_huge_page_is_enomem():
    def body(k, ctx):
        t, vma, _ = ctx
        return (yield from hugetlb_fault(k, t, vma, 0, True))
    assert run(lambda k: hugetlb_mm(k, pool=0), body)[0] == -ENOMEM


def test_read_fault_then_write_reuses_the_hugetlb_page():
    def body(k, ctx):
        t, vma, _ = ctx
        yield from hugetlb_fault(k, t, vma, 0, False)
        before = yield from follow_hugetlb_page(k, t, vma, 0, True, FOLL_GET)
        ret = yield from hugetlb_fault(k, t, vma, 0, True)
        after = yield from follow_hugetlb_page(k, t, vma, 0, True, FOLL_GET)
        yield from put_user_pages(k, [after])
        return before, ret, after

    (before, ret, after), _, k = run(lambda k: hugetlb_mm(k), body)
    assert before is None and ret == 0 and after == max(k.large_folios)


@pytest.mark.parametrize("arch,design", PAIRS)
def test_munmap_of_a_hugetlb_vma_frees_the_huge_page(arch, design):
    def body(k, ctx):
        t = ctx[0]
        got = yield from gup_all(k, t, 1)
        ret = yield from munmap(k, t, 0, k.geo.size("pmd"))
        again = yield from gup_all(k, t, 1)
        return got, ret, again

    ((nr, pages), ret, again), mem, k = run(lambda k: hugetlb_mm(k, 0, mapped=True), body,
                                            arch, design)
    head = max(k.large_folios)
    assert nr == 1 and pages == (head,) and ret == 0 and again == (0, ())
    assert mem[k.count(head)] == 0 and mem[k.mapcount(head)] == -1
    assert mem[k.mms[0].vmas[0].cell] is False


# --- mprotect ------------------------------------------------------------------------

def mapped_task(k, huge=False):
    mm = k.new_mm()
    k.add_vma(mm, 0, k.geo.size("pmd"))
    if huge:
        k.map_thp(mm, 0)
    else:
        for j in range(k.geo.hpage_pmd_nr):
            k.map_page(mm, j * PAGE_SIZE)
    return k.task(0, mm)


def entries(k, mem):
    """The leaf entries mapping the first pmd range of the first mm."""
    pmd = pmd_of(k, mem, k.mms[0])
    if k.enc.pmd_huge(pmd):
        return [pmd]
    ptes = k.tables[k.enc.pfn(pmd)]
    return [mem[ptes.cell(j)] for j in range(ptes.nentries)]


def protect(k, t, *writes):
    """mprotect the first pmd range to each protection in turn, then try a write
    and a read GUP-fast: (mprotect returns, VM_WRITE, write nr, read nr)."""
    rets = []
    for w in writes:
        rets.append((yield from mprotect(k, t, 0, k.geo.size("pmd"), w)))
    vm_write = yield Load(t.mm.vmas[0].vm_write)
    write = yield from gup_all(k, t, 2, write=True)
    read = yield from gup_all(k, t, 2, write=False)
    return tuple(rets), vm_write, write[0], read[0]


@pytest.mark.parametrize("arch,design", PAIRS)
@pytest.mark.parametrize("huge", [False, True])
def test_mprotect_read_only_write_protects_every_entry_and_write_gup_fails(arch, design,
                                                                          huge):
    out, mem, k = run(lambda k: mapped_task(k, huge), lambda k, t: protect(k, t, False),
                      arch, design)
    assert out == ((0,), False, 0, 2)
    es = entries(k, mem)
    assert es and all(k.enc.pte_present(e) and not k.enc.pte_write(e) for e in es)


@pytest.mark.parametrize("arch,design", PAIRS)
@pytest.mark.parametrize("huge", [False, True])
def test_mprotect_back_to_read_write(arch, design, huge):
    """Since v6.0 dirty exclusive anonymous entries are made writable at once;
    before, they stay read-only until the next write fault."""
    out, mem, k = run(lambda k: mapped_task(k, huge), lambda k, t: protect(k, t, False, True),
                      arch, design)
    eager = k.design.era >= 2022
    assert out == ((0, 0), True, 2 if eager else 0, 2)
    assert all(k.enc.pte_write(e) == eager for e in entries(k, mem))


def test_mprotect_of_a_hugetlb_vma_then_write_fault_reuses_the_page():
    def body(k, ctx):
        t, vma, _ = ctx
        rets = []
        for w in (False, True):
            rets.append((yield from mprotect(k, t, 0, k.geo.size("pmd"), w)))
        before = yield from gup_all(k, t, 1)
        fault = yield from hugetlb_fault(k, t, vma, 0, True)
        after = yield from gup_all(k, t, 1)
        return tuple(rets), before[0], fault, after[0]

    out = run(lambda k: hugetlb_mm(k, 0, mapped=True), body, "arm64", "modern")[0]
    assert out == ((0, 0), 0, 0, 1)


def test_mprotect_cannot_add_write_to_a_read_only_mapping():
    def setup(k):
        mm = k.new_mm()
        k.add_vma(mm, 0, k.geo.size("pmd"), write=False)
        return k.task(0, mm)

    def body(k, t):
        return (yield from mprotect(k, t, 0, k.geo.size("pmd"), True))
    assert run(setup, body)[0] == -EFAULT
