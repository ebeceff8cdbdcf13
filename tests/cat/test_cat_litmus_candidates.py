"""More of the kernel's litmus tests, as the candidate execution of each
``exists`` clause: ``Result: Never`` means LKMM finds it inconsistent,
``Sometimes`` consistent (the test's header says which; see
../shared/litmus/README.md). A few also name the failing check, derived by
hand from linux-kernel.cat in the comments."""

from __future__ import annotations

import pytest



def wrc(ev):
    return ev.g({"x": 0, "y": 0}, [
        [ev.W("x", 1, "ONCE")],
        [ev.R("x", 1, "ONCE", rf=(0, 0)), ev.W("y", 1, "RELEASE")],
        [ev.R("y", 1, "ONCE", rf=(1, 1)), ev.F("rmb"), ev.R("x", 0, "ONCE")]])


def s_wmb_acquire(ev):
    """x=2 at the end: P1's store to x is co-before P0's."""
    return ev.g({"x": 0, "y": 0}, [
        [ev.W("x", 2, "ONCE", co=1), ev.F("wmb"), ev.W("y", 1, "ONCE")],
        [ev.R("y", 1, "ACQUIRE", rf=(0, 2)), ev.W("x", 1, "ONCE", co=0)]])


def r_shape(ev, fence):
    """y=2 at the end: P0's store to y is co-before P1's."""
    f = [ev.F("MB")] if fence else []
    return ev.g({"x": 0, "y": 0}, [
        [ev.W("x", 1, "ONCE"), *f, ev.W("y", 1, "ONCE", co=0)],
        [ev.W("y", 2, "ONCE", co=1), *f, ev.R("x", 0, "ONCE")]])


def dep_plain(ev):
    """The dependency from READ_ONCE(x) to WRITE_ONCE(y) goes through plain
    accesses to z1 and z2: the bell's carry-dep ((data ; rfi)*) turns it into a
    ctrl dependency, so Rx -> Wy is in ppo, and with P1's acquire -> release
    and the two rfe edges hb has a cycle: happens-before."""
    return ev.g({"x": 0, "y": 0, "z1": 0, "z2": 0}, [
        [ev.R("x", 1, "ONCE", rf=(1, 1)), ev.W("z1", 1, data=[0]), ev.R("z1", 1, rf=(0, 1)),
         ev.W("z2", 1, data=[2]), ev.R("z2", 1, rf=(0, 3)), ev.W("y", 1, "ONCE", ctrl=[4])],
        [ev.R("y", 1, "ACQUIRE", rf=(0, 5)), ev.W("x", 1, "RELEASE", data=[0])]])


def mp_onceassign_derefonce(ev):
    return ev.g({"x": 0, "y": 0, "p": "y"}, [
        [ev.W("x", 1, "ONCE"), ev.W("p", "x", "RELEASE")],
        [ev.F("rcu-lock"), ev.R("p", "x", "ONCE", rf=(0, 1)), ev.R("x", 0, "ONCE", addr=[1]),
         ev.F("rcu-unlock")]])


def lb_unlocklock(ev):
    """po-unlock-lock-po orders P0's read before its write (ppo), P1's acquire
    orders its read before its write: an hb cycle with the two rfe edges."""
    return ev.g({"s": 0, "t": 0, "x": 0, "y": 0}, [
        [*ev.lock("s"), ev.R("x", 1, "ONCE", rf=(1, 1)), ev.unlock("s", co=1),
         *ev.lock("t"), ev.W("y", 1, "ONCE"), ev.unlock("t", co=1)],
        [ev.R("y", 1, "ACQUIRE", rf=(0, 5)), ev.W("x", 1, "ONCE")]])


def mp_unlocklock_rmb(ev):
    return ev.g({"s": 0, "t": 0, "x": 0, "y": 0}, [
        [*ev.lock("s"), ev.W("x", 1, "ONCE"), ev.unlock("s", co=1),
         *ev.lock("t"), ev.W("y", 1, "ONCE"), ev.unlock("t", co=1)],
        [ev.R("y", 1, "ONCE", rf=(0, 5)), ev.F("rmb"), ev.R("x", 0, "ONCE")]])


def z6(ev, after_spinlock):
    """P0's critical section, then P1's (its r0 sees P0's y); z=2 at the end
    (P1's z co-before P2's); P2 misses P0's x."""
    mb = [ev.F("after-spinlock")] if after_spinlock else []
    return ev.g({"l": 0, "x": 0, "y": 0, "z": 0}, [
        [*ev.lock("l", co=0), ev.W("x", 1, "ONCE"), ev.W("y", 1, "ONCE"), ev.unlock("l", co=1)],
        [*ev.lock("l", rf=(0, 4), co=2), *mb, ev.R("y", 1, "ONCE", rf=(0, 3)),
         ev.W("z", 1, "ONCE", co=0), ev.unlock("l", co=3)],
        [ev.W("z", 2, "ONCE", co=1), ev.F("MB"), ev.R("x", 0, "ONCE")]])


def isa2_release_acquire(ev):
    return ev.g({"x": 0, "y": 0, "z": 0}, [
        [ev.W("x", 1, "ONCE"), ev.W("y", 1, "RELEASE")],
        [ev.R("y", 1, "ACQUIRE", rf=(0, 1)), ev.W("z", 1, "RELEASE")],
        [ev.R("z", 1, "ACQUIRE", rf=(1, 1)), ev.R("x", 0, "ONCE")]])


def sb_rfi(ev):
    return ev.g({"x": 0, "y": 0}, [
        [ev.W("x", 1, "ONCE"), ev.R("x", 1, "ONCE", rf=(0, 0)), ev.R("y", 0, "ONCE")],
        [ev.W("y", 1, "ONCE"), ev.R("y", 1, "ONCE", rf=(1, 0)), ev.R("x", 0, "ONCE")]])


def cmpxchg_fail(ev, after_atomic):
    """Each CPU's cmpxchg(z, 1, 0) fails (z is 0): a read alone, tagged MB.
    A failed RMW has no Mb (the bell removes FailedRMW), but it is in RMW, so
    smp_mb__after_atomic() after it is a full fence: the SB cycle of pb
    (propagation)."""
    def cpu(mine, other):
        f = [ev.F("after-atomic")] if after_atomic else []
        return [ev.W(mine, 1, "ONCE"), ev.R("z", 0, "MB", rmw_op=True), *f, ev.R(other, 0, "ONCE")]
    return ev.g({"x": 0, "y": 0, "z": 0}, [cpu("x", "y"), cpu("y", "x")])


def atomic_inc_after_atomic(ev):
    return ev.g({"x": 0, "y": 0}, [
        [ev.R("x", 1, "ONCE", rf=(1, 3)), ev.F("rmb"), ev.R("y", 0, "ONCE")],
        [ev.R("y", 0, "NORETURN", rmw_op=True), ev.W("y", 1, "NORETURN", rmw=True, rmw_op=True),
         ev.F("after-atomic"), ev.W("x", 1, "ONCE")]])


def coww(ev):
    """x=1 at the end: the second store is co-before the first: coherence."""
    return ev.g({"x": 0}, [[ev.W("x", 1, "ONCE", co=1), ev.W("x", 2, "ONCE", co=0)]])


CASES = [
    ("WRC+pooncerelease+fencermbonceonce+Once", wrc, "Never", None),
    ("S+fencewmbonceonce+poacquireonce", s_wmb_acquire, "Never", None),
    ("R+fencembonceonces", lambda ev: r_shape(ev, True), "Never", None),
    ("R+poonceonces", lambda ev: r_shape(ev, False), "Sometimes", None),
    ("dep+plain", dep_plain, "Never", "happens-before"),
    ("MP+onceassign+derefonce", mp_onceassign_derefonce, "Never", None),
    ("LB+unlocklockonceonce+poacquireonce", lb_unlocklock, "Never", "happens-before"),
    ("MP+unlocklockonceonce+fencermbonceonce", mp_unlocklock_rmb, "Never", None),
    ("Z6.0+pooncelock+poonceLock+pombonce", lambda ev: z6(ev, True), "Never", None),
    ("Z6.0+pooncelock+pooncelock+pombonce", lambda ev: z6(ev, False), "Sometimes", None),
    ("ISA2+pooncerelease+poacquirerelease+poacquireonce", isa2_release_acquire, "Never",
     None),
    ("SB+rfionceonce-poonceonces", sb_rfi, "Sometimes", None),
    ("cmpxchg-fail-ordered-1", lambda ev: cmpxchg_fail(ev, True), "Never", "propagation"),
    ("cmpxchg-fail-unordered-1", lambda ev: cmpxchg_fail(ev, False), "Sometimes", None),
    ("Atomic-RMW+mb__after_atomic-is-stronger-than-acquire", atomic_inc_after_atomic,
     "Never", None),
    ("CoWW+poonceonce", coww, "Never", "coherence"),
]


@pytest.mark.parametrize("name, make, result, axiom", CASES, ids=[c[0] for c in CASES])
def test_litmus_candidate(lkmm, ev, name, make, result, axiom):
    j = lkmm.check(make(ev))
    assert j.consistent == (result == "Sometimes"), j
    if axiom:
        assert j.failed == axiom
    if j.consistent:
        assert "data-race" not in j.flags and "lock-final" not in j.flags
