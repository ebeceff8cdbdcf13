"""Any number of workers gives one worker's verdict, totals and counterexample."""

from __future__ import annotations

import pytest

from gupsim import Assert, CheckConfig, Load, Program, Rmw, Store, ThreadSpec, check
from gupsim.distributed import InlineBackend, explore
from gupsim.distributed.coordinator import Coordinator
from gupsim.programs.dpor_bench import BENCHMARKS


def counters(n: int = 3, bump: int = 2):
    """n threads each add 1 to a counter ``bump`` times (load, store); the last
    one to finish asserts nothing was lost: many violations, deep in the tree."""
    def body():
        for _ in range(bump):
            v = yield Load("count")
            yield Store("count", v + 1)
        done = yield Rmw("done", "add", 1)
        if done == n - 1:
            total = yield Load("count")
            yield Assert(total == n * bump, "no lost update", count=total)
    return lambda: Program([ThreadSpec(f"T{i}", body()) for i in range(n)],
                           {"count": 0, "done": 0})


def _same(a, b):
    assert (a.verdict, a.stats.executions, a.stats.blocked, a.stats.events) == \
        (b.verdict, b.stats.executions, b.stats.blocked, b.stats.events)
    assert a.schedule == b.schedule
    assert (a.violation and a.violation.to_json()) == (b.violation and b.violation.to_json())


@pytest.mark.parametrize(("name", "n"), [("lastzero", 8), ("readers", 6), ("casrot", 6)])
@pytest.mark.parametrize("model", ["sc", "tso"])
def test_two_workers_explore_the_same_tree(name, n, model):
    factory = lambda: BENCHMARKS[name].build(n)  # noqa: E731
    config = CheckConfig(strategy="dpor", memory_model=model)
    one, two = check(factory, config), explore(factory, config, workers=2)
    _same(one, two)
    assert two.verdict == "safe" and two.bounds["workers"] == 2


@pytest.mark.parametrize("model", ["sc", "tso"])
@pytest.mark.parametrize("stop", [True, False])
def test_the_counterexample_is_the_one_a_single_worker_reports(model, stop):
    config = CheckConfig(strategy="dpor", memory_model=model, stop_on_first=stop)
    make = counters(3, 2) if stop else counters(3, 1)     # stop=False: the whole tree
    one = check(make, config)
    assert one.verdict == "violation" and one.stats.executions > 1
    for workers in (2, 3):
        _same(one, explore(make, config, workers=workers))


def test_tiny_slices_split_the_tree_everywhere_and_change_nothing():
    """Slices of a few executions send most of the tree back and forth between
    the coordinator and the workers (snap items included)."""
    config = CheckConfig(strategy="dpor", stop_on_first=True)
    one = check(counters(3, 2), config)
    factory = counters(3, 2)
    coord = Coordinator(factory, config, InlineBackend(factory, config), slice_seconds=1e-4)
    _same(one, coord.run())


@pytest.mark.parametrize("strategy", ["random", "pct"])
def test_seed_ranges_find_the_same_first_violation(strategy):
    config = CheckConfig(strategy=strategy, seed=3, max_executions=2000)
    one = check(counters(), config)
    two = explore(counters(), config, workers=2)
    if strategy == "random":          # execution i has its own generator: exact
        _same(one, two)
    assert two.verdict == one.verdict == "violation"


def test_random_budget_counts_exactly():
    factory = lambda: BENCHMARKS["lastzero"].build(4)  # noqa: E731
    config = CheckConfig(strategy="random", seed=1, max_executions=700)
    one, two = check(factory, config), explore(factory, config, workers=2)
    _same(one, two)
    assert two.stats.executions == 700 and two.verdict == "incomplete"


def test_max_executions_is_exact_with_workers_and_says_what_is_left():
    factory = lambda: BENCHMARKS["lastzero"].build(9)  # noqa: E731
    res = explore(factory, CheckConfig(strategy="dpor", max_executions=300), workers=2,
                  estimate=True)
    assert res.verdict == "incomplete" and res.stats.executions == 300
    cov = res.bounds["covered"]
    assert cov["pending_items"] > 0
    assert cov["estimated_total"] >= 300 + cov["pending_items"]


def test_class_counts_match():
    factory = lambda: BENCHMARKS["readers"].build(5)  # noqa: E731
    config = CheckConfig(strategy="dpor", count_classes=True)
    one, two = check(factory, config), explore(factory, config, workers=2)
    assert (one.stats.classes, one.stats.duplicates) == (two.stats.classes, two.stats.duplicates)
    assert one.stats.classes == one.stats.executions
