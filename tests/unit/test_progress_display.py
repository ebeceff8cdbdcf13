"""Live progress: drawn on a terminal, silent when output is piped."""

from __future__ import annotations

import io

from rich.console import Console

from gupsim import CheckConfig, check
from gupsim.check.result import Stats
from gupsim.programs.dpor_bench import BENCHMARKS
from gupsim.report.progress import LiveProgress


def test_terminal_shows_executions_rate_and_elapsed():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with LiveProgress("bench/readers", console=console) as progress:
        progress(Stats(executions=2048, seconds=2.0))
    text = out.getvalue()
    assert "bench/readers: 2,048 executions, 1,024/s, 2.0 s" in text


def test_piped_output_stays_clean():
    out = io.StringIO()
    console = Console(file=out, force_terminal=False)
    with LiveProgress("x", console=console) as progress:
        progress(Stats(executions=10, seconds=1.0))
    assert out.getvalue() == "" and progress.calls == 1


def test_check_calls_progress_during_long_runs():
    seen: list[int] = []
    bench = BENCHMARKS["readers"]
    check(lambda: bench.build(5), CheckConfig(strategy="dfs"),
          progress=lambda stats: seen.append(stats.executions))
    assert seen and seen == sorted(seen) and seen[-1] <= 720


def test_a_weak_model_run_reports_progress_by_time(monkeypatch):
    """Under a weak model an execution costs milliseconds (the model judges
    every graph), so dpor reports at least every half second, not only every
    512 executions. (A clock that moves a second per reading makes every
    execution late enough.)"""
    import itertools
    import time

    import gupsim.scenarios  # noqa: F401 (registers the scenarios)
    from gupsim import SCENARIOS
    clock = itertools.count()
    monkeypatch.setattr(time, "perf_counter", lambda: float(next(clock)))
    seen: list[int] = []
    factory = SCENARIOS["gup-vs-thp-split"].factory(design="generic-rcu-2014", arch="arm64")
    result = check(factory, CheckConfig(strategy="dpor", memory_model="armv8"),
                   progress=lambda stats: seen.append(stats.executions))
    assert result.stats.executions < 512
    assert seen == list(range(1, result.stats.executions + 1))
