"""Litmus tests: tiny programs whose allowed outcomes are known exactly.

Each test is a ``Litmus``: a zero-argument factory of a fresh ``Program``
(threads return their registers), a way to read the outcome of one complete
execution, the outcome its ``exists`` clause asks about, and the exact set of
outcomes each memory model allows. They validate the memory models: a checker
that misses an allowed outcome is incomplete, one that produces a forbidden
outcome is unsound. Names and shapes follow the kernel's
``tools/memory-model/litmus-tests`` (``SB+poonceonces`` is ``SB`` here,
``SB+fencembonceonces`` is ``SB+mb``)::

    >>> sorted(collect_outcomes(LITMUS["SB"], memory_model="tso"))
    [(0, 0), (0, 1), (1, 0), (1, 1)]

Every access is ``READ_ONCE``/``WRITE_ONCE``; all cells start at 0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import product
from typing import Any

from ..ops import Fence, Load, Store
from ..spec import Invariant, Program, ThreadSpec

Outcome = tuple
OutcomeFn = Callable[[Mapping[str, Any], Mapping[str, Any]], Outcome]


def results_outcome(mem: Mapping[str, Any], results: Mapping[str, Any]) -> Outcome:
    """The threads' return values in thread order, tuples flattened, None skipped."""
    out: list = []
    for value in results.values():
        if value is None:
            continue
        out.extend(value if isinstance(value, tuple) else (value,))
    return tuple(out)


@dataclass(frozen=True)
class Litmus:
    """A litmus test; calling it builds a fresh ``Program``."""

    name: str
    build: Callable[[], Program]
    labels: tuple[str, ...]              # what each position of an outcome is
    exists: Outcome                      # the outcome the test asks about
    allowed: Mapping[str, frozenset]     # memory model -> exact set of outcomes
    doc: str = ""
    outcome: OutcomeFn = field(default=results_outcome)

    def __call__(self) -> Program:
        return self.build()

    def describe(self, outcome: Outcome) -> str:
        return " ".join(f"{k}={v}" for k, v in zip(self.labels, outcome))

    def exists_invariant(self) -> Invariant:
        """An end invariant that fails when the ``exists`` outcome happens."""
        def never(mem, results):
            got = self.outcome(mem, results)
            if got == self.exists:
                return f"{self.name}: outcome {self.describe(got)} happened"
            return None
        return Invariant(f"{self.name} never {self.describe(self.exists)}", never, "end")


def _program(*threads, cells=("x", "y")) -> Program:
    return Program([ThreadSpec(f"P{i}", body) for i, body in enumerate(threads)],
                   {c: 0 for c in cells})


# -- the tests ------------------------------------------------------------------

def _sb(fence: bool) -> Callable[[], Program]:
    def p(mine: str, other: str):
        yield Store(mine, 1)
        if fence:
            yield Fence("mb")
        return (yield Load(other))
    return lambda: _program(p("x", "y"), p("y", "x"))


def _mp(fences: bool) -> Callable[[], Program]:
    def p0():
        yield Store("x", 1)
        if fences:
            yield Fence("wmb")
        yield Store("y", 1)

    def p1():
        r0 = yield Load("y")
        if fences:
            yield Fence("rmb")
        r1 = yield Load("x")
        return (r0, r1)
    return lambda: _program(p0(), p1())


def _lb() -> Program:
    def p(mine: str, other: str):
        r = yield Load(other)
        yield Store(mine, 1)
        return r
    return _program(p("y", "x"), p("x", "y"))


def _iriw() -> Program:
    def writer(cell: str):
        yield Store(cell, 1)

    def reader(first: str, second: str):
        a = yield Load(first)
        b = yield Load(second)
        return (a, b)
    return _program(writer("x"), writer("y"), reader("x", "y"), reader("y", "x"))


def _two_plus_two_w() -> Program:
    def p(first: str, second: str):
        yield Store(first, 1)
        yield Store(second, 2)
    return _program(p("x", "y"), p("y", "x"))


def _corr() -> Program:
    def writer():
        yield Store("x", 1)

    def reader():
        a = yield Load("x")
        b = yield Load("x")
        return (a, b)
    return _program(writer(), reader(), cells=("x",))


def _all(n: int) -> frozenset:
    return frozenset(product((0, 1), repeat=n))


def _same(outcomes: frozenset) -> dict[str, frozenset]:
    """x86-TSO forbids these relaxations exactly as SC does."""
    return {"sc": outcomes, "tso": outcomes}


_SB_SC = _all(2) - {(0, 0)}
_TESTS = [
    Litmus("SB", _sb(fence=False), ("0:r0", "1:r0"), (0, 0),
           {"sc": _SB_SC, "tso": _all(2)},
           "store buffering: each CPU stores its flag, then loads the other's; "
           "TSO lets both loads pass the buffered stores"),
    Litmus("SB+mb", _sb(fence=True), ("0:r0", "1:r0"), (0, 0), _same(_SB_SC),
           "SB with smp_mb() between store and load: (0, 0) is forbidden everywhere"),
    Litmus("MP", _mp(fences=False), ("1:r0", "1:r1"), (1, 0), _same(_all(2) - {(1, 0)}),
           "message passing: data then flag; TSO keeps store-store and load-load order"),
    Litmus("MP+wmb+rmb", _mp(fences=True), ("1:r0", "1:r1"), (1, 0),
           _same(_all(2) - {(1, 0)}),
           "MP with smp_wmb() in the writer and smp_rmb() in the reader"),
    Litmus("LB", _lb, ("0:r0", "1:r0"), (1, 1), _same(_all(2) - {(1, 1)}),
           "load buffering: each CPU loads the other's flag, then stores its own"),
    Litmus("IRIW", _iriw, ("2:r0", "2:r1", "3:r0", "3:r1"), (1, 0, 1, 0),
           _same(_all(4) - {(1, 0, 1, 0)}),
           "independent reads of independent writes: SC and TSO are multicopy atomic"),
    Litmus("2+2W", _two_plus_two_w, ("x", "y"), (1, 1),
           _same(frozenset({(1, 2), (2, 1), (2, 2)})),
           "two writers store x and y in opposite orders; outcome is the final x, y",
           outcome=lambda mem, results: (mem["x"], mem["y"])),
    Litmus("CoRR", _corr, ("1:r0", "1:r1"), (1, 0), _same(_all(2) - {(1, 0)}),
           "read-read coherence: a CPU never sees a cell's value go back in time"),
]

LITMUS: dict[str, Litmus] = {t.name: t for t in _TESTS}

# Factories by their kernel-style names, for ``collect_outcomes(store_buffering, ...)``.
store_buffering = LITMUS["SB"]
message_passing = LITMUS["MP"]
load_buffering = LITMUS["LB"]


def collect_outcomes(factory: Callable[[], Program], memory_model: str = "sc",
                     strategy: str = "dfs", outcome: OutcomeFn | None = None,
                     **options: Any) -> frozenset:
    """Every outcome of ``factory``'s program over a full exploration.

    The outcome of one execution is ``outcome(final memory, thread results)``;
    by default the ``Litmus``'s own, else the threads' return values. It is
    collected by an end invariant that always holds, so every strategy that
    evaluates end invariants on each explored execution supports it. Raises
    ``UsageError`` if the exploration stopped early (a budget, a non-exhaustive
    strategy): a partial set would be a wrong answer.
    """
    from ..check import CheckConfig, check
    from ..errors import UsageError

    read = outcome or getattr(factory, "outcome", None) or results_outcome
    seen: set = set()

    def record(mem, results):
        seen.add(read(mem, results))

    probe = Invariant("collect outcomes", record, "end")

    def probed() -> Program:
        program = factory()
        program.invariants = [probe, *program.invariants]
        return program

    config = CheckConfig(strategy=strategy, memory_model=memory_model,
                         stop_on_first=False, **options)
    result = check(probed, config)
    if not result.stats.exhausted:
        raise UsageError(f"strategy={strategy!r}: stopped after {result.stats.executions} "
                         f"executions without exploring everything; collect_outcomes needs "
                         f"a complete exploration (dfs or dpor, no budget)")
    return frozenset(seen)
