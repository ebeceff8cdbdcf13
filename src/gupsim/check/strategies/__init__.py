"""Exploration strategies, one module each, behind one protocol.

An interleaving strategy is asked, before each execution, whether there is one
more to run (``begin``), then at every step which of the enabled actions to
take (``choose``), and told when the execution ended (``end``). ``dpor``
explores execution graphs instead and drives executions itself
(``check.graph``); ``check.explorer`` runs both kinds.
"""

from __future__ import annotations

from typing import Protocol

Action = tuple[int, str]


class Strategy(Protocol):
    exhaustive: bool

    def begin(self) -> bool: ...

    def choose(self, enabled: list[Action]) -> Action: ...

    def end(self) -> None: ...


def make_strategy(config):
    from .dfs import DepthFirst
    from .pct import PCT
    from .random import RandomWalk
    from .replay import Replay
    name = config.strategy
    if name == "dfs":
        return DepthFirst(config.preemption_bound)
    if name == "random":
        return RandomWalk(config.seed)
    if name == "pct":
        return PCT(config.seed, config.pct_depth)
    if name == "replay":
        return Replay(config.schedule)
    raise ValueError(name)
