"""gupsim matrix / ablate / explain through click: shapes, exit codes, one-line errors."""

import json

import pytest
from click.testing import CliRunner

from gupsim.cli import main


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_matrix_json_cells_have_the_documented_keys():
    r = run("matrix", "--json", "--designs", "arm-rfc-2013,generic-rcu-2014",
            "--arches", "x86-64,arm64", "--scenarios", "gup-vs-thp-split")
    assert r.exit_code == 1, r.output            # a violation was found
    cells = json.loads(r.stdout)
    keys = {"design", "arch", "scenario", "memory_model", "verdict", "invariant",
            "executions", "seconds"}
    assert all(keys <= set(c) for c in cells)
    got = {(c["design"], c["arch"]): (c["verdict"], c["invariant"], c["memory_model"])
           for c in cells}
    assert got == {("arm-rfc-2013", "x86-64"): ("n/a", None, "tso"),
                   ("arm-rfc-2013", "arm64"): ("violation", "ref-across-split", "armv8"),
                   ("generic-rcu-2014", "x86-64"): ("safe", None, "tso"),
                   ("generic-rcu-2014", "arm64"): ("safe", None, "armv8")}


def test_matrix_table_is_readable_and_names_each_archs_model():
    r = run("matrix", "--designs", "weak-default,generic-rcu-2014", "--arches", "arm64",
            "--scenarios", "futex-thp-tail")
    assert r.exit_code == 1
    assert "livelock" in r.stdout and "safe" in r.stdout
    assert "memory model: arm64: armv8" in r.stdout
    assert "pending" not in r.stdout


def test_matrix_runs_any_arch_under_lkmm():
    r = run("matrix", "--designs", "arm-rfc-2013", "--arches", "arm64,powerpc",
            "--scenarios", "gup-vs-thp-split", "--memory-models", "lkmm,armv8")
    assert r.exit_code == 1, r.output
    assert "memory model: arm64: armv8, lkmm; powerpc: armv8, lkmm" in r.stdout
    assert r.stdout.count("ref-across-split") == 2


def test_matrix_all_safe_exits_zero():
    r = run("matrix", "--designs", "modern", "--arches", "arm64", "--memory-models", "sc,tso")
    assert r.exit_code == 0, r.output
    assert r.stdout.count("safe") >= 8


@pytest.mark.parametrize("args,echo", [
    (("matrix", "--designs", "x86"), "'x86'"),
    (("matrix", "--arches", "arm65"), "'arm65'"),
    (("matrix", "--scenarios", "gup-vs-frok"), "'gup-vs-frok'"),
    (("matrix", "--memory-models", "weak"), "'weak'"),
    (("ablate", "gup-vs-thp-split", "--design", "nope"), "'nope'"),
    (("ablate", "gup-vs-thp-split", "--design", "x86-2008", "--arch", "sparc"), "'sparc'"),
    (("explain", "gup-vs-thp-split", "--param", "arch=vax"), "'vax'"),
])
def test_bad_values_are_one_line_errors(args, echo):
    r = run(*args)
    assert r.exit_code == 2
    assert len(r.stderr.strip().splitlines()) == 1 and echo in r.stderr


def test_ablate_json_and_table():
    r = run("ablate", "gup-vs-thp-split", "--design", "x86-2008", "--arch", "x86-64",
            "--memory-models", "tso", "--json")
    assert r.exit_code == 0
    rows = {x["protection"]: x for x in json.loads(r.stdout)}
    assert rows["walker:irqs-off"]["necessary"] is True
    assert rows["walker:irqs-off"]["invariant"] == "ref-across-split"
    t = run("ablate", "gup-vs-thp-split", "--design", "x86-2008", "--arch", "x86-64",
            "--memory-models", "tso")
    assert "under tso: necessary: walker:irqs-off" in t.stdout


def test_explain_exit_codes():
    assert run("explain", "gup-vs-munmap", "--param", "design=modern").exit_code == 0
    r = run("explain", "gup-vs-munmap", "--param", "design=arm-rfc-2013")
    assert r.exit_code == 1
    assert r.stdout.splitlines()[-3].startswith("  violated: get_page-on-free-page: ")
    assert "replay: gupsim replay gup-vs-munmap" in r.stdout


def test_ablate_marks_protections_the_arch_makes_inert_as_na():
    r = run("ablate", "gup-vs-munmap", "--design", "modern", "--arch", "arm64",
            "--memory-models", "sc", "--json")
    rows = {x["protection"]: x for x in json.loads(r.stdout)}
    for p in ("tlb:flush-ipi", "walker:gup_get_pte", "walker:pmdp_get_lockless"):
        assert rows[p]["verdict"] == "n/a" and rows[p]["necessary"] is None
        assert rows[p]["executions"] == 0 and "arm64" in rows[p]["reason"]
    assert rows["walker:irqs-off"]["verdict"] == "violation"
    # On x86 PAE the same protections are checked, and the split reads matter.
    r = run("ablate", "gup-vs-munmap", "--design", "modern", "--arch", "x86-pae",
            "--memory-models", "tso", "--json")
    rows = {x["protection"]: x for x in json.loads(r.stdout)}
    assert rows["tlb:flush-ipi"]["verdict"] != "n/a"
    assert rows["walker:pmdp_get_lockless"]["necessary"] is True


def test_a_derived_design_name_is_accepted_and_replays():
    d = "generic-rcu-2014-without-walker:speculative-ref"
    r = run("explain", "gup-vs-munmap", "--design", d)
    assert r.exit_code == 1
    replay = r.stdout.strip().splitlines()[-1].removeprefix("replay: gupsim ")
    import shlex
    again = run(*shlex.split(replay))
    assert again.exit_code == 1 and "get_page-on-free-page" in again.stdout
    bad = run("check", "gup-vs-munmap", "--design", "modern-without-walker:bogus")
    assert bad.exit_code == 2 and "walker:bogus" in bad.stderr


def test_matrix_takes_any_kernel_scenario_as_a_hazard():
    # The scenario's verdict table is the sc one. Under armv8, modern shows a
    # gup-write-reaches-mapping violation: khugepaged's refcount read and its
    # copy's data read are not ordered. This is under study, not pinned here.
    r = run("matrix", "--scenarios", "gup-vs-collapse", "--designs", "generic-rcu-2014,modern",
            "--arches", "arm64,arm", "--memory-models", "sc", "--json")
    cells = {(c["design"], c["arch"]): c for c in json.loads(r.stdout)}
    assert r.exit_code == 1
    assert cells["generic-rcu-2014", "arm64"]["invariant"] == "gup-write-reaches-mapping"
    assert cells["modern", "arm64"]["verdict"] == "safe"
    assert cells["modern", "arm"]["verdict"] == "n/a"          # no huge pages
    bad = run("matrix", "--scenarios", "bench/readers")
    assert bad.exit_code == 2 and "bench/readers" in bad.stderr
