"""dfs against the published numbers of the classic DPOR benchmarks.

Without reduction dfs runs every interleaving: its execution count is the
published no-reduction count. Counting the distinct reads-from/coherence
classes of those executions must give the published optimal count.
"""

from __future__ import annotations

import pytest

from gupsim import CheckConfig, check
from gupsim.programs.dpor_bench import BENCHMARKS

FAST = [("readers", n) for n in (1, 2, 3, 4, 5)] + [("lastzero", n) for n in (1, 2, 3)] + \
       [("ainc", n) for n in (2, 3, 4, 5, 6)] + [("wcas", n) for n in (2, 3, 4, 5)] + \
       [("inc", 2), ("inc", 3)]
SLOW = [("lastzero", 4)]


def run_dfs(name: str, n: int):
    bench = BENCHMARKS[name]
    result = check(lambda: bench.build(n), CheckConfig(strategy="dfs", count_classes=True))
    assert result.verdict == "safe" and result.stats.exhausted
    return result.stats


@pytest.mark.parametrize(("name", "n"), FAST + [pytest.param(*p, marks=pytest.mark.slow)
                                                for p in SLOW])
def test_dfs_runs_every_interleaving(name, n):
    bench = BENCHMARKS[name]
    stats = run_dfs(name, n)
    assert stats.executions == bench.no_reduction[n]
    if n in bench.expected:
        assert stats.classes == bench.expected[n]


@pytest.mark.parametrize(("name", "n"), [("casrot", 2), ("casrot", 3), ("casrot", 4),
                                         ("casrot", 5), ("CoA", 1), ("CoA", 2),
                                         ("readers", 4), ("ainc", 4)])
def test_dfs_class_count_is_the_published_count(name, n):
    assert run_dfs(name, n).classes == BENCHMARKS[name].expected[n]
