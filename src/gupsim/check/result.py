"""Results: verdict, violation, statistics and the trace, as versioned JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from ..spec import Violation

SCHEMA = 1


@dataclass
class Stats:
    executions: int = 0          # complete executions explored
    blocked: int = 0             # executions cut short as redundant (should be 0 for dpor)
    duplicates: int = 0          # graphs reached again: executions whose class was seen
    #                              before (counted if asked; always under the weak models)
    #                              and work items explored already, skipped with their
    #                              subtree (load-buffering graphs under the weak models;
    #                              a lock's read woken in place or spinning on: dpor)
    classes: int | None = None   # distinct reads-from/coherence classes (if counted)
    events: int = 0              # shared accesses performed, replays included
    seconds: float = 0.0
    exhausted: bool = False      # the strategy explored everything it promises to

    @property
    def per_second(self) -> float:
        return self.executions / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Result:
    """What a check found.

    verdict: ``safe`` (nothing found and the exploration was complete),
    ``violation``, ``deadlock``, ``livelock`` (a found bug), or ``incomplete``
    (nothing found, but a budget stopped the exploration or the strategy is not
    exhaustive).
    """

    verdict: str
    config: dict
    stats: Stats
    violation: Violation | None = None
    schedule: str | None = None
    trace: list[dict] | None = None
    final_memory: dict | None = None
    results: dict | None = None
    bounds: dict = field(default_factory=dict)
    graph: dict | None = None
    """Under an axiomatic (weak) model: the execution graph of the
    counterexample (events, rf, co, and named edges such as dependencies and
    the model relations that made the outcome possible)."""

    @property
    def ok(self) -> bool:
        return self.violation is None

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "verdict": self.verdict,
            "config": self.config,
            "bounds": self.bounds,
            "stats": {**asdict(self.stats), "per_second": round(self.stats.per_second, 1)},
            "violation": self.violation.to_json() if self.violation else None,
            "schedule": self.schedule,
            "trace": self.trace,
            "final_memory": _jsonable(self.final_memory),
            "results": _jsonable(self.results),
            **({"graph": self.graph} if self.graph is not None else {}),
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, d: dict) -> "Result":
        if d.get("schema") != SCHEMA:
            from ..errors import UsageError
            raise UsageError(f"result schema={d.get('schema')!r}: this gupsim reads "
                             f"schema {SCHEMA}")
        st = dict(d["stats"])
        st.pop("per_second", None)
        return cls(d["verdict"], d["config"], Stats(**st),
                   Violation.from_json(d["violation"]) if d.get("violation") else None,
                   d.get("schedule"), d.get("trace"), d.get("final_memory"),
                   d.get("results"), d.get("bounds", {}), d.get("graph"))


def _jsonable(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return repr(value)
