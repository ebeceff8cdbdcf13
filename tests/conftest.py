"""Fixtures shared by the test folders (see tests/README.md)."""

from __future__ import annotations

import pytest

from gupsim import Program, ThreadSpec


def _program(*bodies, memory, invariants=(), names=None, cpus=None) -> Program:
    names = names or [f"T{i}" for i in range(len(bodies))]
    cpus = cpus or [None] * len(bodies)
    return Program([ThreadSpec(n, b, c) for n, b, c in zip(names, bodies, cpus)],
                   dict(memory), list(invariants))


@pytest.fixture
def make_program():
    """``make_program(gen0, gen1, memory={...}, invariants=[...], cpus=[...])``:
    a Program with threads named T0, T1, ... (or ``names``)."""
    return _program


@pytest.fixture
def needs_dpor():
    """Kept for tests written against it: dpor is always built in."""
