"""The huge-page scenarios' verdict table (scenarios/huge.py docstring), under
dpor and under dfs with a preemption bound of 2, plus their registration."""

import pytest

import gupsim.scenarios  # noqa: F401  (registers the scenarios)
from gupsim.check import CheckConfig, check
from gupsim.spec import SCENARIOS

COLLAPSE_FIX = "walker:recheck-pmd,collapse:tlb_remove_table_sync_one"
SAFE = "safe"

# (design, arch, protections removed) -> verdict per scenario: the property
# violated, or "safe".
TABLE = {
    ("x86-2008", "x86-64", ""): (SAFE, SAFE, SAFE),
    ("x86-2008", "x86-64", "tlb:flush-ipi"): ("gup-write-reaches-mapping",
                                              "write-ref-after-mprotect",
                                              "get_page-on-free-page"),
    ("arm-rfc-2013", "arm64", ""): ("gup-write-reaches-mapping", "write-ref-after-mprotect",
                                    "get_page-on-free-page"),
    ("readers-counter-2013", "arm64", ""): ("gup-write-reaches-mapping",
                                            "write-ref-after-mprotect",
                                            "get_page-on-free-page"),
    ("powerpc-2008", "powerpc", ""): ("gup-write-reaches-mapping", SAFE, SAFE),
    ("generic-rcu-2014", "x86-64", ""): (SAFE, SAFE, SAFE),
    ("generic-rcu-2014", "arm64", ""): ("gup-write-reaches-mapping", SAFE, SAFE),
    ("generic-rcu-2014", "powerpc", ""): ("gup-write-reaches-mapping", SAFE, SAFE),
    ("modern", "x86-64", ""): (SAFE, SAFE, SAFE),
    ("modern", "arm64", ""): (SAFE, SAFE, SAFE),
    ("modern", "powerpc", ""): (SAFE, SAFE, SAFE),
    ("modern", "x86-64", COLLAPSE_FIX): (SAFE, SAFE, SAFE),
    ("modern", "x86-64", "tlb:flush-ipi," + COLLAPSE_FIX): ("gup-write-reaches-mapping",
                                                            SAFE, SAFE),
    ("modern", "arm64", "walker:recheck-pmd"): (SAFE, SAFE, SAFE),
    ("modern", "arm64", "collapse:tlb_remove_table_sync_one"): (SAFE, SAFE, SAFE),
    ("modern", "arm64", COLLAPSE_FIX): ("gup-write-reaches-mapping", SAFE, SAFE),
    ("modern", "arm64", "walker:recheck-pte"): (SAFE, "write-ref-after-mprotect", SAFE),
    ("modern", "arm64", "walker:speculative-ref"): (SAFE, SAFE, "get_page-on-free-page"),
}
SCENARIO_NAMES = ("gup-vs-collapse", "gup-vs-mprotect", "gup-hugetlb-vs-munmap")
CONFIGS = {"dpor": CheckConfig(strategy="dpor"),
           "dfs": CheckConfig(strategy="dfs", preemption_bound=2, max_executions=100_000)}


def outcome(name, strategy, design, arch, without, **params):
    if without:
        design = f"{design}-without-{without.replace(',', '+')}"
    res = check(SCENARIOS[name].factory(arch=arch, design=design, **params),
                CONFIGS[strategy])
    assert res.verdict in ("safe", "violation"), res.verdict
    return res.violation.name if res.violation else SAFE


@pytest.mark.parametrize("strategy", sorted(CONFIGS))
@pytest.mark.parametrize("column,name", list(enumerate(SCENARIO_NAMES)))
@pytest.mark.parametrize("design,arch,without", sorted(TABLE))
def test_verdict_table(design, arch, without, column, name, strategy):
    assert outcome(name, strategy, design, arch, without) == TABLE[design, arch, without][column]


def test_scenarios_are_registered_with_their_parameters():
    for name in SCENARIO_NAMES:
        assert {"arch", "design", "ptrs", "pin"} <= {
            p.name for p in SCENARIOS[name].params}


@pytest.mark.parametrize("params", [{"ptrs": 4, "index": 3}, {"pin": True}])
def test_collapse_variants_keep_their_verdicts(params):
    for strategy in CONFIGS:
        assert outcome("gup-vs-collapse", strategy, "modern", "arm64", "", **params) == SAFE
        assert outcome("gup-vs-collapse", strategy, "modern", "arm64", COLLAPSE_FIX,
                       **params) == "gup-write-reaches-mapping"


def test_mprotect_of_a_thp_and_a_pinning_hugetlb_gup():
    for strategy in CONFIGS:
        assert outcome("gup-vs-mprotect", strategy, "arm-rfc-2013", "arm64", "", huge=True,
                       pages=2) == "write-ref-after-mprotect"
        assert outcome("gup-vs-mprotect", strategy, "modern", "arm64", "", huge=True,
                       pages=2) == SAFE
        assert outcome("gup-hugetlb-vs-munmap", strategy, "modern", "arm64", "", pin=True,
                       pages=2) == SAFE


def _own_model(arch):
    from gupsim.kernel.arch import get_arch
    return get_arch(arch).memory_model


@pytest.mark.parametrize("model", ["own", "lkmm"])
@pytest.mark.parametrize("column,name", list(enumerate(SCENARIO_NAMES)))
@pytest.mark.parametrize("design,arch,without", sorted(TABLE))
def test_verdict_table_under_the_weak_models(design, arch, without, column, name, model):
    """The same table under each arch's own memory model and under LKMM."""
    if without:
        design = f"{design}-without-{without.replace(',', '+')}"
    mm = _own_model(arch) if model == "own" else model
    res = check(SCENARIOS[name].factory(arch=arch, design=design),
                CheckConfig(strategy="dpor", memory_model=mm))
    got = res.violation.name if res.violation else res.verdict
    assert got == TABLE[design.partition("-without-")[0], arch, without][column], mm
