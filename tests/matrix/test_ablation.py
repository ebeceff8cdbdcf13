"""Which protections each design needs, under which memory model."""

import pytest

from gupsim.errors import UnknownName, UsageError
from gupsim.matrix import ablate


def answers(rows):
    return {(r.memory_model, r.protection): r for r in rows}


@pytest.fixture(scope="module")
def readers_counter():
    return answers(ablate("gup-vs-thp-split", "readers-counter-2013", "arm64", ("sc", "tso")))


BARRIERS = ("reader:smp_mb__after_atomic", "reader:smp_mb__before_atomic", "splitter:smp_mb")


def test_the_full_readers_counter_is_safe(readers_counter):
    for m in ("sc", "tso"):
        assert readers_counter[(m, "(none)")].verdict == "safe"


@pytest.mark.parametrize("barrier", BARRIERS)
def test_under_sc_no_barrier_is_needed(readers_counter, barrier):
    r = readers_counter[("sc", barrier)]
    assert (r.verdict, r.necessary) == ("safe", False)


def test_under_tso_the_splitter_barrier_is_needed(readers_counter):
    r = readers_counter[("tso", "splitter:smp_mb")]
    assert (r.necessary, r.invariant) == (True, "ref-across-split")


@pytest.mark.parametrize("barrier", BARRIERS[:2])
def test_under_tso_the_reader_barriers_are_redundant(readers_counter, barrier):
    assert readers_counter[("tso", barrier)].necessary is False


@pytest.mark.parametrize("m", ["sc", "tso"])
def test_the_counter_and_the_wait_are_needed(readers_counter, m):
    assert readers_counter[(m, "reader:readers-count")].necessary
    assert readers_counter[(m, "splitter:wait-readers")].necessary


@pytest.mark.parametrize("scenario,invariant", [("gup-vs-thp-split", "ref-across-split"),
                                                ("gup-vs-munmap", "get_page-on-free-page")])
def test_x86_2008_needs_its_irqs_off_region(scenario, invariant):
    rows = answers(ablate(scenario, "x86-2008", "x86-64", ("tso",)))
    r = rows[("tso", "walker:irqs-off")]
    assert (r.necessary, r.invariant) == (True, invariant)
    assert rows[("tso", "tlb:flush-ipi")].necessary


def test_generic_rcu_needs_rcu_table_freeing_against_munmap():
    rows = answers(ablate("gup-vs-munmap", "generic-rcu-2014", "arm64", ("sc",)))
    r = rows[("sc", "table:rcu-free")]
    assert (r.necessary, r.invariant) == (True, "pgtable-use-after-free")
    # split:ipi guards a THP split, which munmap of small pages never runs: n/a,
    # unlike the pte re-check, which runs and is redundant here.
    no_split = rows[("sc", "split:ipi")]
    assert no_split.verdict == "n/a" and "never runs" in no_split.reason
    assert rows[("sc", "walker:recheck-pte")].necessary is False


def test_bad_names_are_usage_errors():
    with pytest.raises(UnknownName, match="readers-counter-2013"):
        ablate("gup-vs-thp-split", "readers-counter", "arm64")
    from gupsim.kernel import Design
    with pytest.raises(UsageError, match="no protections"):
        ablate("gup-vs-thp-split", Design("bare", None, 2013, ()), "arm64")
    with pytest.raises(UnknownName, match="'weak'"):
        ablate("gup-vs-thp-split", "x86-2008", "x86-64", ("weak",))
