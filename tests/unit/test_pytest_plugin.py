"""The pytest plugin: gupsim_check passes a safe program and fails a racy one with
the rendered report; the marker and --gupsim-* options reach the config."""

from __future__ import annotations

pytest_plugins = ["pytester"]

TESTS = '''
import pytest
from gupsim import Invariant, Load, Program, Store, ThreadSpec

def sb():
    def cpu(mine, other):
        yield Store(mine, 1)
        return (yield Load(other))
    def never_both_zero(mem, results):
        if results["P0"] == results["P1"] == 0:
            return "both read 0"
    return Program([ThreadSpec("P0", cpu("x", "y")), ThreadSpec("P1", cpu("y", "x"))],
                   {"x": 0, "y": 0}, [Invariant("sb", never_both_zero, "end")])

@pytest.mark.gupsim(strategy="dfs")
def test_sc(gupsim_check):
    assert gupsim_check(sb).verdict == "safe"

@pytest.mark.gupsim(strategy="dfs", memory_model="tso")
def test_tso(gupsim_check):
    gupsim_check(sb)

@pytest.mark.gupsim(strategy="random")
def test_random_gets_a_budget(gupsim_check):
    assert gupsim_check(sb, memory_model="sc").stats.executions == 1000
'''

OPTIONS = '''
import pytest

@pytest.mark.gupsim(strategy="dfs", seed=1)
def test_options(gupsim_config):
    assert (gupsim_config.strategy, gupsim_config.seed) == ("pct", 5)
'''


def test_fixture_passes_safe_and_fails_racy_programs(pytester):
    pytester.makepyfile(test_sb=TESTS)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*invariant violated: sb*", "*replay: gupsim.replay(factory, 's1:*', memory_model='tso')"])


def test_command_line_overrides_marker(pytester):
    pytester.makepyfile(test_opts=OPTIONS)
    result = pytester.runpytest_inprocess("--gupsim-strategy", "pct", "--gupsim-seed", "5",
                                          "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
