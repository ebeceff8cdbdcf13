"""The public API: gupsim.__all__ is exactly the list README.md documents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import gupsim

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_api() -> list[str]:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- api -->(.*?)<!-- /api -->", text, re.S)
    assert block, "README.md lost its <!-- api --> ... <!-- /api --> list"
    return re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", block.group(1))


def test_all_matches_readme():
    documented = readme_api()
    assert len(documented) == len(set(documented)), "a name is listed twice in README.md"
    assert sorted(documented) == sorted(gupsim.__all__)


def test_every_public_name_exists():
    missing = [name for name in gupsim.__all__ if not hasattr(gupsim, name)]
    assert not missing


def test_api_example_in_readme_runs():
    """The README's Python example is real code: run it and check what it claims."""
    text = README.read_text(encoding="utf-8")
    code = re.search(r"## Python API\n\n```python\n(.*?)```", text, re.S).group(1)
    scope: dict = {}
    exec(compile(code, str(README), "exec"), scope)   # noqa: S102 - our own README
    result = scope["result"]
    assert result.verdict == "violation"
    assert result.violation.name == "sb"


def test_replay_returns_trace_even_without_violation(make_program):
    def t(cell):
        yield gupsim.Store(cell, 1)
    factory = lambda: make_program(t("x"), t("y"), memory={"x": 0, "y": 0})  # noqa: E731
    result = gupsim.replay(factory, "s1:1.0")
    assert result.violation is None
    assert [ev["thread"] for ev in result.trace] == ["T1", "T0"]


@pytest.mark.parametrize("strategy,model", [("dfs", "sc"), ("random", "tso"), ("dpor", "sc"),
                                            ("dpor", "tso"), ("dpor", "armv8"),
                                            ("dpor", "lkmm"), ("enum", "armv8")])
def test_a_cell_the_memory_does_not_declare_is_a_scenario_error(strategy, model):
    from gupsim.check import CheckConfig, check
    from gupsim.errors import ScenarioError
    from gupsim.ops import Rmw, Store
    from gupsim.spec import Program, ThreadSpec

    def body():
        yield Rmw("L", "lock")
        yield Store("L", 0, order="unlock")
    with pytest.raises(ScenarioError, match="access to cell 'L', which the program's memory "
                                            "does not declare"):
        check(lambda: Program([ThreadSpec("T0", body(), cpu=0)], {"y": 0}),
              CheckConfig(strategy=strategy, memory_model=model))
