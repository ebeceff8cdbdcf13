"""Physical memory, TLBs, RCU-sched and migration, mostly run sequentially.

Each test builds a fresh kernel in a factory and checks it with dfs; the
programs with a second CPU give it a thread (an IPI needs a CPU that runs one).
"""

import pytest

from gupsim.check import CheckConfig, check
from gupsim.kernel import Kernel
from gupsim.kernel.cpu import flush_tlb_mm, flush_tlb_range, tlb_declare
from gupsim.kernel.gup import __get_user_pages_fast, put_user_pages
from gupsim.kernel.invariants import refcount_balanced
from gupsim.kernel.migrate import is_migration_entry, migrate_pages
from gupsim.kernel.mm import EAGAIN, EFAULT
from gupsim.kernel.mmops import munmap
from gupsim.kernel.page import FREE_LIST, PAGE_POISON, alloc_page, free_page, put_page
from gupsim.kernel.pagetable import PAGE_SIZE, POISON
from gupsim.kernel.rcu import call_rcu_sched, rcu_read_lock_sched, rcu_read_unlock_sched
from gupsim.kernel.tlb import pte_free_tlb, tlb_finish_mmu, tlb_gather_mmu
from gupsim.kernel.user import user_load, user_store
from gupsim.ops import Load, Store
from gupsim.spec import Invariant, ThreadSpec


def run(setup, bodies, arch="x86-64", design="modern", strategy="dfs", invariants=True):
    """setup(k) -> ctx; bodies: one body(k, ctx) per CPU. The check result."""
    def factory():
        k = Kernel(arch, design, cpus=len(bodies))
        ctx = setup(k)
        threads = [ThreadSpec(f"t{c}", body(k, ctx), cpu=c) for c, body in enumerate(bodies)]
        return k.program(threads, [refcount_balanced(k)] if invariants else [])
    return check(factory, CheckConfig(strategy=strategy))


def _mm(k):
    mm = k.new_mm()
    k.add_vma(mm, 0, k.geo.size("pmd"))
    return mm


def _idle(k, ctx):
    return
    yield


def test_free_then_alloc_reuses_the_frame_with_a_new_generation():
    def setup(k):
        t = k.task(0, _mm(k))
        return t, k.map_page(t.mm, 0)

    def body(k, ctx):
        t, pfn = ctx
        before = yield Load(k.alloc_gen(pfn))
        yield Store(k.data(pfn), 7)
        yield from put_page(k, pfn)            # not the mapping's ref: test only
        freed = ((yield Load(k.alloc_gen(pfn))), (yield Load(k.data(pfn))),
                 (yield Load(FREE_LIST)))
        again = yield from alloc_page(k, t)
        after = ((yield Load(k.alloc_gen(again))), (yield Load(k.data(again))))
        yield Store(k.count(again), 1)         # the mapping's reference again
        yield Store(k.mapcount(again), 0)
        return pfn, before, freed, again, after

    res = run(setup, [body])
    assert res.verdict == "safe", res.violation
    pfn, before, freed, again, after = res.results["t0"]
    assert before == 1 and freed == (2, PAGE_POISON, (pfn,))
    assert again == pfn and after == (3, 0)


def test_alloc_falls_back_to_the_task_pool_and_a_double_free_is_caught():
    def setup(k):
        return k.task(0, _mm(k), pages=1)

    def body(k, t):
        pfn = yield from alloc_page(k, t)
        none = yield from alloc_page(k, t)
        yield from free_page(k, pfn)
        yield from free_page(k, pfn)
        return pfn, none

    res = run(setup, [body], invariants=False)
    assert res.verdict == "violation" and res.violation.name == "bad-page-state"


def _user_setup(k):
    t = k.task(0, _mm(k), pages=1, tables=1)
    tlb_declare(k, 0, t.mm, 0)
    return t


def test_user_store_then_load_round_trips_through_the_tlb():
    def body(k, t):
        assert (yield from user_store(k, t, 8, 5)) == 0     # faults the page in
        entry = yield Load(k.tlb_cell(0, t.mm.id, 0))
        v = yield from user_load(k, t, 8)
        return entry, v

    res = run(_user_setup, [body])
    assert res.verdict == "safe", res.violation
    (pfn, writable, gen), v = res.results["t0"]
    assert writable and gen == 1 and v == 5


def test_a_user_access_after_munmap_faults_instead_of_reading_the_freed_frame():
    def body(k, t):
        assert (yield from user_store(k, t, 0, 5)) == 0
        yield from munmap(k, t, 0, k.geo.size("pmd"))
        entry = yield Load(k.tlb_cell(0, t.mm.id, 0))
        return entry, (yield from user_load(k, t, 0))

    res = run(_user_setup, [body])
    assert res.verdict == "safe", res.violation
    assert res.results["t0"] == (None, -EFAULT)


@pytest.mark.parametrize("arch,kind", [("x86-64", "ipi"), ("arm64", "broadcast")])
def test_a_flush_empties_every_cpus_tlb_cells(arch, kind):
    def setup(k):
        mm = _mm(k)
        k.map_page(mm, 0)
        k.map_page(mm, PAGE_SIZE)
        cells = [tlb_declare(k, c, mm, a, fill=True) for c in (0, 1)
                 for a in (0, PAGE_SIZE)]
        return mm, cells

    def flusher(k, ctx):
        mm, cells = ctx
        full = []
        for c in cells:
            full.append((yield Load(c)))
        yield from flush_tlb_range(k, 0, 0, PAGE_SIZE, mm=mm)    # the first page
        yield from flush_tlb_mm(k, 0, mm)                        # then all of mm
        return tuple(full)

    def values(k, ctx):
        return ctx[1]

    def factory():
        k = Kernel(arch, "modern", cpus=2)
        ctx = setup(k)
        threads = [ThreadSpec("flush", flusher(k, ctx), cpu=0),
                   ThreadSpec("idle", _idle(k, ctx), cpu=1)]
        prog = k.program(threads)
        prog.invariants.append(Invariant("flushed", lambda mem, r: all(
            not isinstance(mem[c], tuple) for c in values(k, ctx)), when="end"))
        return prog

    k = Kernel(arch, "modern", cpus=2)
    assert k.arch.flush_kind() == kind
    res = check(factory, CheckConfig(strategy="dfs"))
    assert res.verdict == "safe", res.violation
    assert all(isinstance(e, tuple) for e in res.results["flush"])


def test_without_the_flush_ipi_x86_keeps_the_remote_entry():
    from gupsim.kernel import get_design

    def factory():
        k = Kernel("x86-64", get_design("x86-2008").without("tlb:flush-ipi"), cpus=2)
        mm = _mm(k)
        k.map_page(mm, 0)
        remote = tlb_declare(k, 1, mm, 0, fill=True)

        def flusher():
            yield from flush_tlb_mm(k, 0, mm)
            return (yield Load(remote))
        return k.program([ThreadSpec("flush", flusher(), cpu=0),
                          ThreadSpec("idle", _idle(k, None), cpu=1)])

    res = check(factory, CheckConfig(strategy="dfs"))
    assert isinstance(res.results["flush"], tuple)


def _migration_setup(k):
    t = k.task(0, _mm(k), pages=1)
    pfn = k.map_page(t.mm, 0)
    k.memory[k.data(pfn)] = 9
    return t, pfn


def _pte(k, t):
    ptes, j = k.pte_slot(t.mm, 0, create=False)
    return ptes.cell(j)


def test_migration_moves_the_data_and_the_pte():
    def body(k, ctx):
        t, old = ctx
        rc = yield from migrate_pages(k, t, 0)
        pte = yield Load(_pte(k, t))
        new = k.enc.pte_pfn(pte)
        return rc, old, new, (yield Load(k.data(new))), (yield Load(k.alloc_gen(old)))

    res = run(_migration_setup, [body])
    assert res.verdict == "safe", res.violation
    rc, old, new, data, old_gen = res.results["t0"]
    assert rc == 0 and new != old and data == 9 and old_gen == 2


def test_migration_with_an_extra_reference_fails_with_eagain():
    def body(k, ctx):
        t, old = ctx
        pages = []
        assert (yield from __get_user_pages_fast(k, t, 0, 1, True, pages)) == 1
        rc = yield from migrate_pages(k, t, 0)
        pte = yield Load(_pte(k, t))
        yield from put_user_pages(k, pages)
        return rc, old, k.enc.pte_pfn(pte), is_migration_entry(k, pte)

    res = run(_migration_setup, [body])
    assert res.verdict == "safe", res.violation
    rc, old, mapped, migrating = res.results["t0"]
    assert rc == -EAGAIN and mapped == old and not migrating


def _rcu_program(k, deferred, unpublish=True):
    """cpu1 finds "obj" through "ptr" and reads it twice inside
    rcu_read_lock_sched; cpu0 unpublishes it (``ptr`` = None) and retires it
    with call_rcu_sched (or, ``deferred`` False, frees it at once). Without
    ``unpublish`` a reader that enters after the grace period began (the IPI
    taken right before its cli) still finds the object: not RCU's guarantee."""
    k.memory["obj"] = "live"
    k.memory["ptr"] = "obj"

    def free(k):
        yield Store("obj", POISON)

    def retire():
        if unpublish:
            yield Store("ptr", None)
        if deferred:
            yield from call_rcu_sched(k, 0, free)
        else:
            yield from free(k)

    def reader():
        was_on = yield from rcu_read_lock_sched(k)
        seen = None
        if (yield Load("ptr")) is not None:
            seen = ((yield Load("obj")), (yield Load("obj")))
        yield from rcu_read_unlock_sched(k, was_on)
        return seen

    same = Invariant("rcu-read-side", lambda mem, r: r.get("reader") is None or
                     r["reader"][0] == r["reader"][1] == "live", when="end")
    return k.program([ThreadSpec("retire", retire(), cpu=0),
                      ThreadSpec("reader", reader(), cpu=1)], [same])


@pytest.mark.parametrize("deferred,unpublish,verdict", [
    (True, True, "safe"), (False, True, "violation"), (True, False, "violation")])
def test_call_rcu_sched_runs_the_callback_only_after_a_grace_period(deferred, unpublish,
                                                                    verdict):
    res = check(lambda: _rcu_program(Kernel("arm64", "modern", cpus=2), deferred, unpublish),
                CheckConfig(strategy="dfs"))
    assert res.verdict == verdict


@pytest.mark.parametrize("batch_fails", [False, True])
def test_tlb_remove_table_frees_the_table_after_the_flush(batch_fails):
    def setup(k):
        t = k.task(0, _mm(k))
        k.map_page(t.mm, 0)
        ptes, _ = k.pte_slot(t.mm, 0, create=False)
        return t, ptes

    def body(k, ctx):
        t, ptes = ctx
        tlb = tlb_gather_mmu(k, t.mm, 0, 0, PAGE_SIZE)
        tlb.batch_fails = batch_fails
        pte_free_tlb(k, tlb, ptes)
        queued = (len(tlb.tables), len(tlb.pending_one))
        yield from tlb_finish_mmu(k, tlb)
        return queued, (yield Load(ptes.cell(0)))

    res = run(setup, [body], arch="arm64", invariants=False)
    queued, entry = res.results["t0"]
    assert queued == ((0, 1) if batch_fails else (1, 0)) and entry == POISON
