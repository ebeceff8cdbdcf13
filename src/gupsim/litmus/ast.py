"""The plain-data syntax tree of a C litmus test (the LKMM/herd7 format).

A test is a name, its header comment (with the ``Result:`` line the kernel's
tests state their expected outcome in), the initial state, one function per
thread, and the final part: ``locations [...]``, ``filter (...)`` and the
condition (``exists``/``~exists``/``forall``). Every node records the line and
column it starts at, so a later error can point at the source.

Values are ints or location names: in herd7's C dialect the value of ``&x``
(and of a bare ``x`` on the right of an initialisation) is the address of the
shared location ``x``, which gupsim represents by the name ``"x"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

Value = Union[int, str]


@dataclass(frozen=True)
class Pos:
    line: int
    col: int


# -- expressions and statements of a thread function -------------------------------

@dataclass(frozen=True)
class Num:
    value: int
    pos: Pos


@dataclass(frozen=True)
class Var:
    name: str
    pos: Pos


@dataclass(frozen=True)
class Deref:
    """``*e``: the location whose address ``e`` computes."""
    ptr: "Expr"
    pos: Pos


@dataclass(frozen=True)
class AddrOf:
    """``&e``: ``&x`` (a shared location) or ``&*p``."""
    target: "Expr"
    pos: Pos


@dataclass(frozen=True)
class Unary:
    op: str                  # "-", "!", "~"
    arg: "Expr"
    pos: Pos


@dataclass(frozen=True)
class Binary:
    op: str                  # C's binary operators, "&&" and "||" included
    left: "Expr"
    right: "Expr"
    pos: Pos


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple["Expr", ...]
    pos: Pos


@dataclass(frozen=True)
class Assign:
    target: "Expr"           # a Var (a register) or a Deref (a plain store)
    value: "Expr"
    pos: Pos


Expr = Union[Num, Var, Deref, AddrOf, Unary, Binary, Call, Assign]


@dataclass(frozen=True)
class Decl:
    """``int r0;`` / ``int *r0 = e;``: one declared local (a register)."""
    name: str
    init: Expr | None
    pointer: bool
    pos: Pos


@dataclass(frozen=True)
class ExprStmt:
    expr: Expr
    pos: Pos


@dataclass(frozen=True)
class If:
    cond: Expr
    then: tuple["Stmt", ...]
    orelse: tuple["Stmt", ...]
    pos: Pos


Stmt = Union[Decl, ExprStmt, If]


@dataclass(frozen=True)
class Param:
    name: str
    type: str                # as written, e.g. "int *", "spinlock_t *"
    pos: Pos


@dataclass(frozen=True)
class Thread:
    index: int               # N of PN
    params: tuple[Param, ...]
    body: tuple[Stmt, ...]
    pos: Pos

    @property
    def name(self) -> str:
        return f"P{self.index}"


# -- the initial state ------------------------------------------------------------------

@dataclass(frozen=True)
class Init:
    """``[type] x = v`` or ``P:r = v`` (a register, ``thread`` set)."""
    name: str
    value: Value
    type: str
    thread: int | None
    pos: Pos


# -- the final part: locations, filter, condition ---------------------------------------

@dataclass(frozen=True)
class Loc:
    """A final-state location: ``x`` or the register ``1:r0``."""
    name: str
    thread: int | None = None

    @property
    def key(self) -> str:
        return self.name if self.thread is None else f"{self.thread}:{self.name}"


@dataclass(frozen=True)
class Atom:
    loc: Loc
    value: Value
    negated: bool            # written with != (herd7 prints it as not (loc=v))
    pos: Pos


@dataclass(frozen=True)
class Not:
    arg: "Prop"


@dataclass(frozen=True)
class And:
    args: tuple["Prop", ...]


@dataclass(frozen=True)
class Or:
    args: tuple["Prop", ...]


@dataclass(frozen=True)
class Const:
    value: bool


Prop = Union[Atom, Not, And, Or, Const]


@dataclass(frozen=True)
class Condition:
    kind: str                # "exists", "~exists" or "forall"
    prop: Prop
    pos: Pos


@dataclass(frozen=True)
class LitmusTest:
    name: str
    path: str
    comment: str             # the header (* ... *) comment, as written
    init: tuple[Init, ...]
    threads: tuple[Thread, ...]
    locations: tuple[Loc, ...] = ()
    filter: Prop | None = None
    condition: Condition | None = None
    expected: str | None = field(default=None)   # the Result: line (Never, ..., DEADLOCK)


def prop_locs(prop: Prop | None) -> list[Loc]:
    """The locations a proposition mentions, in order of appearance."""
    if prop is None or isinstance(prop, Const):
        return []
    if isinstance(prop, Atom):
        return [prop.loc]
    if isinstance(prop, Not):
        return prop_locs(prop.arg)
    return [loc for arg in prop.args for loc in prop_locs(arg)]
