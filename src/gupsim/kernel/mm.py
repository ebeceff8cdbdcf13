"""mm_struct locking and the per-thread ``current``: kernel/rwsem.c, spinlocks.

``mmap_sem`` is an rwsem on one cell: the number of readers, or -1 while a
writer holds it (MODEL: no writer preference or queueing; a waiter spins
until the lock can be taken and takes it in one acquire RMW, which is what
rwsem's fast path is when it succeeds: the 2013 rwsem-xadd adds a bias and
looks at the old count, a writer cmpxchg()es 0 to its bias).
``page_table_lock`` is a spinlock on one cell (MODEL: split pte/pmd locks are
folded into mm->page_table_lock; every pte/pmd updater in the model takes it).

``Task`` is ``current``: the CPU a thread runs on, its mm, and the frames it
may allocate (MODEL: page.alloc_page hands out freed frames first, then frames
from this pool reserved at setup).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ops import Rmw, Store

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


def down_read(sem: str):
    """down_read(): kernel/rwsem.c (every era). Waits while a writer holds
    the count, then adds a reader with acquire order.
    MODEL: one RMW that waits (``Rmw(sem, "down_read")``), not rwsem's
    add-then-slow-path: the waiter sleeps in the kernel, and what it orders
    once it has the lock is the same."""
    yield Rmw(sem, "down_read", reg="down_read")


def up_read(sem: str):
    yield Rmw(sem, "sub", 1, order="release")


def down_write(sem: str):
    """down_write(): kernel/rwsem.c (every era). Waits until no reader and
    no writer holds the count, then takes it (-1) with acquire order.
    MODEL: one RMW that waits (``Rmw(sem, "down_write")``), as for
    ``down_read``."""
    yield Rmw(sem, "down_write", reg="down_write")


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
