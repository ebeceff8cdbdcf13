"""A parser for the cat language of herd7 (the subset memory models use).

Precedence, loosest first: tuples ``a, b``; ``|``; ``++``; ``;``; ``\\``
(left-associative); ``&``; the cartesian product ``*``; prefix ``~``;
postfix ``*`` ``+`` ``?`` ``^-1``; application (``f(x)``, ``f x``), which
binds tightest. A ``*`` followed by something that can start an operand is
the product, otherwise the reflexive-transitive closure. Comments are
``(* ... *)`` (nested) and ``//`` to the end of the line. A bad model gets a
``UsageError`` naming ``file:line:col`` and what was expected there.
"""

from __future__ import annotations

from gupsim.errors import UsageError

from . import syntax as S
from .lexer import ARG_START, BINARY, OPERAND_START, OPTIONS, Token, tokenize

class Parser:
    def __init__(self, text: str, file: str):
        self.text, self.file = text, file
        self.toks = tokenize(text, file)
        self.i = 0

    # -- helpers --------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self) -> Token:
        t = self.toks[self.i]
        self.i += 1
        return t

    def fail(self, expected: str, tok: Token | None = None):
        tok = tok or self.tok
        raise UsageError(f"{tok.pos}: expected {expected}, found {tok.show()}")

    def expect(self, kind: str, what: str | None = None) -> Token:
        if self.tok.kind != kind:
            self.fail(what or repr(kind))
        return self.next()

    def name(self, what: str = "a name") -> str:
        return self.expect("name", what).value

    def span(self, start: Token) -> str:
        end = self.toks[self.i - 1].end if self.i else start.end
        return " ".join(self.text[start.start:end].split())

    # -- model ----------------------------------------------------------------
    def model(self) -> S.Model:
        title = ""
        if self.tok.kind == "str":
            title = self.next().value
        elif self.tok.kind == "name" and self.peek().kind in ("str", "name", "let", "include"):
            title = self.next().value
            if self.tok.kind == "str":
                title = self.next().value
        while self.tok.kind == "name" and self.tok.value in OPTIONS:
            self.next()
        instrs = self.instrs(stop=("eof",))
        return S.Model(self.file, title, instrs)

    def instrs(self, stop: tuple[str, ...]) -> list[S.Instr]:
        out = []
        while self.tok.kind not in stop:
            out.append(self.instr())
        return out

    def instr(self) -> S.Instr:
        t = self.tok
        k = t.kind
        if k == "let":
            self.next()
            rec = bool(self.tok.kind == "rec" and self.next())
            bindings = self.bindings()
            if self.tok.kind == "in":       # herd tolerates a stray 'in' at top level
                self.next()
            return S.Let(t.pos, bindings, rec)
        if k in ("acyclic", "irreflexive", "empty", "~", "flag", "requires"):
            return self.check()
        if k == "include":
            self.next()
            return S.Include(t.pos, self.expect("str", "a quoted file name").value)
        if k in ("show", "unshow"):
            self.next()
            self.base()
            while self.tok.kind == ",":
                self.next()
                self.base()
            if self.tok.kind == "as":
                self.next()
                self.name()
            return S.Ignored(t.pos, k)
        if k == "debug":
            self.next()
            self.exp()
            return S.Ignored(t.pos, k)
        if k == "enum":
            self.next()
            name = self.name("the enum's name")
            self.expect("=")
            if self.tok.kind == "||":
                self.next()
            tags = [self.expect("tag", "a 'tag").value]
            while self.tok.kind == "||":
                self.next()
                tags.append(self.expect("tag", "a 'tag").value)
            return S.Enum(t.pos, name, tags)
        if k in ("instructions", "default"):
            self.next()
            name = self.name("an event class such as R or W")
            self.expect("[")
            args = self.args("]")
            return S.Events(t.pos, name, args)
        if k == "with":
            self.next()
            name = self.name()
            self.expect("from", "'from'")
            return S.WithFrom(t.pos, name, self.exp())
        if k == "procedure":
            return self.procedure()
        if k == "call":
            self.next()
            name = self.name("a procedure name")
            arg = self.arg()
            as_name = None
            if self.tok.kind == "as":
                self.next()
                as_name = self.name()
            return S.Call(t.pos, name, arg, as_name)
        if k == "forall":
            self.next()
            name = self.name()
            self.expect("in", "'in'")
            e = self.exp()
            self.expect("do", "'do'")
            body = self.instrs(stop=("end", "eof"))
            self.expect("end", "'end'")
            return S.Forall(t.pos, name, e, body)
        self.fail("an instruction (let, include, acyclic, irreflexive, empty, flag, show, "
                  "with, enum, instructions, procedure, call)")

    def check(self) -> S.Check:
        t = self.tok
        mode = "check"
        if self.tok.kind in ("flag", "requires"):
            mode = self.next().kind
        negate = bool(self.tok.kind == "~" and self.next())
        if self.tok.kind not in ("acyclic", "irreflexive", "empty"):
            self.fail("acyclic, irreflexive or empty")
        test = self.next().kind
        e = self.exp()
        name = None
        if self.tok.kind == "as":
            self.next()
            name = self.name("the check's name")
        return S.Check(t.pos, test, negate, e, name, mode)

    def procedure(self) -> S.Procedure:
        t = self.next()
        if self.tok.kind == "rec":
            self.next()
        name = self.name("a procedure name")
        params, tuple_pat = self.formals_after_name()
        self.expect("=")
        body = self.instrs(stop=("end", "eof"))
        self.expect("end", "'end'")
        return S.Procedure(t.pos, name, params, tuple_pat, body)

    def formals_after_name(self) -> tuple[list[str], bool]:
        if self.tok.kind == "(":
            self.next()
            params = self.formals(")")
            self.expect(")")
            return params, len(params) != 1
        return [self.pat0()], False

    def pat0(self) -> str:
        if self.tok.kind == "_":
            self.next()
            return "_"
        return self.name("a parameter name")

    def formals(self, close: str) -> list[str]:
        if self.tok.kind == close:
            return []
        out = [self.pat0()]
        while self.tok.kind == ",":
            self.next()
            out.append(self.pat0())
        return out

    def bindings(self) -> list[S.Binding]:
        out = [self.binding()]
        while self.tok.kind == "and":
            self.next()
            out.append(self.binding())
        return out

    def binding(self) -> S.Binding:
        t = self.tok
        if t.kind == "(":                       # let (a, b) = e
            self.next()
            names = self.formals(")")
            self.expect(")")
            self.expect("=")
            return S.Binding(t.pos, names, self.exp())
        name = self.name("a name to define")
        if self.tok.kind in ("(", "name", "_"):     # a function: f(x) = e, f x = e
            params, tuple_pat = self.formals_after_name()
            self.expect("=", "'=' after the parameters")
            body = self.exp()
            return S.Binding(t.pos, [name], S.Fun(t.pos, params, tuple_pat, body, name,
                                                  text=name))
        names = [name]
        while self.tok.kind == ",":
            self.next()
            names.append(self.pat0())
        self.expect("=", "'='")
        return S.Binding(t.pos, names, self.exp())

    # -- expressions ----------------------------------------------------------
    def exp(self) -> S.Expr:
        t = self.tok
        k = t.kind
        if k == "let":
            self.next()
            rec = bool(self.tok.kind == "rec" and self.next())
            bindings = self.bindings()
            self.expect("in", "'in' after the definitions")
            return S.LetIn(t.pos, bindings, self.exp(), rec, text=self.span(t))
        if k == "fun":
            self.next()
            params, tuple_pat = self.formals_after_name()
            self.expect("->", "'->'")
            return S.Fun(t.pos, params, tuple_pat, self.exp(), text=self.span(t))
        if k == "try":
            self.next()
            body = self.exp()
            self.expect("with", "'with'")
            return S.Try(t.pos, body, self.exp(), text=self.span(t))
        if k == "if":
            self.next()
            cond = self.cond()
            self.expect("then", "'then'")
            a = self.exp()
            self.expect("else", "'else'")
            return S.If(t.pos, cond, a, self.exp(), text=self.span(t))
        if k == "match":
            return self.match()
        e = self.base()
        if self.tok.kind != ",":
            return e
        items = [e]
        while self.tok.kind == ",":
            self.next()
            items.append(self.base())
        return S.TupleLit(t.pos, items, text=self.span(t))

    def cond(self) -> tuple:
        if self.tok.kind == "str":
            return ("variant", self.next().value)
        a = self.base()
        k = self.tok.kind
        if k not in ("=", "subset", "in"):
            self.fail("'=', 'subset' or 'in' in the condition")
        self.next()
        return ({"=": "eq"}.get(k, k), a, self.base())

    def match(self) -> S.Expr:
        t = self.next()
        subject = self.exp()
        self.expect("with", "'with'")
        if self.tok.kind == "||":
            self.next()
        if self.tok.kind == "{" or (self.tok.kind in ("name", "_") and self.peek().kind == "++"):
            return self.match_set(t, subject)
        clauses, default = [], None
        while True:
            if self.tok.kind == "_":
                self.next()
                self.expect("->", "'->'")
                default = self.exp()
            else:
                tag = self.expect("tag", "a 'tag or _").value
                self.expect("->", "'->'")
                clauses.append((tag, self.exp()))
            if self.tok.kind != "||":
                break
            self.next()
        self.expect("end", "'end'")
        return S.MatchTag(t.pos, subject, clauses, default, text=self.span(t))

    def match_set(self, t: Token, subject: S.Expr) -> S.Expr:
        if_empty = if_some = None
        elem = rest = "_"
        for _ in range(2):
            if self.tok.kind == "{":
                self.next()
                self.expect("}", "'}'")
                self.expect("->", "'->'")
                if_empty = self.exp()
            else:
                elem = self.pat0()
                self.expect("++", "'++'")
                rest = self.pat0()
                self.expect("->", "'->'")
                if_some = self.exp()
            if if_empty is not None and if_some is not None:
                break
            self.expect("||", "'||' and the other clause")
        self.expect("end", "'end'")
        return S.MatchSet(t.pos, subject, if_empty, elem, rest, if_some, text=self.span(t))

    def base(self, min_prec: int = 1) -> S.Expr:
        start = self.tok
        left = self.unary()
        while True:
            op = self.tok.kind
            if op not in BINARY:
                return left
            prec, assoc = BINARY[op]
            if prec < min_prec:
                return left
            self.next()
            right = self.base(prec + 1 if assoc == "left" else prec)
            left = S.Binary(start.pos, "x" if op == "*" else op, left, right,
                            text=self.span(start))

    def unary(self) -> S.Expr:
        t = self.tok
        if t.kind == "~":
            self.next()
            return S.Unary(t.pos, "~", self.unary(), text=self.span(t))
        e = self.application()
        while True:
            k = self.tok.kind
            if k in ("+", "?", "^-1") or (k == "*" and self.peek().kind not in OPERAND_START):
                self.next()
                e = S.Unary(t.pos, k, e, text=self.span(t))
            else:
                return e

    def application(self) -> S.Expr:
        t = self.tok
        if t.kind != "name":
            return self.simple()
        e: S.Expr = S.Var(t.pos, self.next().value, text=t.value)
        while self.tok.kind in ARG_START:
            e = S.App(t.pos, e, self.arg(), text="")
            e.text = self.span(t)
        return e

    def arg(self) -> S.Expr:
        t = self.tok
        if t.kind == "name":
            self.next()
            return S.Var(t.pos, t.value, text=t.value)
        return self.simple()

    def simple(self) -> S.Expr:
        t = self.tok
        k = t.kind
        if k == "zero":
            self.next()
            return S.Const(t.pos, "empty", text="0")
        if k == "_":
            self.next()
            return S.Const(t.pos, "univ", text="_")
        if k == "tag":
            self.next()
            return S.TagLit(t.pos, t.value, text="'" + t.value)
        if k == "{":
            self.next()
            items = self.args("}")
            return (S.SetLit(t.pos, items, text=self.span(t)) if items
                    else S.Const(t.pos, "empty", text="{}"))
        if k == "(":
            self.next()
            if self.tok.kind == ")":
                self.next()
                return S.TupleLit(t.pos, [], text="()")
            e = self.exp()
            self.expect(")", "')'")
            e.text = self.span(t)
            return e
        if k == "begin":
            self.next()
            e = self.exp()
            self.expect("end", "'end'")
            return e
        if k == "[":
            self.next()
            e = self.exp()
            self.expect("]", "']'")
            return S.Unary(t.pos, "[]", e, text=self.span(t))
        self.fail("an expression (a name, 0, _, 'tag, (...), [...] or {...})")

    def args(self, close: str) -> list[S.Expr]:
        out = []
        if self.tok.kind != close:
            out.append(self.base())
            while self.tok.kind == ",":
                self.next()
                out.append(self.base())
        self.expect(close, repr(close))
        return out


def parse(text: str, file: str = "<model>") -> S.Model:
    """The model in ``text``; ``UsageError`` with file:line:col if it is not cat."""
    return Parser(text, file).model()
