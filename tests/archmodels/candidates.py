"""herd7-style candidate executions of a compiled litmus test, for testing cat models.

An independent oracle for the models' tests, not the checker's exploration:
each thread is run alone with every value its loads might read (the values
any store of the test can write, iterated to a fixpoint), which gives each
thread's possible event sequences; a candidate execution picks one sequence
per thread, a write of the same value for every read (rf) and an order of
each cell's writes (co). A cat model keeps the consistent candidates, and the
test's ``exists`` clause is evaluated on each one's final state, as herd7
does. Exponential, fine for the classic shapes (a few thousand candidates).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from gupsim.check.execgraph import build
from gupsim.litmus import ast as A
from gupsim.ops import (LKMM_ACCESS_TAG, LKMM_FENCE_TAG, NO_WRITE, Branch, Fence, Load,
                        Rmw, Store)


@dataclass
class Path:
    events: list[dict]       # execgraph.build event dicts, without rf/co
    registers: dict          # what the thread returned


class _NeedValue(Exception):
    def __init__(self, cell):
        self.cell = cell


def _tag(order):
    tag = LKMM_ACCESS_TAG.get(order)
    return {tag} if tag else set()


def _run(body, choices: list) -> Path:
    """Run one thread, its loads reading ``choices`` in turn; raises
    ``_NeedValue`` at the first load past them."""
    events, regs, ctrl, picks = [], {}, set(), iter(choices)
    reply = None
    while True:
        try:
            op = body.send(reply)
        except StopIteration as stop:
            return Path(events, dict(stop.value or {}))
        reply = None
        deps = dict(ctrl=sorted(ctrl)) if ctrl else {}
        dep = lambda names: sorted(regs[n] for n in names if n in regs)  # noqa: E731
        if isinstance(op, Branch):
            ctrl.update(dep(op.regs))
        elif isinstance(op, Fence):
            events.append(dict(kind="F", cell=op.cell, tags={LKMM_FENCE_TAG[op.kind]}, **deps))
        elif isinstance(op, Store):
            events.append(dict(kind="W", cell=op.cell, value=op.value, tags=_tag(op.order),
                               addr=dep(op.addr), data=dep(op.data), **deps))
        elif isinstance(op, (Load, Rmw)):
            reply = next(picks, _NeedValue)
            if reply is _NeedValue:
                raise _NeedValue(op.cell)
            locking = isinstance(op, Rmw) and op.kind in ("lock", "trylock")
            new = op.apply(reply) if isinstance(op, Rmw) else NO_WRITE
            if locking and new is NO_WRITE and op.kind == "lock":
                raise _NeedValue(None)              # would wait: not a candidate
            rtags = ({"LKR", "ACQUIRE"} if new is not NO_WRITE else {"LF"}) if locking \
                else _tag(op.order)
            if op.reg:
                regs[op.reg] = len(events)
            events.append(dict(kind="R", cell=op.cell, value=reply, tags=rtags,
                               rmw_op=isinstance(op, Rmw), addr=dep(op.addr), **deps))
            if new is not NO_WRITE:
                events.append(dict(kind="W", cell=op.cell, value=new, rmw=True, rmw_op=True,
                                   tags={"LKW"} if locking else _tag(op.order),
                                   data=dep(op.data), **deps))
        else:
            raise NotImplementedError(f"candidates: {op.describe()}")


def thread_paths(compiled, tid: int, values: dict) -> list[Path]:
    """Every event sequence of thread ``tid`` with loads reading ``values``."""
    out, todo = [], [[]]
    while todo:
        choices = todo.pop()
        try:
            out.append(_run(compiled.factory().threads[tid].body, choices))
        except _NeedValue as need:
            if need.cell is not None:
                todo.extend(choices + [v] for v in sorted(values[need.cell], key=repr))
    return out


def all_paths(compiled, rounds: int = 4) -> list[list[Path]]:
    """Per thread its paths, the load values iterated to a fixpoint (a test
    whose values keep growing, such as a counter incremented in a loop, is
    refused after ``rounds`` rounds)."""
    values = {cell: {v} for cell, v in compiled.memory.items()}
    for _ in range(rounds):
        paths = [thread_paths(compiled, t, values) for t in range(len(compiled.test.threads))]
        grown = False
        for p in itertools.chain.from_iterable(paths):
            for e in p.events:
                if e["kind"] == "W" and e["value"] not in values[e["cell"]]:
                    values[e["cell"]].add(e["value"])
                    grown = True
        if not grown:
            return paths
    raise ValueError(f"{compiled.test.name}: load values still growing after {rounds} rounds")


def candidates(compiled):
    """(graph, final state) for every candidate execution."""
    init = compiled.memory
    for combo in itertools.product(*all_paths(compiled)):
        threads = [[dict(e) for e in p.events] for p in combo]
        reads, writes = [], {}
        for tid, evs in enumerate(threads):
            for i, e in enumerate(evs):
                if e["kind"] == "R":
                    reads.append(e)
                elif e["kind"] == "W":
                    writes.setdefault(e["cell"], []).append(((tid, i), e))
        sources = [[src for src, w in writes.get(r["cell"], []) if w["value"] == r["value"]]
                   + (["init"] if init[r["cell"]] == r["value"] else []) for r in reads]
        orders = [list(itertools.permutations(ws)) for ws in writes.values()]
        for rf in itertools.product(*sources):
            for r, src in zip(reads, rf):
                r["rf"] = src
            for co in itertools.product(*orders):
                final = dict(init)
                for order in co:
                    for pos, (_, w) in enumerate(order):
                        w["co"] = pos
                    final[order[-1][1]["cell"]] = order[-1][1]["value"]
                state = {f"{t}:{k}": v for t, p in enumerate(combo) for k, v in p.registers.items()}
                state.update(final)
                yield build(init, threads), state


def holds(prop, state) -> bool:
    if isinstance(prop, A.Atom):
        return (state.get(prop.loc.key) == prop.value) != prop.negated
    if isinstance(prop, A.Not):
        return not holds(prop.arg, state)
    if isinstance(prop, A.And):
        return all(holds(p, state) for p in prop.args)
    if isinstance(prop, A.Or):
        return any(holds(p, state) for p in prop.args)
    return prop.value


def observation(compiled, model) -> tuple[str, int, int]:
    """herd7's Observation line: Never/Sometimes/Always, positive and negative
    counts of consistent candidates for an ``exists`` condition."""
    cond = compiled.test.condition
    pos = neg = 0
    for g, state in candidates(compiled):
        if model.check(g).consistent:
            if holds(cond.prop, state):
                pos += 1
            else:
                neg += 1
    word = "Never" if pos == 0 else "Always" if neg == 0 else "Sometimes"
    return word, pos, neg
