"""Determinism of every kernel scenario: the same scenario, options and seed give
the same result and trace (dpor, and a seeded random walk)."""

import pytest

import gupsim.scenarios  # noqa: F401  (registers the scenarios)
from gupsim.check import CheckConfig, check
from gupsim.matrix import known_hazards
from gupsim.spec import SCENARIOS


def _fingerprint(res):
    trace = [(e.get("cpu"), e.get("kind"), e.get("cell"), repr(e.get("value")))
             for e in res.trace or ()]
    return (res.verdict, res.stats.executions, res.stats.blocked, res.schedule,
            res.violation and res.violation.name, trace)


@pytest.mark.parametrize("name", known_hazards())
@pytest.mark.parametrize("config", [dict(strategy="dpor"),
                                    dict(strategy="random", seed=7, max_executions=30)],
                         ids=["dpor", "random"])
def test_same_scenario_options_and_seed_give_the_same_result(name, config):
    factory = SCENARIOS[name].factory(arch="arm64", design="arm-rfc-2013")
    runs = [_fingerprint(check(factory, CheckConfig(**config))) for _ in range(2)]
    assert runs[0] == runs[1]
