"""mm_struct locking and the per-thread ``current``: kernel/rwsem.c, spinlocks.

``mmap_sem`` is an rwsem on one cell: the number of readers, or -1 while a
writer holds it (MODEL: no writer preference or queueing; a waiter blocks on
an Await until the lock can be taken, then takes it with a cmpxchg).
``page_table_lock`` is a spinlock on one cell (MODEL: split pte/pmd locks are
folded into mm->page_table_lock; every pte/pmd updater in the model takes it).

``Task`` is ``current``: the CPU a thread runs on, its mm, and the frames it
may allocate (MODEL: page.alloc_page hands out freed frames first, then frames
from this pool reserved at setup).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ops import Await, Branch, Rmw, Store

EFAULT = 14
ENOMEM = 12
EBUSY = 16
EAGAIN = 11


@dataclass
class Task:
    """``current``: cpu, mm and a private pool of free frames / table pages."""

    cpu: int
    mm: object
    pages: list[int] = field(default_factory=list)
    tables: list[object] = field(default_factory=list)

    def alloc_page(self) -> int | None:
        return self.pages.pop(0) if self.pages else None

    def alloc_table(self):
        return self.tables.pop(0) if self.tables else None


def _first(v):
    return v[0] if isinstance(v, tuple) else v


def down_read(sem: str):
    """down_read(): wait for no writer, then cmpxchg(count, n, n + 1); the
    retry on a failed cmpxchg is a control dependency on its read.
    MODEL: the cmpxchg's operands come from the Await's read, which names no
    register (an Await's reads are never satisfied early, so no store of the
    thread can pass them)."""
    while True:
        n = _first((yield Await((sem,), lambda v: v >= 0, f"down_read({sem})")))
        old = yield Rmw(sem, "cmpxchg", n + 1, expected=n, order="acquire", reg="down_read")
        yield Branch("down_read")
        if old == n:
            return


def up_read(sem: str):
    yield Rmw(sem, "sub", 1, order="release")


def down_write(sem: str):
    """down_write(): cmpxchg(count, 0, -1) until it succeeds (a control
    dependency on the cmpxchg's read)."""
    while True:
        yield Await((sem,), lambda v: v == 0, f"down_write({sem})")
        old = yield Rmw(sem, "cmpxchg", -1, expected=0, order="acquire", reg="down_write")
        yield Branch("down_write")
        if old == 0:
            return


def up_write(sem: str):
    yield Store(sem, 0, order="release")


def spin_lock(lock: str):
    """spin_lock(): include/linux/spinlock.h, every era. The lock primitive
    itself: it waits until the lock reads 0 and takes it with acquire order
    (LKMM's LKR/LKW; arm64 ldaxr, x86 a locked RMW)."""
    yield Rmw(lock, "lock", reg="spin_lock")


def spin_unlock(lock: str):
    """spin_unlock(): the unlock primitive (LKMM's UL; a release store on
    every arch here)."""
    yield Store(lock, 0, order="unlock")


__all__ = ["Task", "EFAULT", "ENOMEM", "EBUSY", "EAGAIN", "down_read", "up_read",
           "down_write", "up_write", "spin_lock", "spin_unlock"]
