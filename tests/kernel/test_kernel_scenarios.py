"""The seed-thread matrix and the ablations, on the registered scenarios.

Exploration is exhaustive DFS within a preemption bound of 2 (every schedule
with at most two preemptions), which is enough for every race below and keeps
each run well under a second.
"""

import pytest

import gupsim.scenarios  # noqa: F401  (registers the scenarios)
from gupsim.check import CheckConfig, check
from gupsim.kernel import get_design
from gupsim.spec import SCENARIOS

BOUNDED = dict(strategy="dfs", preemption_bound=2, max_executions=100_000)


def verdict(name, memory_model="sc", **params):
    res = check(SCENARIOS[name].factory(**params),
                CheckConfig(memory_model=memory_model, **BOUNDED))
    return res


def test_scenarios_are_registered_with_their_parameters():
    for name in ("gup-vs-thp-split", "gup-vs-munmap", "gup-vs-reclaim", "futex-thp-tail"):
        params = {p.name for p in SCENARIOS[name].params}
        assert {"arch", "design"} <= params
    assert {"pages", "ptrs", "gup_cpus", "fast_only", "pin"} <= {
        p.name for p in SCENARIOS["gup-vs-munmap"].params}


@pytest.mark.parametrize("scenario,arch,design", [
    ("gup-vs-thp-split", "x86-64", "x86-2008"),
    ("gup-vs-munmap", "x86-64", "x86-2008"),
    ("gup-vs-thp-split", "arm-lpae", "readers-counter-2013"),
    ("gup-vs-thp-split", "arm64", "readers-counter-2013"),
    ("futex-thp-tail", "arm-lpae", "generic-rcu-2014"),
] + [(s, a, d) for d in ("generic-rcu-2014", "modern")
     for a in ("x86-64", "arm-lpae", "arm64", "powerpc")
     for s in ("gup-vs-thp-split", "gup-vs-munmap", "gup-vs-reclaim")])
def test_safe_designs(scenario, arch, design):
    res = verdict(scenario, arch=arch, design=design)
    assert res.verdict == "safe", res.violation


@pytest.mark.parametrize("scenario,arch,design,why", [
    ("gup-vs-thp-split", "arm-lpae", "arm-rfc-2013", "tail pins off the head"),
    ("gup-vs-thp-split", "arm64", "arm-rfc-2013", "tail pins off the head"),
    ("gup-vs-munmap", "arm-lpae", "arm-rfc-2013", "on a free page"),
    ("gup-vs-munmap", "arm64", "arm-rfc-2013", "on a free page"),
    ("gup-vs-munmap", "arm-lpae", "readers-counter-2013", "on a free page"),
    ("gup-vs-munmap", "arm64", "readers-counter-2013", "on a free page"),
])
def test_the_seed_thread_bugs_are_found(scenario, arch, design, why):
    res = verdict(scenario, arch=arch, design=design)
    assert res.verdict == "violation" and why in res.violation.message


def test_the_rfc_walker_also_reads_a_freed_pte_table():
    # With speculative references the data-page symptom disappears and what is
    # left is the table use-after-free that RCU table freeing fixes.
    d = get_design("arm-rfc-2013").with_("walker:speculative-ref")
    res = verdict("gup-vs-munmap", arch="arm64", design=d)
    assert res.verdict == "violation" and "freed page-table page" in res.violation.message


def test_futex_weak_default_never_makes_progress():
    res = verdict("futex-thp-tail", arch="arm-lpae", design="weak-default")
    assert res.verdict in ("violation", "livelock")
    if res.verdict == "violation":
        assert "no progress" in res.violation.message


def test_futex_with_a_concurrent_split_terminates():
    res = verdict("futex-thp-tail", arch="arm64", design="generic-rcu-2014", split=True)
    assert res.verdict == "safe", res.violation


@pytest.mark.parametrize("scenario,arch,design,protection,memory_model", [
    ("gup-vs-thp-split", "arm64", "generic-rcu-2014", "split:ipi", "sc"),
    ("gup-vs-thp-split", "arm64", "generic-rcu-2014", "walker:irqs-off", "sc"),
    ("gup-vs-munmap", "arm64", "generic-rcu-2014", "table:rcu-free", "sc"),
    ("gup-vs-munmap", "arm64", "generic-rcu-2014", "walker:speculative-ref", "sc"),
    ("gup-vs-reclaim", "arm64", "generic-rcu-2014", "walker:speculative-ref", "sc"),
    ("gup-vs-thp-split", "arm64", "modern", "walker:recheck-pmd", "sc"),
    ("gup-vs-thp-split", "arm64", "modern", "walker:speculative-ref", "sc"),
    ("gup-vs-munmap", "arm64", "modern", "table:rcu-free", "sc"),
    ("gup-vs-thp-split", "x86-64", "x86-2008", "tlb:flush-ipi", "sc"),
    ("gup-vs-thp-split", "x86-64", "x86-2008", "walker:irqs-off", "sc"),
    ("gup-vs-munmap", "x86-64", "x86-2008", "tlb:flush-ipi", "sc"),
    ("gup-vs-thp-split", "arm64", "readers-counter-2013", "splitter:wait-readers", "sc"),
    ("gup-vs-thp-split", "arm64", "readers-counter-2013", "reader:readers-count", "sc"),
])
def test_ablating_a_protection_breaks_the_design(scenario, arch, design, protection,
                                                 memory_model):
    d = get_design(design).without(protection)
    res = verdict(scenario, memory_model, arch=arch, design=d)
    assert res.verdict == "violation", f"{design} without {protection} still safe"


def test_readers_counter_needs_the_splitter_barrier_on_tso():
    """Exhaustive (dpor under TSO) rather than dfs: every disable of IRQs is a
    boundary, and bounded dfs under TSO also branches on every buffer flush."""
    d = get_design("readers-counter-2013")

    def tso(design):
        factory = SCENARIOS["gup-vs-thp-split"].factory(arch="arm64", design=design)
        return check(factory, CheckConfig(strategy="dpor", memory_model="tso"))
    assert tso(d).verdict == "safe"
    assert tso(d.without("splitter:smp_mb")).verdict == "violation"


@pytest.mark.parametrize("design,expected", [
    ("x86-2008", "violation"),          # gup_pmd_range's plain pmd load tears on PAE
    ("generic-rcu-2014", "violation"),
    ("modern", "safe"),                  # pmdp_get_lockless (2020)
])
def test_pae_pmd_reads_tear_against_pmd_clear(design, expected):
    res = verdict("gup-vs-munmap", arch="x86-pae", design=design)
    assert res.verdict == expected
    if expected == "violation":
        assert "torn or stale pmd" in res.violation.message


def test_pae_modern_without_pmdp_get_lockless_tears():
    d = get_design("modern").without("walker:pmdp_get_lockless")
    res = verdict("gup-vs-munmap", arch="x86-pae", design=d)
    assert res.verdict == "violation" and "torn" in res.violation.message


def test_modern_folio_recheck_is_what_catches_a_split_tail():
    # A GUP of the tail alone: page_folio(tail) read before the split, the ref
    # taken on the old head after it; only the folio recheck notices.
    assert verdict("gup-vs-thp-split", arch="arm64", design="modern", pages=1,
                   offset=1).verdict == "safe"
    d = get_design("modern").without("walker:recheck-folio")
    res = verdict("gup-vs-thp-split", arch="arm64", design=d, pages=1, offset=1)
    assert res.verdict == "violation" and "taken on one page, dropped on another" in \
        res.violation.message


@pytest.mark.parametrize("protection,scenario,params,invariant", [
    ("walker:recheck-folio", "gup-vs-thp-split", dict(pages=1, offset=1), "refcount-balanced"),
    ("walker:recheck-pte", "gup-vs-reclaim-reuse", {}, "gup-returned-mapped-pages"),
    ("walker:write-protect-seq", "gup-vs-fork", {}, "pin-exclusive"),
    ("walker:irqs-off", "gup-vs-munmap", {}, "pgtable-use-after-free"),
])
def test_each_protection_of_the_modern_walker_is_needed_somewhere(protection, scenario,
                                                                 params, invariant):
    """The README's table: modern is safe, and taking the protection away finds the bug."""
    full = check(SCENARIOS[scenario].factory(arch="arm64", design="modern", **params),
                 CheckConfig(strategy="dpor"))
    assert full.verdict == "safe"
    less = get_design("modern").without(protection)
    res = check(SCENARIOS[scenario].factory(arch="arm64", design=less, **params),
                CheckConfig(strategy="dpor"))
    assert res.violation is not None and res.violation.name == invariant
