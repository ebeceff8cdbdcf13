"""Helpers for the cat interpreter's tests: event constructors for
``execgraph.build`` and the LKMM model (from the kernel's own files)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from gupsim.check.cat import load_model
from gupsim.check.execgraph import build


def W(cell, value, *tags, co=0, **kw):
    """A store (WRITE_ONCE is ``W(x, 1, "ONCE")``; no tag = a plain C store)."""
    return dict(kind="W", cell=cell, value=value, tags=set(tags), co=co, **kw)


def R(cell, value, *tags, rf="init", **kw):
    """A load reading from ``rf`` ("init" or (thread, index) of the store)."""
    return dict(kind="R", cell=cell, value=value, tags=set(tags), rf=rf, **kw)


def F(*tags, cell=None):
    """A fence: ``F("MB")`` is smp_mb(), ``F("sync-rcu")`` synchronize_rcu()."""
    return dict(kind="F", cell=cell, tags=set(tags))


def lock(cell, rf="init", co=0, tags=()):
    """spin_lock(cell): its read (LKR, acquire) and write (LKW) of 1."""
    return [R(cell, 0, "LKR", *tags, rf=rf, rmw_op=True),
            W(cell, 1, "LKW", co=co, rmw=True, rmw_op=True)]


def unlock(cell, co=0):
    return W(cell, 0, "UL", co=co)


@pytest.fixture(scope="session")
def lkmm():
    return load_model("lkmm")


@pytest.fixture
def ev():
    """Event constructors and ``g(init, threads)`` (= execgraph.build)."""
    return SimpleNamespace(W=W, R=R, F=F, lock=lock, unlock=unlock, g=build)
