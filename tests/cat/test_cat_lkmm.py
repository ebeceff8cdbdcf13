"""LKMM verdicts on hand-built candidate executions of the classic litmus tests.

Each graph is the candidate execution of a test's ``exists`` clause. The
expected verdict comes from the test's ``Result:`` line (Never: the candidate
is inconsistent; Sometimes: it is consistent), and the failing check from
following linux-kernel.cat by hand, written out in each docstring.
"""

from __future__ import annotations

import pytest


def sb(ev, fence):
    """SB: each CPU writes its own flag, then reads the other's; both read 0."""
    def cpu(mine, other):
        return ([ev.W(mine, 1, "ONCE")] + ([ev.F(fence)] if fence else [])
                + [ev.R(other, 0, "ONCE")])
    return ev.g({"x": 0, "y": 0}, [cpu("x", "y"), cpu("y", "x")])


def test_sb_without_fences_is_allowed(lkmm, ev):
    """SB+poonceonces: Result: Sometimes."""
    j = lkmm.check(sb(ev, None))
    assert j.consistent and j.failed is None and "data-race" not in j.flags


def test_sb_with_smp_mb_fails_propagation(lkmm, ev):
    """SB+fencembonceonces: Never. hb has only the two po edges made by the
    fences (fre is not in hb), so happens-before holds; each fre is a prop
    edge followed by the other CPU's strong fence, so pb = prop ; strong-fence
    has the cycle Ry0 -> Rx1 -> Ry0: propagation."""
    g = sb(ev, "MB")
    j = lkmm.check(g)
    assert (j.consistent, j.failed, j.flags) == (False, "propagation", ())


def test_sb_with_only_wmb_is_still_allowed(lkmm, ev):
    """smp_wmb() orders stores only: SB keeps its weak outcome."""
    assert lkmm.check(sb(ev, "wmb")).consistent


def mp(ev, wfence, rfence, data_read=0):
    p0 = [ev.W("x", 1, "ONCE")] + ([ev.F(wfence)] if wfence else []) + [ev.W("y", 1, "ONCE")]
    last = len(p0) - 1
    p1 = ([ev.R("y", 1, "ONCE", rf=(0, last))] + ([ev.F(rfence)] if rfence else [])
          + [ev.R("x", data_read, "ONCE", rf="init" if data_read == 0 else (0, 0))])
    return ev.g({"x": 0, "y": 0}, [p0, p1])


def test_mp_with_wmb_and_rmb_fails_happens_before(lkmm, ev):
    """MP+fencewmbonceonce+fencermbonceonce: Never. Rx0 fre Wx, wmb to Wy, rfe
    to Ry: a prop edge Rx -> Ry inside P1, so hb holds Rx -> Ry; rmb gives
    Ry -> Rx in ppo: a happens-before cycle."""
    assert lkmm.check(mp(ev, "wmb", "rmb")).failed == "happens-before"


@pytest.mark.parametrize("wfence, rfence", [(None, None), ("wmb", None), (None, "rmb")])
def test_mp_needs_both_fences(lkmm, ev, wfence, rfence):
    """MP+poonceonces: Sometimes; one fence alone does not forbid it either."""
    assert lkmm.check(mp(ev, wfence, rfence)).consistent


def test_mp_reading_the_new_value_is_allowed(lkmm, ev):
    assert lkmm.check(mp(ev, "wmb", "rmb", data_read=1)).consistent


def test_lb_with_ctrl_and_mb_fails_happens_before(lkmm, ev):
    """LB+fencembonceonce+ctrlonceonce: Never. Rx -> Wy is ctrl;[W] (rwdep,
    in ppo), Ry -> Wx is mb (fence & int): with the two rfe edges a cycle of
    hb."""
    p0 = [ev.R("x", 1, "ONCE", rf=(1, 2)), ev.W("y", 1, "ONCE", ctrl=[0])]
    p1 = [ev.R("y", 1, "ONCE", rf=(0, 1)), ev.F("MB"), ev.W("x", 1, "ONCE")]
    assert lkmm.check(ev.g({"x": 0, "y": 0}, [p0, p1])).failed == "happens-before"


def test_lb_without_dependencies_is_allowed(lkmm, ev):
    """LB+poonceonces: Sometimes."""
    p0 = [ev.R("x", 1, "ONCE", rf=(1, 1)), ev.W("y", 1, "ONCE")]
    p1 = [ev.R("y", 1, "ONCE", rf=(0, 1)), ev.W("x", 1, "ONCE")]
    assert lkmm.check(ev.g({"x": 0, "y": 0}, [p0, p1])).consistent


def iriw(ev, fence):
    """IRIW: two writers, two readers that see the writes in opposite orders."""
    def reader(first, second, src):
        return ([ev.R(first, 1, "ONCE", rf=src)] + ([ev.F(fence)] if fence else [])
                + [ev.R(second, 0, "ONCE")])
    return ev.g({"x": 0, "y": 0}, [[ev.W("x", 1, "ONCE")], reader("x", "y", (0, 0)),
                                   [ev.W("y", 1, "ONCE")], reader("y", "x", (2, 0))])


def test_iriw_with_mbs_fails_propagation(lkmm, ev):
    """IRIW+fencembonceonces+OnceOnce: Never. P1's Ry fre P2's Wy, rfe P3's Ry:
    prop; then P3's smp_mb: a pb edge P1.Ry -> P3.Rx, and symmetrically
    P3.Rx -> P1.Ry. hb has no cycle (no prop edge stays inside one CPU)."""
    assert lkmm.check(iriw(ev, "MB")).failed == "propagation"


def test_iriw_without_fences_is_allowed(lkmm, ev):
    """IRIW+poonceonces+OnceOnce: Sometimes."""
    assert lkmm.check(iriw(ev, None)).consistent


def test_plain_accesses_racing_are_flagged(lkmm, ev):
    """A plain store read by a plain load on another CPU, nothing ordering them:
    wr-race is not empty (neither access is Marked, so no vis / xbstar
    bound applies): consistent, flagged data-race."""
    g = ev.g({"x": 0}, [[ev.W("x", 1)], [ev.R("x", 1, rf=(0, 0))]])
    j = lkmm.check(g)
    assert j.consistent and "data-race" in j.flags


def test_marked_accesses_do_not_race(lkmm, ev):
    g = ev.g({"x": 0}, [[ev.W("x", 1, "ONCE")], [ev.R("x", 1, "ONCE", rf=(0, 0))]])
    assert lkmm.check(g).flags == ()


def test_plain_data_under_release_acquire_is_race_free(lkmm, ev):
    """MP with plain data published by smp_store_release/smp_load_acquire: the
    release/acquire pair bounds both plain accesses (no data-race)."""
    p0 = [ev.W("d", 1), ev.W("f", 1, "RELEASE")]
    p1 = [ev.R("f", 1, "ACQUIRE", rf=(0, 1)), ev.R("d", 1, rf=(0, 0))]
    j = lkmm.check(ev.g({"d": 0, "f": 0}, [p0, p1]))
    assert j.consistent and "data-race" not in j.flags


def test_plain_data_without_ordering_races(lkmm, ev):
    p0 = [ev.W("d", 1), ev.W("f", 1, "ONCE")]
    p1 = [ev.R("f", 1, "ONCE", rf=(0, 1)), ev.R("d", 1, rf=(0, 0))]
    assert "data-race" in lkmm.check(ev.g({"d": 0, "f": 0}, [p0, p1])).flags


def test_corr_fails_coherence(lkmm, ev):
    """CoRR+poonceonce+Once: Never. Two reads in program order see the new
    then the old value: po-loc ; fr ; rf is a cycle of coherence."""
    g = ev.g({"x": 0}, [[ev.W("x", 1, "ONCE")],
                        [ev.R("x", 1, "ONCE", rf=(0, 0)), ev.R("x", 0, "ONCE")]])
    assert lkmm.check(g).failed == "coherence"


def test_rmw_atomicity(lkmm, ev):
    """An xchg() whose read and write are separated in co by another store:
    rmw & (fre ; coe) is not empty: atomic."""
    p0 = [ev.R("x", 0, "MB", rmw_op=True), ev.W("x", 2, "MB", rmw=True, rmw_op=True, co=1)]
    g = ev.g({"x": 0}, [p0, [ev.W("x", 1, "ONCE", co=0)]])
    assert lkmm.check(g).failed == "atomic"


def test_rcu_sync_read_fails_rcu(lkmm, ev):
    """RCU+sync+read: Never. P1 sees P0's first store then a grace period and
    not P0's second: rcu-link from the sync to P0's rcu_read_unlock(), rscsi
    back to the rcu_read_lock(): rcu-fence P1.Rx -> P0.Wx, and with the rfe
    P0.Wx -> P1.Rx, rb is reflexive (hb and pb have no cycle)."""
    p0 = [ev.F("rcu-lock"), ev.W("x", 1, "ONCE"), ev.W("y", 1, "ONCE"), ev.F("rcu-unlock")]
    p1 = [ev.R("x", 1, "ONCE", rf=(0, 1)), ev.F("sync-rcu"), ev.R("y", 0, "ONCE")]
    assert lkmm.check(ev.g({"x": 0, "y": 0}, [p0, p1])).failed == "rcu"


def test_rcu_sync_free_fails_rcu(lkmm, ev):
    """RCU+sync+free: Never. The reader sees the old pointer (y = &x) and the
    store after the grace period (x = 0): rb P1.Wx -> P1.Wx through the
    critical section. Its read of *r0 has an address dependency on r0."""
    p0 = [ev.F("rcu-lock"), ev.R("y", "x", "ONCE"),
          ev.R("x", 0, "ONCE", rf=(1, 2), addr=[1]), ev.F("rcu-unlock")]
    p1 = [ev.W("y", "z", "RELEASE"), ev.F("sync-rcu"), ev.W("x", 0, "ONCE")]
    g = ev.g({"x": 1, "y": "x", "z": 1}, [p0, p1])
    assert lkmm.check(g).failed == "rcu"


def test_rcu_reader_outside_the_critical_section_is_allowed(lkmm, ev):
    """Without rcu_read_lock()/unlock() the RCU+sync+read outcome is allowed."""
    p0 = [ev.W("x", 1, "ONCE"), ev.W("y", 1, "ONCE")]
    p1 = [ev.R("x", 1, "ONCE", rf=(0, 0)), ev.F("sync-rcu"), ev.R("y", 0, "ONCE")]
    assert lkmm.check(ev.g({"x": 0, "y": 0}, [p0, p1])).consistent


def test_unmatched_rcu_unlock_is_flagged(lkmm, ev):
    g = ev.g({"x": 0}, [[ev.W("x", 1, "ONCE"), ev.F("rcu-unlock")]])
    assert "unmatched-rcu-unlock" in lkmm.check(g).flags


def srcu_sync_read(ev, same_struct=True):
    """RCU+sync+read with SRCU: srcu_read_lock(ss) returns an index that
    srcu_read_unlock(ss, idx) writes back (a data dependency, which is how the
    bell pairs them); the updater's synchronize_srcu() names a struct."""
    p0 = [ev.R("ss", 0, "srcu-lock"), ev.W("x", 1, "ONCE"), ev.W("y", 1, "ONCE"),
          ev.W("ss", 0, "srcu-unlock", data=[0])]
    p1 = [ev.R("x", 1, "ONCE", rf=(0, 1)), ev.F("sync-srcu", cell="ss" if same_struct else "tt"),
          ev.R("y", 0, "ONCE")]
    return ev.g({"ss": 0, "tt": 0, "x": 0, "y": 0}, [p0, p1])


def test_srcu_sync_read_fails_rcu(lkmm, ev):
    """The srcu clauses of rcu-order, ((srcu-gp ; rcu-link ; srcu-rscsi) & loc),
    give the same reflexive rb as RCU+sync+read when the grace period and the
    critical section use the same srcu_struct."""
    g = srcu_sync_read(ev)
    assert lkmm.relation(g, "srcu-rscs") == {(g.threads[0][0], g.threads[0][3])}
    assert lkmm.check(g).failed == "rcu"


def test_srcu_grace_period_of_another_struct_does_not_wait(lkmm, ev):
    j = lkmm.check(srcu_sync_read(ev, same_struct=False))
    assert j.consistent and not {"unmatched-srcu-lock", "lock-final"} & set(j.flags)
