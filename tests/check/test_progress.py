"""Deadlock and livelock: all threads blocked is reported as a result, not a hang."""

from __future__ import annotations

from gupsim import Await, CheckConfig, Load, SpinHint, Store, check


def waiter():
    return (yield Await(("flag",), lambda v: v == 1, "flag == 1"))


def spinner():
    while True:
        yield SpinHint("wait for flag")
        if (yield Load("flag")):
            return


def setter(value):
    def body():
        yield Store("other", 1)
        yield Store("flag", value)
    return body()


def test_await_that_never_holds_is_a_deadlock(make_program):
    result = check(lambda: make_program(waiter(), setter(2), memory={"flag": 0, "other": 0}),
                   CheckConfig(strategy="dfs"))
    assert result.verdict == "deadlock"
    assert result.violation.kind == "deadlock"
    evidence = dict(result.violation.evidence)
    assert evidence["T0 (cpu0)"] == "waits at await flag == 1"


def test_await_that_eventually_holds_is_safe(make_program):
    result = check(lambda: make_program(waiter(), setter(1), memory={"flag": 0, "other": 0}),
                   CheckConfig(strategy="dfs"))
    # the await is enabled only once flag == 1: one interleaving, and it saw the write
    assert result.verdict == "safe" and result.stats.executions == 1
    assert result.results["T0"] == (1,)


def test_spin_on_unchanging_reads_is_a_livelock(make_program):
    result = check(lambda: make_program(spinner(), setter(0), memory={"flag": 0, "other": 0}),
                   CheckConfig(strategy="dfs"))
    assert result.verdict == "livelock"
    assert "T0" in result.violation.message
    assert dict(result.violation.evidence)["T0 (cpu0)"].startswith("spins in wait for flag")


def test_spin_that_sees_a_write_is_safe(make_program):
    result = check(lambda: make_program(spinner(), setter(1), memory={"flag": 0, "other": 0}),
                   CheckConfig(strategy="dfs"))
    assert result.verdict == "safe" and result.stats.exhausted
