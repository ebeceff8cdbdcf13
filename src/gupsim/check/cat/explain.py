"""Why a model forbids an execution: the failing check and one cycle in it.

The cycle (or reflexive edge, or offending pair) is found in the relation the
check tests, then each of its edges is explained by the check's own
expression: a union by the alternative that holds, a sequence ``r ; s`` by a
middle event, a closure by a shortest path, ``r^-1`` by the reversed edge,
identities ``[S]`` vanish, and a name is a label. The relation a check names
(``acyclic hb``) is opened one level, so a happens-before cycle reads as
``ppo``, ``rfe`` and ``prop`` edges and a propagation cycle as ``prop``,
``strong-fence`` and ``hb`` edges.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import syntax as S
from .compile import compile_expr
from .values import CatError, Rel, bits


@dataclass
class Explanation:
    axiom: str                                   # the failing check's name
    test: str                                    # acyclic, irreflexive, empty, ...
    edges: list[tuple[int, str, int]] = field(default_factory=list)
    note: str = ""

    def render(self, graph) -> str:
        """The cycle, one edge a line, events as the graph describes them."""
        lines = [f"{self.test} {self.axiom}: {self.note}" if self.note
                 else f"{self.test} check {self.axiom} fails:"]
        for a, label, b in self.edges:
            lines.append(f"  {graph.describe(a)}  --{label}->  {graph.describe(b)}")
        return "\n".join(lines)


def explain_failure(prog, E, name: str, i: int, depth: int = 1) -> Explanation:
    """The explanation of failure ``name`` (step ``i``); ``depth``: how many
    levels of named relations to open (1: the checked relation's own terms)."""
    step = prog.steps[i]
    if step.op != "check":
        note = ("no choice agrees with the graph's reads-from for its lock reads"
                if step.op == "rf-agrees" else "no candidate to choose from")
        return Explanation(name, step.op, [], note)
    ins, fn, sc, _ = step.data
    w = Witness(prog, E)
    rel = w.rel(E.alg, fn(E, None))
    if ins.test == "acyclic":
        pairs = _cycle(E.alg, rel)
    elif ins.test == "irreflexive":
        pairs = [(a, a) for a in range(E.alg.n) if rel.rows[a] >> a & 1][:1]
    else:
        pairs = [next(iter(rel.pairs()))] if rel else []
    edges = []
    for a, b in pairs:
        edges += w.edges(ins.expr, sc, a, b, depth)
    test = ("~" if ins.negate else "") + ins.test
    return Explanation(name, test, edges)


def _cycle(alg, rel: Rel) -> list[tuple[int, int]]:
    closure = alg.plus(rel)
    for a in range(alg.n):
        if closure.rows[a] >> a & 1:
            path = _path(rel, a, a)
            return list(zip(path, path[1:]))
    return []


def _path(rel: Rel, a: int, b: int) -> list[int]:
    """A shortest path of at least one edge from a to b."""
    prev = {}
    frontier = [a]
    seen = 0
    while frontier:
        nxt = []
        for x in frontier:
            for y in bits(rel.rows[x]):
                if y == b:
                    path = [b, x]
                    while path[-1] != a:
                        path.append(prev[path[-1]])
                    return path[::-1]
                if not seen >> y & 1:
                    seen |= 1 << y
                    prev[y] = x
                    nxt.append(y)
        frontier = nxt
    return [a, b]


class Witness:
    def __init__(self, prog, E):
        self.prog, self.E = prog, E

    def rel(self, alg, value) -> Rel:
        if type(value) is int:
            return alg.toid(value)
        return alg.rel(value)

    def value(self, expr: S.Expr, sc) -> Rel | None:
        try:
            return self.rel(self.E.alg, compile_expr(expr, sc)(self.E, None))
        except (CatError, KeyError, TypeError):
            return None

    def has(self, expr, sc, a, b) -> bool:
        r = self.value(expr, sc)
        return r is not None and bool(r.rows[a] >> b & 1)

    def edges(self, e: S.Expr, sc, a: int, b: int, depth: int) -> list:
        if isinstance(e, S.Unary):
            return self._unary(e, sc, a, b, depth)
        if isinstance(e, S.Binary) and e.op in ("|", "&", "\\", ";"):
            return self._binary(e, sc, a, b, depth)
        if isinstance(e, S.Var):
            slot = sc.slots.get(e.name)
            d = self.prog.defs.get(slot) if slot is not None else None
            if depth > 0 and d is not None and not isinstance(d[0], S.Fun):
                if self.has(d[0], d[1], a, b):
                    return self.edges(d[0], d[1], a, b, depth - 1)
            if e.name == "id" and a == b:
                return []
            return [(a, e.name, b)]
        return [(a, e.text or "?", b)]

    def _unary(self, e: S.Unary, sc, a, b, depth) -> list:
        if e.op == "[]":
            return []
        if e.op == "?" or (e.op == "*" and a == b):
            return [] if a == b else self.edges(e.arg, sc, a, b, depth)
        if e.op in ("*", "+"):
            r = self.value(e.arg, sc)
            if r is None:
                return [(a, e.text, b)]
            path = _path(r, a, b)
            out = []
            for x, y in zip(path, path[1:]):
                out += self.edges(e.arg, sc, x, y, depth)
            return out
        if e.op == "^-1":
            inner = self.edges(e.arg, sc, b, a, depth)
            return [(y, f"{label}^-1", x) for x, label, y in reversed(inner)]
        return [(a, e.text, b)]

    def _binary(self, e: S.Binary, sc, a, b, depth) -> list:
        if e.op == "|":
            for side in (e.left, e.right):
                if self.has(side, sc, a, b):
                    return self.edges(side, sc, a, b, depth)
            return [(a, e.text, b)]
        if e.op in ("&", "\\"):
            return self.edges(e.left, sc, a, b, depth)
        left, right = self.value(e.left, sc), self.value(e.right, sc)
        if left is None or right is None:
            return [(a, e.text, b)]
        for c in bits(left.rows[a]):
            if right.rows[c] >> b & 1:
                out = (self.edges(e.left, sc, a, c, depth)
                       + self.edges(e.right, sc, c, b, depth))
                steps = [edge for edge in out if edge[0] != edge[2]]
                return steps or out        # a reflexive step (r* at c) says nothing
        return [(a, e.text, b)]
