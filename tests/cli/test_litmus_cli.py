"""gupsim litmus: herd7's output shape, --judge exit codes, --json, bad input."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gupsim.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "litmus"))
from lkmm_files import expected_count, lkmm_dir, lkmm_test  # noqa: E402


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gupsim: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_herd_output_shape():
    result = run("litmus", str(lkmm_test("SB+poonceonces")), "--model", "tso")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Test SB+poonceonces Allowed" and lines[1] == "States 4"
    assert lines[6:10] == ["Ok", "Witnesses", "Positive: 1 Negative: 3",
                           "Condition exists (0:r0=0 /\\ 1:r0=0)"]
    assert lines[10] == "Observation SB+poonceonces Sometimes 1 3"
    assert lines[11].startswith("Time SB+poonceonces 0.")


def test_judge_matches_under_tso_exits_0():
    result = run("litmus", str(lkmm_test("SB+poonceonces")), "--model", "tso", "--judge")
    assert result.exit_code == 0
    table = result.stdout.split("\n\n")[-2:]
    rows = table[0].splitlines()
    assert rows[0].split() == ["test", "expected", "got", "ok"]
    assert rows[1].split() == ["SB+poonceonces", "Sometimes", "Sometimes", "1", "3", "ok"]
    assert table[1].startswith("1 test under tso: 1 match, 0 mismatch")


def test_judge_mismatch_under_sc_exits_1():
    result = run("litmus", str(lkmm_test("SB+poonceonces")), "--model", "sc", "--judge")
    assert result.exit_code == 1
    assert "SB+poonceonces  Sometimes  Never 0 3  MISMATCH" in result.stdout


def test_without_judge_a_mismatch_still_exits_0():
    assert run("litmus", str(lkmm_test("SB+poonceonces")), "--model", "sc").exit_code == 0


def test_a_folder_runs_every_test_sorted_as_json():
    where = lkmm_dir()
    if not where.is_dir():
        pytest.skip(f"{where} is not there (set GUPSIM_LKMM_LITMUS)")
    result = run("litmus", str(where), "--model", "sc", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert len(data) == expected_count()
    assert [d["path"] for d in data] == sorted(d["path"] for d in data)
    by_name = {d["test"]: d for d in data}
    assert by_name["RM-broken"]["observation"] == "Never"
    assert (by_name["RM-broken"]["positive"], by_name["RM-broken"]["negative"]) == (0, 0)
    assert by_name["RM-broken"]["matches"] is True
    assert by_name["SB+poonceonces"]["matches"] is False


def test_bad_path_is_one_line(tmp_path):
    one_line_error(run("litmus", str(tmp_path / "nope.litmus"), "--model", "sc"),
                   "nope.litmus: no such file or folder")
    one_line_error(run("litmus", str(tmp_path), "--model", "sc"), "no *.litmus file")


def test_unknown_model_is_one_line():
    one_line_error(run("litmus", str(lkmm_test("SB+poonceonces")), "--model", "tsx"),
                   "unknown memory model 'tsx'", "Did you mean tso")


def test_malformed_file_is_one_line_with_position(tmp_path):
    bad = tmp_path / "bad.litmus"
    bad.write_text("C bad\n{}\nP0(int *x) {\n\tWRITE_ONCE(*x, 1)\n}\nexists (x=1)\n")
    one_line_error(run("litmus", str(bad), "--model", "sc"),
                   f"{bad}:5:1: expected ';' after the statement, found '}}'")


def test_list_memory_models_still_works():
    result = run("list", "memory-models")
    assert result.exit_code == 0 and result.stdout.startswith("sc ")


def test_bench_litmus_reports_executions_per_second_of_the_folder():
    where = lkmm_dir()
    text = run("bench", "--litmus", str(where), "--memory-models", "sc,tso")
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    assert lines[0].split()[:4] == ["model", "tests", "executions", "match"]
    assert [ln.split()[0] for ln in lines[1:]] == ["sc", "tso"]
    data = json.loads(run("bench", "--litmus", str(where), "--memory-models", "sc",
                          "--json").stdout)
    (row,) = data
    assert row["model"] == "sc" and row["tests"] == expected_count()
    # Every test's final states are explored at least once, and SC is the
    # strongest model, so no "Sometimes" test can match only by luck here.
    assert row["executions"] >= row["tests"] and row["per_second"] > 0
    assert row["match"] + row["mismatch"] <= row["tests"]
    assert row["slowest"] and row["slowest_seconds"] <= row["seconds"]


def test_bench_litmus_bad_model_is_one_line():
    one_line_error(run("bench", "--litmus", str(lkmm_dir()), "--memory-models", "sc,arm9"),
                   "arm9", "lkmm")
