"""Replay one schedule exactly; a divergence is the scenario's nondeterminism."""

from __future__ import annotations

from ...errors import NondeterminismError
from ..schedule import decode


class Replay:
    exhaustive = False

    def __init__(self, schedule: str):
        self.actions = decode(schedule)
        self.i = 0
        self.done = False

    def begin(self) -> bool:
        if self.done:
            return False
        self.done = True
        return True

    def choose(self, enabled):
        if self.i >= len(self.actions):
            return None
        action = self.actions[self.i]
        if action not in enabled:
            raise NondeterminismError(
                f"replay diverged at step {self.i}: the schedule says {action[0]}{action[1]}, "
                f"but the enabled actions are {enabled}. Is the scenario deterministic, "
                f"and is it the same scenario, options and memory model?")
        self.i += 1
        return action

    def end(self) -> None:
        if self.i < len(self.actions):
            rest = self.actions[self.i]
            raise NondeterminismError(
                f"replay diverged at step {self.i}: the execution ended, but the schedule "
                f"goes on with {rest[0]}{'' if rest[1] == 's' else rest[1]}. Is it the same "
                f"scenario, parameters and memory model (try another --memory-model)?")
