"""The kernel primitives of ``tools/memory-model/linux-kernel.def`` as gupsim ops.

Each primitive is a handler ``fn(thread, args, dest)``: a generator that
evaluates its arguments through the interpreting thread (``litmus.compile``),
yields the ops, and returns ``(value, deps)`` (``deps``: the read registers
the value came from). What each maps to, after linux-kernel.def:

* ``READ_ONCE(*x)``, ``rcu_dereference(*p)``, ``atomic_read(x)``: ``Load``
  order ``once``; ``smp_load_acquire(x)``, ``atomic_read_acquire(x)``:
  ``acquire``. ``WRITE_ONCE(*x, v)``, ``atomic_set(x, v)``: ``Store`` ``once``;
  ``smp_store_release(x, v)``, ``rcu_assign_pointer(*p, v)``,
  ``atomic_set_release``: ``release``; ``smp_store_mb(*x, v)``: a ``once``
  store then ``Fence("mb")``.
* fences: ``smp_mb()`` is ``Fence("mb")``, and so on for ``smp_rmb``,
  ``smp_wmb``, ``smp_mb__{before,after}_atomic``, ``smp_mb__after_spinlock``,
  ``smp_mb__after_unlock_lock``, ``smp_mb__after_srcu_read_unlock``,
  ``barrier``, ``rcu_read_lock``/``rcu_read_unlock``,
  ``synchronize_rcu(_expedited)``; ``synchronize_srcu(_expedited)(ss)`` is
  ``Fence("synchronize_srcu", cell=ss)``.
* read-modify-writes (``Rmw``): value-returning ones are fully ordered
  (``mb``), ``_relaxed`` is ``once``, ``_acquire``/``_release`` as named, and
  the void ``atomic_add``/``atomic_inc``/... are ``noreturn``. ``xchg`` and
  ``cmpxchg`` (and their ``atomic_`` forms) return the old value;
  ``atomic_*_return`` the new one; ``atomic_fetch_*`` the old one;
  ``atomic_*_and_test`` whether the new value is 0; ``atomic_add_negative``
  whether it is negative; ``atomic_add_unless(v, a, u)`` whether it added.
* locks: ``spin_lock(l)`` is ``Rmw(l, "lock")`` (waits for 0, writes 1),
  ``spin_unlock(l)`` ``Store(l, 0, order="unlock")``, ``spin_trylock(l)``
  ``Rmw(l, "trylock")`` returning 1 when it took the lock,
  ``spin_is_locked(l)`` ``Load(l, order="is_locked")`` returning value != 0.
* SRCU: ``srcu_read_lock(ss)``/``srcu_down_read(ss)`` are ``Load(ss,
  order="srcu_lock")``; ``srcu_read_unlock(ss, idx)``/``srcu_up_read`` are
  ``Store(ss, idx, order="srcu_unlock")``.

Arguments written ``*x`` in the kernel's notation (READ_ONCE, WRITE_ONCE,
rcu_dereference, rcu_assign_pointer, smp_store_mb) are locations; the others
take a pointer, as in C.
"""

from __future__ import annotations

from collections.abc import Callable

from ..ops import NO_WRITE, Fence, Load, Rmw, Store

NONE = frozenset()
Handler = Callable

# name -> (arity, handler)
PRIMITIVES: dict[str, tuple[int, Handler]] = {}


def _load(where: str, order: str):
    def run(th, args, dest):
        cell, addr = yield from th.location(args[0], where)
        reg = th.reg(dest or f"*{cell}")
        value = yield Load(cell, order, reg=reg, addr=addr)
        if order == "is_locked":
            value = int(value != 0)
        return value, frozenset((reg,))
    return run


def _store(where: str, order: str, fence: bool = False):
    def run(th, args, dest):
        cell, addr = yield from th.location(args[0], where)
        value, data = yield from th.value(args[1])
        yield Store(cell, value, order, addr=sorted(addr), data=sorted(data))
        if fence:
            yield Fence("mb")
        return 0, NONE
    return run


def _fence(kind: str):
    def run(th, args, dest):
        yield Fence(kind)
        return 0, NONE
    return run


def _sync_srcu(th, args, dest):
    cell, _ = yield from th.location(args[0], "pointer")
    yield Fence("synchronize_srcu", cell=cell)
    return 0, NONE


def _spin_unlock(th, args, dest):
    cell, addr = yield from th.location(args[0], "pointer")
    yield Store(cell, 0, "unlock", addr=sorted(addr))
    return 0, NONE


def _rmw(kind: str, order: str, shape: str, result: str, arg=None):
    """``shape`` names the arguments in order: ``x`` the pointer, ``v`` the
    operand, ``e`` the expected value (cmpxchg: the first after x; add_unless:
    the one after v). ``result``: which value the primitive returns."""
    def run(th, args, dest):
        vals = {}
        deps = NONE
        cell, addr = None, NONE
        for name, a in zip(shape, args):
            if name == "x":
                cell, addr = yield from th.location(a, "pointer")
            else:
                vals[name], d = yield from th.value(a)
                deps = deps | d
        operand = vals.get("v", arg)
        reg = th.reg(dest or f"*{cell}")
        op = Rmw(cell, kind, operand, vals.get("e"), order, reg=reg, addr=sorted(addr),
                 data=sorted(deps))
        old = yield op
        new = op.apply(old)
        value = {"old": old, "new": new, "none": 0,
                 "zero": int(new == 0), "negative": int(new is not NO_WRITE and new < 0),
                 "wrote": int(new is not NO_WRITE), "took": int(old == 0)}[result]
        return value, (NONE if result == "none" else frozenset((reg,)))
    return run


def _register() -> None:
    for name, where, order in (("READ_ONCE", "location", "once"),
                               ("rcu_dereference", "location", "once"),
                               ("smp_load_acquire", "pointer", "acquire"),
                               ("atomic_read", "pointer", "once"),
                               ("atomic_read_acquire", "pointer", "acquire"),
                               ("srcu_read_lock", "pointer", "srcu_lock"),
                               ("srcu_down_read", "pointer", "srcu_lock"),
                               ("spin_is_locked", "pointer", "is_locked")):
        PRIMITIVES[name] = (1, _load(where, order))
    for name, where, order in (("WRITE_ONCE", "location", "once"),
                               ("rcu_assign_pointer", "location", "release"),
                               ("smp_store_release", "pointer", "release"),
                               ("atomic_set", "pointer", "once"),
                               ("atomic_set_release", "pointer", "release"),
                               ("srcu_read_unlock", "pointer", "srcu_unlock"),
                               ("srcu_up_read", "pointer", "srcu_unlock")):
        PRIMITIVES[name] = (2, _store(where, order))
    PRIMITIVES["smp_store_mb"] = (2, _store("location", "once", fence=True))
    for kind in ("mb", "rmb", "wmb", "mb__before_atomic", "mb__after_atomic",
                 "mb__after_spinlock", "mb__after_unlock_lock", "mb__after_srcu_read_unlock"):
        PRIMITIVES[f"smp_{kind}"] = (0, _fence(kind))
    for name, kind in (("barrier", "barrier"), ("rcu_read_lock", "rcu_read_lock"),
                       ("rcu_read_unlock", "rcu_read_unlock"),
                       ("synchronize_rcu", "synchronize_rcu"),
                       ("synchronize_rcu_expedited", "synchronize_rcu")):
        PRIMITIVES[name] = (0, _fence(kind))
    PRIMITIVES["synchronize_srcu"] = (1, _sync_srcu)
    PRIMITIVES["synchronize_srcu_expedited"] = (1, _sync_srcu)
    PRIMITIVES["spin_lock"] = (1, _rmw("lock", "acquire", "x", "none"))
    PRIMITIVES["spin_trylock"] = (1, _rmw("trylock", "acquire", "x", "took"))
    PRIMITIVES["spin_unlock"] = (1, _spin_unlock)
    _register_atomics()


SUFFIXES = {"": "mb", "_relaxed": "once", "_acquire": "acquire", "_release": "release"}


def _register_atomics() -> None:
    for prefix in ("", "atomic_"):
        for suffix, order in SUFFIXES.items():
            PRIMITIVES[f"{prefix}xchg{suffix}"] = (2, _rmw("xchg", order, "xv", "old"))
            PRIMITIVES[f"{prefix}cmpxchg{suffix}"] = (3, _rmw("cmpxchg", order, "xev", "old"))
    ops = {"add": ("add", None), "sub": ("sub", None), "and": ("and", None),
           "or": ("or", None), "xor": ("xor", None), "andnot": ("andnot", None),
           "inc": ("add", 1), "dec": ("sub", 1)}
    for name, (kind, arg) in ops.items():
        shape = "x" if arg is not None else "vx"
        n = len(shape)
        PRIMITIVES[f"atomic_{name}"] = (n, _rmw(kind, "noreturn", shape, "none", arg))
        for suffix, order in SUFFIXES.items():
            PRIMITIVES[f"atomic_fetch_{name}{suffix}"] = (n, _rmw(kind, order, shape, "old",
                                                                  arg))
            if name in ("add", "sub", "inc", "dec"):
                PRIMITIVES[f"atomic_{name}_return{suffix}"] = (
                    n, _rmw(kind, order, shape, "new", arg))
            PRIMITIVES[f"atomic_add_negative{suffix}"] = (
                2, _rmw("add", order, "vx", "negative"))
        if name in ("sub", "inc", "dec"):
            PRIMITIVES[f"atomic_{name}_and_test"] = (n, _rmw(kind, "mb", shape, "zero", arg))
    PRIMITIVES["atomic_add_unless"] = (3, _rmw("add_unless", "mb", "xve", "wrote"))


_register()

KNOWN = tuple(sorted(PRIMITIVES))
