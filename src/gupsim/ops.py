"""The op vocabulary: the contract between a model and the checker.

A thread is a Python generator. Every access to shared state is a ``yield`` of
one of the ops below; the result comes back from the ``yield``::

    def reader():
        v = yield Load("x")                    # READ_ONCE(x)
        yield Store("y", v + 1)                # WRITE_ONCE(y, v + 1)
        old = yield Rmw("count", "add", 1)     # atomic_fetch_add(1, &count)

Helpers that touch shared state are generators too and are called with
``yield from``, so the call site shows every interleaving point, the way
``READ_ONCE()`` marks a racy read in C. Pure helpers are plain functions.

Shared memory is a set of named cells (plain strings such as ``"mm0.pmd[1]"``);
the names appear in traces, so choose them for a human. Values are any
hashable Python value (ints, tuples, frozen dataclasses, None).

Scheduling points are the ops marked ``shared = True``: loads, stores,
read-modify-writes, fences and awaits. ``Note`` and ``Assert`` are recorded in
the trace but never let another thread run. ``IrqDisable``/``IrqEnable`` are
CPU-local; IPI delivery happens only at boundaries where IRQs are enabled.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Hashable
from typing import Any

# Access orderings, in the kernel's vocabulary. "once" is READ_ONCE/WRITE_ONCE
# (and the _relaxed atomics); "acquire"/"release" are smp_load_acquire/
# smp_store_release and the _acquire/_release atomics; "mb" is a fully ordered
# access (value-returning atomics such as atomic_add_return, xchg, cmpxchg);
# "noreturn" a non-value-returning atomic (atomic_inc, atomic_add: unordered, and
# smp_rmb() does not order its read); "plain" a C access with no marking (LKMM
# checks those for data races).
ORDERS = ("once", "acquire", "release", "mb", "noreturn", "plain")

# Special accesses, named by the kernel primitive: spin_unlock() is a store with
# order "unlock"; srcu_read_lock()/srcu_read_unlock() a load/store with order
# "srcu_lock"/"srcu_unlock"; spin_is_locked() a load with order "is_locked".
LOAD_ORDERS = ("once", "acquire", "mb", "plain", "srcu_lock", "is_locked")
STORE_ORDERS = ("once", "release", "mb", "plain", "unlock", "srcu_unlock")

# Fence kinds, by the kernel's name without the smp_ prefix where it has one:
# smp_mb(), smp_rmb(), smp_wmb(), smp_mb__before_atomic(), smp_mb__after_atomic(),
# smp_mb__after_spinlock(), smp_mb__after_unlock_lock(),
# smp_mb__after_srcu_read_unlock(), barrier() (compiler only), and the RCU
# primitives rcu_read_lock(), rcu_read_unlock(), synchronize_rcu() and
# synchronize_srcu() (the last with the srcu_struct's cell).
FENCES = ("mb", "rmb", "wmb", "mb__before_atomic", "mb__after_atomic",
          "mb__after_spinlock", "mb__after_unlock_lock", "mb__after_srcu_read_unlock",
          "barrier", "rcu_read_lock", "rcu_read_unlock", "synchronize_rcu",
          "synchronize_srcu")

# The annotation each access order and fence carries in the Linux-kernel memory
# model (the tags of tools/memory-model/linux-kernel.def and lock.cat), which is
# how weak memory models see an op. Plain accesses carry none.
LKMM_ACCESS_TAG = {"once": "ONCE", "acquire": "ACQUIRE", "release": "RELEASE",
                   "mb": "MB", "noreturn": "NORETURN", "plain": None,
                   "srcu_lock": "srcu-lock", "srcu_unlock": "srcu-unlock",
                   "unlock": "UL", "is_locked": "RL"}
LKMM_FENCE_TAG = {"mb": "MB", "rmb": "rmb", "wmb": "wmb",
                  "mb__before_atomic": "before-atomic", "mb__after_atomic": "after-atomic",
                  "mb__after_spinlock": "after-spinlock",
                  "mb__after_unlock_lock": "after-unlock-lock",
                  "mb__after_srcu_read_unlock": "after-srcu-read-unlock",
                  "barrier": "barrier", "rcu_read_lock": "rcu-lock",
                  "rcu_read_unlock": "rcu-unlock", "synchronize_rcu": "sync-rcu",
                  "synchronize_srcu": "sync-srcu"}

NO_WRITE = object()
"""Returned by ``Rmw.apply`` when the read-modify-write does not write (a failed
cmpxchg, an add_unless that hit its limit): it is then a read only."""


def _check(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name}={value!r}: expected one of {', '.join(allowed)}")


def _regs(name: str, value) -> tuple[str, ...]:
    """A dependency: the register names (``reg=`` of this thread's earlier
    reads) an address, a value or the control flow was computed from."""
    if not value:
        return ()
    if isinstance(value, str):
        return (value,)
    regs = tuple(value)
    if not all(isinstance(r, str) for r in regs):
        raise ValueError(f"{name}={value!r}: expected register names (strings)")
    return regs


class Op:
    """Base class: one step of a thread."""

    __slots__ = ()
    shared = True       # a scheduling point (another thread may run before it)
    code = 0            # dispatch code used by the runtime

    def describe(self) -> str:
        return type(self).__name__


class Load(Op):
    """``v = READ_ONCE(cell)`` (or an acquire load with ``order="acquire"``).

    Dependencies, for weak memory models: ``reg`` names the value read (a
    register), ``addr`` the registers the address was computed from (an
    address dependency, as when a walker reads a table through the entry it
    just read). Under ``sc`` and ``tso`` they change nothing.
    """

    __slots__ = ("cell", "order", "reg", "addr")
    code = 1

    def __init__(self, cell: str, order: str = "once", *, reg: str | None = None,
                 addr=()):
        _check("order", order, LOAD_ORDERS)
        self.cell, self.order, self.reg = cell, order, reg
        self.addr = _regs("addr", addr)

    def describe(self) -> str:
        return f"load {self.cell}" + ("" if self.order == "once" else f" ({self.order})")


class Store(Op):
    """``WRITE_ONCE(cell, value)`` (or ``smp_store_release`` with ``order="release"``).

    ``data`` names the registers the value was computed from, ``addr`` those
    the address was (see ``Load``)."""

    __slots__ = ("cell", "value", "order", "addr", "data")
    code = 2

    def __init__(self, cell: str, value: Hashable, order: str = "once", *, addr=(),
                 data=()):
        _check("order", order, STORE_ORDERS)
        self.cell, self.value, self.order = cell, value, order
        self.addr, self.data = _regs("addr", addr), _regs("data", data)

    def describe(self) -> str:
        suffix = "" if self.order == "once" else f" ({self.order})"
        return f"store {self.cell} = {self.value!r}{suffix}"


def _rmw_add(old, arg, expected):
    return old + arg


def _rmw_sub(old, arg, expected):
    return old - arg


def _rmw_xchg(old, arg, expected):
    return arg


def _rmw_cmpxchg(old, arg, expected):
    return arg if old == expected else NO_WRITE


def _rmw_add_unless(old, arg, expected):
    return NO_WRITE if old == expected else old + arg


def _rmw_or(old, arg, expected):
    return old | arg


def _rmw_andnot(old, arg, expected):
    return old & ~arg


def _rmw_and(old, arg, expected):
    return old & arg


def _rmw_xor(old, arg, expected):
    return old ^ arg


def _rmw_lock(old, arg, expected):
    return 1 if old == 0 else NO_WRITE


def _rmw_bit_spin_lock(old, arg, expected):
    return old | arg if not old & arg else NO_WRITE


def _rmw_down_read(old, arg, expected):
    return old + 1 if old >= 0 else NO_WRITE


def _rmw_down_write(old, arg, expected):
    return -1 if old == 0 else NO_WRITE


RMW_KINDS: dict[str, Callable[[Any, Any, Any], Any]] = {
    "add": _rmw_add,
    "sub": _rmw_sub,
    "xchg": _rmw_xchg,
    "cmpxchg": _rmw_cmpxchg,
    "add_unless": _rmw_add_unless,
    "or": _rmw_or,
    "andnot": _rmw_andnot,
    "and": _rmw_and,
    "xor": _rmw_xor,
    "lock": _rmw_lock,
    "trylock": _rmw_lock,
    "bit_spin_lock": _rmw_bit_spin_lock,
    "down_read": _rmw_down_read,
    "down_write": _rmw_down_write,
}

BLOCKING_RMW = ("lock", "bit_spin_lock", "down_read", "down_write")
"""RMW kinds that cannot fail: the thread waits until the op would write
(``spin_lock()``: until the lock reads 0; ``bit_spin_lock``: until the bits
``arg`` are clear; ``down_read``: until no writer holds the count (< 0);
``down_write``: until the count is 0). All take acquire order."""


class Rmw(Op):
    """An atomic read-modify-write; the yield returns the *old* value.

    ``kind`` is one of: ``add``/``sub`` (``arg``), ``xchg`` (``arg``),
    ``cmpxchg`` (``expected`` -> ``arg``; writes only on success),
    ``add_unless`` (adds ``arg`` unless the old value equals ``expected``),
    ``or``/``andnot``/``and``/``xor`` (bit operations, as set_bit/clear_bit),
    ``lock`` (``spin_lock()``: waits until the cell is 0, then writes 1, with
    acquire order) and ``trylock`` (``spin_trylock()``: writes 1 if it reads
    0, else fails); the other waiting kinds of ``BLOCKING_RMW`` (a bit lock,
    an rwsem's count taken for reading or writing), acquire too, which are
    plain acquire RMWs to a memory model (only ``lock``/``trylock`` are LKMM's
    lock events). A failed cmpxchg, add_unless or trylock is a read only.
    ``reg``/``addr``/``data`` are dependencies, as for ``Load`` and ``Store``.
    """

    __slots__ = ("cell", "kind", "arg", "expected", "order", "_fn", "reg", "addr", "data")
    code = 3

    def __init__(self, cell: str, kind: str, arg: Any = None, expected: Any = None,
                 order: str = "mb", *, reg: str | None = None, addr=(), data=()):
        if kind not in RMW_KINDS:
            raise ValueError(f"kind={kind!r}: expected one of {', '.join(RMW_KINDS)}")
        _check("order", order, ORDERS)
        if kind == "trylock" or kind in BLOCKING_RMW:
            order = "acquire"
        if kind == "bit_spin_lock" and arg is None:
            arg = 1
        self.cell, self.kind, self.arg, self.expected, self.order = (
            cell, kind, arg, expected, order)
        self._fn = RMW_KINDS[kind]
        self.reg, self.addr, self.data = reg, _regs("addr", addr), _regs("data", data)

    def apply(self, old: Any) -> Any:
        """The new value, or ``NO_WRITE``."""
        return self._fn(old, self.arg, self.expected)

    def describe(self) -> str:
        if self.kind == "cmpxchg":
            body = f"cmpxchg {self.cell} {self.expected!r} -> {self.arg!r}"
        elif self.kind == "add_unless":
            body = f"add_unless {self.cell} += {self.arg!r} unless {self.expected!r}"
        elif self.kind in ("lock", "trylock"):
            return f"spin_{self.kind}({self.cell})"
        elif self.kind in BLOCKING_RMW:
            return f"{self.kind}({self.cell})" if self.arg in (None, 1) \
                else f"{self.kind}({self.cell}, {self.arg!r})"
        else:
            body = f"{self.kind} {self.cell} {self.arg!r}"
        return body + ("" if self.order == "mb" else f" ({self.order})")


class Fence(Op):
    """A memory barrier: ``smp_mb()`` is ``Fence("mb")``; see ``FENCES``.

    ``synchronize_srcu(ss)`` is ``Fence("synchronize_srcu", cell=ss)``."""

    __slots__ = ("kind", "cell")
    code = 4

    def __init__(self, kind: str = "mb", cell: str | None = None):
        _check("kind", kind, FENCES)
        if (kind == "synchronize_srcu") != (cell is not None):
            raise ValueError(f"kind={kind!r}, cell={cell!r}: synchronize_srcu takes the "
                             "srcu_struct's cell, other fences none")
        self.kind, self.cell = kind, cell

    def describe(self) -> str:
        if self.cell is not None:
            return f"{self.kind}({self.cell})"
        if self.kind.startswith(("rcu_", "synchronize_")) or self.kind == "barrier":
            return f"{self.kind}()"
        return f"smp_{self.kind}()"


class _DepOp(Op):
    """A dependency marker on registers: not a scheduling point; only weak
    memory models look at it."""

    __slots__ = ("regs",)
    shared = False

    def __init__(self, *regs: str):
        self.regs = _regs("regs", regs)


class Branch(_DepOp):
    """The thread's control flow now depends on the values of ``regs``.

    ``if (r1) ...`` after ``r1 = yield Load(x, reg="r1")`` is
    ``yield Branch("r1")``: every later op of the thread carries a control
    dependency on those reads (as herd7 counts them, to the end of the
    thread). Not a scheduling point; only weak memory models look at it.
    """

    __slots__ = ()
    code = 12

    def describe(self) -> str:
        return f"branch on {', '.join(self.regs)}"


class AddrScope(_DepOp):
    """Every later load, store and RMW of the thread computes its address from
    the values of ``regs``, until the next ``AddrScope`` (``AddrScope()`` ends
    it; an interrupt handler starts with none).

    What ``page = pte_page(pte)`` does to every ``page->`` access after it: an
    address dependency on the read of ``pte``, without naming it at each
    access. Not a scheduling point; only weak memory models look at it.
    """

    __slots__ = ()
    code = 13

    def describe(self) -> str:
        return f"addresses from {', '.join(self.regs)}" if self.regs else "addresses fixed"


class Await(Op):
    """Block until ``predicate(*values of cells)`` holds; returns the values.

    ``Await(("readers",), lambda n: n == 0, "readers == 0")``. A thread blocked
    here for ever is a deadlock (reported, with the label). ``order`` is that
    of the reads (``"once"``: a READ_ONCE loop; ``"acquire"``: an
    ``smp_cond_load_acquire()``); it matters only under weak memory models.
    ``monotone=True`` promises that once the predicate holds for a write of
    its (single) cell it holds for every write after it in coherence (a
    counter that only grows, waited on to reach a value): ``dpor`` then never
    reads it before it holds, so waiting costs no explored graph.
    """

    __slots__ = ("cells", "predicate", "label", "order", "monotone")
    code = 5

    def __init__(self, cells: str | tuple[str, ...], predicate: Callable[..., bool],
                 label: str = "", order: str = "once", monotone: bool = False):
        _check("order", order, ("once", "acquire"))
        self.cells = (cells,) if isinstance(cells, str) else tuple(cells)
        self.predicate, self.label, self.order = predicate, label, order
        if monotone and len(self.cells) != 1:
            raise ValueError(f"Await(monotone=True) waits on one cell, not {len(self.cells)}")
        self.monotone = monotone

    def describe(self) -> str:
        return f"await {self.label or ', '.join(self.cells)}"


class SpinHint(Op):
    """The head of a retry loop (``cpu_relax()``).

    If, since the previous ``SpinHint`` of this thread, the thread wrote nothing
    and every cell it read still holds what it read, another iteration would do
    the same again: the thread is blocked until another thread writes one of
    those cells. All threads blocked with one spinning is a livelock.
    """

    __slots__ = ("label",)
    shared = False
    code = 6

    def __init__(self, label: str = ""):
        self.label = label

    def describe(self) -> str:
        return f"spin {self.label}".rstrip()


class IrqDisable(Op):
    """``local_irq_save()``: returns True if IRQs were enabled before.

    Reached with IRQs on, it is a boundary (a step of its own): an IPI sent
    before it can still be taken right before it, also when it is the first
    thing a thread does."""

    __slots__ = ()
    shared = False
    code = 7

    def describe(self) -> str:
        return "local_irq_disable()"


class IrqEnable(Op):
    """``local_irq_enable()``: pending IPIs may be taken from here on."""

    __slots__ = ()
    shared = False
    code = 8

    def describe(self) -> str:
        return "local_irq_enable()"


class SendIpi(Op):
    """Send an IPI to ``targets`` (CPU numbers); optionally wait for every ack.

    ``handler(cpu)`` returns a generator run on each target CPU, in interrupt
    context (IRQs disabled), at the target's first boundary after the send at
    which its IRQs are enabled (an idle CPU, or one waiting in an ``Await`` or a
    spinning loop with IRQs on, takes it too). With ``wait`` the sender blocks
    until every target has run the handler, like
    ``smp_call_function_many(..., wait=1)``. Delivery latency beyond that is not
    modelled: for ``wait=False`` a target never runs on after it could see the
    IPI.
    """

    __slots__ = ("targets", "handler", "wait", "name")
    code = 9

    def __init__(self, targets, handler: Callable[[int], Generator], wait: bool = True,
                 name: str = "ipi"):
        self.targets = tuple(sorted(set(targets)))
        self.handler, self.wait, self.name = handler, wait, name

    def describe(self) -> str:
        cpus = ",".join(f"cpu{c}" for c in self.targets) or "nobody"
        return f"send {self.name} to {cpus}" + (" and wait" if self.wait else "")


class Note(Op):
    """Free text for the trace; not a scheduling point."""

    __slots__ = ("text",)
    shared = False
    code = 10

    def __init__(self, text: str):
        self.text = text

    def describe(self) -> str:
        return self.text


class Assert(Op):
    """``yield Assert(cond, "message")``: a violation when ``cond`` is false.

    Like a ``WARN_ON``/``BUG_ON`` in the thread itself; ``evidence`` is shown
    aligned under the message. ``name`` is the short name of the property
    (``Violation.name``; the message when omitted). Not a scheduling point.
    """

    __slots__ = ("cond", "message", "evidence", "name")
    shared = False
    code = 11

    def __init__(self, cond: Any, message: str, *, name: str | None = None,
                 **evidence: Any):
        self.cond, self.message, self.evidence = bool(cond), message, evidence
        self.name = name or message

    def describe(self) -> str:
        return f"assert {self.message}"


Thread = Generator[Op, Any, Any]
"""The type of a thread body (and of every helper called with ``yield from``)."""

__all__ = [
    "ORDERS", "LOAD_ORDERS", "STORE_ORDERS", "FENCES", "LKMM_ACCESS_TAG", "LKMM_FENCE_TAG",
    "NO_WRITE", "RMW_KINDS", "BLOCKING_RMW", "Op", "Load", "Store", "Rmw", "Fence",
    "Branch", "AddrScope", "Await", "SpinHint", "IrqDisable", "IrqEnable", "SendIpi", "Note", "Assert",
    "Thread",
]
