"""gup-vs-fault: GUP-fast against the first fault on an address, the two
smp_wmb()s that publish what a fault allocated (the zeroed pte table in
__pte_alloc, the zeroed page in __SetPageUptodate), and the weak trace's
read-from column on its counterexamples."""

from __future__ import annotations

import pytest

import gupsim.scenarios  # noqa: F401  (registers the scenarios)
from gupsim.check import CheckConfig, check
from gupsim.report.text import _writers
from gupsim.spec import SCENARIOS

MODELS = ("sc", "tso", "armv8", "armv7", "power", "lkmm")


def run(design="modern", model="sc", stop=True, **params):
    res = check(SCENARIOS["gup-vs-fault"].factory(design=design, **params),
                CheckConfig(strategy="dpor", memory_model=model, stop_on_first=stop))
    assert res.verdict == "violation" or res.stats.exhausted
    return res


@pytest.mark.parametrize("table", [True, False])
@pytest.mark.parametrize("dma", ["write", "read"])
@pytest.mark.parametrize("design", ["modern", "generic-rcu-2014", "arm-rfc-2013"])
def test_safe_with_the_kernels_barriers(design, dma, table):
    for model in ("sc", "armv8", "power", "lkmm"):
        assert run(design, model, dma=dma, table=table).verdict == "safe", model


# protection -> (params, {model: violated property}) for the models that
# need it; the others of MODELS say safe without it
NEEDED = {
    ("fault:smp_wmb", "write"): {"armv8": "gup-write-reaches-mapping",
                                 "power": "gup-write-reaches-mapping",
                                 "lkmm": "gup-write-reaches-mapping"},
    ("fault:smp_wmb", "read"): {"armv8": "stale-page-contents",
                                "power": "stale-page-contents",
                                "lkmm": "stale-page-contents"},
    ("fault:pte_alloc-smp_wmb", "write"): {"armv8": "gup-returned-mapped-pages",
                                           "power": "gup-returned-mapped-pages",
                                           "lkmm": "gup-returned-mapped-pages"},
}


@pytest.mark.parametrize("key", sorted(NEEDED), ids="/".join)
def test_each_fault_barrier_is_needed_exactly_on_the_weak_models(key):
    """tso keeps stores in order; armv7's spin_lock() ends in a dmb, and the
    page-table lock is taken between the zeroing and the publication, so the
    smp_wmb() is redundant there; armv8's lock is an acquire only."""
    protection, dma = key
    for model in MODELS:
        res = run(f"modern-without-{protection}", model, dma=dma)
        want = NEEDED[key].get(model)
        got = res.violation.name if res.violation else res.verdict
        assert got == (want or "safe"), model


def test_the_table_barrier_is_never_asked_when_the_table_exists():
    """``gupsim ablate --param table=False``: the fault allocates no pte table,
    so its barrier is n/a, and the page's is necessary under armv8 only."""
    from gupsim.matrix import ablate
    rows = {(r.protection, r.memory_model): r
            for r in ablate("gup-vs-fault", "modern", "arm64", ("sc", "armv8"),
                            params={"table": False})}
    for m in ("sc", "armv8"):
        assert rows[("(none)", m)].verdict == "safe"
        assert rows[("fault:pte_alloc-smp_wmb", m)].verdict == "n/a"
        assert rows[("fault:pte_alloc-smp_wmb", m)].params == {"table": False}
    assert rows[("fault:smp_wmb", "sc")].necessary is False
    assert rows[("fault:smp_wmb", "armv8")].necessary is True


def test_the_stale_entry_pins_another_process_page():
    res = run("modern-without-fault:pte_alloc-smp_wmb", "armv8")
    v = res.violation
    assert v.name == "gup-returned-mapped-pages"
    # the walker read the new pmd and then the table's old contents
    reads = [s for s in res.trace if s.get("kind") == "R" and ".pte" in (s.get("cell") or "")
             and s["thread"] == "gup0"]
    assert reads and all(s["read_from"] == "init" for s in reads)


@pytest.mark.parametrize("protection", ["fault:smp_wmb", "fault:pte_alloc-smp_wmb"])
def test_each_read_names_the_step_that_wrote_its_value(protection):
    """The read-from column of a weak trace points at a step that wrote the
    value read, to the cell read (an RMW's write is on its read's step)."""
    res = run(f"modern-without-{protection}", "armv8")
    writers = _writers(res.trace)
    checked = 0
    for s in res.trace:
        src = s.get("read_from")
        if src in (None, "init"):
            continue
        w = writers[tuple(src)]
        assert w["cell"] == s["cell"], (s, w)
        read = s["old"] if s["kind"] == "U" else s["value"]
        assert w["value"] == read, (s, w)
        checked += 1
    assert checked >= 5


def test_the_why_block_names_the_walkers_address_dependency():
    """The cycle's pair on the walker's side (the pmd read, then the pte read
    through it) is kept in order by the dependency, and the block says so;
    the fault's pair (the zeroing, then pmd_populate) is the reordering."""
    from click.testing import CliRunner

    from gupsim.cli import main
    r = CliRunner().invoke(main, ["explain", "gup-vs-fault", "--design",
                                  "modern-without-fault:pte_alloc-smp_wmb"],
                           terminal_width=200)
    assert r.exit_code == 1, r.output
    po = [line for line in r.output.splitlines() if line.strip().startswith("po ")]
    assert len(po) == 2
    walker = next(line for line in po if "gup_pmd_range" in line)
    fault = next(line for line in po if "pte_alloc_one" in line)
    assert "between them: an address dependency" in walker and "would not forbid" in walker
    assert "no barrier between them" in fault and "would forbid this execution" in fault


def test_ablate_takes_the_scenarios_parameters_and_refuses_bad_ones():
    from click.testing import CliRunner

    from gupsim.cli import main
    run_cli = CliRunner().invoke
    r = run_cli(main, ["ablate", "gup-vs-fault", "--design", "modern", "--param",
                       "table=false", "--memory-models", "armv8"], terminal_width=200)
    assert r.exit_code == 0, r.output
    assert r.output.startswith("ablation of modern on arm64 against gup-vs-fault table=False")
    row = next(line for line in r.output.splitlines() if line.startswith("fault:smp_wmb "))
    assert "necessary: gup-write-reaches-mapping" in row
    for bad, said in ((["--param", "table=nope"], "table='nope'"),
                      (["--param", "arch=arm64"], "give the arch with --arch"),
                      (["--param", "nosuch=1"], "nosuch")):
        r = run_cli(main, ["ablate", "gup-vs-fault", "--design", "modern", *bad])
        assert r.exit_code == 2, r.output
        assert said in r.output and len(r.output.strip().splitlines()) == 1, r.output
