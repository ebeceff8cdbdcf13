"""Exhaustive depth-first search over every interleaving (the ground truth).

Stateless: each execution is rebuilt from the factory and replays the current
path of choices, then extends it with the first enabled action; backtracking
advances the deepest choice that has an untried alternative (Godefroid,
"Model checking for programming languages using VeriSoft", POPL 1997).

With a preemption bound k, only schedules with at most k preemptions are run
(Musuvathi and Qadeer, PLDI 2007): a preemption is a switch away from a thread
that could still have run.
"""

from __future__ import annotations

from ...errors import NondeterminismError


class DepthFirst:
    exhaustive = True

    def __init__(self, preemption_bound: int | None = None):
        self.bound = preemption_bound
        self.path: list[list] = []   # per depth: [choices, index, preemptions before]
        self.depth = 0
        self.started = False
        self.last = None
        self.used = 0

    def begin(self) -> bool:
        if self.started:
            while self.path and self.path[-1][1] + 1 >= len(self.path[-1][0]):
                self.path.pop()
            if not self.path:
                return False
            self.path[-1][1] += 1
        self.started = True
        self.depth = 0
        self.last = None
        self.used = 0
        return True

    def choose(self, enabled):
        d = self.depth
        self.depth += 1
        if d < len(self.path):
            choices, index, used = self.path[d]
            if self.bound is None and choices != enabled:
                raise NondeterminismError(
                    f"replay diverged at step {d}: expected enabled actions {choices}, "
                    f"got {enabled}. Is the scenario deterministic?")
            action = choices[index]
        else:
            choices = self._allowed(enabled)
            self.path.append([choices, 0, self.used])
            action = choices[0]
        self._account(action, enabled)
        return action

    def _allowed(self, enabled):
        if self.bound is None or self.last is None or self.used < self.bound:
            return list(enabled)
        still = [a for a in enabled if a[0] == self.last]
        return still or list(enabled)

    def _account(self, action, enabled):
        if (self.last is not None and action[0] != self.last
                and any(t == self.last for t, _ in enabled)):
            self.used += 1
        self.last = action[0]

    def end(self) -> None:
        pass
