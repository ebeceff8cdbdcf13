"""The seed-thread matrix and the ablations, on the registered scenarios.

Exploration is exhaustive DFS within a preemption bound of 2 (every schedule
with at most two preemptions) under SC, which is enough for every race below
and keeps each run well under a second; the tests marked ``own`` run the same
cell under the arch's own memory model (tso, armv8, armv7, power) with
exhaustive dpor. The default matrix's cells under each arch's model are
tests/matrix/test_matrix_cells.py.
"""

import pytest

import gupsim.scenarios  # noqa: F401  (registers the scenarios)
from gupsim.check import CheckConfig, check
from gupsim.kernel import get_arch, get_design
from gupsim.spec import SCENARIOS

BOUNDED = dict(strategy="dfs", preemption_bound=2, max_executions=100_000)


def verdict(name, memory_model="sc", **params):
    """``sc``: bounded dfs; ``own``: exhaustive dpor under the arch's own
    memory model (tso, armv8, armv7, power)."""
    if memory_model == "own":
        model = get_arch(params["arch"]).memory_model
        return check(SCENARIOS[name].factory(**params),
                     CheckConfig(strategy="dpor", memory_model=model))
    return check(SCENARIOS[name].factory(**params),
                 CheckConfig(memory_model=memory_model, **BOUNDED))


MODELS = pytest.mark.parametrize("memory_model", ["sc", "own"])


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
@MODELS
def test_the_seed_thread_bugs_are_found(scenario, arch, design, why, memory_model):
    res = verdict(scenario, memory_model, arch=arch, design=design)
    assert res.verdict == "violation" and why in res.violation.message


@MODELS
def test_the_rfc_walker_also_reads_a_freed_pte_table(memory_model):
    # With speculative references the data-page symptom disappears and what is
    # left is the table use-after-free that RCU table freeing fixes.
    d = get_design("arm-rfc-2013").with_("walker:speculative-ref")
    res = verdict("gup-vs-munmap", memory_model, arch="arm64", design=d)
    assert res.verdict == "violation" and "freed page-table page" in res.violation.message


@MODELS
def test_futex_weak_default_never_makes_progress(memory_model):
    res = verdict("futex-thp-tail", memory_model, arch="arm-lpae", design="weak-default")
    assert res.verdict in ("violation", "livelock")
    if res.verdict == "violation":
        assert "no progress" in res.violation.message


@MODELS
def test_futex_with_a_concurrent_split_terminates(memory_model):
    res = verdict("futex-thp-tail", memory_model, arch="arm64", design="generic-rcu-2014",
                  split=True)
    assert res.verdict == "safe", res.violation


@pytest.mark.parametrize("scenario,arch,design,protection", [
    ("gup-vs-thp-split", "arm64", "generic-rcu-2014", "split:ipi"),
    ("gup-vs-thp-split", "arm64", "generic-rcu-2014", "walker:irqs-off"),
    ("gup-vs-munmap", "arm64", "generic-rcu-2014", "table:rcu-free"),
    ("gup-vs-munmap", "arm64", "generic-rcu-2014", "walker:speculative-ref"),
    ("gup-vs-reclaim", "arm64", "generic-rcu-2014", "walker:speculative-ref"),
    ("gup-vs-thp-split", "arm64", "modern", "walker:recheck-pmd"),
    ("gup-vs-thp-split", "arm64", "modern", "walker:speculative-ref"),
    ("gup-vs-munmap", "arm64", "modern", "table:rcu-free"),
    ("gup-vs-thp-split", "x86-64", "x86-2008", "tlb:flush-ipi"),
    ("gup-vs-thp-split", "x86-64", "x86-2008", "walker:irqs-off"),
    ("gup-vs-munmap", "x86-64", "x86-2008", "tlb:flush-ipi"),
    ("gup-vs-thp-split", "arm64", "readers-counter-2013", "splitter:wait-readers"),
    ("gup-vs-thp-split", "arm64", "readers-counter-2013", "reader:readers-count"),
])
@pytest.mark.parametrize("memory_model", ["sc", "own"])
def test_ablating_a_protection_breaks_the_design(scenario, arch, design, protection,
                                                 memory_model):
    """Under SC (bounded dfs) and under the arch's own model (tso, armv8;
    exhaustive dpor): a protection the design needs against SC is needed on
    the hardware too."""
    d = get_design(design).without(protection)
    if memory_model == "sc":
        res = verdict(scenario, "sc", arch=arch, design=d)
    else:
        model = get_arch(arch).memory_model
        res = check(SCENARIOS[scenario].factory(arch=arch, design=d),
                    CheckConfig(strategy="dpor", memory_model=model))
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
@MODELS
def test_pae_pmd_reads_tear_against_pmd_clear(design, expected, memory_model):
    res = verdict("gup-vs-munmap", memory_model, arch="x86-pae", design=design)
    assert res.verdict == expected
    if expected == "violation":
        assert "torn or stale pmd" in res.violation.message


@MODELS
def test_pae_modern_without_pmdp_get_lockless_tears(memory_model):
    d = get_design("modern").without("walker:pmdp_get_lockless")
    res = verdict("gup-vs-munmap", memory_model, arch="x86-pae", design=d)
    assert res.verdict == "violation" and "torn" in res.violation.message


@MODELS
def test_modern_folio_recheck_is_what_catches_a_split_tail(memory_model):
    # A GUP of the tail alone: page_folio(tail) read before the split, the ref
    # taken on the old head after it; only the folio recheck notices.
    assert verdict("gup-vs-thp-split", memory_model, arch="arm64", design="modern", pages=1,
                   offset=1).verdict == "safe"
    d = get_design("modern").without("walker:recheck-folio")
    res = verdict("gup-vs-thp-split", memory_model, arch="arm64", design=d, pages=1, offset=1)
    assert res.verdict == "violation" and "taken on one page, dropped on another" in \
        res.violation.message


@pytest.mark.parametrize("protection,scenario,params,invariant,models", [
    ("walker:recheck-folio", "gup-vs-thp-split", dict(pages=1, offset=1), "refcount-balanced",
     ("sc", "armv8")),
    ("walker:recheck-pte", "gup-vs-reclaim-reuse", {}, "gup-returned-mapped-pages",
     ("sc", "armv8")),
    # (under armv8 modern itself is pin-exclusive against fork: store
    # buffering between fork's write_protect_seq and the pin, see cow.py)
    ("walker:write-protect-seq", "gup-vs-fork", {}, "pin-exclusive", ("sc",)),
    ("walker:irqs-off", "gup-vs-munmap", {}, "pgtable-use-after-free", ("sc", "armv8")),
])
def test_each_protection_of_the_modern_walker_is_needed_somewhere(protection, scenario,
                                                                 params, invariant, models):
    """The README's table: modern is safe, and taking the protection away
    finds the bug, under SC and under arm64's own model."""
    for model in models:
        full = check(SCENARIOS[scenario].factory(arch="arm64", design="modern", **params),
                     CheckConfig(strategy="dpor", memory_model=model))
        assert full.verdict == "safe", model
        less = get_design("modern").without(protection)
        res = check(SCENARIOS[scenario].factory(arch="arm64", design=less, **params),
                    CheckConfig(strategy="dpor", memory_model=model))
        assert res.violation is not None and res.violation.name == invariant, model
