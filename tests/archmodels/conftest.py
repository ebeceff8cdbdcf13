"""Helpers for the ARMv8 and POWER model tests: event constructors for
``execgraph.build`` (events tagged as the kernel primitives are) and the two
models, loaded once."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from gupsim.check.cat import load_model
from gupsim.check.execgraph import build


def W(cell, value, *tags, co=0, **kw):
    """A store: ``W("x", 1, "ONCE")`` is WRITE_ONCE(x, 1), ``"RELEASE"``
    smp_store_release()."""
    return dict(kind="W", cell=cell, value=value, tags=set(tags or ("ONCE",)), co=co, **kw)


def R(cell, value, *tags, rf="init", **kw):
    """A load reading from ``rf`` ("init" or (thread, index) of the store)."""
    return dict(kind="R", cell=cell, value=value, tags=set(tags or ("ONCE",)), rf=rf, **kw)


def F(tag):
    """A fence by its LKMM tag: ``F("MB")`` is smp_mb(), ``F("rmb")`` smp_rmb()."""
    return dict(kind="F", tags={tag})


def rmw(cell, old, new, tag="MB", rf="init", co=0):
    """A successful atomic RMW (xchg, atomic_add_return, ...): its read and
    write, both tagged ``tag`` (MB fully ordered, ONCE relaxed, ...)."""
    return [R(cell, old, tag, rf=rf, rmw_op=True),
            W(cell, new, tag, co=co, rmw=True, rmw_op=True)]


def failed_cmpxchg(cell, old, tag="MB", rf="init"):
    """A cmpxchg that did not match: the read of an RMW instruction only."""
    return [R(cell, old, tag, rf=rf, rmw_op=True)]


def lock(cell, rf="init", co=0):
    """spin_lock(cell): its read (LKR, acquire) and write (LKW) of 1."""
    return [R(cell, 0, "LKR", "ACQUIRE", rf=rf, rmw_op=True),
            W(cell, 1, "LKW", co=co, rmw=True, rmw_op=True)]


def unlock(cell, co=0):
    """spin_unlock(cell): a store of 0 tagged UL."""
    return W(cell, 0, "UL", co=co)


def graph(threads, cells="xyz"):
    """``execgraph.build`` with every cell of ``cells`` initially 0."""
    return build({c: 0 for c in cells}, threads)


@pytest.fixture(scope="session")
def armv8():
    return load_model("armv8")


@pytest.fixture(scope="session")
def power():
    return load_model("power")


@pytest.fixture(scope="session")
def models(armv8, power):
    return {"armv8": armv8, "power": power, "armv7": load_model("armv7")}


@pytest.fixture
def ev():
    return SimpleNamespace(W=W, R=R, F=F, rmw=rmw, failed_cmpxchg=failed_cmpxchg,
                           lock=lock, unlock=unlock, g=graph)
