"""Probabilistic Concurrency Testing (Burckhardt, Kothari, Musuvathi and
Nagarakatte, "A randomized scheduler with probabilistic guarantees of finding
bugs", ASPLOS 2010).

Each execution gives the threads random distinct priorities (all above d) and
picks d-1 random change points among the first k steps; the highest-priority
enabled thread always runs, and when the execution reaches change point i the
running thread's priority drops to i. With n threads and k steps, one
execution finds any bug of depth d with probability at least 1/(n k^(d-1)).
k is learned: the longest execution seen so far (the first run uses 64).

Under TSO each CPU's store buffer is a schedulable agent of its own: its
flushes get their own priority, so a CPU's loads can overtake its buffered
stores at the same rate any other ordering point is hit.
"""

from __future__ import annotations

import random


class PCT:
    exhaustive = False

    def __init__(self, seed: int = 0, depth: int = 2):
        self.seed, self.d = seed, depth
        self.k = 0
        self.n = 0
        self.rng = None
        self.prio: dict[int, float] = {}
        self.changes: dict[int, int] = {}
        self.step = 0

    def begin(self) -> bool:
        self.rng = random.Random(f"pct:{self.seed}:{self.n}")
        self.n += 1
        self.prio = {}
        k = self.k or 64
        points = self.rng.sample(range(1, k + 1), min(self.d - 1, k))
        self.changes = {p: i + 1 for i, p in enumerate(sorted(points))}
        self.step = 0
        return True

    def _priority(self, action) -> float:
        agent = (action[0], action[1] == "f")       # a thread, or its store buffer
        if agent not in self.prio:   # first seen: a random rank above d
            self.prio[agent] = self.d + self.rng.random()
        return self.prio[agent]

    def _best(self, enabled):
        return max(enabled, key=lambda a: (self._priority(a), a[1] == "i"))

    def choose(self, enabled):
        self.step += 1
        best = self._best(enabled)
        drop = self.changes.get(self.step)
        if drop is not None:
            self.prio[(best[0], best[1] == "f")] = float(drop) / (self.d + 1)
            best = self._best(enabled)
        return best

    def end(self) -> None:
        self.k = max(self.k, self.step)
