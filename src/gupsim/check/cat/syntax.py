"""The abstract syntax of herd7's cat language, as this interpreter reads it.

A model is a list of instructions (``let``, checks, ``include``, ``with``,
``enum`` ...); expressions denote event sets, relations, single events,
tuples, sets of values, tags and functions. Every node keeps where it came
from (``file:line:col``) and its source text, so errors and explanations can
point at it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Pos:
    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


# Expressions -------------------------------------------------------------

@dataclass(eq=False)
class Expr:
    pos: Pos
    text: str = field(default="", kw_only=True)   # the source text, for explanations


@dataclass(eq=False)
class Var(Expr):
    name: str


@dataclass(eq=False)
class Const(Expr):
    what: str            # "empty" (0, {}) or "univ" (_)


@dataclass(eq=False)
class TagLit(Expr):
    name: str            # 'ONCE


@dataclass(eq=False)
class SetLit(Expr):
    items: list[Expr]    # {a, b}


@dataclass(eq=False)
class TupleLit(Expr):
    items: list[Expr]    # (a, b)


@dataclass(eq=False)
class Unary(Expr):
    op: str              # "*", "+", "?", "^-1", "~", "[]" (identity on a set)
    arg: Expr


@dataclass(eq=False)
class Binary(Expr):
    op: str              # "|", "++", ";", "\\", "&", "x" (cartesian product)
    left: Expr
    right: Expr


@dataclass(eq=False)
class App(Expr):
    fn: Expr
    arg: Expr


@dataclass(eq=False)
class Fun(Expr):
    params: list[str]    # one name, or the names of a tuple pattern
    tuple_pat: bool
    body: Expr
    name: str = "fun"


@dataclass(eq=False)
class Binding:
    pos: Pos
    names: list[str]     # one name, or a tuple pattern
    expr: Expr


@dataclass(eq=False)
class LetIn(Expr):
    bindings: list[Binding]
    body: Expr
    rec: bool = False


@dataclass(eq=False)
class Try(Expr):
    body: Expr
    fallback: Expr


@dataclass(eq=False)
class If(Expr):
    cond: tuple          # ("variant", name) | ("eq"|"subset"|"in", Expr, Expr)
    then: Expr
    other: Expr


@dataclass(eq=False)
class MatchSet(Expr):
    subject: Expr
    if_empty: Expr
    elem: str            # the element bound in "x ++ rest"
    rest: str
    if_some: Expr


@dataclass(eq=False)
class MatchTag(Expr):
    subject: Expr
    clauses: list[tuple[str, Expr]]
    default: Expr | None


# Instructions --------------------------------------------------------------

@dataclass(eq=False)
class Instr:
    pos: Pos


@dataclass(eq=False)
class Let(Instr):
    bindings: list[Binding]
    rec: bool = False


@dataclass(eq=False)
class Check(Instr):
    test: str            # "acyclic", "irreflexive", "empty"
    negate: bool         # ~empty
    expr: Expr
    name: str | None
    mode: str            # "check", "flag", "requires"


@dataclass(eq=False)
class Include(Instr):
    file: str


@dataclass(eq=False)
class Enum(Instr):
    name: str
    tags: list[str]


@dataclass(eq=False)
class Events(Instr):
    name: str            # instructions R[Accesses]
    args: list[Expr]


@dataclass(eq=False)
class WithFrom(Instr):
    name: str
    expr: Expr


@dataclass(eq=False)
class Procedure(Instr):
    name: str
    params: list[str]
    tuple_pat: bool
    body: list[Instr]


@dataclass(eq=False)
class Call(Instr):
    name: str
    arg: Expr
    as_name: str | None


@dataclass(eq=False)
class Forall(Instr):
    name: str
    expr: Expr
    body: list[Instr]


@dataclass(eq=False)
class Ignored(Instr):
    what: str            # show, unshow, debug


@dataclass
class Model:
    file: str
    title: str
    instrs: list[Instr]
