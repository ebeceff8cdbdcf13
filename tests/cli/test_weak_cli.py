"""The weak memory models from the command line: listed, accepted by check,
and a weak counterexample's g1 schedule replays the same execution."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from gupsim.cli import main


def invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_memory_models_are_listed_with_a_line_each():
    out = invoke("list", "memory-models").output
    for name in ("sc", "tso", "lkmm", "armv8", "power"):
        assert any(line.split()[:1] == [name] and len(line.split()) > 3
                   for line in out.splitlines()), (name, out)


@pytest.mark.slow
def test_seed_race_under_armv8_replays_from_its_graph_schedule():
    args = ["gup-vs-munmap", "--arch", "arm64", "--design", "arm-rfc-2013",
            "--memory-model", "armv8"]
    found = invoke("check", *args, "--json")
    assert found.exit_code == 1
    result = json.loads(found.output)
    assert result["verdict"] == "violation"
    assert result["schedule"].startswith("g1:")
    assert result["graph"]["events"] and result["graph"]["rf"]
    again = invoke("replay", "gup-vs-munmap", "--param", "arch=arm64", "--param",
                   "design=arm-rfc-2013", "--memory-model", "armv8", "--schedule",
                   result["schedule"], "--json")
    replayed = json.loads(again.output)
    assert again.exit_code == 1
    assert replayed["violation"]["name"] == result["violation"]["name"]
    assert replayed["trace"] == result["trace"]


def test_a_broken_graph_schedule_is_one_line():
    r = invoke("replay", "litmus/SB", "--memory-model", "lkmm", "--schedule", "g1:%%%")
    assert r.exit_code == 2
    assert "g1:" in r.output and len(r.output.strip().splitlines()) == 1


def test_an_interleaving_strategy_under_a_weak_model_is_refused():
    r = invoke("check", "litmus/SB", "--memory-model", "power", "--strategy", "dfs")
    assert r.exit_code == 2
    assert "axiomatic" in r.output
