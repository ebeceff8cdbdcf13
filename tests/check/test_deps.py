"""The dependency audit (gupsim.check.deps) on hand-written programs: one
undeclared dependency of each kind, their declared twins, and the corner
cases (a forced value that makes the thread raise or fail an Assert, an
Await, a read of the checker's own cells)."""

from __future__ import annotations

import pytest

from gupsim import (AddrScope, Assert, Await, Branch, Load, Program, Rmw, Store, ThreadSpec,
                    audit_dependencies)
from gupsim.errors import NondeterminismError, UsageError


def program(reader):
    """``reader`` races with a writer that sets x to 1 then 2."""
    def writer():
        yield Store("x", 1)
        yield Store("x", 2)

    def factory():
        return Program([ThreadSpec("R", reader()), ThreadSpec("W", writer())],
                       {"x": 0, "y": 0, "z": 0, "a0": 0, "a1": 0, "a2": 0})
    return factory


def kinds(reader, **kw):
    report = audit_dependencies(program(reader), executions=kw.pop("executions", 8), **kw)
    return report, sorted({f.kind for f in report.findings})


def ctrl_undeclared():
    v = yield Load("x", reg="r1")
    if v:
        yield Store("y", 1)


def ctrl_declared():
    v = yield Load("x", reg="r1")
    yield Branch("r1")
    if v:
        yield Store("y", 1)


def data_undeclared():
    v = yield Load("x", reg="r1")
    yield Store("y", v + 1)


def data_declared():
    v = yield Load("x", reg="r1")
    yield Store("y", v + 1, data="r1")


def addr_undeclared():
    v = yield Load("x", reg="r1")
    yield Store(f"a{v}", 1)


def addr_declared():
    v = yield Load("x", reg="r1")
    yield Store(f"a{v}", 1, addr="r1")


def addr_scoped():
    v = yield Load("x", reg="r1")
    yield AddrScope("r1")
    yield Store(f"a{v}", 1)
    yield AddrScope()


@pytest.mark.parametrize("reader,kind", [(ctrl_undeclared, "ctrl"), (data_undeclared, "data"),
                                         (addr_undeclared, "addr")])
def test_an_undeclared_dependency_is_found(reader, kind):
    report, found = kinds(reader)
    assert found == [kind]
    f = report.findings[0]
    assert f.thread == "R" and f.read_kind == "load" and f.read_op == "load x"
    assert f.read.file.endswith("test_deps.py") and f.read.function == reader.__name__
    assert f.op.function == reader.__name__ and f.op.line > f.read.line
    assert f.kind in f.describe() and str(f.read) in f.describe()


@pytest.mark.parametrize("reader", [ctrl_declared, data_declared, addr_declared, addr_scoped])
def test_a_declared_dependency_is_no_finding(reader):
    report, found = kinds(reader)
    assert found == [] and report.ok
    assert report.runs > 0 and report.reads > 0


def test_the_values_forced_are_those_written_or_initial():
    report, _ = kinds(data_undeclared)
    forced = {(f.value, f.forced) for f in report.findings}
    assert forced <= {(a, b) for a in "012" for b in "012" if a != b}


def test_a_branch_after_the_decision_is_too_late():
    """The Branch must come before the op whose path it decides, in both runs."""
    def late():
        v = yield Load("x", reg="r1")
        if v:
            yield Branch("r1")
            yield Store("y", 1)
    assert kinds(late)[1] == ["ctrl"]


def test_a_raise_on_a_forced_value_is_a_control_dependency():
    def crashes():
        v = yield Load("x", reg="r1")
        yield Store("y", {0: "a", 1: "b", 2: "c"}[v] if v < 3 else 1 // 0)
        yield Store("z", 1 // (2 - v))
    report, found = kinds(crashes)
    assert "ctrl" in found
    assert any("ZeroDivisionError" in f.alt_desc for f in report.findings)


def test_a_failed_assert_is_run_past_not_a_decision():
    def asserts():
        v = yield Load("x", reg="r1")
        yield Assert(v == 0, "x is still 0")
        yield Store("y", 1)
    report, found = kinds(asserts)
    assert found == [] and report.skipped_asserts > 0


def test_a_rmw_read_is_forced_too():
    def rmw():
        old = yield Rmw("x", "add", 1, reg="r1")
        if old:
            yield Store("y", 1)
    report, found = kinds(rmw)
    assert found == ["ctrl"] and report.findings[0].read_kind == "rmw"


def test_an_await_is_a_control_dependency_by_construction():
    """The wait is a loop on its reads: a change of path after it is none;
    a value computed from what it returned is still reported."""
    def waits():
        (v,) = yield Await(("x",), lambda v: v > 0, "x set")
        yield Store("y", v)
        if v == 2:
            yield Store("z", 1)
    report, found = kinds(waits)
    assert found == ["data"] and report.findings[0].read_kind == "await"


def test_the_result_is_deterministic():
    a, _ = kinds(ctrl_undeclared, seed=3)
    b, _ = kinds(ctrl_undeclared, seed=3)
    assert a.findings == b.findings and (a.reads, a.runs) == (b.reads, b.runs)


def test_dfs_samples_too():
    report, found = kinds(data_undeclared, strategy="dfs", preemption_bound=1)
    assert found == ["data"] and report.executions > 1


def test_bad_arguments_are_usage_errors():
    with pytest.raises(UsageError, match="executions"):
        audit_dependencies(program(ctrl_declared), executions=0)
    with pytest.raises(UsageError, match="strategy"):
        audit_dependencies(program(ctrl_declared), strategy="dpor")


def test_a_thread_that_keeps_state_outside_the_cells_is_reported():
    """The audit re-runs an execution by feeding back the values read: a
    thread whose ops depend on anything else cannot be audited."""
    box = {"n": 0}

    def stateful():
        box["n"] += 1
        v = yield Load("x", reg="r1")
        yield Branch("r1")
        yield Store(f"a{box['n'] % 3}", v, data="r1")
    with pytest.raises(NondeterminismError, match="values its loads return"):
        audit_dependencies(program(stateful), executions=2)


def test_the_report_is_json():
    report, _ = kinds(ctrl_undeclared)
    data = report.to_json()
    assert data["findings"][0]["kind"] == "ctrl" and "message" in data["findings"][0]
    assert data["executions"] == report.executions
