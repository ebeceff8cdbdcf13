"""Counterexamples: the fewest preemptions, told in kernel terms, and they replay."""

from pathlib import Path

import pytest

from gupsim import replay
from gupsim.check import run_schedule
from gupsim.check.schedule import decode
from gupsim.cli import explain_text
from gupsim.matrix import counterexample, short_invariant
from gupsim.report.story import story_lines
from gupsim.spec import SCENARIOS

GOLDEN = Path(__file__).parent / "golden"

CASES = [
    ("gup-vs-thp-split", "sc", dict(arch="arm64", design="arm-rfc-2013"), "ref-across-split"),
    ("gup-vs-thp-split", "sc", dict(arch="arm-lpae", design="arm-rfc-2013"), "ref-across-split"),
    ("gup-vs-munmap", "sc", dict(arch="arm64", design="arm-rfc-2013"), "get_page-on-free-page"),
    ("gup-vs-munmap", "sc", dict(arch="arm64", design="arm-rfc-2013", huge=True),
     "get_page-on-free-page"),
    ("gup-vs-munmap", "sc", dict(arch="arm64", design="readers-counter-2013"),
     "get_page-on-free-page"),
    ("gup-vs-reclaim", "sc", dict(arch="arm64", design="arm-rfc-2013"), "get_page-on-free-page"),
    ("futex-thp-tail", "sc", dict(arch="arm64", design="weak-default"), "progress"),
]


@pytest.mark.parametrize("scenario,model,params,invariant", CASES)
def test_counterexample_replays(scenario, model, params, invariant):
    cx = counterexample(scenario, model, **params)
    v = cx.result.violation
    assert short_invariant(v) == invariant
    factory = SCENARIOS[scenario].factory(**params)
    if v.kind != "livelock":     # see test_replay_strategy_reports_a_livelock
        again = replay(factory, cx.result.schedule, model)      # the replay strategy
        assert again.violation is not None and again.violation.name == v.name
    ex = run_schedule(factory, decode(cx.result.schedule), model)
    if v.kind == "livelock":     # the schedule ends with the thread spinning in vain
        assert (ex.violation is not None and ex.violation.name == v.name) or \
            [c.name for c in ex.contexts if c.blocked and c.blocked[0] == "spin"]
    else:
        assert ex.violation is not None and ex.violation.name == v.name
    assert len(cx.stacks) == len(cx.result.trace)


def test_the_split_race_needs_one_preemption_and_no_ipi():
    cx = counterexample("gup-vs-thp-split", arch="arm64", design="arm-rfc-2013")
    assert cx.preemptions == 1
    text = "\n".join(story_lines(cx.result.trace, cx.result.violation))
    assert "cpu0  irqs off  get_huge_page_tail: page 4 _mapcount -1 -> 0" in text
    assert "pmdp_splitting_flush: set splitting bit in pmd[0] (table page 2)" in text
    assert "flush_tlb_range: TLB invalidate broadcast by hardware (TLBI, no IPI" in text


def test_on_x86_the_ablated_walker_is_caught_by_the_flush_ipi_story():
    from gupsim.kernel import get_design
    d = get_design("x86-2008").without("walker:irqs-off")
    cx = counterexample("gup-vs-munmap", "tso", arch="x86-64", design=d)
    text = "\n".join(story_lines(cx.result.trace, cx.result.violation))
    assert "send IPI to cpu0" in text and "takes its pending IPIs" in text
    assert "?:" not in text         # buffer drains are the CPU's, named as such


def test_golden_split_counterexample():
    cx = counterexample("gup-vs-thp-split", arch="arm64", design="arm-rfc-2013")
    text = explain_text(cx, short_invariant(cx.result.violation)) + "\n"
    path = GOLDEN / "arm-rfc-2013-arm64-thp-split.txt"
    assert text == path.read_text(encoding="utf-8")
    assert text.splitlines()[-3].startswith("  violated: ref-across-split: ")


def test_a_safe_scenario_has_no_counterexample():
    assert counterexample("gup-vs-munmap", arch="arm64", design="generic-rcu-2014") is None


@pytest.mark.slow
def test_the_pae_torn_pmd_counterexample_replays_under_tso():
    # dpor finds it; the fewest-preemption search (dfs) gives the trace.
    params = dict(arch="x86-pae", design="x86-2008")
    cx = counterexample("gup-vs-munmap", "tso", **params)
    assert short_invariant(cx.result.violation) == "torn-pmd"
    again = replay(SCENARIOS["gup-vs-munmap"].factory(**params), cx.result.schedule, "tso")
    assert again.violation.name == cx.result.violation.name


def test_replay_strategy_reports_a_livelock():
    """A spinning thread wakes only on another thread's write, so the replayed
    futex loop blocks and the replay ends in the same livelock."""
    params = dict(arch="arm64", design="weak-default")
    cx = counterexample("futex-thp-tail", **params)
    again = replay(SCENARIOS["futex-thp-tail"].factory(**params), cx.result.schedule)
    assert again.verdict == "livelock"
