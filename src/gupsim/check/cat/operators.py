"""The cat operators on values of every shape (sets, relations, the
polymorphic ``EMPTY``/``UNIV``, sets of values), and membership helpers.

``|`` ``&`` ``\\`` work on two event sets, two relations or two sets of
values; ``0``/``{}`` and ``_`` take the other operand's shape; ``;``, the
closures and ``^-1`` want relations, ``*`` (product) and ``[S]`` event sets.
"""

from __future__ import annotations

from .values import EMPTY, UNIV, CatError, Ev, Rel, VSet, bits, describe


def union(E, a, b):
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return a | b
    if ta is Rel and tb is Rel:
        return Rel([x | y for x, y in zip(a.rows, b.rows)])
    if a is EMPTY:
        return b
    if b is EMPTY:
        return a
    if a is UNIV or b is UNIV:
        return UNIV
    if ta is VSet and tb is VSet:
        return VSet(a.items + b.items)
    return _mixed(E, a, b, union)


def inter(E, a, b):
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return a & b
    if ta is Rel and tb is Rel:
        return Rel([x & y for x, y in zip(a.rows, b.rows)])
    if a is EMPTY or b is EMPTY:
        return EMPTY
    if a is UNIV:
        return b
    if b is UNIV:
        return a
    if ta is VSet and tb is VSet:
        return VSet(v for v in a.items if v in b._key)
    return _mixed(E, a, b, inter)


def diff(E, a, b):
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return a & ~b
    if ta is Rel and tb is Rel:
        return Rel([x & ~y for x, y in zip(a.rows, b.rows)])
    if a is EMPTY or b is UNIV:
        return EMPTY
    if b is EMPTY:
        return a
    if a is UNIV:
        return complement(E, b)
    if ta is VSet and tb is VSet:
        return VSet(v for v in a.items if v not in b._key)
    return _mixed(E, a, b, diff)


def _mixed(E, a, b, op):
    """An empty set meeting a relation (herd's 0 and {} are both)."""
    ta, tb = type(a), type(b)
    if ta is Rel and tb is int and b == 0:
        return op(E, a, E.alg.zero)
    if tb is Rel and ta is int and a == 0:
        return op(E, E.alg.zero, b)
    if ta is VSet and not a.items:
        return op(E, EMPTY, b)
    if tb is VSet and not b.items:
        return op(E, a, EMPTY)
    raise CatError(f"cannot combine {describe(a)} with {describe(b)}")


def complement(E, a):
    if type(a) is int:
        return E.alg.all & ~a
    if type(a) is Rel:
        full = E.alg.all
        return Rel([full & ~x for x in a.rows])
    if a is EMPTY:
        return UNIV
    if a is UNIV:
        return EMPTY
    raise CatError(f"cannot complement {describe(a)}")


def add(E, x, s):
    """``x ++ s``: s with one more element."""
    if s is EMPTY or (type(s) is VSet and not s.items):
        return collect(E, [x])
    if type(s) is int and type(x) is Ev:
        return s | 1 << x.i
    if type(s) is Rel and _is_pair(x):
        return union(E, s, E.alg.pair_rel([x]))
    if type(s) is VSet:
        return VSet(s.items + (x,))
    if type(s) is int and s == 0:
        return collect(E, [x])
    raise CatError(f"cannot add {describe(x)} to {describe(s)}")


def _is_pair(x) -> bool:
    return type(x) is tuple and len(x) == 2 and type(x[0]) is Ev and type(x[1]) is Ev


def collect(E, values):
    """The set of ``values``: an event set, a relation, or a set of values."""
    values = list(values)
    if not values:
        return EMPTY
    if all(type(v) is Ev for v in values):
        acc = 0
        for v in values:
            acc |= 1 << v.i
        return acc
    if all(_is_pair(v) for v in values):
        return E.alg.pair_rel(values)
    return VSet(values)


def elements(E, v) -> list:
    """The members of a set, in a fixed order."""
    if type(v) is int:
        return [Ev(i) for i in bits(v)]
    if type(v) is Rel:
        return [(Ev(a), Ev(b)) for a, b in v.pairs()]
    if type(v) is VSet:
        return list(v.items)
    if v is EMPTY:
        return []
    if v is UNIV:
        return [Ev(i) for i in range(E.alg.n)]
    raise CatError(f"a set was expected, found {describe(v)}")


def is_empty(E, v) -> bool:
    if type(v) is int:
        return v == 0
    if type(v) is Rel:
        return not v
    if type(v) is VSet:
        return not v.items
    if v is EMPTY:
        return True
    if v is UNIV:
        return E.alg.n == 0
    raise CatError(f"a set or relation was expected, found {describe(v)}")


def same(E, a, b) -> bool:
    if a is b or a == b:
        return True
    try:
        return is_empty(E, a) and is_empty(E, b)
    except CatError:
        return False


def _rel_unary(op):
    def run(E, v):
        alg = E.alg
        r = alg.rel(v)
        if op == "*":
            return alg.star(r)
        if op == "+":
            return alg.plus(r)
        if op == "?":
            return alg.opt(r)
        return alg.inv(r)
    return run


UNARY = {"*": _rel_unary("*"), "+": _rel_unary("+"), "?": _rel_unary("?"),
         "^-1": _rel_unary("^-1"), "~": complement,
         "[]": lambda E, v: E.alg.toid(E.alg.set(v))}
BINARY = {"|": union, "&": inter, "\\": diff, "++": add,
          ";": lambda E, a, b: (EMPTY if a is EMPTY or b is EMPTY
                                else E.alg.seq(E.alg.rel(a), E.alg.rel(b))),
          "x": lambda E, a, b: E.alg.cart(E.alg.set(a), E.alg.set(b))}


