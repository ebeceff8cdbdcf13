"""gupsim: an executable model of Linux's lockless get_user_pages_fast() and a
stateless model checker that explores its races.

The public API; everything else is internal and may change::

    from gupsim import check, CheckConfig, Program, ThreadSpec, Load, Store

    def sb():
        def cpu(mine, other):
            yield Store(mine, 1)
            return (yield Load(other))
        return Program([ThreadSpec("P0", cpu("x", "y")), ThreadSpec("P1", cpu("y", "x"))],
                       {"x": 0, "y": 0})

    result = check(sb, CheckConfig(strategy="dfs", memory_model="tso"))

The list below is asserted against README.md's API section by the test suite.
"""

from __future__ import annotations

from .check import CheckConfig, Result, Stats, audit_dependencies, check
from .errors import (GupsimError, InternalError, NondeterminismError, ScenarioError,
                     UnknownName, UsageError)
from .ops import (AddrScope, Assert, Await, Branch, Fence, IrqDisable, IrqEnable, Load, Note,
                  Rmw, SendIpi, SpinHint, Store, Thread)
from .spec import (SCENARIOS, Invariant, Program, Scenario, ThreadSpec, Violation, invariant,
                   scenario)

__version__ = "0.1.0"


def replay(factory, schedule: str, memory_model: str = "sc") -> Result:
    """Re-run the one execution that ``schedule`` (as printed with a counterexample)
    describes; the result carries its trace whether or not it fails."""
    result = check(factory, CheckConfig(strategy="replay", schedule=schedule,
                                        memory_model=memory_model))
    if result.trace is None:
        from .check.explorer import run_schedule, trace_of
        from .check.schedule import decode
        ex = run_schedule(factory, decode(schedule), memory_model, record=True)
        result.trace = trace_of(ex)
        result.schedule = schedule
    return result


__all__ = [
    # checking
    "check", "replay", "CheckConfig", "Result", "Stats", "audit_dependencies",
    # describing a program
    "Program", "ThreadSpec", "Invariant", "invariant", "Violation",
    "scenario", "Scenario", "SCENARIOS",
    # the op vocabulary
    "Load", "Store", "Rmw", "Fence", "Await", "SpinHint", "IrqDisable", "IrqEnable",
    "SendIpi", "Note", "Assert", "Thread", "Branch", "AddrScope",
    # errors
    "GupsimError", "UsageError", "UnknownName", "ScenarioError", "NondeterminismError",
    "InternalError",
]
