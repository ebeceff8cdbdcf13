"""The values of cat expressions, and the set and relation algebra on them.

Events are small ints (their ids in the execution graph). An event set is a
Python int used as a bitset; a relation is a ``Rel``: one successor bitset
per event, so composition, closure and the acyclicity test are a few big-int
operations per event. ``EMPTY`` (``0``, ``{}``) and ``UNIV`` (``_``) take the
shape their context asks for, as in herd. Sets of other values (sets of
relations, of tuples) are ``VSet``s, kept in a deterministic order.
"""

from __future__ import annotations

import functools

from gupsim.errors import UsageError


class CatError(UsageError):
    """A model that is not well typed or names something undefined."""


class Unbound(CatError):
    """A name with no definition (what ``try ... with`` catches)."""


class _Const:
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


EMPTY = _Const("EMPTY")
UNIV = _Const("UNIV")


class Ev:
    """One event, as an element (``{r}``, the members ``map`` visits)."""

    __slots__ = ("i",)

    def __init__(self, i: int):
        self.i = i

    def __eq__(self, other) -> bool:
        return type(other) is Ev and other.i == self.i

    def __hash__(self) -> int:
        return hash(("ev", self.i))

    def __repr__(self) -> str:
        return f"e{self.i}"


class Tag:
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __eq__(self, other) -> bool:
        return type(other) is Tag and other.name == self.name

    def __hash__(self) -> int:
        return hash(("tag", self.name))

    def __repr__(self) -> str:
        return "'" + self.name


class Rel:
    """A relation over events 0..n-1: ``rows[a]`` has bit b set for a -> b."""

    __slots__ = ("rows", "_dom", "_key")

    def __init__(self, rows):
        self.rows = rows if type(rows) is list else list(rows)   # never mutated
        self._dom = None
        self._key = None

    def key(self) -> tuple:
        """The rows as a tuple (computed once): the relation's memo key."""
        k = self._key
        if k is None:
            k = self._key = tuple(self.rows)
        return k

    def dom(self) -> int:
        """The events with a successor (a bitset; computed once)."""
        d = self._dom
        if d is None:
            d = 0
            for i, row in enumerate(self.rows):
                if row:
                    d |= 1 << i
            self._dom = d
        return d

    def __eq__(self, other) -> bool:
        return type(other) is Rel and other.rows == self.rows

    def __hash__(self) -> int:
        return hash(self.key())

    def __bool__(self) -> bool:
        return any(self.rows)

    def pairs(self):
        for a, row in enumerate(self.rows):
            for b in bits(row):
                yield a, b

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{a}->{b}" for a, b in self.pairs()) + "}"


class VSet:
    """A finite set of values that are not all events (or all pairs)."""

    __slots__ = ("items", "_key")

    def __init__(self, items):
        seen, out = set(), []
        for v in items:
            if v not in seen:
                seen.add(v)
                out.append(v)
        self.items = tuple(out)
        self._key = frozenset(out)

    def __eq__(self, other) -> bool:
        return type(other) is VSet and other._key == self._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        return "{" + ", ".join(map(repr, self.items)) + "}"


def bits(x: int):
    """The members of a bitset, smallest first."""
    while x:
        low = x & -x
        yield low.bit_length() - 1
        x ^= low


MEMO_SIZE = 2048
"""Results of ``seq``, ``plus`` and ``inv`` kept (per operation:
``_memoized``) for the executions that follow: the executions of one program share most of their
po-derived relations, so the same compositions come again (measured on
gup-vs-thp-split modern@x86-pae under lkmm: more than half of them). Cleared
when full, so memory stays bounded: on that cell the process grows from
about 30 MB to about 95 MB with it."""


def _memoized(op):
    """``op`` (of relations only) answered from a table of its results, keyed
    by the relations' rows and cleared when it holds ``MEMO_SIZE`` of them."""
    table: dict = {}

    @functools.wraps(op)
    def run(self, *rels):
        key = tuple(r.key() for r in rels)
        got = table.get(key)
        if got is None:
            if len(table) >= MEMO_SIZE:
                table.clear()
            got = table[key] = op(self, *rels)
        return got
    return run


class Algebra:
    """The set and relation operations for one execution's n events."""

    def __init__(self, n: int):
        self.n = n
        self.all = (1 << n) - 1
        self.id_rows = tuple(1 << i for i in range(n))
        self.zero = Rel((0,) * n)
        self.full = Rel((self.all,) * n)
        self.id = Rel(self.id_rows)

    # -- coercions ------------------------------------------------------------
    def rel(self, v) -> Rel:
        if type(v) is Rel:
            return v
        if v is EMPTY:
            return self.zero
        if v is UNIV:
            return self.full
        if type(v) is int and v == 0:
            return self.zero
        if type(v) is tuple and len(v) == 2 and all(type(x) is Ev for x in v):
            return self.pair_rel([v])
        raise CatError(f"a relation was expected, found {describe(v)}")

    def set(self, v) -> int:
        if type(v) is int:
            return v
        if v is EMPTY:
            return 0
        if v is UNIV:
            return self.all
        if type(v) is Ev:
            return 1 << v.i
        if type(v) is Rel and not v:
            return 0
        raise CatError(f"an event set was expected, found {describe(v)}")

    def pair_rel(self, pairs) -> Rel:
        rows = [0] * self.n
        for a, b in pairs:
            rows[a.i] |= 1 << b.i
        return Rel(rows)

    # -- relations ------------------------------------------------------------
    @_memoized
    def seq(self, r: Rel, s: Rel) -> Rel:
        dom = s.dom()
        if not dom or not r.dom():
            return self.zero
        srows = s.rows
        out = []
        append = out.append
        for row in r.rows:
            row &= dom             # (only the middle events with a successor in s)
            if not row:
                append(0)
                continue
            acc = 0
            while row:
                low = row & -row
                acc |= srows[low.bit_length() - 1]
                row ^= low
            append(acc)
        return Rel(out)

    @_memoized
    def plus(self, r: Rel) -> Rel:
        """Transitive closure: each row grows by its successors' rows until stable."""
        rows = r.rows
        dom = r.dom()
        out = []
        for row in rows:
            reach, frontier = row, row & dom
            while frontier:
                new = 0
                while frontier:
                    low = frontier & -frontier
                    new |= rows[low.bit_length() - 1]
                    frontier ^= low
                frontier = new & ~reach & dom
                reach |= new
            out.append(reach)
        return Rel(out)

    def star(self, r: Rel) -> Rel:
        return Rel(a | b for a, b in zip(self.plus(r).rows, self.id_rows))

    def opt(self, r: Rel) -> Rel:
        return Rel(a | b for a, b in zip(r.rows, self.id_rows))

    @_memoized
    def inv(self, r: Rel) -> Rel:
        out = [0] * self.n
        for a, row in enumerate(r.rows):
            bit = 1 << a
            while row:
                low = row & -row
                out[low.bit_length() - 1] |= bit
                row ^= low
        return Rel(out)

    def toid(self, s: int) -> Rel:
        return Rel(self.id_rows[i] if s >> i & 1 else 0 for i in range(self.n))

    def cart(self, s: int, t: int) -> Rel:
        return Rel(t if s >> i & 1 else 0 for i in range(self.n))

    def domain(self, r: Rel) -> int:
        return r.dom()

    def range(self, r: Rel) -> int:
        acc = 0
        for row in r.rows:
            acc |= row
        return acc

    def irreflexive(self, r: Rel) -> bool:
        return not any(row >> i & 1 for i, row in enumerate(r.rows))

    def acyclic(self, r: Rel) -> bool:
        return self.irreflexive(self.plus(r))


def describe(v) -> str:
    """A value's kind, for error messages."""
    if type(v) is int:
        return "an event set"
    if type(v) is Rel:
        return "a relation"
    if type(v) is Ev:
        return "an event"
    if type(v) is tuple:
        return f"a {len(v)}-tuple"
    if type(v) is VSet:
        return "a set of values"
    if type(v) is Tag:
        return f"the tag {v!r}"
    if v is EMPTY or v is UNIV:
        return "an empty set" if v is EMPTY else "the universe"
    return "a function"
