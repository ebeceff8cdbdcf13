"""LKMM's lock.cat on hand-built candidates of the locking litmus tests.

Our graphs carry an rf for every read, lock reads included; herd derives
those. Each consistent candidate here must pass ``lock-rf`` (its rf is the
one lock.cat derives), and a graph whose lock read reads from somewhere herd
never lets it is inconsistent.
"""

from __future__ import annotations


def mp_polocks(ev, p1_first=False):
    """MP+polocks (Never for r0=1, r1=0): P0 writes buf, then flag under the
    lock; P1 reads flag under the lock, then buf."""
    if not p1_first:
        p0 = [ev.W("buf", 1, "ONCE"), *ev.lock("l", co=0), ev.W("flag", 1, "ONCE"),
              ev.unlock("l", co=1)]
        p1 = [*ev.lock("l", rf=(0, 4), co=2), ev.R("flag", 1, "ONCE", rf=(0, 3)),
              ev.unlock("l", co=3), ev.R("buf", 0, "ONCE")]
    else:                 # P1 takes the lock first: r0 = 0, r1 = 0 is allowed
        p0 = [ev.W("buf", 1, "ONCE"), *ev.lock("l", rf=(1, 3), co=2),
              ev.W("flag", 1, "ONCE"), ev.unlock("l", co=3)]
        p1 = [*ev.lock("l", co=0), ev.R("flag", 0, "ONCE"), ev.unlock("l", co=1),
              ev.R("buf", 0, "ONCE")]
    return ev.g({"buf": 0, "flag": 0, "l": 0}, [p0, p1])


def test_mp_polocks_fails_happens_before(lkmm, ev):
    """P0.Wbuf -> P0.UL is po-rel, UL rfe P1's LKR, LKR -> Rbuf is acq-po;
    Rbuf fre Wbuf, po-rel to UL, rfe to LKR is a prop edge inside P1, so hb
    holds Rbuf -> LKR too: a happens-before cycle."""
    j = lkmm.check(mp_polocks(ev))
    assert (j.consistent, j.failed) == (False, "happens-before")


def test_mp_polocks_other_lock_order_is_allowed(lkmm, ev):
    j = lkmm.check(mp_polocks(ev, p1_first=True))
    assert j.consistent, j
    assert "lock-final" not in j.flags and "unpaired-LKR" not in j.flags


def test_lkmm_sees_the_lock_rf_it_derives(lkmm, ev):
    """lock.cat's rf for LKR (the co-predecessor of its LKW) is the graph's."""
    g = mp_polocks(ev, p1_first=True)
    rf = lkmm.relation(g, "rf")
    assert rf == {(w, r) for r, w in g.rf.items()}
    assert lkmm.relation(g, "lk-rmw") == {(r, w) for r, w in g.rmw}


def test_lock_read_from_the_wrong_write_is_no_herd_candidate(lkmm, ev):
    """P1's spin_lock() reads the initial (unlocked) value although its LKW is
    co-after P0's critical section: lock.cat derives rf from P0's unlock, so
    this graph is not a herd candidate."""
    p0 = [*ev.lock("l", co=0), ev.unlock("l", co=1)]
    p1 = [*ev.lock("l", rf="init", co=2), ev.unlock("l", co=3)]
    j = lkmm.check(ev.g({"l": 0}, [p0, p1]))
    assert (j.consistent, j.failed) == (False, "lock-rf")


def test_nested_spin_lock_fails_lock_nest(lkmm, ev):
    """spin_lock() twice on one lock without unlocking: [LKW] ; po-loc ; [LKR]
    with no UL between is not empty."""
    p0 = [*ev.lock("l", co=0), *ev.lock("l", rf=(0, 1), co=1)]
    assert lkmm.check(ev.g({"l": 0}, [p0])).failed == "lock-nest"


def silsil(ev, after_spinlock):
    """MP+polock(mb)once+poacquiresilsil with r1=1, r2=0, r3=1: the first
    spin_is_locked() reads the initial value (RU), the second P0's LKW (RL)."""
    p0 = [*ev.lock("lo", co=0)] + ([ev.F("after-spinlock")] if after_spinlock else [])
    p0 += [ev.W("x", 1, "ONCE"), ev.unlock("lo", co=1)]
    wx = len(p0) - 2
    p1 = [ev.R("x", 1, "ACQUIRE", rf=(0, wx)), ev.R("lo", 0, "RL"),
          ev.R("lo", 1, "RL", rf=(0, 1))]
    return ev.g({"lo": 0, "x": 0}, [p0, p1])


def test_spin_is_locked_outcome_is_allowed(lkmm, ev):
    """MP+polockonce+poacquiresilsil: Sometimes. Both with-from forks of
    lock.cat have choices (RU: the initial write or P0's unlock; RL: P0's
    LKW); the one matching the graph passes every check."""
    j = lkmm.check(silsil(ev, after_spinlock=False))
    assert j.consistent, j


def test_spin_is_locked_with_after_spinlock_fails_happens_before(lkmm, ev):
    """MP+polockmbonce+poacquiresilsil: Never. r2 fre P0's LKW, which
    smp_mb__after_spinlock() orders before Wx (strong-fence), rfe to r1: a
    prop edge r2 -> r1 inside P1, against r1 -> r2 in acq-po."""
    assert lkmm.check(silsil(ev, after_spinlock=True)).failed == "happens-before"


def test_failed_trylock_reads_a_held_lock(lkmm, ev):
    """A failed spin_trylock() (an LKR with no LKW after it is herd's LF) that
    reads P0's LKW while P0 holds the lock is consistent; one that reads the
    initial unlocked value has no lock.cat choice (LF reads only LKWs)."""
    p0 = [*ev.lock("l", co=0), ev.W("x", 1, "ONCE"), ev.unlock("l", co=1)]
    held = [ev.R("l", 1, "LKR", rf=(0, 1), rmw_op=True)]
    free = [ev.R("l", 0, "LKR", rf="init", rmw_op=True)]
    assert lkmm.check(ev.g({"l": 0, "x": 0}, [p0, held])).consistent
    j = lkmm.check(ev.g({"l": 0, "x": 0}, [p0, free]))
    assert (j.consistent, j.failed) == (False, "lock-rf")


def test_failed_trylock_with_nobody_holding_the_lock_has_no_candidate(lkmm, ev):
    """lock.cat's choices for an LF are the LKWs of other threads: with none,
    cross() has nothing to offer and there is no execution."""
    g = ev.g({"l": 0}, [[ev.R("l", 0, "LKR", rmw_op=True)]])
    j = lkmm.check(g)
    assert (j.consistent, j.failed) == (False, "with rfe-lf from")
    assert "no candidate" in lkmm.explain(g).note


def test_lock_events_ignore_access_annotations(lkmm, ev):
    """spin_lock() is an acquire RMW in gupsim.ops; herd's lock events carry no
    annotation (lock.cat alone makes LKR an acquire), so an ACQUIRE tag on
    the LKW must not order it before later accesses: the verdicts stay."""
    for p1_first in (False, True):
        g = mp_polocks(ev, p1_first)
        tagged = [e if not e.tags & {"LKR", "LKW"} else
                  type(e)(**{**e.__dict__, "tags": e.tags | {"ACQUIRE"}}) for e in g.events]
        g2 = type(g)(tagged, g.threads, g.rf, g.co, g.rmw, g.addr, g.data, g.ctrl, g.names)
        assert lkmm.check(g2) == lkmm.check(g)
        assert lkmm.relation(g2, "Acquire") == lkmm.relation(g, "Acquire")
