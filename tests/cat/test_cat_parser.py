"""The cat parser: precedence, the constructs herd models use, and errors that
name file:line:column and what was expected."""

from __future__ import annotations

import pytest

from gupsim.check.cat import parse
from gupsim.check.cat import syntax as S
from gupsim.errors import UsageError


def expr(text: str) -> S.Expr:
    (ins,) = parse(f"let x = {text}").instrs
    return ins.bindings[0].expr


def shape(e) -> str:
    """A fully parenthesised rendering of an expression tree."""
    if isinstance(e, S.Var):
        return e.name
    if isinstance(e, S.Const):
        return {"empty": "0", "univ": "_"}[e.what]
    if isinstance(e, S.Binary):
        return f"({shape(e.left)} {e.op} {shape(e.right)})"
    if isinstance(e, S.Unary):
        return f"[{shape(e.arg)}]" if e.op == "[]" else (
            f"~{shape(e.arg)}" if e.op == "~" else f"{shape(e.arg)}{e.op}")
    if isinstance(e, S.App):
        return f"{shape(e.fn)}({shape(e.arg)})"
    if isinstance(e, S.TupleLit):
        return "(" + ", ".join(map(shape, e.items)) + ")"
    if isinstance(e, S.SetLit):
        return "{" + ", ".join(map(shape, e.items)) + "}"
    if isinstance(e, S.TagLit):
        return "'" + e.name
    return type(e).__name__


@pytest.mark.parametrize("text, tree", [
    ("a | b ; c", "(a | (b ; c))"),
    ("a ; b ; c", "(a ; (b ; c))"),
    ("a \\ b \\ c", "((a \\ b) \\ c)"),
    ("a & b \\ c", "((a & b) \\ c)"),
    ("a \\ b & c", "(a \\ (b & c))"),
    ("a ++ b | c", "((a ++ b) | c)"),
    ("r* ; s+", "(r* ; s+)"),
    ("(r ; s)* ; t?", "((r ; s)* ; t?)"),
    ("rf^-1 ; co", "(rf^-1 ; co)"),
    ("A * B | C", "((A x B) | C)"),
    ("_ * B", "(_ x B)"),
    ("~M | IW", "(~M | IW)"),
    ("[R] ; po ; [W]", "([R] ; (po ; [W]))"),
    ("domain(rmw) | range(rmw)", "(domain(rmw) | range(rmw))"),
    ("map f (X & loc)", "map(f)((X & loc))"),
    ("f(a, b)", "f((a, b))"),
    ("p ++ 0", "(p ++ 0)"),
    ("LKW * {r}", "(LKW x {r})"),
    ("'ONCE", "'ONCE"),
])
def test_precedence(text, tree):
    assert shape(expr(text)) == tree


def test_lkmm_shapes():
    m = parse('''"title"
(* a (* nested *) comment *)
// a line comment
enum Accesses = 'ONCE || 'RELEASE
instructions R[Accesses]
let f(r) = (rfe ; [Marked])? ; r
let g x = x | x
let rec a = b | po and b = a
let s = let rec u = v and v = u in u
flag ~empty (if "lkmmv2" then 0 else _) as need-v2
with c from cross(S)
let t = try RL with emptyset
let h = fun (k, o) -> k | o
acyclic po | rf as coherence
irreflexive r as i
empty r as e
show co, rf
include "cos.cat"
''', "m.cat")
    kinds = [type(i).__name__ for i in m.instrs]
    assert m.title == "title"
    assert kinds == ["Enum", "Events", "Let", "Let", "Let", "Let", "Check", "WithFrom", "Let",
                     "Let", "Check", "Check", "Check", "Ignored", "Include"]
    f = m.instrs[2].bindings[0].expr
    assert isinstance(f, S.Fun) and f.params == ["r"] and not f.tuple_pat
    assert m.instrs[4].rec and [b.names for b in m.instrs[4].bindings] == [["a"], ["b"]]
    flag = m.instrs[6]
    assert (flag.mode, flag.negate, flag.test, flag.name) == ("flag", True, "empty", "need-v2")
    assert isinstance(flag.expr, S.If) and flag.expr.cond == ("variant", "lkmmv2")
    h = m.instrs[9].bindings[0].expr
    assert h.params == ["k", "o"] and h.tuple_pat


def test_match_on_sets():
    e = expr("match S with || {} -> 0 || x ++ rest -> x ++ rest end")
    assert isinstance(e, S.MatchSet) and (e.elem, e.rest) == ("x", "rest")


def test_the_kernel_files_parse(lkmm):
    assert lkmm.title == "Linux-kernel memory consistency model"
    # lock.cat's checks come first; releases after v6.17 add nested-is-locked.
    assert lkmm.checks[0] == "lock-nest" and "unmatched-locks" in lkmm.checks[:3]
    assert {"coherence", "atomic", "happens-before", "propagation", "rcu",
            "plain-coherence"} <= set(lkmm.checks)
    assert "data-race" in lkmm.flags


@pytest.mark.parametrize("text, where, what", [
    ("let x = a |", "m.cat:1:12", "expected an expression"),
    ("let = a", "m.cat:1:5", "expected a name to define"),
    ("acyclic po as", "m.cat:1:14", "expected the check's name"),
    ("let x = (a | b", "m.cat:1:15", "expected ')'"),
    ("let x = a\nlet y = [b\n", "m.cat:3:1", "expected ']'"),
    ("let x = a\n  @", "m.cat:2:3", "unexpected character '@'"),
    ("(* never closed", "m.cat:1:1", "never closed"),
    ("flag ~acyc x", "m.cat:1:7", "expected acyclic, irreflexive or empty"),
    ("x = y", "m.cat:1:1", "expected an instruction"),
    ('let x = if a then b else c', "m.cat:1:14", "expected '=', 'subset' or 'in'"),
])
def test_errors_name_file_line_column(text, where, what):
    with pytest.raises(UsageError) as err:
        parse(text, "m.cat")
    msg = str(err.value)
    assert msg.startswith(where + ": ") and what in msg and "\n" not in msg
