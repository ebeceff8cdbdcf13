"""The gupsim command: exit codes 0/1/2, one-line errors, output shapes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from gupsim.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gupsim: ") and "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


# -- exit codes ----------------------------------------------------------------------------

def test_safe_exits_0():
    result = run("check", "litmus/SB", "--strategy", "dfs")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == ("safe within bounds: 6 executions, memory "
                                             "model sc, strategy dfs")


def test_violation_exits_1_with_replay_line():
    result = run("check", "litmus/SB", "--strategy", "dfs", "--memory-model", "tso")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "invariant violated: SB never 0:r0=0 1:r0=0"
    assert lines[-1] == ("replay: gupsim replay litmus/SB --memory-model tso "
                         "--schedule 's1:0*2.1*2.0f.1f'")


def test_budget_stop_is_incomplete_and_exits_0():
    result = run("check", "bench/readers", "--param", "n=5", "--strategy", "dfs",
                 "--max-executions", "10")
    assert result.exit_code == 0
    assert result.stdout.startswith("no violation in 10 executions, but --max-executions 10 "
                                    "stopped the exploration")


def test_replay_line_round_trips():
    found = run("check", "litmus/SB", "--strategy", "dfs", "--memory-model", "tso")
    replay_args = found.stdout.splitlines()[-1].split()[2:]     # after "replay: gupsim"
    replay_args = [a.strip("'") for a in replay_args]
    again = run(*replay_args)
    assert again.exit_code == 1
    trace = [line for line in found.stdout.splitlines() if line.startswith("     ")]
    assert trace and trace == [line for line in again.stdout.splitlines()
                               if line.startswith("     ")]


def test_check_json_is_clean_and_complete():
    result = run("check", "bench/inc", "--param", "n=3", "--strategy", "dfs",
                 "--preemption-bound", "1", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["schema"] == 1 and data["verdict"] == "safe"
    assert data["scenario"] == "bench/inc" and data["params"] == {"n": 3}
    assert data["stats"]["classes"] == 24 and data["bounds"]["preemption_bound"] == 1


def test_report_renders_a_saved_result(tmp_path):
    saved = run("check", "litmus/SB", "--strategy", "dfs", "--memory-model", "tso", "--json")
    path = tmp_path / "sb.json"
    path.write_text(saved.stdout)
    shown = run("report", str(path))
    direct = run("check", "litmus/SB", "--strategy", "dfs", "--memory-model", "tso")
    assert shown.exit_code == 1
    strip = lambda text: [l for l in text.splitlines() if not l.startswith("statistics")]  # noqa
    assert strip(shown.stdout) == strip(direct.stdout)


# -- bad input: one line, exit 2 ------------------------------------------------------

@pytest.mark.parametrize(("args", "fragments"), [
    (("check", "bench/reader"), ("'bench/reader'", "Did you mean bench/readers")),
    (("check", "litmus/SB", "--strategy", "dfz"), ("'dfz'", "Did you mean dfs")),
    (("check", "litmus/SB", "--memory-model", "tos"), ("'tos'", "tso")),
    (("check", "bench/readers", "--param", "n=four"), ("n='four'", "whole number")),
    (("check", "bench/readers", "--param", "n"), ("'n'", "KEY=VALUE")),
    (("check", "bench/readers", "--param", "size=3"), ("'size'", "Known: n")),
    (("check", "bench/readers", "--max-executions", "zero"), ("'zero'",)),
    (("check", "bench/readers", "--max-executions", "0"), ("0", "x>=1")),
    (("check", "bench/readers", "--param", "n=0", "--strategy", "dfs"), ("n=0", ">= 1")),
    (("replay", "litmus/SB", "--schedule", "0.1.1"), ("'0.1.1'", "s1:")),
    (("replay", "litmus/SB", "--schedule", "s1:0.q"), ("'q'", "THREAD")),
    (("replay", "litmus/SB", "--schedule", "s1:0*2.1*2.0f.1f"), ("diverged", "--memory-model")),
    (("report", "/no/such/file.json"), ("/no/such/file.json", "does not exist")),
    (("list", "scenario"), ("'scenario'", "Did you mean scenarios")),
    (("bench", "readerz"), ("'readerz'", "readers")),
    (("bench", "--n", "3"), ("--n 3", "PROGRAM")),
    (("frobnicate",), ("frobnicate",)),
    (("check",), ("SCENARIO",)),
    (("check", "gup-vs-collapse", "--param", "ptrs=3"), ("ptrs_per_pte=3", "power of two")),
    (("check", "gup-hugetlb-vs-munmap", "--arch", "arm"), ("arch=arm", "arm64")),
    (("check", "dirty-cow", "--param", "mm_era=4.x"), ("'4.x'", "4.8")),
    (("check", "gup-vs-munmap", "--design", "modern-without-walker:bogus"),
     ("'walker:bogus'", "Did you mean")),
])
def test_bad_input_is_one_line_exit_2(args, fragments):
    one_line_error(run(*args), *fragments)


def test_report_of_a_non_result_file(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("[1, 2")
    one_line_error(run("report", str(path)), str(path), "gupsim check")


def test_internal_error_is_labelled(monkeypatch):
    import gupsim.cli as cli

    def broken(*a, **k):
        raise RuntimeError("boom")
    monkeypatch.setattr(cli, "_run", broken)
    result = run("check", "litmus/SB", "--strategy", "dfs")
    assert result.exit_code == 3
    assert result.stderr.strip() == ("gupsim: [gupsim internal bug] RuntimeError: boom "
                                     "(set GUPSIM_DEBUG=1 for the traceback)")


# -- list, bench, demo ------------------------------------------------------------------

def test_list_all_kinds():
    result = run("list")
    assert result.exit_code == 0
    for heading in ("scenarios:", "strategies:", "memory-models:", "benchmarks:"):
        assert heading in result.stdout.splitlines()
    assert "litmus/SB" in result.stdout and "bench/readers" in result.stdout


def test_list_strategies_only():
    result = run("list", "strategies")
    assert [line.split()[0] for line in result.stdout.splitlines()] == [
        "dpor", "dfs", "random", "pct", "replay", "enum"]


def test_bench_json_rows():
    result = run("bench", "inc", "--n", "3", "--strategy", "dfs", "--json")
    assert result.exit_code == 0
    (row,) = json.loads(result.stdout)
    assert {"program", "n", "executions", "blocked", "seconds", "expected",
            "per_second"} <= set(row)
    assert (row["program"], row["n"], row["executions"], row["expected"]) == ("inc", 3, 90, 36)
    assert row["optimality"] == round(36 / 90, 4) and row["complete"] is True


def test_bench_table():
    result = run("bench", "readers", "--n", "3", "--strategy", "dfs")
    header, row = result.stdout.splitlines()
    assert header.split() == ["program", "executions", "expected", "optimality", "blocked",
                              "seconds", "executions/s"]
    assert row.split()[:5] == ["readers(3)", "24", "8", "0.333", "0"]


def test_bench_budget_marks_stopped_rows():
    result = run("bench", "readers", "--n", "6", "--strategy", "dfs", "--max-executions", "50")
    row = result.stdout.splitlines()[1].split()
    assert row[1] == "50+" and row[3] == "-"        # no optimality for a partial run
    assert "stopped" in result.stdout.splitlines()[-1]


@pytest.mark.slow
def test_demo_runs():
    result = run("demo")
    assert result.exit_code == 0, result.output
    assert "invariant violated: SB never 0:r0=0 1:r0=0" in result.stdout
    assert "MISMATCH" not in result.stdout


def test_list_designs_and_arches_name_the_kernel_model():
    designs = run("list", "designs")
    assert designs.exit_code == 0
    assert "arm-rfc-2013" in designs.stdout and "splitter:smp_mb" in designs.stdout
    arches = run("list", "arches")
    assert arches.exit_code == 0
    assert "broadcast TLBI" in arches.stdout and "x86-pae" in arches.stdout



def test_list_protections_says_what_each_is_and_which_designs_have_it():
    from gupsim.kernel import PROTECTIONS
    out = run("list", "protections")
    assert out.exit_code == 0
    names = [line.split()[0] for line in out.stdout.splitlines() if not line.startswith(" ")]
    assert names == list(PROTECTIONS)
    text = out.stdout
    assert "write_protect_seq" in text and "in: modern" in text
    assert all(PROTECTIONS[p] for p in PROTECTIONS)


def test_arch_and_design_shorthands_and_the_arch_memory_model():
    racy = run("check", "gup-vs-munmap", "--arch", "arm64", "--design", "arm-rfc-2013")
    assert racy.exit_code == 1 and "get_page() on a free page" in racy.stdout
    safe = run("check", "gup-vs-munmap", "--arch", "x86-64", "--design", "x86-2008")
    assert safe.exit_code == 0 and "memory model tso" in safe.stdout   # x86's own model
    one_line_error(run("check", "litmus/SB", "--arch", "x86-64"), "--arch x86-64", "no arch")
    one_line_error(run("check", "gup-vs-munmap", "--design", "arm-rfc"), "'arm-rfc'",
                   "arm-rfc-2013")
