"""Faults, COW, fork, the page cache, madvise and the GUP slow path's flags, run
sequentially: one-thread programs checked with dfs (one execution each).

Each test builds a fresh kernel in a factory, runs one thread on cpu0 and
asserts on the thread's result and the final memory; refcount-balanced is
checked at the end of every run.
"""

import pytest

from gupsim.kernel import Kernel
from gupsim.kernel.fault import ZERO_PFN, mm_version
from gupsim.kernel.filemap import add_to_page_cache, delete_from_page_cache, find_get_page
from gupsim.kernel.fork import fork, prepare_child_mm
from gupsim.kernel.gup import (get_user_pages, pin_user_pages_fast, put_user_pages,
                               unpin_user_pages)
from gupsim.kernel.gup.slow import FOLL_FORCE, FOLL_LONGTERM
from gupsim.kernel.madvise import madvise
from gupsim.kernel.mmops import do_fault
from gupsim.kernel.page import FOLL_GET
from gupsim.kernel.pagetable import PAGE_SIZE
from gupsim.ops import Load, Store
from one_thread import run_alone


def run_one(setup, body, arch="x86-64", design="modern", mm_era=None):
    """setup(k) -> ctx; body(k, ctx) -> generator. Returns (result, k, final memory)."""
    res, k = run_alone(setup, body, arch, design, mm_era=mm_era)
    return res.results["t"], k, res.final_memory


def anon(k, pages=2, write=True):
    mm = k.new_mm()
    k.add_vma(mm, 0, k.geo.size("pmd"), write)
    k.pte_slot(mm, 0)
    return k.task(0, mm, pages=pages), mm


def file_task(k, shared=False, write=False, populate=False, pages=2):
    mm = k.new_mm()
    f = k.add_file(1)
    k.map_file(mm, 0, PAGE_SIZE, f, write=write, shared=shared, populate=populate)
    k.pte_slot(mm, 0)
    return k.task(0, mm, pages=pages), mm, k.memory[f.slot(0)]


def pte_of(k, mem, mm, addr=0):
    t, i = k.pte_slot(mm, addr, create=False)
    return mem[t.cell(i)]


def user_write(k, t, addr, value):
    """A user store: fault for write, then write the page the pte maps."""
    assert (yield from do_fault(k, t, addr, write=True)) == 0
    ptes, j = k.pte_slot(t.mm, addr, create=False)
    pfn = k.enc.pte_pfn((yield Load(ptes.cell(j))))
    yield Store(k.data(pfn), value)
    return pfn


def test_mm_era_defaults_to_the_designs_year():
    assert mm_version(None, 2014) == (3, 18) and mm_version(None, 2024) == (6, 12)
    assert Kernel("x86-64", "generic-rcu-2014").mm_era == (3, 18)
    assert Kernel("x86-64", "modern", mm_era="4.9").mm_era == (4, 9)


def test_read_fault_maps_the_zero_page():
    def body(k, ctx):
        t, mm = ctx
        return (yield from do_fault(k, t, 0, write=False))

    ret, k, mem = run_one(anon, body)
    pte = pte_of(k, mem, k.mms[0])
    assert ret == 0 and k.enc.pte_pfn(pte) == ZERO_PFN
    assert k.enc.pte_special(pte) and not k.enc.pte_write(pte)
    assert mem[k.count(ZERO_PFN)] == 1          # special ptes hold no reference


def test_write_fault_after_read_replaces_the_zero_page():
    def body(k, ctx):
        t, mm = ctx
        yield from do_fault(k, t, 0, write=False)
        return (yield from do_fault(k, t, 0, write=True))

    ret, k, mem = run_one(anon, body)
    pte = pte_of(k, mem, k.mms[0])
    pfn = k.enc.pte_pfn(pte)
    assert ret == 0 and pfn != ZERO_PFN and k.enc.pte_write(pte)
    assert (mem[k.count(pfn)], mem[k.mapping(pfn)], mem[k.data(pfn)]) == (1, "anon", 0)


def _parent_and_child(k):
    t, mm = anon(k)
    pfn = k.map_page(mm, 0)
    k.memory[k.data(pfn)] = "old"
    return t, prepare_child_mm(k, mm), pfn


def test_fork_write_protects_parent_and_child_and_shares_the_page():
    def body(k, ctx):
        t, child, pfn = ctx
        return (yield from fork(k, t, child))

    ret, k, mem = run_one(_parent_and_child, body)
    parent, child = k.mms
    pp, cp = pte_of(k, mem, parent), pte_of(k, mem, child)
    pfn = k.enc.pte_pfn(pp)
    assert ret == 0 and k.enc.pte_pfn(cp) == pfn
    assert not k.enc.pte_write(pp) and not k.enc.pte_write(cp)
    assert mem[k.count(pfn)] == 2 and mem[k.mapcount(pfn)] + 1 == 2
    assert mem[child.vmas[0].cell] is True
    assert mem[k.anon_exclusive(pfn)] is False      # v5.19+: no longer exclusive


@pytest.mark.parametrize("mm_era", ["4.8", "5.9", "6.12"])
def test_write_after_fork_cows_and_the_child_keeps_the_old_data(mm_era):
    def body(k, ctx):
        t, child, pfn = ctx
        yield from fork(k, t, child)
        return pfn, (yield from user_write(k, t, 0, "new"))

    (old, new), k, mem = run_one(_parent_and_child, body, mm_era=mm_era)
    parent, child = k.mms
    assert new != old and k.enc.pte_pfn(pte_of(k, mem, child)) == old
    assert (mem[k.data(old)], mem[k.data(new)]) == ("old", "new")
    assert k.enc.pte_write(pte_of(k, mem, parent))
    assert (mem[k.count(old)], mem[k.count(new)]) == (1, 1)


def _gup_then_write(k, t, extra_ref):
    """Optionally hold a GUP reference on the page, then write-fault it."""
    pages = []
    if extra_ref:
        yield from get_user_pages(k, t, 0, 1, False, pages)
    pfn = yield from user_write(k, t, 0, "x")
    yield from put_user_pages(k, pages)
    return pfn


@pytest.mark.parametrize("mm_era,extra_ref,reused", [
    ("4.8", False, True), ("5.9", False, True), ("6.12", False, True),
    ("4.8", True, True),       # reuse_swap_page(): mapped once, the GUP ref does not count
    ("5.9", True, False),      # page_count == 1 only: a GUP reference forces a copy
    ("6.12", True, True),      # PageAnonExclusive
])
def test_write_to_a_read_only_exclusive_page_reuses_it_by_era(mm_era, extra_ref, reused):
    def setup(k):
        t, mm = anon(k)
        return t, k.map_page(mm, 0, write=False)

    def body(k, ctx):
        t, pfn = ctx
        return pfn, (yield from _gup_then_write(k, t, extra_ref))

    (old, now), k, mem = run_one(setup, body, mm_era=mm_era)
    assert (now == old) == reused
    assert k.enc.pte_write(pte_of(k, mem, k.mms[0]))


def test_file_read_fault_maps_the_page_cache_page():
    def body(k, ctx):
        return (yield from do_fault(k, ctx[0], 0, write=False))

    ret, k, mem = run_one(file_task, body)
    pte = pte_of(k, mem, k.mms[0])
    cached = mem["file0.i_pages[0]"]
    assert ret == 0 and k.enc.pte_pfn(pte) == cached and not k.enc.pte_write(pte)
    assert (mem[k.count(cached)], mem[k.mapcount(cached)]) == (2, 0)


def test_private_file_write_fault_copies_the_page():
    def body(k, ctx):
        return (yield from do_fault(k, ctx[0], 0, write=True))

    ret, k, mem = run_one(lambda k: file_task(k, write=True), body)
    pte = pte_of(k, mem, k.mms[0])
    new, cached = k.enc.pte_pfn(pte), mem["file0.i_pages[0]"]
    assert ret == 0 and new != cached and k.enc.pte_write(pte)
    assert (mem[k.mapping(new)], mem[k.data(new)]) == ("anon", "file0[0]")
    assert mem[k.count(cached)] == 1             # only the page cache's reference


def test_shared_file_write_fault_writes_the_page_cache_page():
    def body(k, ctx):
        return (yield from user_write(k, ctx[0], 0, "dirty"))

    pfn, k, mem = run_one(lambda k: file_task(k, shared=True, write=True), body)
    assert pfn == mem["file0.i_pages[0]"] and mem[k.data(pfn)] == "dirty"
    assert k.enc.pte_write(pte_of(k, mem, k.mms[0]))


def test_madv_dontneed_empties_the_ptes_and_keeps_the_table():
    def body(k, ctx):
        t, mm = ctx
        pfns = []
        for a in (0, PAGE_SIZE):
            pfns.append((yield from user_write(k, t, a, 1)))
        return pfns, (yield from madvise(k, t, 0, 2 * PAGE_SIZE))

    (pfns, ret), k, mem = run_one(anon, body)
    mm = k.mms[0]
    table, i = k.pmd_slot(mm, 0, create=False)
    assert ret == 0 and k.enc.pfn(mem[table.cell(i)]) == k.pte_slot(mm, 0)[0].pfn
    assert [pte_of(k, mem, mm, a) for a in (0, PAGE_SIZE)] == [0, 0]
    assert [mem[k.count(p)] for p in pfns] == [0, 0]


@pytest.mark.parametrize("mm_era", ["4.8", "4.9", "6.12"])
def test_foll_force_write_to_a_read_only_private_mapping_cows(mm_era):
    def body(k, ctx):
        t, mm, cached = ctx
        pages = []
        n = yield from get_user_pages(k, t, 0, 1, True, pages, FOLL_GET | FOLL_FORCE)
        got = pages[0]
        mapping = yield Load(k.mapping(got))
        yield from put_user_pages(k, pages)
        return n, got, cached, mapping

    (n, got, cached, mapping), k, mem = run_one(
        lambda k: file_task(k, populate=True), body, mm_era=mm_era)
    pte = pte_of(k, mem, k.mms[0])
    assert n == 1 and got != cached and mapping == "anon"
    assert k.enc.pte_pfn(pte) == got and not k.enc.pte_write(pte)   # VM_WRITE clear
    assert mem[k.data(got)] == "file0[0]"


def test_return_contract_prefix_then_efault():
    def setup(k):
        mm = k.new_mm()
        k.add_vma(mm, 0, PAGE_SIZE, write=False)
        k.map_page(mm, 0, write=False)
        return k.task(0, mm)

    def body(k, t):
        a, b, c = [], [], []
        prefix = yield from get_user_pages(k, t, 0, 2, False, a)
        outside = yield from get_user_pages(k, t, PAGE_SIZE, 1, False, b)
        no_force = yield from get_user_pages(k, t, 0, 1, True, c)
        yield from put_user_pages(k, a + b + c)
        return prefix, len(a), outside, no_force

    assert run_one(setup, body)[0] == (1, 1, -14, -14)


@pytest.mark.parametrize("mm_era,expected", [("6.4", 1), ("6.5", -14)])
def test_longterm_write_pin_of_a_shared_file_mapping(mm_era, expected):
    def body(k, ctx):
        pages = []
        n = yield from get_user_pages(k, ctx[0], 0, 1, True, pages, FOLL_GET | FOLL_LONGTERM)
        yield from put_user_pages(k, pages)
        return n

    setup = lambda k: file_task(k, shared=True, write=True)     # noqa: E731
    assert run_one(setup, body, mm_era=mm_era)[0] == expected


def test_page_cache_lookup_add_and_delete():
    def setup(k):
        spare = k.alloc_pages(1)
        k.memory[k.count(spare)] = 1                 # the allocation's reference
        return k.add_file(2), spare

    def body(k, ctx):
        f, spare = ctx
        first = yield from find_get_page(k, f, 0)
        yield from put_user_pages(k, [first])
        busy = yield from add_to_page_cache(k, spare, f, 0)
        yield from delete_from_page_cache(k, first, f, 0)
        gone = yield from find_get_page(k, f, 0)
        added = yield from add_to_page_cache(k, spare, f, 0)
        again = yield from find_get_page(k, f, 0)
        yield from put_user_pages(k, [spare, again])   # ours and the lookup's
        return first, busy, gone, added, again

    (first, busy, gone, added, again), k, mem = run_one(setup, body)
    assert (busy, gone, added) == (-17, None, 0)
    assert again == mem["file0.i_pages[0]"] != first
    assert mem[k.mapping(first)] is None and mem[k.count(first)] == 0


@pytest.mark.parametrize("mm_era,unshared", [("5.18", False), ("6.12", True)])
def test_read_pin_after_fork_unshares_the_page_from_v5_19(mm_era, unshared):
    def body(k, ctx):
        t, child, pfn = ctx
        yield from fork(k, t, child)
        pages = []
        n = yield from pin_user_pages_fast(k, t, 0, 1, False, pages)
        yield from unpin_user_pages(k, pages)
        return n, pages[0], pfn

    (n, pinned, old), k, mem = run_one(_parent_and_child, body, mm_era=mm_era)
    parent, child = k.mms
    assert n == 1 and (pinned != old) == unshared
    assert k.enc.pte_pfn(pte_of(k, mem, child)) == old
    assert k.enc.pte_pfn(pte_of(k, mem, parent)) == pinned
    assert not k.enc.pte_write(pte_of(k, mem, parent))      # an unshare, not a write
    if unshared:
        assert mem[k.anon_exclusive(pinned)] is True and mem[k.data(pinned)] == "old"


@pytest.mark.parametrize("arch", ["arm", "arm64"])
def test_zapping_the_zero_page_drops_no_reference(arch):
    # arm (2-level) has no pte_special: vm_normal_page() recognises the zero pfn.
    def body(k, ctx):
        t, mm = ctx
        yield from do_fault(k, t, 0, write=False)
        return (yield from madvise(k, t, 0, PAGE_SIZE))

    ret, k, mem = run_one(anon, body, arch=arch)
    assert ret == 0 and mem[k.count(ZERO_PFN)] == 1 and pte_of(k, mem, k.mms[0]) == 0
