"""Checker configuration: one frozen dataclass, validated on construction."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from ..errors import UnknownName, UsageError

STRATEGIES = ("dpor", "dfs", "random", "pct", "replay", "enum")
GRAPH_STRATEGIES = ("dpor", "enum", "replay")


@dataclass(frozen=True)
class CheckConfig:
    """How to explore.

    strategy: ``dpor`` (optimal, one execution per reads-from/coherence class),
        ``dfs`` (every interleaving), ``random``, ``pct``, ``replay``, ``enum``
        (every candidate execution judged by the model's axioms, as herd7 does:
        the slow ground truth for the weak models).
    memory_model: ``sc``, ``tso`` (operational and axiomatic), or one of the
        axiomatic weak models ``lkmm``, ``armv8``, ``power`` (graph strategies
        only: ``dpor``, ``enum``, ``replay`` of a ``g1:`` schedule).
    max_executions / max_seconds: budgets; a run that hits one is
        ``incomplete`` unless it found a violation.
    preemption_bound: explore only schedules with at most this many
        preemptions (dfs and dpor).
    seed: for random and pct (a run is determined by the seed).
    pct_depth: the bug depth d that PCT targets.
    schedule: the schedule string to follow (replay).
    stop_on_first: stop at the first violation (else count them all).
    record: keep source lines and notes for the trace of the reported execution.
    """

    strategy: str = "dpor"
    memory_model: str = "sc"
    max_executions: int | None = None
    max_seconds: float | None = None
    preemption_bound: int | None = None
    seed: int = 0
    pct_depth: int = 2
    schedule: str | None = None
    stop_on_first: bool = True
    count_classes: bool = False

    def __post_init__(self):
        from .memory import ALL_MODELS, MODELS
        if self.strategy not in STRATEGIES:
            raise UnknownName("strategy", self.strategy, STRATEGIES)
        if self.memory_model not in ALL_MODELS:
            raise UnknownName("memory model", self.memory_model, ALL_MODELS)
        if self.memory_model not in MODELS and self.strategy not in GRAPH_STRATEGIES:
            raise UsageError(f"memory_model={self.memory_model!r} is axiomatic: explore it "
                             f"with strategy dpor or enum, not {self.strategy}")
        for name in ("max_executions", "preemption_bound"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise UsageError(f"{name}={value!r}: expected a whole number >= 0")
        if self.max_seconds is not None and not self.max_seconds > 0:
            raise UsageError(f"max_seconds={self.max_seconds!r}: expected a number > 0")
        if not isinstance(self.pct_depth, int) or self.pct_depth < 1:
            raise UsageError(f"pct_depth={self.pct_depth!r}: expected a whole number >= 1")
        if self.strategy == "replay" and not self.schedule:
            raise UsageError("strategy=replay needs a schedule (the string printed with "
                             "a counterexample)")

    def with_(self, **changes) -> "CheckConfig":
        return replace(self, **changes)

    @classmethod
    def from_env(cls, **overrides) -> "CheckConfig":
        """Defaults overridden by GUPSIM_STRATEGY, GUPSIM_MEMORY_MODEL, GUPSIM_SEED,
        GUPSIM_MAX_EXECUTIONS, then by ``overrides``."""
        env = {}
        if "GUPSIM_STRATEGY" in os.environ:
            env["strategy"] = os.environ["GUPSIM_STRATEGY"]
        if "GUPSIM_MEMORY_MODEL" in os.environ:
            env["memory_model"] = os.environ["GUPSIM_MEMORY_MODEL"]
        for key, name in (("GUPSIM_SEED", "seed"), ("GUPSIM_MAX_EXECUTIONS", "max_executions")):
            if key in os.environ:
                try:
                    env[name] = int(os.environ[key])
                except ValueError:
                    raise UsageError(f"{key}={os.environ[key]!r}: expected a whole number") \
                        from None
        env.update(overrides)
        return cls(**env)
