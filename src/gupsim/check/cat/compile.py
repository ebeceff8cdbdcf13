"""Compiling cat expressions to Python closures.

Names are resolved once, when the model loads: a local (a function
parameter, an inner ``let``) is read from the call's dict, a top-level
definition from its own slot (every ``let`` gets a fresh slot, so a function
sees the definitions of its own time, as herd's closures do), and anything
else from the execution's predefined names at evaluation time (``R``, ``po``,
the tag sets ...), where a missing one raises ``Unbound``. A compiled
expression is ``fn(E, L)``: ``E`` the evaluation (its slots ``E.g``, its
``Algebra`` ``E.alg``), ``L`` the locals.
"""

from __future__ import annotations

from . import syntax as S
from .operators import BINARY, UNARY, collect, diff, elements, is_empty, same, union
from .values import EMPTY, UNIV, CatError, Rel, Tag, Unbound, describe


class Closure:
    __slots__ = ("params", "tuple_pat", "body", "env", "name")

    def __init__(self, params, tuple_pat, body, env, name):
        self.params, self.tuple_pat, self.body, self.env, self.name = (
            params, tuple_pat, body, env, name)

    def call(self, E, arg):
        L = dict(self.env) if self.env else {}
        if self.tuple_pat:
            if type(arg) is not tuple or len(arg) != len(self.params):
                raise CatError(f"{self.name} takes {len(self.params)} arguments, "
                               f"given {describe(arg)}")
            for p, v in zip(self.params, arg):
                L[p] = v
        else:
            L[self.params[0]] = arg
        return self.body(E, L)


class Builtin:
    __slots__ = ("name", "fn")

    def __init__(self, name, fn):
        self.name, self.fn = name, fn

    def call(self, E, arg):
        return self.fn(E, arg)


def apply(E, f, arg):
    if type(f) is Closure or type(f) is Builtin:
        return f.call(E, arg)
    raise CatError(f"a function was expected, found {describe(f)}")


# -- the compiler ----------------------------------------------------------------

class Scope:
    """Names visible where an expression is: top-level slots and locals."""

    def __init__(self, slots: dict[str, int], local: frozenset = frozenset()):
        self.slots, self.local = slots, local

    def with_locals(self, names) -> Scope:
        return Scope(self.slots, self.local | frozenset(names))


def compile_expr(e: S.Expr, sc: Scope):
    """``fn(E, L)`` computing ``e``'s value."""
    m = _COMPILERS.get(type(e))
    if m is None:
        raise CatError(f"{e.pos}: cannot evaluate this expression")
    return m(e, sc)


def _var(e: S.Var, sc: Scope):
    name = e.name
    if name in sc.local:
        return lambda E, L: L[name]
    if name in sc.slots:
        slot = sc.slots[name]
        return lambda E, L: E.g[slot]
    pos = e.pos

    def lookup(E, L):
        v = E.base.get(name)
        if v is None:
            raise Unbound(f"{pos}: {name} is not defined")
        return v
    return lookup


def _const(e: S.Const, sc: Scope):
    v = EMPTY if e.what == "empty" else UNIV
    return lambda E, L: v


def _tag(e: S.TagLit, sc: Scope):
    v = Tag(e.name)
    return lambda E, L: v


def _setlit(e: S.SetLit, sc: Scope):
    fns = [compile_expr(x, sc) for x in e.items]
    return lambda E, L: collect(E, [f(E, L) for f in fns])


def _tuple(e: S.TupleLit, sc: Scope):
    fns = [compile_expr(x, sc) for x in e.items]
    return lambda E, L: tuple(f(E, L) for f in fns)


def _unary(e: S.Unary, sc: Scope):
    f, op = compile_expr(e.arg, sc), UNARY[e.op]
    pos = e.pos

    def run(E, L):
        try:
            return op(E, f(E, L))
        except Unbound:
            raise
        except CatError as err:
            raise CatError(f"{pos}: {err}") from None
    return run


def _binary(e: S.Binary, sc: Scope):
    if e.op == ";" and _is_id(e.left):
        return _restrict(compile_expr(e.left.arg, sc), compile_expr(e.right, sc), True)
    if e.op == ";" and _is_id(e.right):
        return _restrict(compile_expr(e.right.arg, sc), compile_expr(e.left, sc), False)
    if e.op == "|":
        return _union_chain(e, sc)
    fa, fb, op = compile_expr(e.left, sc), compile_expr(e.right, sc), BINARY[e.op]
    pos = e.pos

    def run(E, L):
        a, b = fa(E, L), fb(E, L)
        try:
            return op(E, a, b)
        except Unbound:
            raise
        except CatError as err:
            if str(err).startswith(pos.file):
                raise
            raise CatError(f"{pos}: {err}") from None
    return run


def _union_chain(e: S.Binary, sc: Scope):
    """``a | b | c ...`` in one pass: the rows of every relation or'ed together."""
    terms, todo = [], [e]
    while todo:
        x = todo.pop()
        if isinstance(x, S.Binary) and x.op == "|":
            todo += [x.right, x.left]
        else:
            terms.append(x)
    fns = [compile_expr(t, sc) for t in terms]
    pos = e.pos

    def run(E, L):
        vals = [f(E, L) for f in fns]
        if all(type(v) is Rel for v in vals):
            rows = list(vals[0].rows)
            for v in vals[1:]:
                rows = [x | y for x, y in zip(rows, v.rows)]
            return Rel(rows)
        acc = vals[0]
        try:
            for v in vals[1:]:
                acc = union(E, acc, v)
        except Unbound:
            raise
        except CatError as err:
            raise CatError(f"{pos}: {err}") from None
        return acc
    return run


def _is_id(e) -> bool:
    return isinstance(e, S.Unary) and e.op == "[]"


def _restrict(fset, frel, domain: bool):
    """``[S] ; r`` (keep the rows of S) or ``r ; [S]`` (keep the columns of S)
    without building the identity and composing."""
    def run(E, L):
        alg = E.alg
        s = alg.set(fset(E, L))
        r = frel(E, L)
        if r is EMPTY:
            return EMPTY
        rows = alg.rel(r).rows
        if domain:
            return Rel([row if s >> i & 1 else 0 for i, row in enumerate(rows)])
        return Rel([row & s for row in rows])
    return run


def _app(e: S.App, sc: Scope):
    ff, fa = compile_expr(e.fn, sc), compile_expr(e.arg, sc)
    return lambda E, L: apply(E, ff(E, L), fa(E, L))


def _fun(e: S.Fun, sc: Scope):
    body = compile_expr(e.body, sc.with_locals(e.params))
    params, tuple_pat, name = e.params, e.tuple_pat, e.name
    return lambda E, L: Closure(params, tuple_pat, body, L, name)


def bind_values(names: list[str], value, pos) -> list[tuple[str, object]]:
    if len(names) == 1:
        return [(names[0], value)]
    if type(value) is not tuple or len(value) != len(names):
        raise CatError(f"{pos}: {len(names)} names bound to {describe(value)}")
    return list(zip(names, value))


def _letin(e: S.LetIn, sc: Scope):
    names = [n for b in e.bindings for n in b.names]
    inner = sc.with_locals(names)
    fns = [(b, compile_expr(b.expr, inner if e.rec else sc)) for b in e.bindings]
    body = compile_expr(e.body, inner)
    if not e.rec:
        def run(E, L):
            L2 = dict(L) if L else {}
            for b, f in fns:
                L2.update(bind_values(b.names, f(E, L), b.pos))
            return body(E, L2)
        return run

    def run_rec(E, L):
        L2 = dict(L) if L else {}
        fixpoint(E, L2, [(b.names[0], f, isinstance(b.expr, S.Fun)) for b, f in fns])
        return body(E, L2)
    return run_rec


def fixpoint(E, env: dict, bindings) -> None:
    """herd's ``let rec``: functions once, then values from empty, each binding
    re-evaluated in turn with the latest values until none changes."""
    values = [n for n, _, is_fun in bindings if not is_fun]
    for n in values:
        env[n] = EMPTY
    for n, f, is_fun in bindings:
        if is_fun:
            env[n] = f(E, env)
            env[n].env = env          # the closure sees itself and its siblings
    if not values:
        return
    for _ in range(10_000):
        changed = False
        for n, f, is_fun in bindings:
            if is_fun:
                continue
            v = f(E, env)
            if not same(E, v, env[n]):
                changed = True
            env[n] = v
        if not changed:
            return
    raise CatError("a let rec does not reach a fixpoint")


def _try(e: S.Try, sc: Scope):
    fa, fb = compile_expr(e.body, sc), compile_expr(e.fallback, sc)

    def run(E, L):
        try:
            return fa(E, L)
        except CatError:
            return fb(E, L)
    return run


def _if(e: S.If, sc: Scope):
    fa, fb = compile_expr(e.then, sc), compile_expr(e.other, sc)
    kind = e.cond[0]
    if kind == "variant":
        variant = e.cond[1]
        return lambda E, L: fa(E, L) if variant in E.variants else fb(E, L)
    x, y = compile_expr(e.cond[1], sc), compile_expr(e.cond[2], sc)

    def holds(E, L):
        a, b = x(E, L), y(E, L)
        if kind == "eq":
            return same(E, a, b)
        if kind == "in":
            return any(same(E, a, m) for m in elements(E, b))
        return is_empty(E, diff(E, a, b))           # subset
    return lambda E, L: fa(E, L) if holds(E, L) else fb(E, L)


def _matchset(e: S.MatchSet, sc: Scope):
    f = compile_expr(e.subject, sc)
    fe = compile_expr(e.if_empty, sc)
    fs = compile_expr(e.if_some, sc.with_locals([e.elem, e.rest]))
    elem, rest = e.elem, e.rest

    def run(E, L):
        members = elements(E, f(E, L))
        if not members:
            return fe(E, L)
        L2 = dict(L) if L else {}
        L2[elem] = members[0]
        L2[rest] = collect(E, members[1:])
        return fs(E, L2)
    return run


def _matchtag(e: S.MatchTag, sc: Scope):
    f = compile_expr(e.subject, sc)
    clauses = {t: compile_expr(x, sc) for t, x in e.clauses}
    default = compile_expr(e.default, sc) if e.default else None
    pos = e.pos

    def run(E, L):
        v = f(E, L)
        if type(v) is not Tag:
            raise CatError(f"{pos}: match on {describe(v)}, expected a tag")
        g = clauses.get(v.name, default)
        if g is None:
            raise CatError(f"{pos}: no clause for tag {v!r}")
        return g(E, L)
    return run


_COMPILERS = {S.Var: _var, S.Const: _const, S.TagLit: _tag, S.SetLit: _setlit,
              S.TupleLit: _tuple, S.Unary: _unary, S.Binary: _binary, S.App: _app,
              S.Fun: _fun, S.LetIn: _letin, S.Try: _try, S.If: _if,
              S.MatchSet: _matchset, S.MatchTag: _matchtag}
