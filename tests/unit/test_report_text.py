"""The text report: headline, evidence, trace, bounds, statistics, replay line."""

from __future__ import annotations

import shlex

from gupsim import CheckConfig, Load, Store, check, replay
from gupsim.check.result import Result
from gupsim.programs.catalog import register
from gupsim.report.text import render, replay_command, table
from gupsim.spec import get_scenario


def sb_result(model: str) -> Result:
    register()
    return check(get_scenario("litmus/SB").factory(), CheckConfig(strategy="dfs",
                                                                  memory_model=model))


def test_table_aligns_columns():
    lines = table([("a", 1), ("bbb", 22)], ("name", "n"), right=(1,))
    assert lines == ["name   n", "a      1", "bbb   22"]


def test_violation_report_has_every_part():
    text = render(sb_result("tso"), "litmus/SB")
    lines = text.splitlines()
    assert lines[0] == "invariant violated: SB never 0:r0=0 1:r0=0"
    assert "trace (6 steps):" in lines      # 4 accesses, then 2 stores reach memory
    header = next(line for line in lines if line.strip().startswith("step"))
    assert header.split() == ["step", "thread", "cpu", "irqs", "where", "op", "value",
                              "read-from"]
    loads = [line for line in lines if "load " in line]
    assert len(loads) == 2 and all(line.rstrip().endswith("0      init") for line in loads)
    assert any(line.startswith("found after") and "memory model tso" in line for line in lines)
    assert lines[-1].startswith("replay: gupsim replay litmus/SB --memory-model tso "
                                "--schedule 's1:")


def test_safe_report_states_bounds():
    text = render(sb_result("sc"), "litmus/SB")
    assert text.splitlines()[0] == ("safe within bounds: 6 executions, memory model sc, "
                                    "strategy dfs")
    assert "replay:" not in text


def test_read_from_names_the_writing_step(make_program):
    def writer():
        yield Store("x", 7)

    def reader():
        yield Load("x")
    factory = lambda: make_program(writer(), reader(), memory={"x": 0},  # noqa: E731
                                   names=["W", "R"])
    result = replay(factory, "s1:0.1")
    load = [line for line in render(result).splitlines() if "load x" in line][0]
    assert load.split()[-4:] == ["7", "step", "0", "(W)"]


def test_report_renders_from_json_alone():
    result = sb_result("tso")
    again = Result.from_json(result.to_json())
    assert render(again, "litmus/SB") == render(result, "litmus/SB")


def test_replay_command_is_shell_safe():
    cmd = replay_command("litmus/2+2W", "s1:0*2.1", "tso", {"name": "a b"})
    words = shlex.split(cmd)
    assert words == ["gupsim", "replay", "litmus/2+2W", "--param", "name=a b",
                     "--memory-model", "tso", "--schedule", "s1:0*2.1"]
