"""Sequential consistency and x86-TSO as axioms over execution graphs.

The same models as ``memory/sc.py`` and ``memory/tso.py`` (operational), in
their axiomatic form, so that explorations of candidate executions (the
enumerator, ``dpor`` under a weak model) can use them too and be checked
against the interleaving runtime:

* ``sc``: ``acyclic(po | rf | co | fr)`` (Lamport 1979, as herd7's sc.cat),
  and RMW atomicity: no write of another thread between the write an RMW
  reads and the RMW's own write (``empty rmw & (fre ; coe)``).
* ``tso``: x86-TSO (Owens, Sarkar, Sewell, TPHOLs 2009; herd7's x86tso.cat):
  SC per location (``acyclic(po-loc | rf | co | fr)``), atomicity, and
  ``acyclic(ppo | implied | rfe | co | fr)`` where ``ppo`` is program order
  minus write-to-read pairs and ``implied`` orders everything across
  ``smp_mb()``, an atomic RMW (a locked instruction) and a fully ordered
  store (``Store(order="mb")``, an ``xchg``-like store).

A judgement is ``(consistent, failed_axiom, flags)``, like a cat model's.
"""

from __future__ import annotations

from typing import NamedTuple

from .execgraph import ExecutionGraph


class Judgement(NamedTuple):
    consistent: bool
    failed: str | None = None
    flags: tuple = ()


class Relations:
    """Successor bitsets of the base relations of one graph."""

    def __init__(self, g: ExecutionGraph):
        n = len(g.events)
        self.g, self.n = g, n
        self.po_loc = [0] * n
        self.po = [0] * n           # immediate-or-later po successors
        for row in g.threads:
            later = 0
            for e in reversed(row):
                self.po[e] = later
                later |= 1 << e
        for row in g.threads:
            for i, a in enumerate(row):
                ca = g.events[a].cell
                if ca is None:
                    continue
                for b in row[i + 1:]:
                    if g.events[b].cell == ca:
                        self.po_loc[a] |= 1 << b
        self.rf = [0] * n
        for r, w in g.rf.items():
            self.rf[w] |= 1 << r
        self.co = [0] * n
        self.fr = [0] * n
        for cell, ws in g.co.items():
            later = 0
            for w in reversed(ws):
                self.co[w] = later
                later |= 1 << w
        for r, w in g.rf.items():
            self.fr[r] = self.co[w]

    def atomic_ok(self) -> bool:
        """No write between the write an RMW reads from and the RMW's write."""
        g = self.g
        for r, w in g.rmw:
            src = g.rf.get(r)
            if src is None:
                continue
            ws = g.co[g.events[w].cell]
            if ws.index(w) != ws.index(src) + 1:
                return False
        return True


def acyclic(succ: list[int]) -> bool:
    n = len(succ)
    state = [0] * n                  # 0 new, 1 on stack, 2 done
    for root in range(n):
        if state[root]:
            continue
        stack = [(root, succ[root])]
        state[root] = 1
        while stack:
            v, rest = stack[-1]
            if not rest:
                state[v] = 2
                stack.pop()
                continue
            low = rest & -rest
            stack[-1] = (v, rest ^ low)
            u = low.bit_length() - 1
            if state[u] == 1:
                return False
            if state[u] == 0:
                state[u] = 1
                stack.append((u, succ[u]))
    return True


def _union(*rels: list[int]) -> list[int]:
    return [sum_bits(x) for x in zip(*rels)]


def sum_bits(bits) -> int:
    out = 0
    for b in bits:
        out |= b
    return out


class SCAxioms:
    name = "sc"

    def check(self, g: ExecutionGraph) -> Judgement:
        rel = Relations(g)
        if not rel.atomic_ok():
            return Judgement(False, "atomic")
        if not acyclic(_union(rel.po, rel.rf, rel.co, rel.fr)):
            return Judgement(False, "sc")
        return Judgement(True)


def _fence_like(g: ExecutionGraph, e: int) -> bool:
    ev = g.events[e]
    if ev.kind == "F":
        return "MB" in ev.tags
    return ev.rmw_op or "LKR" in ev.tags or "LKW" in ev.tags or (
        ev.kind == "W" and "MB" in ev.tags)


class TSOAxioms:
    name = "tso"

    def check(self, g: ExecutionGraph) -> Judgement:
        rel = Relations(g)
        if not rel.atomic_ok():
            return Judgement(False, "atomic")
        if not acyclic(_union(rel.po_loc, rel.rf, rel.co, rel.fr)):
            return Judgement(False, "sc-per-location")
        n, ev = rel.n, g.events
        ppo = [0] * n
        for row in g.threads:
            for i, a in enumerate(row):
                for b in row[i + 1:]:
                    if not (ev[a].kind == "W" and ev[b].kind == "R"):
                        ppo[a] |= 1 << b
            # everything before a fence-like event precedes everything after it
            for i, f in enumerate(row):
                if not _fence_like(g, f):
                    continue
                after = sum_bits(1 << b for b in row[i:])
                for a in row[:i + 1]:
                    ppo[a] |= after & ~(1 << a)
        rfe = [0] * n
        for r, w in g.rf.items():
            if ev[r].tid != ev[w].tid:
                rfe[w] |= 1 << r
        if not acyclic(_union(ppo, rfe, rel.co, rel.fr)):
            return Judgement(False, "tso")
        return Judgement(True)


PYTHON_MODELS = {"sc": SCAxioms, "tso": TSOAxioms}
