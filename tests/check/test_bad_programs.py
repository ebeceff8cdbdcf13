"""A program that breaks the op contract gets a ScenarioError naming file and line."""

from __future__ import annotations

import inspect

import pytest

from gupsim import CheckConfig, Load, ScenarioError, check


def yields_a_number():
    yield Load("x")
    yield 42                                   # not an op: the line the error must name


def test_bad_yield_names_file_line_and_function(make_program):
    line = inspect.getsource(yields_a_number).splitlines().index(
        "    yield 42                                   # not an op: the line the error "
        "must name") + yields_a_number.__code__.co_firstlineno
    with pytest.raises(ScenarioError) as err:
        check(lambda: make_program(yields_a_number(), memory={"x": 0}),
              CheckConfig(strategy="dfs"))
    message = str(err.value)
    assert f"test_bad_programs.py:{line}" in message
    assert "yields_a_number()" in message and "42" in message


def test_undeclared_cell_is_named(make_program):
    def body():
        yield Load("nope")
    with pytest.raises(ScenarioError, match="'nope'"):
        check(lambda: make_program(body(), memory={"x": 0}), CheckConfig(strategy="dfs"))


def test_function_instead_of_generator_object(make_program):
    def body():
        yield Load("x")
    with pytest.raises(ScenarioError, match="not a generator"):
        check(lambda: make_program(body, memory={"x": 0}), CheckConfig(strategy="dfs"))


def test_model_exception_is_a_finding_not_a_crash(make_program):
    def body():
        v = yield Load("x")
        return 1 // v
    result = check(lambda: make_program(body(), memory={"x": 0}), CheckConfig(strategy="dfs"))
    assert result.violation.kind == "exception"
    assert result.violation.name == "ZeroDivisionError"
