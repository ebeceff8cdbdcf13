"""A parser for C litmus tests (``tools/memory-model/litmus-tests`` format).

::

    C SB+poonceonces                 the name
    (* Result: Sometimes ... *)      header comment: the expected outcome
    {}                               initial state: x=1; int *y = &x; 0:r1=3; ...
    P0(int *x, int *y) { ... }       one C function per thread, P0, P1, ...
    locations [0:r1; x]              optional: more locations to show
    filter (1:r0=0)                  optional: executions to keep
    exists (0:r0=0 /\\ 1:r0=0)        or ~exists (...), forall (...)

``parse_file(path)`` / ``parse_text(text, path)`` return a ``LitmusTest``
(``litmus.ast``). The function bodies are C: declarations, assignments,
``if``/``else``, blocks, expressions with the C operators, ``*p``/``&x`` and
calls (the primitives are resolved later, by ``litmus.compile``).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import UsageError
from . import ast as A
from .lex import Cursor, syntax_error, tokenize

TYPE_WORDS = {"int", "long", "short", "char", "unsigned", "signed", "bool", "_Bool",
              "const", "volatile", "struct", "union", "void", "atomic_t", "atomic_long_t",
              "atomic64_t", "spinlock_t", "raw_spinlock_t", "intptr_t", "uintptr_t",
              "size_t", "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64"}
UNSUPPORTED = {"while", "for", "do", "goto", "switch", "return", "break", "continue"}
BINARY = [("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="), ("<", "<=", ">", ">="),
          ("<<", ">>"), ("+", "-"), ("*", "/", "%")]
KINDS = ("exists", "forall")
RESULT = re.compile(r"Result:\s*(\w+)")


def parse_file(path: str | Path) -> A.LitmusTest:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file; give a .litmus file or a folder of them") \
            from None
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"{path}: cannot read it ({err}); give a .litmus text file") from None
    return parse_text(text, str(path))


def parse_text(text: str, path: str = "<litmus>") -> A.LitmusTest:
    """The ``LitmusTest`` of ``text``; a ``UsageError`` FILE:LINE:COL on bad input."""
    m = re.match(r"\s*", text)
    start = m.end()
    line = text.count("\n", 0, start) + 1
    col = start - (text.rfind("\n", 0, start) + 1) + 1
    head = re.compile(r"C[ \t]+(\S+)[^\n]*").match(text, start)
    if head is None:
        found = repr(text[start:start + 12]) if start < len(text) else "end of file"
        raise syntax_error(path, line, col, "'C NAME' (a C litmus test)", found)
    tokens, comments = tokenize(text, path, line, col + head.end() - start, head.end())
    parser = _Parser(Cursor(tokens, path))
    return parser.test(head.group(1), path, comments)


class _Parser:
    def __init__(self, cur: Cursor):
        self.c = cur

    def pos(self) -> A.Pos:
        return A.Pos(self.c.tok.line, self.c.tok.col)

    # -- the whole test ---------------------------------------------------------------
    def test(self, name: str, path: str, comments) -> A.LitmusTest:
        c = self.c
        while c.tok.kind == "str":          # herd7 allows a quoted doc string
            c.next()
        header_line = c.tok.line
        comment = next((t for ln, t in comments if ln <= header_line), "")
        expected = RESULT.search(comment)
        c.expect("{", "'{' (the initial state)")
        init = self.init_block()
        threads = []
        while c.tok.kind == "id" and re.fullmatch(r"P\d+", c.tok.text):
            threads.append(self.thread(len(threads)))
        if not threads:
            raise c.error("a thread function 'P0(...) {'")
        locations, filt, cond = self.final_part()
        return A.LitmusTest(name, path, comment, tuple(init), tuple(threads),
                            tuple(locations), filt, cond,
                            expected.group(1) if expected else None)

    # -- initial state ----------------------------------------------------------------
    def init_block(self) -> list[A.Init]:
        c = self.c
        out = []
        while not c.accept("}"):
            if c.accept(";"):
                continue
            out.append(self.init_item())
            if not c.at("}"):
                c.expect(";", "';' or '}' after an initial value")
        return out

    def init_item(self) -> A.Init:
        c = self.c
        pos = self.pos()
        words = []
        while c.tok.kind == "id" and (c.peek().kind == "id" or c.peek().text == "*"):
            words.append(c.next().text)
        stars = 0
        while c.accept("*"):
            stars += 1
        thread = None
        if c.tok.kind == "num" and c.peek().text == ":":
            thread = int(c.next().text, 0)
            c.next()
        name = c.ident("a location or register to initialise").text
        value: A.Value = 0
        if c.accept("="):
            value = self.init_value()
        type_ = " ".join(words) + (" " + "*" * stars if stars else "")
        return A.Init(name, value, type_.strip(), thread, pos)

    def init_value(self) -> A.Value:
        c = self.c
        if c.accept("&"):
            return c.ident("a location name after '&'").text
        if c.at("ATOMIC_INIT"):
            c.next()
            c.expect("(")
            value = self.number("a number in ATOMIC_INIT(...)")
            c.expect(")")
            return value
        if c.tok.kind == "id":
            return c.next().text
        return self.number("a value (a number, a location or &location)")

    def number(self, what: str) -> int:
        c = self.c
        sign = -1 if c.accept("-") else 1
        if c.tok.kind != "num":
            raise c.error(what)
        return sign * int(c.next().text, 0)

    # -- threads ----------------------------------------------------------------------
    def thread(self, expected_index: int) -> A.Thread:
        c = self.c
        tok = c.next()
        index = int(tok.text[1:])
        if index != expected_index:
            raise c.error(f"P{expected_index} (threads are numbered in order)", tok)
        pos = A.Pos(tok.line, tok.col)
        c.expect("(", "'(' and the parameters")
        params = []
        while not c.accept(")"):
            params.append(self.param())
            if not c.at(")"):
                c.expect(",", "',' or ')' in the parameter list")
        c.expect("{", "'{' (the function body)")
        return A.Thread(index, tuple(params), tuple(self.block_rest()), pos)

    def param(self) -> A.Param:
        c = self.c
        pos = self.pos()
        words = []
        while c.tok.kind == "id" and (c.peek().kind == "id" or c.peek().text == "*"):
            words.append(c.next().text)
        stars = 0
        while c.accept("*"):
            stars += 1
        name = c.ident("a parameter name").text
        return A.Param(name, " ".join(words) + " " + "*" * stars, pos)

    # -- statements -------------------------------------------------------------------
    def block_rest(self) -> list[A.Stmt]:
        """Statements up to and including the closing '}'."""
        out: list[A.Stmt] = []
        while not self.c.accept("}"):
            if self.c.tok.kind == "eof":
                raise self.c.error("'}' closing the block")
            out.extend(self.statement())
        return out

    def statement(self) -> list[A.Stmt]:
        c = self.c
        pos = self.pos()
        if c.accept(";"):
            return []
        if c.accept("{"):
            return self.block_rest()
        if c.at("if"):
            c.next()
            c.expect("(", "'(' after if")
            cond = self.expr()
            c.expect(")", "')' closing the if condition")
            then = self.statement()
            orelse = self.statement() if c.accept("else") else []
            return [A.If(cond, tuple(then), tuple(orelse), pos)]
        if c.tok.kind == "id" and c.tok.text in UNSUPPORTED:
            raise c.error("a statement (declaration, assignment, call, if or block; "
                          f"'{c.tok.text}' is not supported)")
        if self.at_type():
            return self.declaration()
        e = self.expr()
        c.expect(";", "';' after the statement")
        return [A.ExprStmt(e, pos)]

    def at_type(self) -> bool:
        t = self.c.tok
        after = self.c.peek()
        return t.kind == "id" and (t.text in TYPE_WORDS or (
            t.text.endswith("_t") and (after.kind == "id" or after.text == "*")))

    def declaration(self) -> list[A.Stmt]:
        c = self.c
        while c.tok.kind == "id" and (c.peek().kind == "id" or c.peek().text == "*"):
            c.next()
        out: list[A.Stmt] = []
        while True:
            pos = self.pos()
            stars = 0
            while c.accept("*"):
                stars += 1
            name = c.ident("the name of the declared variable").text
            init = self.expr() if c.accept("=") else None
            out.append(A.Decl(name, init, stars > 0, pos))
            if not c.accept(","):
                break
        c.expect(";", "';' after the declaration")
        return out

    # -- expressions ------------------------------------------------------------------
    def expr(self) -> A.Expr:
        pos = self.pos()
        left = self.binary(0)
        if self.c.accept("="):
            if not isinstance(left, (A.Var, A.Deref)):
                raise syntax_error(self.c.path, pos.line, pos.col,
                                   "a variable or *pointer on the left of '='",
                                   "an expression")
            return A.Assign(left, self.expr(), pos)
        return left

    def binary(self, level: int) -> A.Expr:
        if level == len(BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while self.c.tok.kind == "punct" and self.c.tok.text in BINARY[level]:
            tok = self.c.next()
            right = self.binary(level + 1)
            left = A.Binary(tok.text, left, right, A.Pos(tok.line, tok.col))
        return left

    def unary(self) -> A.Expr:
        c = self.c
        pos = self.pos()
        if c.accept("*"):
            return A.Deref(self.unary(), pos)
        if c.accept("&"):
            return A.AddrOf(self.unary(), pos)
        for op in ("-", "!", "~"):
            if c.accept(op):
                return A.Unary(op, self.unary(), pos)
        if c.accept("+"):
            return self.unary()
        if c.at("(") and c.peek().kind == "id" and (c.peek().text in TYPE_WORDS
                                                    or c.peek().text.endswith("_t")):
            c.next()
            while c.tok.kind == "id" or c.at("*"):      # a cast: (void), (int *), ...
                c.next()
            c.expect(")", "')' closing the cast")
            return self.unary()
        return self.primary()

    def primary(self) -> A.Expr:
        c = self.c
        pos = self.pos()
        if c.tok.kind == "num":
            return A.Num(int(c.next().text, 0), pos)
        if c.accept("("):
            e = self.expr()
            c.expect(")", "')'")
            return e
        if c.tok.kind == "id":
            name = c.next().text
            if not c.accept("("):
                return A.Var(name, pos)
            args = []
            while not c.accept(")"):
                args.append(self.expr())
                if not c.at(")"):
                    c.expect(",", f"',' or ')' in the arguments of {name}()")
            return A.Call(name, tuple(args), pos)
        raise c.error("an expression")

    # -- locations, filter, condition -------------------------------------------------
    def final_part(self):
        c = self.c
        locations: list[A.Loc] = []
        filt = cond = None
        while c.tok.kind != "eof":
            if c.at("locations"):
                c.next()
                locations += self.loc_list()
            elif c.at("filter"):
                c.next()
                filt = self.prop()
            elif c.at("exists", "forall") or (c.at("~") and c.peek().text == "exists"):
                pos = self.pos()
                kind = "~exists" if c.accept("~") else c.tok.text
                c.next()
                if cond is not None:
                    raise c.error("one condition only", c.tokens[c.i - 1])
                cond = A.Condition(kind, self.prop(), pos)
            else:
                raise c.error("locations [...], filter (...), exists (...), ~exists (...) "
                              "or forall (...)")
        if cond is None:
            raise c.error("the final condition: exists (...), ~exists (...) or forall (...)")
        return locations, filt, cond

    def loc_list(self) -> list[A.Loc]:
        c = self.c
        c.expect("[", "'[' after locations")
        out = []
        while not c.accept("]"):
            if c.accept(";"):
                continue
            out.append(self.loc())
        return out

    def loc(self) -> A.Loc:
        c = self.c
        if c.tok.kind == "num" and c.peek().text == ":":
            thread = int(c.next().text, 0)
            c.next()
            return A.Loc(c.ident("a register name after 'N:'").text, thread)
        return A.Loc(c.ident("a location (x) or a register (0:r0)").text)

    def prop(self) -> A.Prop:
        args = [self.conj()]
        while self.c.accept("\\/"):
            args.append(self.conj())
        return args[0] if len(args) == 1 else A.Or(_flat(A.Or, args))

    def conj(self) -> A.Prop:
        args = [self.prop_unary()]
        while self.c.accept("/\\"):
            args.append(self.prop_unary())
        return args[0] if len(args) == 1 else A.And(_flat(A.And, args))

    def prop_unary(self) -> A.Prop:
        c = self.c
        if c.accept("~") or c.accept("not"):
            return A.Not(self.prop_unary())
        if c.accept("("):
            p = self.prop()
            c.expect(")", "')' or a connective (/\\, \\/)")
            return p
        if c.at("true", "false"):
            return A.Const(c.next().text == "true")
        pos = self.pos()
        loc = self.loc()
        if c.accept("!="):
            negated = True
        else:
            negated = False
            if not c.accept("=="):
                c.expect("=", "'=' or '!=' after the location")
        return A.Atom(loc, self.atom_value(), negated, pos)

    def atom_value(self) -> A.Value:
        c = self.c
        if c.accept("&"):
            return c.ident("a location name after '&'").text
        if c.tok.kind == "id":
            return c.next().text
        return self.number("a value (a number or a location name)")


def _flat(cls, args) -> tuple:
    out = []
    for a in args:
        out.extend(a.args if isinstance(a, cls) else (a,))
    return tuple(out)
