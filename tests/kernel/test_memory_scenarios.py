"""The verdict table of scenarios/memory.py, under dpor and under dfs with a
preemption bound of 2 (each run well under a second), and under dpor with
each arch's own memory model and with LKMM: the same table."""

import pytest

import gupsim.scenarios  # noqa: F401  (registers the scenarios)
from gupsim.check import CheckConfig, check
from gupsim.kernel import get_design
from gupsim.spec import SCENARIOS

STRATEGIES = [dict(strategy="dpor"), dict(strategy="dfs", preemption_bound=2),
              dict(strategy="dpor", memory_model="own"), dict(strategy="dpor", memory_model="lkmm")]
IDS = ["dpor", "dfs-pb2", "dpor-own-model", "dpor-lkmm"]

VIOLATION = {
    # the seed walker's plain get_page() after the frame was freed or reused
    ("gup-vs-reclaim-reuse", "arm64", "arm-rfc-2013", None):
        {"get_page-on-free-page", "gup-returned-mapped-pages"},
    ("gup-vs-reclaim-reuse", "arm64", "readers-counter-2013", None):
        {"get_page-on-free-page", "gup-returned-mapped-pages"},
    # get_page_unless_zero() succeeds on the new owner's page: the pte
    # re-check is what sends the walker back
    ("gup-vs-reclaim-reuse", "arm64", "generic-rcu-2014", "walker:recheck-pte"):
        {"gup-returned-mapped-pages"},
    ("gup-vs-reclaim-reuse", "arm64", "modern", "walker:recheck-pte"):
        {"gup-returned-mapped-pages"},
    # x86 without the shootdown IPI keeps the stale entry
    ("user-vs-munmap", "x86-64", "x86-2008", "tlb:flush-ipi"): {"page-use-after-free"},
    # a pin left on the old page while the process moves to the new one
    ("gup-vs-migration", "arm64", "arm-rfc-2013", None):
        {"gup-write-reaches-mapping", "get_page-on-free-page"},
    ("gup-vs-migration", "arm64", "readers-counter-2013", None):
        {"gup-write-reaches-mapping", "get_page-on-free-page"},
    ("gup-vs-migration", "arm64", "generic-rcu-2014", "walker:recheck-pte"):
        {"gup-write-reaches-mapping"},
}

SAFE = [
    ("gup-vs-reclaim-reuse", "arm64", "generic-rcu-2014"),
    ("gup-vs-reclaim-reuse", "arm64", "modern"),
    ("gup-vs-reclaim-reuse", "x86-64", "x86-2008"),
    ("user-vs-munmap", "x86-64", "x86-2008"),
    ("user-vs-munmap", "x86-64", "modern"),
    ("user-vs-munmap", "arm64", "arm-rfc-2013"),
    ("user-vs-munmap", "arm64", "generic-rcu-2014"),
    ("user-vs-munmap", "arm64", "modern"),
    ("gup-vs-migration", "arm64", "modern"),
    ("gup-vs-migration", "arm64", "generic-rcu-2014"),
    ("gup-vs-migration", "x86-64", "x86-2008"),
    ("gup-vs-migration", "x86-64", "modern"),
]


# Where a weak model changes the table (explained in kernel/migrate.py and
# tests/kernel/test_weak_barriers.py): migration checks the refcount, then
# copies the page, with nothing ordering the two reads, so the copy may miss
# what a GUP user wrote before the put the check saw. TSO orders reads; armv8
# and LKMM do not.
WEAK = {("gup-vs-migration", "arm64", "modern", "armv8"): "gup-write-reaches-mapping",
        ("gup-vs-migration", "arm64", "generic-rcu-2014", "armv8"): "gup-write-reaches-mapping",
        ("gup-vs-migration", "arm64", "modern", "lkmm"): "gup-write-reaches-mapping",
        ("gup-vs-migration", "arm64", "generic-rcu-2014", "lkmm"): "gup-write-reaches-mapping",
        ("gup-vs-migration", "x86-64", "modern", "lkmm"): "gup-write-reaches-mapping",
        ("gup-vs-migration", "x86-64", "x86-2008", "lkmm"): "gup-write-reaches-mapping"}


def _model(cfg, arch):
    m = cfg.get("memory_model", "sc")
    if m == "own":
        from gupsim.kernel import get_arch
        return get_arch(arch).memory_model
    return m


def verdict(name, cfg, **params):
    cfg = dict(cfg, memory_model=_model(cfg, params["arch"]))
    return check(SCENARIOS[name].factory(**params),
                 CheckConfig(max_executions=100_000, **cfg))


@pytest.mark.parametrize("cfg", STRATEGIES, ids=IDS)
@pytest.mark.parametrize("scenario,arch,design", SAFE)
def test_safe(scenario, arch, design, cfg):
    res = verdict(scenario, cfg, arch=arch, design=design)
    weak = WEAK.get((scenario, arch, design, _model(cfg, arch)))
    if weak is not None:
        assert res.verdict == "violation" and res.violation.name == weak
        return
    assert res.verdict == "safe", res.violation


@pytest.mark.parametrize("cfg", STRATEGIES, ids=IDS)
@pytest.mark.parametrize("scenario,arch,design,without", list(VIOLATION))
def test_violation(scenario, arch, design, without, cfg):
    d = get_design(design).without(without) if without else design
    res = verdict(scenario, cfg, arch=arch, design=d)
    assert res.verdict == "violation"
    assert res.violation.name in VIOLATION[(scenario, arch, design, without)]


@pytest.mark.parametrize("design,expected", [("x86-2008", "safe"),
                                             (get_design("x86-2008").without("tlb:flush-ipi"),
                                              "violation")])
def test_user_vs_munmap_with_the_tlb_filled_by_a_first_load(design, expected):
    res = verdict("user-vs-munmap", STRATEGIES[0], arch="x86-64", design=design,
                  filled=False)
    assert res.verdict == expected


def test_the_reused_frame_is_reported_as_someone_elses_page():
    d = get_design("generic-rcu-2014").without("walker:recheck-pte")
    res = verdict("gup-vs-reclaim-reuse", STRATEGIES[0], arch="arm64", design=d)
    assert "freed and reused (someone else's page)" in res.violation.message


def test_arm64_is_safe_because_the_dsb_waits_for_the_access_in_flight(monkeypatch):
    # A broadcast tlbi that neither waits for the instruction in flight nor
    # makes a concurrent TLB fill fail leaves the load on the freed frame.
    from gupsim.kernel import cpu
    from gupsim.ops import Store

    def tlbi_without_dsb_wait(k, flusher, start, end, mm):
        for c in sorted(k.tlb):
            for cell in cpu.tlb_cells(k, c, start, end, mm):
                yield Store(cell, None)

    monkeypatch.setattr(cpu, "_broadcast", tlbi_without_dsb_wait)
    res = verdict("user-vs-munmap", STRATEGIES[0], arch="arm64", design="modern")
    assert res.verdict == "violation" and res.violation.name == "page-use-after-free"
