"""Work items and the task a worker runs on them (the worker side).

A *task* is a batch of independent work with a time slice:

* ``dpor``: items of the exploration tree, each with its key (its place in
  the order one worker explores in, see ``dpor.run_items``). The worker
  explores them depth first, last-pushed first, exactly as one worker would,
  until the slice ends; what is left on its stack (the unexplored siblings of
  the path it was on) goes back as new items. That is dynamic splitting: a
  skewed subtree comes back in pieces and is spread over every worker.
  Under a weak model each ledger entry also lists the digests of the
  executions it counted (two routes can reach one execution, see
  ``coordinator``), a counterexample comes back as its rendering
  (``weakresult.counterexample``) and leftovers as ``records`` items: a
  copied graph (``snap``) holds the program's ops, which need not pickle.
* ``seeds``: a range of execution indices of ``random`` or ``pct``;
  execution i of seed s draws from its own generator, so any range can run
  anywhere.

Tasks and their results are plain picklable data; the factory and the
config reach the worker once (``Worker``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..check.config import CheckConfig
from ..check.result import Stats


@dataclass
class Task:
    kind: str                          # "dpor" or "seeds"
    items: list = field(default_factory=list)   # dpor: [(key, item)], lowest key first
    start: int = 0                     # seeds: first execution index
    count: int = 0                     # seeds: how many
    seconds: float = 0.5               # the time slice
    max_executions: int | None = None  # what is left of --max-executions
    found_key: tuple | None = None     # the lowest violation known when it was sent


@dataclass
class TaskResult:
    ledger: list                       # [(key, [executions, blocked, events], digests)]
    found: tuple | None                # (key, actions, violation) of its first violation
    leftovers: list                    # dpor: [(key, item)] not explored in the slice
    seen: set | None                   # class digests (count_classes)
    done: int = 0                      # seeds: executions run from ``start``
    seconds: float = 0.0
    duplicates: int = 0                # weak dpor: stats.duplicates of the task


class Worker:
    """Runs tasks for one program and config (one per process, or per call)."""

    def __init__(self, factory, config: CheckConfig):
        from ..check.memory import WEAK
        self.factory, self.config = factory, config
        self.weak = config.memory_model in WEAK
        self._cells = None

    def run(self, task: Task) -> TaskResult:
        t0 = time.perf_counter()
        if task.kind == "dpor":
            res = self._dpor(task, t0)
        else:
            res = self._seeds(task, t0)
        res.seconds = time.perf_counter() - t0
        return res

    def _dpor(self, task: Task, t0: float) -> TaskResult:
        from ..check.strategies.dpor import run_items
        stack = [item for _, item in reversed(task.items)]
        keys = [tuple(key) for key, _ in reversed(task.items)]
        ledger = {k: [0, 0, 0] for k in keys}
        digests = {k: set() for k in keys} if self.weak else None
        stats = Stats()
        seen = set() if self.config.count_classes else None
        found = run_items(self.factory, self.config, stack, stats, deadline=t0 + task.seconds,
                          max_executions=task.max_executions, seen=seen, t0=t0, keys=keys,
                          ledger=ledger, digests=digests)
        if found is not None:
            found = self._found(found, task.found_key)
            if self.config.stop_on_first:
                stack, keys = [], []       # all of it comes after the violation
        leftovers = list(zip(reversed(keys), reversed(stack)))
        if self.weak:
            leftovers = [(k, self._portable(i)) for k, i in leftovers]
        return TaskResult([(k, v, None if digests is None else digests[k])
                           for k, v in ledger.items()], found, leftovers, seen,
                          duplicates=stats.duplicates)

    def _found(self, found, known):
        """``(key, actions, violation)`` (sc, tso) or ``(key, counterexample,
        violation)`` (weak: rendered here unless a violation with a lower key
        is already known, which makes this one never reported)."""
        if not self.weak:
            key, ex, actions = found
            return key, actions, ex.violation
        key, eg, violation = found
        shown = None
        if known is None or tuple(key) < tuple(known):
            from ..check.memory import axiomatic_model
            from ..check.strategies.weakresult import counterexample
            shown = counterexample(eg, axiomatic_model(self.config.memory_model), self.factory)
        return key, shown, violation

    def _portable(self, item):
        """A ``snap`` item as the ``records`` item that rebuilds it (it pickles)."""
        if item[0] != "snap":
            return item
        from .checkpoint import as_records, program_cells
        if self._cells is None:
            self._cells = program_cells(self.factory)
        return as_records(item, self._cells)

    def _seeds(self, task: Task, t0: float) -> TaskResult:
        from ..check.explorer import drive
        from ..check.runtime import Execution
        from ..check.strategies import make_strategy
        from ..check.strategies.dpor import class_digest
        config = self.config
        strategy = make_strategy(config)
        strategy.n = task.start
        counts = [0, 0, 0]
        seen = set() if config.count_classes else None
        found = None
        deadline = t0 + task.seconds if task.seconds else None
        limit = task.count if task.max_executions is None else min(task.count,
                                                                   task.max_executions)
        done = 0
        while done < limit and (deadline is None or time.perf_counter() <= deadline):
            strategy.begin()
            ex = Execution(self.factory, config.memory_model)
            actions, _ = drive(ex, strategy)     # a random walk never stops early
            ex.finish()
            strategy.end()
            done += 1
            counts[0] += 1
            counts[2] += len(ex.events)
            if seen is not None:
                seen.add(class_digest(ex.signature()))
            if ex.violation is not None and found is None:
                found = ((task.start + done - 1,), actions, ex.violation)
                if config.stop_on_first:
                    break
        return TaskResult([((task.start,), counts, None)], found, [], seen, done)


_WORKER: Worker | None = None


def init_process(factory, config) -> None:
    """Pool initializer: keep the program, ignore ^C (the coordinator handles
    it), and die with the coordinator (kill -9 leaves no orphans). Each worker
    is a session of its own, so with the scheduler's autogroups (one CPU share
    per session) N workers get N shares, as N separate runs would."""
    import os
    import signal
    global _WORKER
    _WORKER = Worker(factory, config)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        os.setsid()
    except OSError:
        pass
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)    # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run_in_process(task: Task) -> TaskResult:
    return _WORKER.run(task)
