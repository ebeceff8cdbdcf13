"""The kernel-free programs as named scenarios: ``bench/<name>`` and ``litmus/<name>``.

``register()`` puts them into ``spec.SCENARIOS`` (idempotent), next to the
kernel scenarios, so ``gupsim check bench/readers --param n=4`` and
``gupsim check litmus/SB --memory-model tso`` work like any other scenario.
A litmus scenario fails its end invariant when the test's ``exists`` outcome
happens, so under a model that allows it the checker prints the interleaving.
"""

from __future__ import annotations

from ..errors import UsageError
from ..spec import SCENARIOS, Param, Program, Scenario
from .dpor_bench import BENCHMARKS, Benchmark
from .litmus import LITMUS, Litmus


def _bench_scenario(bench: Benchmark) -> Scenario:
    sizes = sorted(bench.expected)
    # a small but not trivial size; indexer starts large (no collisions below 12)
    default = sizes[0] if sizes[0] >= 10 else sizes[min(2, len(sizes) - 1)]

    def build(n: int = default) -> Program:
        if not isinstance(n, int) or n < 1:
            raise UsageError(f"n={n!r}: expected a whole number >= 1 "
                             f"(published counts for n = {', '.join(map(str, sizes))})")
        return bench.build(n)

    counts = ", ".join(f"{n}: {c}" for n, c in sorted(bench.expected.items()))
    doc = (f"classic DPOR benchmark {bench.name}(n)\n\n"
           f"Published SC executions by n: {counts}.")
    return Scenario(f"bench/{bench.name}", build, doc,
                    (Param("n", default, "problem size"),), ("bench",))


def _litmus_scenario(test: Litmus) -> Scenario:
    def build() -> Program:
        program = test.build()
        program.invariants.append(test.exists_invariant())
        return program

    title, _, detail = test.doc.partition(": ")
    doc = f"litmus test {title}; fails if {test.describe(test.exists)}\n\n{detail}"
    return Scenario(f"litmus/{test.name}", build, doc, (), ("litmus",))


def register() -> None:
    """Add the benchmark and litmus scenarios to ``SCENARIOS``."""
    for bench in BENCHMARKS.values():
        SCENARIOS.setdefault(f"bench/{bench.name}", _bench_scenario(bench))
    for test in LITMUS.values():
        SCENARIOS.setdefault(f"litmus/{test.name}", _litmus_scenario(test))
