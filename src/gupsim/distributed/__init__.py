"""Scale-out: the same exploration on every local core or on a Ray cluster.

Work is cut into independent items (``tasks``): subtrees of the ``dpor``
exploration tree, ranges of ``random``/``pct`` executions, matrix cells. A
*backend* runs tasks somewhere and hands back their results; the
``Coordinator`` decides what to run next, merges, enforces budgets and writes
checkpoints. Backends:

* ``InlineBackend``: in this process (one worker; checkpoints and signals
  still work);
* ``local.ProcessPool``: a pool of forked processes on this machine;
* ``ray_backend.RayBackend``: Ray tasks on a cluster (``pip install gupsim[ray]``).

``explore(factory, config, workers=..., ray=..., checkpoint=...)`` is the one
entry point; ``explore(..., resume_from=checkpoint.load(path))`` continues
from a checkpoint (``gupsim resume``). A ``dpor`` tree splits under every
memory model; under an axiomatic one (lkmm, armv8, armv7, power) the
verdict, the executions and the counterexample are one worker's, the
blocked, duplicate and event counts need not be (``coordinator``).
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from ..errors import UsageError


class Backend(Protocol):
    """Runs tasks (``tasks.Task``) and returns ``tasks.TaskResult``s."""

    workers: int

    def submit(self, task) -> Any:
        """Start ``task``; returns a handle."""

    def wait(self, handles: list, timeout: float | None) -> list[tuple[Any, Any]]:
        """(handle, result) for the tasks among ``handles`` that are done, after
        waiting up to ``timeout`` seconds for at least one."""

    def close(self) -> None: ...


class InlineBackend:
    """One worker: this process runs each task when it is waited for."""

    workers = 1

    def __init__(self, factory, config):
        from .tasks import Worker
        self.worker = Worker(factory, config)
        self.pending: dict[int, Any] = {}
        self.n = 0

    def submit(self, task):
        self.n += 1
        self.pending[self.n] = task
        return self.n

    def wait(self, handles, timeout):
        h = min(handles)
        return [(h, self.worker.run(self.pending.pop(h)))]

    def close(self):
        pass


def parse_workers(value) -> int:
    """``--workers N|auto`` -> a count (auto: the cores this process may use)."""
    if value is None:
        return 1
    if isinstance(value, int):
        n = value
    elif str(value).strip().lower() == "auto":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
            else (os.cpu_count() or 1)
    else:
        try:
            n = int(str(value))
        except ValueError:
            raise UsageError(f"--workers {value!r}: expected a whole number >= 1 or auto") \
                from None
    if n < 1:
        raise UsageError(f"--workers {value!r}: expected a whole number >= 1 or auto")
    return n


def make_backend(factory, config, workers: int = 1, ray: str | None = None, job=None):
    if ray is not None:
        from .ray_backend import RayBackend
        return RayBackend(factory, config, ray, workers if workers > 1 else None, job)
    if workers > 1:
        from .local import ProcessPool
        return ProcessPool(factory, config, workers)
    return InlineBackend(factory, config)


def parallel_supported(config, observe=None) -> bool:
    """dfs (one path of choices) and replay run in one process; so does a run
    that observes every execution (its callback lives here)."""
    return config.strategy in ("dpor", "random", "pct") and observe is None


def explore(factory, config, *, workers: int = 1, ray: str | None = None,
            checkpoint: str | None = None, every: float = 10.0, progress=None,
            job=None, estimate: bool = False, resume_from: dict | None = None):
    """Explore ``factory`` under ``config`` with the given workers; the
    ``Result`` (verdict, totals, counterexample) is the one a single worker
    gives, for any number of workers (see ``coordinator``)."""
    from ..check import check
    from .coordinator import Coordinator
    if not parallel_supported(config) or (workers == 1 and ray is None and checkpoint is None
                                          and resume_from is None and not estimate):
        return check(factory, config, progress)
    if config.strategy == "dpor":
        from ..check.strategies.dpor import refuse_step_invariants
        refuse_step_invariants(factory, config.memory_model)
    backend = make_backend(factory, config, workers, ray, job)
    try:
        coord = Coordinator(factory, config, backend, job=job, checkpoint=checkpoint,
                            every=every, progress=progress)
        if resume_from is not None:
            coord.restore(resume_from)
        elif estimate and config.strategy == "dpor":
            from .estimate import knuth_estimate
            coord.estimate = knuth_estimate(factory, config)
        return coord.run()
    finally:
        backend.close()


__all__ = ["Backend", "InlineBackend", "explore", "make_backend", "parse_workers",
           "parallel_supported"]
