"""dpor is exact: one execution per reads-from/coherence class, none missed.

Oracles: the published counts of the classic DPOR programs, and brute force
(every interleaving under dfs, deduplicated by class) on random small programs.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gupsim.check import CheckConfig, check
from gupsim.ops import Fence, Load, Rmw, Store
from gupsim.programs.dpor_bench import BENCHMARKS
from gupsim.spec import Program, ThreadSpec

FAST = [("readers", n) for n in (1, 2, 3, 4, 8)] + \
       [("lastzero", n) for n in (1, 2, 3, 4, 5)] + \
       [("casrot", n) for n in range(2, 8)] + [("wcas", n) for n in range(2, 7)] + \
       [("ainc", n) for n in range(2, 6)] + [("CoA", n) for n in (1, 2, 3)] + \
       [("inc", n) for n in (2, 3, 4)] + [("indexer", 12)]


@pytest.mark.parametrize(("name", "n"), FAST)
def test_dpor_matches_published_count(name, n):
    bench = BENCHMARKS[name]
    result = check(lambda: bench.build(n), CheckConfig(strategy="dpor", count_classes=True))
    assert result.verdict == "safe"
    assert result.stats.executions == bench.expected[n]
    assert result.stats.duplicates == 0
    assert result.stats.blocked == 0


@pytest.mark.slow
@pytest.mark.parametrize(("name", "n"), [("readers", 13), ("casrot", 9), ("CoA", 4),
                                         ("lastzero", 10), ("indexer", 13)])
def test_dpor_matches_published_count_larger(name, n):
    bench = BENCHMARKS[name]
    result = check(lambda: bench.build(n), CheckConfig(strategy="dpor"))
    assert result.stats.executions == bench.expected[n]
    assert result.stats.blocked == 0


def _classes(factory, strategy, model="sc"):
    seen = []
    check(factory, CheckConfig(strategy=strategy, memory_model=model),
          observe=lambda o: seen.append(o.signature))
    return seen


ops = st.one_of(
    st.builds(lambda c: ("load", c), st.sampled_from("xy")),
    st.builds(lambda c, v: ("store", c, v), st.sampled_from("xy"), st.integers(1, 3)),
    st.builds(lambda c: ("add", c), st.sampled_from("xy")),
    st.builds(lambda c, e, v: ("cas", c, e, v), st.sampled_from("xy"), st.integers(0, 2),
              st.integers(1, 3)),
    st.just(("mb",)),
)
programs = st.lists(st.lists(ops, min_size=1, max_size=3), min_size=2, max_size=3)


def _build(spec):
    def body(steps):
        for step in steps:
            if step[0] == "load":
                yield Load(step[1])
            elif step[0] == "store":
                yield Store(step[1], step[2])
            elif step[0] == "add":
                yield Rmw(step[1], "add", 1)
            elif step[0] == "mb":
                yield Fence("mb")
            else:
                yield Rmw(step[1], "cmpxchg", step[3], expected=step[2])
    return lambda: Program([ThreadSpec(f"T{i}", body(s)) for i, s in enumerate(spec)],
                           {"x": 0, "y": 0})


@settings(max_examples=150, deadline=None)
@given(programs, st.sampled_from(["sc", "tso"]))
def test_dpor_equals_brute_force_on_random_programs(spec, model):
    factory = _build(spec)
    brute = _classes(factory, "dfs", model)
    smart = _classes(factory, "dpor", model)
    assert len(smart) == len(set(smart)), "dpor explored a class twice"
    assert set(smart) == set(brute)
