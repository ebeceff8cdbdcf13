"""dpor's counterexamples are interleavings the runtime replays step for step,
under SC and under TSO (where a store's issue and its arrival in memory are
separate steps), on the kernel scenarios too."""

import pytest

import gupsim.scenarios  # noqa: F401  (registers the kernel scenarios)
from gupsim.check import CheckConfig, check
from gupsim.check.explorer import run_schedule
from gupsim.check.schedule import decode
from gupsim.spec import get_scenario

CASES = [
    ("gup-vs-munmap", dict(arch="x86-pae", design="x86-2008"), "tso"),
    ("gup-vs-munmap", dict(arch="arm64", design="arm-rfc-2013"), "tso"),
    ("gup-vs-thp-split", dict(arch="arm64", design="arm-rfc-2013"), "sc"),
    ("gup-vs-thp-split", dict(arch="arm64", design="arm-rfc-2013"), "tso"),
    ("futex-thp-tail", dict(arch="arm64", design="weak-default"), "sc"),
]


@pytest.mark.parametrize(("scenario", "params", "model"), CASES)
def test_dpor_counterexample_replays(scenario, params, model):
    factory = get_scenario(scenario).factory(**params)
    found = check(factory, CheckConfig(strategy="dpor", memory_model=model))
    assert found.violation is not None
    again = run_schedule(factory, decode(found.schedule), model)
    assert again.violation == found.violation
