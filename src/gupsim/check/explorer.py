"""The loop over executions: budgets, statistics, the reported counterexample.

``check(factory, config)`` is the checker's one entry point. Interleaving
strategies (dfs, random, pct, replay) are driven here; ``dpor`` explores
execution graphs in ``check.graph`` and reports back through the same
``Result``. A counterexample is always re-run once with recording on, so the
trace carries source lines, notes and IRQ state, and its schedule replays it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple
from dataclasses import asdict

from ..spec import Program
from .config import CheckConfig
from .result import Result, Stats
from .runtime import Execution
from .schedule import encode
from .strategies import make_strategy

Progress = Callable[[Stats], None]


class Outcome(NamedTuple):
    """What one complete execution ended with (handed to ``observe``)."""

    results: dict           # thread name -> return value
    memory: dict            # cell -> final value
    signature: tuple        # reads-from and coherence, by (thread, access index)
    violation: object       # a Violation or None
    flags: tuple = ()       # model flags raised by the execution (e.g. data-race)
    graph: object = None    # the execution graph (explorations of graphs under weak models)


Observer = Callable[[Outcome], None]


def check(factory: Callable[[], Program], config: CheckConfig | None = None,
          progress: Progress | None = None, observe: Observer | None = None) -> Result:
    """Explore ``factory``'s program under ``config``; see ``Result``.

    ``progress(stats)`` is called now and then; ``observe(outcome)`` after
    every complete execution (to collect litmus outcomes, for instance).
    """
    config = config or CheckConfig()
    if config.strategy == "replay" and config.schedule and config.schedule.startswith("g1:"):
        from .strategies.weakresult import replay_graph
        return replay_graph(factory, config)
    if config.strategy == "enum":
        from .strategies.enum import explore as enumerate_all
        return enumerate_all(factory, config, progress, observe)
    if config.strategy == "dpor":
        from .strategies.dpor import explore
        return explore(factory, config, progress, observe)
    return _interleavings(factory, config, progress, observe)


def run_schedule(factory, actions, memory_model: str, record: bool = True):
    """Execute ``actions`` (a decoded schedule) and return the Execution."""
    ex = Execution(factory, memory_model, record=record)
    for action in actions:
        if ex.violation is not None:
            break
        enabled = ex.enabled()
        if action not in enabled:
            from ..errors import NondeterminismError
            raise NondeterminismError(
                f"replay diverged at step {len(ex.events)}: {action[0]}{action[1]} is not "
                f"enabled (enabled: {enabled}) under memory model {memory_model}. Is it the "
                f"same scenario, parameters and memory model, and is the scenario "
                f"deterministic?")
        ex.apply(action)
    if ex.violation is None and not ex.enabled():
        ex.finish()
    return ex


def _interleavings(factory, config: CheckConfig, progress, observe=None) -> Result:
    strategy = make_strategy(config)
    stats = Stats()
    seen: set | None = set() if (config.count_classes or config.preemption_bound is not None) \
        else None
    t0 = time.perf_counter()
    found = None
    last = None
    while True:
        if _over_budget(config, stats, t0):
            break
        if not strategy.begin():
            stats.exhausted = strategy.exhaustive
            break
        ex = Execution(factory, config.memory_model)
        actions, complete = drive(ex, strategy)
        if complete:
            ex.finish()
        strategy.end()
        stats.executions += 1
        stats.events += len(ex.events)
        if seen is not None and complete:
            seen.add(ex.signature())
        if observe is not None and complete:
            observe(Outcome(ex.results, ex.mem.view(), ex.signature(), ex.violation))
        last = (ex, actions)
        if ex.violation is not None and found is None:
            found = (ex, actions)
            if config.stop_on_first:
                break
        if progress is not None and stats.executions % 512 == 0:
            stats.seconds = time.perf_counter() - t0
            progress(stats)
    stats.seconds = time.perf_counter() - t0
    if seen is not None:
        stats.classes = len(seen)
    return build_result(factory, config, stats, found, last)


def drive(ex: Execution, strategy) -> tuple[list, bool]:
    """Run ``ex`` on, the interleaving ``strategy`` choosing each action: the
    actions taken, and whether it ran to its end (False: the strategy
    stopped it)."""
    actions = []
    while ex.violation is None:
        enabled = ex.enabled()
        if not enabled:
            break
        action = strategy.choose(enabled)
        if action is None:
            return actions, False
        actions.append(action)
        ex.apply(action)
    return actions, True


def _over_budget(config: CheckConfig, stats: Stats, t0: float) -> bool:
    if config.max_executions is not None and stats.executions >= config.max_executions:
        return True
    return config.max_seconds is not None and time.perf_counter() - t0 > config.max_seconds


def build_result(factory, config, stats, found, last) -> Result:
    """Verdict, counterexample trace (re-run with recording) and bounds."""
    bounds = {"memory_model": config.memory_model, "strategy": config.strategy,
              "executions": stats.executions, "complete": stats.exhausted}
    if config.preemption_bound is not None:
        bounds["preemption_bound"] = config.preemption_bound
    if config.strategy in ("random", "pct"):
        bounds["seed"] = config.seed
    cfg = asdict(config)
    if found is not None:
        ex, actions = found
        traced = run_schedule(factory, actions, config.memory_model, record=True)
        violation = traced.violation or ex.violation
        verdict = violation.kind if violation.kind in ("deadlock", "livelock") else "violation"
        return Result(verdict, cfg, stats, violation, encode(actions), trace_of(traced),
                      traced.mem.view(), traced.results, bounds)
    verdict = "safe" if stats.exhausted else "incomplete"
    final = results = schedule = trace = None
    if last is not None:
        final, results = last[0].mem.view(), last[0].results
        if config.strategy == "replay":     # a replay shows what it ran
            schedule = encode(last[1])
            trace = trace_of(run_schedule(factory, last[1], config.memory_model))
    return Result(verdict, cfg, stats, None, schedule, trace, final, results, bounds)


def trace_of(ex: Execution) -> list[dict]:
    """The recorded events of an execution as JSON-able dicts."""
    out = []
    describe = ex.program.describe
    shown = None
    for step, ev in enumerate(ex.events):
        ctx = ex.contexts[ev.tid]
        d = {"step": step, "thread": ctx.name, "tid": ev.tid, "cpu": ctx.cpu,
             "kind": ev.kind, "irqs": ev.irqs, "in_irq": bool(ev.depth)}
        if ev.where:
            d["file"], d["line"], d["function"] = ev.where
        if ev.kind == "note":
            d["text"] = ev.text
        elif ev.kind == "flush":
            d["op"] = f"store buffer: {ev.cell} = {ev.value!r} reaches memory"
            d["cell"], d["value"] = ev.cell, _show(ev.value)
        else:
            d["op"] = ev.op.describe() if ev.op is not None else "take pending IPIs"
            d["cell"] = list(ev.cell) if isinstance(ev.cell, tuple) else ev.cell
            d["value"] = _show(ev.value)
            if ev.kind == "U":
                d["old"] = _show(ev.text)
            if ev.src is not None or ev.kind in ("R", "U"):
                d["read_from"] = list(ev.src) if ev.src is not None else "init"
            if describe is not None and ev.op is not None:
                text = describe(ev.op, ev.value)
                if text:
                    d["text"] = text
        state = ex.states.get(step)
        if state is not None and state != shown:    # a step without one: unchanged
            d["state"] = shown = state
        out.append(d)
    return out


def _show(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple):
        return [_show(v) for v in value]
    return repr(value)
