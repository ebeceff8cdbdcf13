"""The mm model run sequentially: one-thread programs through check(strategy="dfs").

Each test builds a fresh kernel in a factory, runs one thread on cpu0 and
asserts on the thread's result and the final memory.
"""

import pytest

from gupsim.check import CheckConfig, check
from gupsim.kernel import Kernel, get_design
from gupsim.kernel.futex import get_futex_key
from gupsim.kernel.gup import (__get_user_pages_fast, get_user_pages_fast,
                               pin_user_pages_fast, put_user_pages, unpin_user_pages)
from gupsim.kernel.mmops import do_fault, munmap, shrink_page
from gupsim.kernel.page import get_page, get_page_unless_zero, put_page
from gupsim.kernel.pagetable import PAGE_SIZE, POISON
from gupsim.kernel.thp import split_huge_page
from gupsim.ops import Load
from gupsim.spec import ThreadSpec
from one_thread import run_alone

WALKING = ["x86-2008", "arm-rfc-2013", "powerpc-2008", "generic-rcu-2014",
           "readers-counter-2013", "modern"]


def run_one(setup, body, arch="x86-64", design="x86-2008", ptrs=2):
    """setup(k) -> ctx; body(k, ctx) -> generator. Returns the check result."""
    return run_alone(setup, body, arch, design, expect_safe=False, ptrs_per_pte=ptrs)[0]


def task_and_thp(k):
    """A task whose mm maps one THP at address 0: (task, head pfn)."""
    mm = _mm(k)
    return k.task(0, mm), k.map_thp(mm, 0)


def task_on_a_thp(k):
    """The task alone, its mm mapping one THP at address 0."""
    return task_and_thp(k)[0]


def _mm(k, length=None):
    mm = k.new_mm()
    k.add_vma(mm, 0, length or k.geo.size("pmd"))
    return mm


def _counts(k, mem, pfns):
    return [mem[k.count(p)] for p in pfns]


@pytest.mark.parametrize("arch,design", [("x86-64", "x86-2008"), ("arm64", "generic-rcu-2014"),
                                         ("x86-pae", "modern"), ("arm", "arm-rfc-2013"),
                                         ("powerpc", "powerpc-2008"),
                                         ("arm-lpae", "weak-default")])
def test_fault_then_gup_returns_the_faulted_pages(arch, design):
    def setup(k):
        mm = _mm(k)
        return k.task(0, mm, pages=2, tables=1)

    def body(k, t):
        assert (yield from do_fault(k, t, 0)) == 0
        assert (yield from do_fault(k, t, PAGE_SIZE)) == 0
        pages = []
        n = yield from get_user_pages_fast(k, t, 0, 2, True, pages)
        held = []
        for p in pages:
            held.append((yield Load(k.count(p))))
        yield from put_user_pages(k, pages)
        return n, tuple(pages), tuple(held)

    res = run_one(setup, body, arch, design)
    n, pages, held = res.results["t"]
    assert n == 2 and held == (2, 2)          # the mapping's ref + the GUP ref
    assert res.verdict == "safe"
    # the pages GUP returned are the ones the faults installed, in order
    assert pages[1] == pages[0] + 1


@pytest.mark.parametrize("design", WALKING)
def test_each_walker_pins_base_pages_with_one_ref_each(design):
    def setup(k):
        mm = _mm(k)
        return k.task(0, mm), [k.map_page(mm, i * PAGE_SIZE) for i in range(2)]

    def body(k, ctx):
        t, pfns = ctx
        pages = []
        n = yield from __get_user_pages_fast(k, t, 0, 2, True, pages)
        held = []
        for p in pfns:
            held.append((yield Load(k.count(p))))
        yield from put_user_pages(k, pages)
        return n, tuple(pages), tuple(held), tuple(pfns)

    res = run_one(setup, body, "x86-64", design)
    n, pages, held, pfns = res.results["t"]
    assert (n, pages, held) == (2, pfns, (2, 2))
    assert res.verdict == "safe"


@pytest.mark.parametrize("design", WALKING)
def test_each_walker_pins_a_thp_with_the_eras_refcounting(design):
    setup = task_and_thp

    def body(k, ctx):
        t, head = ctx
        pages = []
        n = yield from __get_user_pages_fast(k, t, 0, 2, True, pages)
        mem = {}
        for c in (k.count(head), k.count(head + 1), k.mapcount(head + 1)):
            mem[c] = yield Load(c)
        yield from put_user_pages(k, pages)
        return n, tuple(pages), mem, head

    res = run_one(setup, body, "arm64", design)
    n, pages, mem, head = res.results["t"]
    assert (n, pages) == (2, (head, head + 1))
    assert mem[f"page[{head}]._{'refcount' if design == 'modern' else 'count'}"] == 3
    if design == "modern":
        assert mem[f"page[{head + 1}]._refcount"] == 0
    else:   # pre-2016: the tail's GUP pin is also counted in its _mapcount
        assert mem[f"page[{head + 1}]._count"] == 0
        assert mem[f"page[{head + 1}]._mapcount"] == 0
    assert res.verdict == "safe"


def test_weak_default_fast_path_pins_nothing():
    def setup(k):
        mm = _mm(k)
        k.map_page(mm, 0)
        return k.task(0, mm)

    def body(k, t):
        pages = []
        return (yield from __get_user_pages_fast(k, t, 0, 1, True, pages)), pages

    res = run_one(setup, body, "arm-lpae", "weak-default")
    assert res.results["t"] == (0, [])


def test_pin_user_pages_fast_uses_the_pin_bias_and_pincount():
    def setup(k):
        mm = _mm(k, 2 * k.geo.size("pmd"))
        return k.task(0, mm), k.map_page(mm, 0), k.map_thp(mm, k.geo.size("pmd"))

    def body(k, ctx):
        t, small, head = ctx
        a, b = [], []
        yield from pin_user_pages_fast(k, t, 0, 1, True, a)
        yield from pin_user_pages_fast(k, t, k.geo.size("pmd"), 2, True, b)
        a_count = yield Load(k.count(small))
        h_count = yield Load(k.count(head))
        pins = yield Load(f"page[{head}]._pincount")
        held = (a_count, h_count, pins)
        yield from unpin_user_pages(k, a + b)
        return held

    res = run_one(setup, body, "x86-64", "modern")
    assert res.results["t"] == (1 + 1024, 1 + 2, 2)
    assert res.verdict == "safe"


def test_gup_fast_falls_back_to_the_slow_path_and_faults():
    def setup(k):
        return k.task(0, _mm(k), pages=1, tables=1)

    def body(k, t):
        pages = []
        n = yield from get_user_pages_fast(k, t, 0, 1, True, pages)
        yield from put_user_pages(k, pages)
        return n, len(pages)

    res = run_one(setup, body, "x86-64", "modern")
    assert res.results["t"] == (1, 1) and res.verdict == "safe"


def test_gup_outside_any_vma_is_efault_and_prefix_is_kept():
    def setup(k):
        mm = k.new_mm()
        k.add_vma(mm, 0, PAGE_SIZE)
        k.map_page(mm, 0)
        return k.task(0, mm)

    def body(k, t):
        a, b = [], []
        whole = yield from get_user_pages_fast(k, t, 0, 2, True, a)
        none = yield from get_user_pages_fast(k, t, PAGE_SIZE, 1, True, b)
        yield from put_user_pages(k, a + b)
        return whole, none

    res = run_one(setup, body, "x86-64", "x86-2008")
    assert res.results["t"] == (1, -14)      # nr wins over -EFAULT; -EFAULT alone


@pytest.mark.parametrize("arch,design", [("x86-64", "x86-2008"), ("arm64", "generic-rcu-2014"),
                                         ("arm", "arm-rfc-2013")])
def test_munmap_zaps_pages_and_frees_the_pte_table(arch, design):
    def setup(k):
        mm = _mm(k)
        pfns = [k.map_page(mm, i * PAGE_SIZE) for i in range(2)]
        table, _ = k.pte_slot(mm, 0, create=False)
        return k.task(0, mm), pfns, table

    def body(k, ctx):
        t, pfns, table = ctx
        yield from munmap(k, t, 0, k.geo.size("pmd"))
        return pfns, table.all_cells()

    res = run_one(setup, body, arch, design)
    pfns, cells = res.results["t"]
    mem = res.final_memory
    assert all(mem[c] == POISON for c in cells)
    assert [mem[f"page[{p}]._count"] for p in pfns] == [0, 0]
    assert mem["mm0.vma[0]"] is False and res.verdict == "safe"


@pytest.mark.parametrize("design", ["x86-2008", "modern"])
def test_split_without_pins_conserves_references(design):
    setup = task_and_thp

    def body(k, ctx):
        t, head = ctx
        return (yield from split_huge_page(k, t, 0)), head

    res = run_one(setup, body, "arm64", design, ptrs=4)
    ret, head = res.results["t"]
    mem = res.final_memory
    assert ret == 0
    assert _counts(_K(design), mem, range(head, head + 4)) == [1] * 4
    assert all(mem[f"page[{p}].compound_head"] is None for p in range(head, head + 4))
    assert res.verdict == "safe"


class _K:
    """Cell-name helper for assertions outside a run."""

    def __init__(self, design):
        self.c = "_refcount" if get_design(design).era >= 2016 else "_count"

    def count(self, p):
        return f"page[{p}].{self.c}"


def test_split_2013_moves_a_held_tail_pin_to_the_tail():
    setup = task_and_thp

    def body(k, ctx):
        t, head = ctx
        pages = []
        yield from __get_user_pages_fast(k, t, PAGE_SIZE, 1, True, pages)   # pin the tail
        yield from split_huge_page(k, t, 0)
        mid = ((yield Load(k.count(head))), (yield Load(k.count(head + 1))),
               (yield Load(k.mapcount(head + 1))))
        yield from put_user_pages(k, pages)
        return mid

    res = run_one(setup, body, "x86-64", "x86-2008")
    # head keeps its mapping ref; the tail gets mapping ref + the moved pin
    assert res.results["t"] == (1, 2, 0)
    assert res.verdict == "safe"     # refcount-balanced after the release


def test_split_2016_fails_with_ebusy_while_pinned():
    setup = task_and_thp

    def body(k, ctx):
        t, head = ctx
        pages = []
        yield from __get_user_pages_fast(k, t, PAGE_SIZE, 1, True, pages)
        ret = yield from split_huge_page(k, t, 0)
        yield from put_user_pages(k, pages)
        return ret

    res = run_one(setup, body, "arm64", "modern")
    assert res.results["t"] == -16 and res.verdict == "safe"


def test_put_page_to_zero_frees_and_get_page_then_fires():
    def setup(k):
        mm = _mm(k)
        return k.map_page(mm, 0)

    def body(k, pfn):
        yield from put_page(k, pfn)                       # the mapping's ref: now free
        ok = yield from get_page_unless_zero(k, pfn)     # speculative: must fail
        assert not ok
        yield from get_page(k, pfn)                       # VM_BUG_ON fires here

    res = run_one(setup, body)
    assert res.verdict == "violation"
    assert "get_page() on a free page" in res.violation.message


def test_reclaim_frees_an_unpinned_page_and_keeps_a_pinned_one():
    def setup(k):
        mm = _mm(k)
        return k.task(0, mm), k.map_page(mm, 0)

    def unpinned(k, ctx):
        t, pfn = ctx
        return (yield from shrink_page(k, t, 0))

    res = run_one(setup, unpinned, "arm64", "generic-rcu-2014")
    assert res.results["t"] is True and res.verdict == "safe"

    def pinned(k, ctx):
        t, pfn = ctx
        pages = []
        yield from __get_user_pages_fast(k, t, 0, 1, True, pages)
        freed = yield from shrink_page(k, t, 0)
        yield from put_user_pages(k, pages)
        return freed

    res = run_one(setup, pinned, "arm64", "generic-rcu-2014")
    assert res.results["t"] is False and res.verdict == "safe"


@pytest.mark.parametrize("design", ["generic-rcu-2014", "x86-2008", "modern"])
def test_futex_key_on_a_thp_tail_returns(design):
    setup = task_on_a_thp

    def body(k, t):
        return (yield from get_futex_key(k, t, PAGE_SIZE + 4, max_retries=3))

    res = run_one(setup, body, "x86-64" if design == "x86-2008" else "arm64", design)
    assert res.results["t"] == ("private", 0, PAGE_SIZE + 4)
    assert res.verdict == "safe"


def test_futex_key_with_the_weak_default_never_gets_out():
    setup = task_on_a_thp

    def body(k, t):
        return (yield from get_futex_key(k, t, PAGE_SIZE))

    res = run_one(setup, body, "arm-lpae", "weak-default")
    assert res.verdict == "livelock"
    assert "get_futex_key: again" in dict(res.violation.evidence)["t (cpu0)"]


def test_a_get_that_would_wrap_the_refcount_is_a_violation():
    from gupsim.kernel.page import INT_MAX

    def setup(k):
        mm = _mm(k)
        pfn = k.map_page(mm, 0)
        k.memory[k.count(pfn)] = INT_MAX       # as if 2^31 - 1 references were taken
        return pfn

    def body(k, pfn):
        yield from get_page(k, pfn)

    def factory():
        k = Kernel("x86-64", "x86-2008", cpus=1)
        pfn = setup(k)
        return k.program([ThreadSpec("t", body(k, pfn), cpu=0)])
    res = check(factory, CheckConfig(strategy="dfs"))
    assert res.violation is not None and res.violation.name == "refcount-wrap"


@pytest.mark.parametrize("design", ["x86-2008", "modern"])     # 2013 and 2016+ THP
def test_munmap_of_half_a_thp_splits_the_pmd_and_keeps_the_other_half(design):
    """zap_pmd_range() on part of a huge pmd: __split_huge_pmd(), then the ptes
    of the range go and the rest stays mapped (refcount-balanced at the end)."""
    def body(k, ctx):
        t, head = ctx
        assert (yield from munmap(k, t, 0, PAGE_SIZE)) == 0
        pages = []
        n = yield from __get_user_pages_fast(k, t, PAGE_SIZE, 1, True, pages)
        yield from put_user_pages(k, pages)
        gone = []
        n0 = yield from __get_user_pages_fast(k, t, 0, 1, True, gone)
        return n, tuple(pages), n0, head

    res = run_one(task_and_thp, body, "x86-64", design)
    assert res.verdict == "safe", res.violation
    n, pages, n0, head = res.results["t"]
    assert (n, pages, n0) == (1, (head + 1,), 0)
