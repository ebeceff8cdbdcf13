"""The COW scenarios' verdict table (scenarios/cow.py), with dfs and a preemption
bound of 2 and with dpor. dpor runs on arm64 (broadcast TLB flush: no IPIs to
look for at every step, which keeps it well under a second)."""

import pytest

import gupsim.scenarios  # noqa: F401  (registers the scenarios)
from gupsim.check import CheckConfig, check
from gupsim.kernel import get_design
from gupsim.spec import SCENARIOS

DFS = dict(strategy="dfs", preemption_bound=2, max_executions=100_000)
DPOR = dict(strategy="dpor")
NO_SEQ = get_design("modern").without("walker:write-protect-seq")


def verdict(name, strategy, **params):
    return check(SCENARIOS[name].factory(**params), CheckConfig(**strategy))


def test_cow_scenarios_are_registered_with_their_parameters():
    assert {"arch", "design", "mm_era", "ptrs"} <= {p.name for p in SCENARIOS["dirty-cow"].params}
    assert "ordered" in {p.name for p in SCENARIOS["gup-vs-fork"].params}


@pytest.mark.parametrize("strategy,arch", [(DFS, "x86-64"), (DFS, "arm64"), (DPOR, "arm64"),
                                           (DPOR, "x86-64")])
@pytest.mark.parametrize("design,mm_era", [("generic-rcu-2014", None), ("modern", "4.8")])
def test_dirty_cow_before_v4_9_writes_the_page_cache(strategy, arch, design, mm_era):
    res = verdict("dirty-cow", strategy, arch=arch, design=design, mm_era=mm_era)
    assert res.verdict == "violation" and res.violation.name == "write-pin-on-pagecache"


@pytest.mark.parametrize("strategy,arch,mm_era", [
    (DFS, "x86-64", None), (DFS, "arm64", None), (DPOR, "arm64", None),
    (DFS, "arm64", "4.9"),            # FOLL_COW: refault a fresh COW copy
    (DFS, "powerpc", "5.19"),
])
def test_dirty_cow_is_fixed_by_foll_cow_and_anon_exclusive(strategy, arch, mm_era):
    res = verdict("dirty-cow", strategy, arch=arch, design="modern", mm_era=mm_era)
    assert res.verdict == "safe", res.violation


@pytest.mark.parametrize("strategy", [DFS, DPOR])
@pytest.mark.parametrize("arch", ["x86-64", "arm64"])
def test_gup_vs_fork_needs_write_protect_seq(strategy, arch):
    assert verdict("gup-vs-fork", strategy, arch=arch, design="modern").verdict == "safe"
    res = verdict("gup-vs-fork", strategy, arch=arch, design=NO_SEQ)
    assert res.verdict == "violation" and res.violation.name == "pin-exclusive"


@pytest.mark.parametrize("strategy", [DFS, DPOR])
def test_gup_vs_fork_before_any_fork_protection_shares_the_pinned_page(strategy):
    res = verdict("gup-vs-fork", strategy, arch="arm64", design="generic-rcu-2014")
    assert res.verdict == "violation" and res.violation.name == "pin-exclusive"


@pytest.mark.parametrize("strategy", [DFS, DPOR])
@pytest.mark.parametrize("mm_era,expected", [
    (None, "safe"),          # 6.12: page_try_dup_anon_rmap -> copy for the child
    ("5.10", "safe"),        # page_needs_cow_for_dma -> copy for the child
    ("5.9", "safe"),         # early COW of pinned pages (commit 70e806e4e645)
    ("5.8", "violation"),    # fork shares the pinned page
])
def test_fork_after_a_completed_pin(strategy, mm_era, expected):
    res = verdict("gup-vs-fork", strategy, arch="x86-64", design="modern", mm_era=mm_era,
                  ordered=True)
    assert res.verdict == expected
    if expected == "violation":
        assert res.violation.name == "pin-exclusive"


@pytest.mark.parametrize("strategy", [DFS, DPOR])
@pytest.mark.parametrize("design,mm_era,expected", [
    ("modern", None, "safe"),        # gup_must_unshare -> FAULT_FLAG_UNSHARE
    ("modern", "5.18", "violation"),  # fork first, then gup_fast pins the shared page
    (NO_SEQ, None, "violation"),      # pinned between fork's check and its wrprotect
])
def test_gup_vs_fork_with_a_read_only_pin(strategy, design, mm_era, expected):
    res = verdict("gup-vs-fork", strategy, arch="arm64", design=design, mm_era=mm_era,
                  write=False)
    assert res.verdict == expected
    if expected == "violation":
        assert res.violation.name == "pin-exclusive"


@pytest.mark.parametrize("arch,expected", [
    ("x86-64", "safe"),              # tso: fork's seq store and its refcount load stay in order
    ("arm-lpae", "safe"),            # armv7: the pte lock's spin_lock ends in dmb
    ("arm64", "pin-exclusive"),      # armv8: smp_wmb and an acquire do not order store -> load
    ("powerpc", "pin-exclusive"),    # power: nor do lwsync and isync
])
def test_gup_vs_fork_under_each_archs_own_model(arch, expected):
    """The cow.py docstring's weak-model line (a finding under study; the fix
    is modern+fork:write_protect_seq-smp_mb, tests/kernel/test_weak_barriers.py)."""
    from gupsim.kernel import get_arch
    res = check(SCENARIOS["gup-vs-fork"].factory(arch=arch, design="modern"),
                CheckConfig(strategy="dpor", memory_model=get_arch(arch).memory_model))
    assert (res.violation.name if res.violation else res.verdict) == expected


@pytest.mark.slow
@pytest.mark.parametrize("model", ["armv8", "lkmm"])
@pytest.mark.parametrize("mm_era,expected", [
    ("4.8", "write-pin-on-pagecache"), (None, "safe"), ("4.9", "safe")])
def test_dirty_cow_under_the_weak_models(model, mm_era, expected):
    """The dirty-cow rows (modern design) on arm64 under armv8 and the
    kernel's own model, explored to the end (4-31 s each): the same verdicts
    as under sc."""
    res = check(SCENARIOS["dirty-cow"].factory(arch="arm64", design="modern", mm_era=mm_era),
                CheckConfig(strategy="dpor", memory_model=model))
    assert (res.violation.name if res.violation else res.verdict) == expected
    assert res.stats.exhausted or res.violation is not None


@pytest.mark.parametrize("params,expected", [
    (dict(ordered=True), "safe"),
    (dict(ordered=True, mm_era="5.8"), "pin-exclusive"),
    (dict(write=False), "pin-exclusive"),        # the same store-then-load as the write pin
    (dict(write=False, mm_era="5.18"), "pin-exclusive"),
    (dict(design="generic-rcu-2014"), "pin-exclusive"),
    (dict(design=NO_SEQ), "pin-exclusive"),
])
def test_gup_vs_fork_rows_under_lkmm(params, expected):
    """The gup-vs-fork rows on arm64 under the kernel's own model (cow.py)."""
    params = {"design": "modern", **params}
    res = check(SCENARIOS["gup-vs-fork"].factory(arch="arm64", **params),
                CheckConfig(strategy="dpor", memory_model="lkmm"))
    assert (res.violation.name if res.violation else res.verdict) == expected
