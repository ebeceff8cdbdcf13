"""How big is the exploration tree? Knuth's random probes.

Knuth ("Estimating the efficiency of backtrack programs", Math. Comp. 1975):
walk from the root to a leaf choosing a child uniformly at random; if the
nodes on the walk have d1, d2, ... children, ``1 + d1 + d1*d2 + ...`` is an
unbiased estimate of the number of nodes. Here a node is a ``dpor`` work
item (one execution, or one blocked graph) and its children are the choices
it pushes. The mean of a fixed number of probes from a fixed seed is the
estimate (deterministic; like GenMC's ``--estimate``, good to an order of
magnitude on skewed trees).
"""

from __future__ import annotations

import random

PROBES = 24


def probe(factory, config, rng: random.Random) -> float:
    from ..check.result import Stats
    from ..check.strategies.dpor import ROOT_ITEM, GraphRun
    item, total, weight = ROOT_ITEM, 1.0, 1.0
    while True:
        children: list = []
        run = GraphRun(factory, item, children, Stats(), config.memory_model)
        run.extend()
        if not children:
            return total
        weight *= len(children)
        total += weight
        item = children[rng.randrange(len(children))]


def knuth_estimate(factory, config, probes: int = PROBES, seed: int = 0) -> float:
    """Estimated number of work items (executions + blocked) of the whole tree."""
    rng = random.Random(f"estimate:{seed}")
    return sum(probe(factory, config, rng) for _ in range(probes)) / probes
