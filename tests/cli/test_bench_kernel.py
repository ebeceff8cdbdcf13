"""``gupsim bench --kernel``: the kernel cells, what dpor did on each."""

from __future__ import annotations

import json

from click.testing import CliRunner

from gupsim.cli import main
from gupsim.matrix import KERNEL_BENCH, bench_kernel_cell


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_a_cell_row_adds_up():
    """Under tso a repeated class is one of the executions; the optimality
    is distinct classes per graph explored."""
    r = bench_kernel_cell("gup-vs-munmap", {"design": "x86-2008", "arch": "x86-64"})
    assert r["memory_model"] == "tso" and r["verdict"] == "safe" and r["complete"]
    assert r["executions"] == r["distinct"] + r["again"] and r["distinct"] > 1
    explored = r["distinct"] + r["again"] + r["blocked"]
    assert r["optimality"] == round(r["distinct"] / explored, 4)


def test_a_weak_cell_counts_every_execution_once():
    r = bench_kernel_cell("gup-vs-munmap", {"design": "arm-rfc-2013", "arch": "arm64"})
    assert r["memory_model"] == "armv8" and r["verdict"] == "violation" and r["complete"]
    assert r["executions"] == r["distinct"] > 1     # all of them, not up to the first bug


def test_the_command_prints_every_cell():
    result = run("bench", "--kernel", "--max-seconds", "0.3", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["scenario"] for r in rows] == [s for s, _ in KERNEL_BENCH]
    assert rows[-1]["cell"] == "gup-vs-munmap generic-rcu-2014@arm64 cpus=3"
    text = run("bench", "--kernel", "--max-seconds", "0.3")
    lines = text.stdout.splitlines()
    assert lines[0].split()[:4] == ["cell", "model", "verdict", "executions"]
    assert len(lines) == 1 + len(KERNEL_BENCH) + 2 and "SPIN" in lines[-1]


def test_kernel_takes_no_program():
    result = run("bench", "--kernel", "readers")
    assert result.exit_code == 2 and "--kernel" in result.stderr
    assert len(result.stderr.splitlines()) == 1
