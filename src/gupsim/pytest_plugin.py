"""pytest plugin: check a program from a test and fail with the full report.

::

    @pytest.mark.gupsim(memory_model="tso", max_executions=10_000)
    def test_my_lock(gupsim_check):
        gupsim_check(my_lock_program)       # fails the test with trace + replay line

Options come from, in order: ``CheckConfig`` defaults, ``GUPSIM_*`` environment
variables, the ``gupsim`` marker, then the command line (``--gupsim-strategy``,
``--gupsim-seed``), then keyword arguments to ``gupsim_check``. The random
and pct strategies never finish on their own: without a budget they get
``max_executions=DEFAULT_RUNS``.
"""

from __future__ import annotations

import pytest

DEFAULT_RUNS = 1000


def pytest_addoption(parser):
    group = parser.getgroup("gupsim")
    group.addoption("--gupsim-strategy", default=None,
                    help="strategy for gupsim_check (dpor, dfs, random, pct)")
    group.addoption("--gupsim-seed", type=int, default=None,
                    help="seed for gupsim_check's random and pct strategies")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "gupsim(**options): CheckConfig options for the gupsim_check fixture")


@pytest.fixture
def gupsim_config(request):
    """The ``CheckConfig`` this test runs with (see the module docstring)."""
    from .check import CheckConfig
    options = {}
    marker = request.node.get_closest_marker("gupsim")
    if marker is not None:
        options.update(marker.kwargs)
    for flag, key in (("--gupsim-strategy", "strategy"), ("--gupsim-seed", "seed")):
        value = request.config.getoption(flag)
        if value is not None:
            options[key] = value
    return CheckConfig.from_env(**options)


@pytest.fixture
def gupsim_check(gupsim_config):
    """``gupsim_check(factory, **options) -> Result``; fails the test on a violation."""
    from .check import check
    from .report.text import render

    def run(factory, **options):
        config = gupsim_config.with_(**options)
        if (config.strategy in ("random", "pct") and config.max_executions is None
                and config.max_seconds is None):
            config = config.with_(max_executions=DEFAULT_RUNS)
        result = check(factory, config)
        if result.violation is not None:
            pytest.fail(render(result), pytrace=False)
        return result
    return run
