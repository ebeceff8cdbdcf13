"""The RMWs that wait (``BLOCKING_RMW``): what each writes, when it waits,
and that each takes acquire order whatever it is given."""

import pytest

from gupsim.ops import BLOCKING_RMW, NO_WRITE, Rmw


@pytest.mark.parametrize("kind,arg,old,new", [
    ("lock", None, 0, 1), ("lock", None, 1, NO_WRITE),
    ("bit_spin_lock", None, 0, 1), ("bit_spin_lock", None, 1, NO_WRITE),
    ("bit_spin_lock", 4, 3, 7), ("bit_spin_lock", 4, 5, NO_WRITE),   # other bits kept
    ("down_read", None, 0, 1), ("down_read", None, 2, 3), ("down_read", None, -1, NO_WRITE),
    ("down_write", None, 0, -1), ("down_write", None, 1, NO_WRITE),
    ("down_write", None, -1, NO_WRITE),
])
def test_what_a_waiting_rmw_writes_or_that_it_waits(kind, arg, old, new):
    got = Rmw("c", kind, arg).apply(old)
    assert got is NO_WRITE if new is NO_WRITE else got == new


@pytest.mark.parametrize("kind", BLOCKING_RMW)
def test_a_waiting_rmw_is_an_acquire(kind):
    assert Rmw("c", kind, order="once").order == Rmw("c", kind, order="mb").order == "acquire"


def test_descriptions_name_the_kernel_primitive():
    assert Rmw("mm0.mmap_sem", "down_read").describe() == "down_read(mm0.mmap_sem)"
    assert Rmw("p.flags", "bit_spin_lock", 4).describe() == "bit_spin_lock(p.flags, 4)"
    assert Rmw("l", "lock").describe() == "spin_lock(l)"
