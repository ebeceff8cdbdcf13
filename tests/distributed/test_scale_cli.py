"""--workers, --checkpoint and `gupsim resume` through the command line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from gupsim.cli import main


def run(*args):
    return CliRunner().invoke(main, list(args))


def _one_line_error(res, *words):
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gupsim: ")
    for w in words:
        assert w in lines[0]


@pytest.mark.parametrize("value", ["0", "x", "-3", "1.5"])
def test_bad_workers_is_one_line(value):
    _one_line_error(run("check", "bench/lastzero", "--workers", value), repr(value), "auto")


def test_resume_of_a_missing_or_bad_file_is_one_line(tmp_path):
    _one_line_error(run("resume", str(tmp_path / "nope.json")), "nope.json", "--checkpoint")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    _one_line_error(run("resume", str(bad)), "bad.json", "not a gupsim checkpoint")


def test_check_with_workers_prints_the_single_worker_result():
    args = ["check", "gup-vs-thp-split", "--design", "arm-rfc-2013", "--arch", "arm64",
            "--memory-model", "sc", "--json"]
    one, two = run(*args), run(*args, "--workers", "2")
    assert one.exit_code == two.exit_code == 1
    a, b = json.loads(one.output), json.loads(two.output)
    assert (a["verdict"], a["stats"]["executions"], a["schedule"]) == \
        (b["verdict"], b["stats"]["executions"], b["schedule"])


def test_a_split_run_under_an_axiomatic_model_prints_the_single_worker_result(tmp_path):
    # arm64's own model is armv8: workers and a checkpoint split a weak model's tree too
    args = ["check", "gup-vs-thp-split", "--design", "arm-rfc-2013", "--arch", "arm64",
            "--json"]
    path = str(tmp_path / "c.json")
    runs = [run(*args), run(*args, "--workers", "2"), run(*args, "--checkpoint", path),
            run("resume", path, "--json")]
    assert [r.exit_code for r in runs] == [1, 1, 1, 1]
    one, *split = [json.loads(r.output) for r in runs]
    assert one["bounds"]["memory_model"] == "armv8"
    for d in split:
        assert (d["verdict"], d["stats"]["executions"], d["schedule"], d["graph"]) == \
            (one["verdict"], one["stats"]["executions"], one["schedule"], one["graph"])
        assert d["bounds"]["exact"] == ["verdict", "executions", "counterexample"]


def test_a_budget_with_workers_says_what_was_not_covered():
    res = run("check", "bench/lastzero", "--param", "n=9", "--workers", "2",
              "--max-executions", "200")
    assert res.exit_code == 0
    assert "200 executions, but --max-executions 200 stopped the exploration" in res.output
    assert "subtrees not explored (of an estimated" in res.output


def test_checkpoint_then_resume_on_the_command_line(tmp_path):
    path = str(tmp_path / "c.json")
    first = run("check", "bench/lastzero", "--param", "n=7", "--checkpoint", path, "--json")
    assert first.exit_code == 0
    data = json.loads(open(path).read())
    assert data["format"] == "gupsim-checkpoint" and data["version"] == 5
    assert data["frontier"] == []         # finished: nothing left to do
    again = run("resume", path, "--json")
    assert json.loads(again.output)["stats"]["executions"] == \
        json.loads(first.output)["stats"]["executions"]


def test_matrix_and_ablate_with_workers_give_the_same_rows():
    def rows(out):
        return [{k: v for k, v in r.items() if k != "seconds"} for r in json.loads(out)]
    m = ["matrix", "--designs", "arm-rfc-2013,modern", "--arches", "arm64", "--json"]
    assert rows(run(*m).output) == rows(run(*m, "--workers", "2").output)
    a = ["ablate", "gup-vs-thp-split", "--design", "readers-counter-2013", "--arch", "arm64",
         "--memory-models", "sc", "--json"]
    assert rows(run(*a).output) == rows(run(*a, "--workers", "2").output)


def test_litmus_tests_run_side_by_side_with_the_same_output():
    """`gupsim litmus FOLDER --workers 2`: the tests run in two processes and
    print what one process prints, in the same order (times aside)."""
    import re
    from pathlib import Path
    folder = str(Path(__file__).resolve().parents[1] / "litmus" / "classic")

    def lines(*extra):
        res = run("litmus", folder, "--model", "armv8", *extra)
        assert res.exit_code == 0, res.output
        return [re.sub(r"\(\d+\.\d+ s\)", "", x) for x in res.output.splitlines()
                if not x.startswith("Time ")]
    one, two = lines(), lines("--workers", "2")
    assert two == one
    assert sum(x.startswith("Test ") for x in one) >= 20
    _one_line_error(run("litmus", folder, "--workers", "zero"), "'zero'", "auto")
