"""Uniform random walk: at each step, any enabled action with equal chance.

Each execution ``i`` of a run with seed ``s`` draws from its own generator
seeded with ``(s, i)``, so one execution can be reproduced alone.
"""

from __future__ import annotations

import random


class RandomWalk:
    exhaustive = False

    def __init__(self, seed: int = 0):
        self.seed = seed
        self.n = 0
        self.rng = None

    def begin(self) -> bool:
        self.rng = random.Random(f"{self.seed}:{self.n}")
        self.n += 1
        return True

    def choose(self, enabled):
        return enabled[self.rng.randrange(len(enabled))] if len(enabled) > 1 else enabled[0]

    def end(self) -> None:
        pass
