"""Litmus tests: the exact outcome set of each test under each memory model.

Exact sets catch both a missing behaviour (the model or the exploration is
incomplete) and a spurious one (the model is unsound).
"""

from __future__ import annotations

import pytest

from gupsim import CheckConfig, check
from gupsim.errors import UsageError
from gupsim.programs.catalog import register
from gupsim.programs.litmus import LITMUS, collect_outcomes, store_buffering
from gupsim.spec import get_scenario

MODELS = ("sc", "tso")


@pytest.mark.parametrize(("model", "expected"), [
    ("sc", {(0, 1), (1, 0), (1, 1)}),
    ("tso", {(0, 0), (0, 1), (1, 0), (1, 1)}),   # (0, 0): both loads pass the store buffer
])
def test_store_buffering(model, expected):
    assert collect_outcomes(store_buffering, memory_model=model) == expected


@pytest.mark.parametrize("model", MODELS)
def test_store_buffering_with_smp_mb(model):
    assert collect_outcomes(LITMUS["SB+mb"], memory_model=model) == {(0, 1), (1, 0), (1, 1)}


@pytest.mark.parametrize("model", MODELS)
def test_message_passing_never_sees_flag_without_data(model):
    assert collect_outcomes(LITMUS["MP"], memory_model=model) == {(0, 0), (0, 1), (1, 1)}


@pytest.mark.parametrize("model", MODELS)
def test_two_plus_two_writes_final_values(model):
    assert collect_outcomes(LITMUS["2+2W"], memory_model=model) == {(1, 2), (2, 1), (2, 2)}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", sorted(LITMUS))
def test_exact_outcome_set(name, model):
    test = LITMUS[name]
    assert collect_outcomes(test, memory_model=model) == test.allowed[model]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", sorted(LITMUS))
def test_exists_scenario_verdict(name, model):
    """litmus/NAME fails exactly when the model allows the test's exists outcome."""
    register()
    test = LITMUS[name]
    result = check(get_scenario(f"litmus/{name}").factory(),
                   CheckConfig(strategy="dfs", memory_model=model))
    allowed = test.exists in test.allowed[model]
    assert result.verdict == ("violation" if allowed else "safe")


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", sorted(LITMUS))
def test_dpor_agrees(name, model, needs_dpor):
    """dpor must give the same exact sets (or refuse a model it does not support)."""
    test = LITMUS[name]
    try:
        got = collect_outcomes(test, memory_model=model, strategy="dpor")
    except UsageError as err:
        if model not in str(err):
            raise
        pytest.skip(f"dpor refuses memory model {model}: {err}")
    assert got == test.allowed[model]


def test_partial_exploration_is_refused():
    with pytest.raises(UsageError, match="complete exploration"):
        collect_outcomes(LITMUS["IRIW"], strategy="dfs", max_executions=3)
