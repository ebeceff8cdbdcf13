"""Preemption bounding (Musuvathi and Qadeer, PLDI 2007) against the published table:
the classes reachable with at most k preemptions."""

from __future__ import annotations

import pytest

from gupsim import CheckConfig, check
from gupsim.programs.dpor_bench import BENCHMARKS

CASES = [(name, n, k, count)
         for name in ("inc", "CoA")
         for n, counts in sorted(BENCHMARKS[name].bounded.items())
         for k, count in enumerate(counts)]


def bounded_classes(name: str, n: int, k: int) -> int:
    bench = BENCHMARKS[name]
    result = check(lambda: bench.build(n), CheckConfig(strategy="dfs", preemption_bound=k))
    assert result.verdict == "safe"
    assert result.bounds["preemption_bound"] == k
    return result.stats.classes


def test_bounded_table_is_the_published_one():
    assert BENCHMARKS["inc"].bounded == {3: (6, 24, 36), 4: (24, 168, 432, 576)}
    assert BENCHMARKS["CoA"].bounded == {2: (6, 15), 3: (24, 90, 130),
                                         4: (120, 708, 1608, 2028)}


@pytest.mark.parametrize(("name", "n", "k", "count"), [
    pytest.param(*c, marks=pytest.mark.slow) if c[:3] in (("CoA", 4, 2), ("CoA", 4, 3))
    else c for c in CASES])
def test_bounded_class_count(name, n, k, count):
    assert bounded_classes(name, n, k) == count


@pytest.mark.parametrize("name", ["readers", "ainc", "wcas", "casrot"])
def test_full_count_already_without_preemptions(name):
    bench = BENCHMARKS[name]
    n = 4
    result = check(lambda: bench.build(n), CheckConfig(strategy="dfs", preemption_bound=0))
    assert result.stats.classes == bench.expected[n]
