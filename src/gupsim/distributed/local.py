"""A pool of forked worker processes on this machine.

Each worker gets the program and the config once, when it is forked (so a
factory that is a closure needs no pickling); tasks and results cross as
pickles. Balance comes from the coordinator: tasks are time slices, and a
slice that ends inside a big subtree sends its unexplored siblings back to be
shared out (dynamic splitting), so a skewed tree keeps every worker busy.
Workers ignore ^C and die with the coordinator (``tasks.init_process``).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from .tasks import init_process, run_in_process


class ProcessPool:
    def __init__(self, factory, config, workers: int):
        self.workers = workers
        ctx = multiprocessing.get_context("fork")
        self.pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=init_process,
                                        initargs=(factory, config))

    def submit(self, task):
        return self.pool.submit(run_in_process, task)

    def wait(self, handles, timeout):
        done, _ = wait(handles, timeout=timeout, return_when=FIRST_COMPLETED)
        return [(f, f.result()) for f in handles if f in done]

    def close(self):
        self.pool.shutdown(wait=True, cancel_futures=True)


def map_ordered(fn, args: list[tuple], workers: int, on_result=None) -> list:
    """``[fn(*a) for a in args]`` on ``workers`` forked processes, results in
    order (``on_result(i, r)`` is called in order as they arrive)."""
    if workers <= 1 or len(args) <= 1:
        out = []
        for i, a in enumerate(args):
            out.append(fn(*a))
            if on_result is not None:
                on_result(i, out[-1])
        return out
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(min(workers, len(args)), mp_context=ctx,
                             initializer=_quiet) as pool:
        futures = [pool.submit(fn, *a) for a in args]
        out = []
        for i, f in enumerate(futures):
            out.append(f.result())
            if on_result is not None:
                on_result(i, out[-1])
        return out


def _quiet():
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
