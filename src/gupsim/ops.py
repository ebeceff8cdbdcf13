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
# (and the unordered non-value-returning atomics); "acquire"/"release" are
# smp_load_acquire/smp_store_release and the _acquire/_release atomics; "mb" is a
# fully ordered access (value-returning atomics such as atomic_add_return).
ORDERS = ("once", "acquire", "release", "mb")

# Fence kinds: smp_mb(), smp_rmb(), smp_wmb(), smp_mb__before_atomic(),
# smp_mb__after_atomic().
FENCES = ("mb", "rmb", "wmb", "mb__before_atomic", "mb__after_atomic")

NO_WRITE = object()
"""Returned by ``Rmw.apply`` when the read-modify-write does not write (a failed
cmpxchg, an add_unless that hit its limit): it is then a read only."""


def _check(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name}={value!r}: expected one of {', '.join(allowed)}")


class Op:
    """Base class: one step of a thread."""

    __slots__ = ()
    shared = True       # a scheduling point (another thread may run before it)
    code = 0            # dispatch code used by the runtime

    def describe(self) -> str:
        return type(self).__name__


class Load(Op):
    """``v = READ_ONCE(cell)`` (or an acquire load with ``order="acquire"``)."""

    __slots__ = ("cell", "order")
    code = 1

    def __init__(self, cell: str, order: str = "once"):
        _check("order", order, ("once", "acquire", "mb"))
        self.cell, self.order = cell, order

    def describe(self) -> str:
        return f"load {self.cell}" + ("" if self.order == "once" else f" ({self.order})")


class Store(Op):
    """``WRITE_ONCE(cell, value)`` (or ``smp_store_release`` with ``order="release"``)."""

    __slots__ = ("cell", "value", "order")
    code = 2

    def __init__(self, cell: str, value: Hashable, order: str = "once"):
        _check("order", order, ("once", "release", "mb"))
        self.cell, self.value, self.order = cell, value, order

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


RMW_KINDS: dict[str, Callable[[Any, Any, Any], Any]] = {
    "add": _rmw_add,
    "sub": _rmw_sub,
    "xchg": _rmw_xchg,
    "cmpxchg": _rmw_cmpxchg,
    "add_unless": _rmw_add_unless,
    "or": _rmw_or,
    "andnot": _rmw_andnot,
}


class Rmw(Op):
    """An atomic read-modify-write; the yield returns the *old* value.

    ``kind`` is one of: ``add``/``sub`` (``arg``), ``xchg`` (``arg``),
    ``cmpxchg`` (``expected`` -> ``arg``; writes only on success),
    ``add_unless`` (adds ``arg`` unless the old value equals ``expected``),
    ``or``/``andnot`` (bit operations, as set_bit/clear_bit).
    A failed cmpxchg or add_unless is a read only.
    """

    __slots__ = ("cell", "kind", "arg", "expected", "order", "_fn")
    code = 3

    def __init__(self, cell: str, kind: str, arg: Any = None, expected: Any = None,
                 order: str = "mb"):
        if kind not in RMW_KINDS:
            raise ValueError(f"kind={kind!r}: expected one of {', '.join(RMW_KINDS)}")
        _check("order", order, ORDERS)
        self.cell, self.kind, self.arg, self.expected, self.order = (
            cell, kind, arg, expected, order)
        self._fn = RMW_KINDS[kind]

    def apply(self, old: Any) -> Any:
        """The new value, or ``NO_WRITE``."""
        return self._fn(old, self.arg, self.expected)

    def describe(self) -> str:
        if self.kind == "cmpxchg":
            body = f"cmpxchg {self.cell} {self.expected!r} -> {self.arg!r}"
        elif self.kind == "add_unless":
            body = f"add_unless {self.cell} += {self.arg!r} unless {self.expected!r}"
        else:
            body = f"{self.kind} {self.cell} {self.arg!r}"
        return body + ("" if self.order == "mb" else f" ({self.order})")


class Fence(Op):
    """A memory barrier: ``smp_mb()`` is ``Fence("mb")``; see ``FENCES``."""

    __slots__ = ("kind",)
    code = 4

    def __init__(self, kind: str = "mb"):
        _check("kind", kind, FENCES)
        self.kind = kind

    def describe(self) -> str:
        return f"smp_{self.kind}()"


class Await(Op):
    """Block until ``predicate(*values of cells)`` holds; returns the values.

    ``Await(("readers",), lambda n: n == 0, "readers == 0")``. A thread blocked
    here for ever is a deadlock (reported, with the label).
    """

    __slots__ = ("cells", "predicate", "label")
    code = 5

    def __init__(self, cells: str | tuple[str, ...], predicate: Callable[..., bool],
                 label: str = ""):
        self.cells = (cells,) if isinstance(cells, str) else tuple(cells)
        self.predicate, self.label = predicate, label

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
    "ORDERS", "FENCES", "NO_WRITE", "RMW_KINDS", "Op", "Load", "Store", "Rmw", "Fence",
    "Await", "SpinHint", "IrqDisable", "IrqEnable", "SendIpi", "Note", "Assert", "Thread",
]
