"""The coordinator: hands out work, merges results, budgets, checkpoints.

The frontier is a heap of work items ordered by key, the order one worker
would explore them in. Tasks take the lowest keys first, so the explored part
of the tree grows from the left as a single worker's would. Results merge
back: counts into a ledger by item key, leftovers into the frontier.

Why the totals and the counterexample equal one worker's: without a
violation every item is explored exactly once, whoever explores it. With
``stop_on_first`` one worker stops at the first violating execution K in the
order; here, once K is known, work after K is dropped, work before K is
still done (it may hold an earlier violation, which then becomes K), and the
ledger entries after K are not counted. What is left counts exactly the
executions up to K.

Under a weak model (lkmm, armv8, armv7, power) load buffering reaches some
graphs twice, by different routes, and one worker counts only the first
(``dpor.run_items``): a complete execution seen before is a duplicate, and
a load-buffering item seen before is skipped with its subtree. Those sets
of digests are per task, so here each ledger entry also holds the digests
of the executions its task counted, and the executions total is the number
of distinct digests among the counted entries (with ``stop_on_first``,
those up to K; compaction folds them into ``base_digests``). That is one
worker's total: every execution one worker counts is explored by some task
(a task skips only copies it met itself, at a lower key); and every
execution explored here, even in a subtree one worker skipped, has a
digest one worker counted at a key no later (the skipped copy's first
occurrence is earlier in the order, and its subtree is the same). Within a
task items run in key order, so its first copy of a violating execution
has its lowest key, and the lowest key over all tasks is the one one worker
reports: the same graph, rendered by the worker that ran it
(``weakresult.counterexample``). The sets are per task, not per process,
for that reason: a set kept across tasks would count an execution under
the first task to meet it, which may come later in the order (past K).

So a copy met in two tasks is explored in both. That costs time, never a
digest one worker would not count: the verdict, the executions and the
counterexample are one worker's, the blocked, duplicate and event counts can
be higher (``bounds["exact"]`` names the exact figures). In the kernel cells
measured the copies lie within one task's subtree and every count equals
one worker's; a load-buffering litmus test of 390 executions explores
about 12% more events on two workers (12,057 against 10,802).
"""

from __future__ import annotations

import heapq
import signal
import time
from dataclasses import asdict

from ..check.config import CheckConfig
from ..check.explorer import build_result
from ..check.memory import WEAK
from ..check.result import Stats
from ..check.schedule import decode, encode as encode_schedule
from ..spec import Violation
from . import checkpoint as ckpt
from .tasks import Task

SEED_RANGE = 256           # executions per random/pct task


class _Found:
    """Stands in for the execution ``build_result`` re-runs with recording."""

    def __init__(self, violation):
        self.violation = violation


class Coordinator:
    """One parallel run of ``factory`` under ``config`` on ``backend``."""

    def __init__(self, factory, config: CheckConfig, backend, *, job=None,
                 checkpoint=None, every: float = 10.0, progress=None, slice_seconds=None):
        self.factory, self.config, self.backend = factory, config, backend
        self.job, self.path, self.every = job, checkpoint, every
        self.progress = progress
        self.slice = slice_seconds
        self.kind = "dpor" if config.strategy == "dpor" else "seeds"
        self.frontier: list = []           # heap of (key, n, item)
        self.tiebreak = 0
        self.ledger: list = []             # [(key, [executions, blocked, events], digests)]
        self.base = [0, 0, 0]              # counts of entries compacted away
        self.found = None                  # (key, actions or counterexample, violation)
        # weak models: digests of the executions counted (see the module doc)
        self.weak = self.kind == "dpor" and config.memory_model in WEAK
        self.base_digests = set() if self.weak else None   # of entries compacted away
        self._union, self._union_cut = None, None         # distinct digests counted
        self.duplicates = 0                # weak models: the tasks' duplicates
        self.seen = set() if config.count_classes else None
        self.next_seed = 0
        self.seed_todo: list = []          # (start, count) ranges to run before next_seed
        self.elapsed = 0.0                 # seconds spent before a resume
        self.inflight: dict = {}           # handle -> Task
        self.reserved = 0                  # executions promised to in-flight tasks
        self.stop_reason = None
        self.estimate = None
        self._cells = None
        if self.kind == "dpor":
            from ..check.strategies.dpor import ROOT_ITEM
            self._push((), ROOT_ITEM)

    # -- the frontier and the ledger -------------------------------------------------
    def _push(self, key, item):
        self.tiebreak += 1
        heapq.heappush(self.frontier, (tuple(key), self.tiebreak, item))

    def _take(self, n):
        out = []
        while self.frontier and len(out) < n:
            key, _, item = heapq.heappop(self.frontier)
            out.append((key, item))
        return out

    def _cut(self):
        """The key after which nothing counts (with ``stop_on_first``), or None."""
        return self.found[0] if self.found is not None and self.config.stop_on_first else None

    def _counted(self, key) -> bool:
        cut = self._cut()
        return cut is None or key <= cut

    def _sums(self) -> list:
        """[executions, blocked, events] summed over the counted entries (under
        a weak model the executions are each task's, duplicates across tasks
        included)."""
        out = list(self.base)
        for key, counts, _ in self.ledger:
            if self._counted(key):
                for i in range(3):
                    out[i] += counts[i]
        return out

    def _distinct(self) -> set:
        """Weak models: the digests of the executions of the counted entries."""
        cut = self._cut()
        if self._union is None or cut != self._union_cut:
            self._union, self._union_cut = set(self.base_digests), cut
            for key, _, digests in self.ledger:
                if cut is None or key <= cut:
                    self._union |= digests
        return self._union

    def totals(self) -> list:
        """[executions, blocked, events] counted so far (up to the violation)."""
        out = self._sums()
        if self.weak:
            out[0] = len(self._distinct())
        return out

    def _compact(self):
        """Fold ledger entries no later violation can exclude into ``base``: those
        before every pending key (a violation lies in pending work)."""
        pending = [k for k, _, _ in self.frontier[:1]]
        pending += [k for t in self.inflight.values() for k, _ in t.items[:1]]
        if self.kind == "seeds":
            pending.append((self.next_seed,))
            pending += [(t.start,) for t in self.inflight.values()]
        low = min(pending) if pending else None
        if self.found is not None and self.config.stop_on_first:
            low = self.found[0] if low is None else min(low, self.found[0])
            keep = [e for e in self.ledger if e[0] <= self.found[0]]
        else:
            keep = self.ledger
        if not self.config.stop_on_first:
            low = None                     # every execution counts
        rest = []
        for key, counts, digests in keep:
            if low is None or key < low:
                for i in range(3):
                    self.base[i] += counts[i]
                if digests:
                    self.base_digests |= digests
            else:
                rest.append((key, counts, digests))
        self.ledger = rest

    # -- dispatch ----------------------------------------------------------------------
    def _budget_left(self):
        if self.config.max_executions is None:
            return None
        return self.config.max_executions - self.totals()[0] - self.reserved

    def _slice(self):
        if self.slice is not None:
            return self.slice
        run = time.perf_counter() - self.t0 - self.elapsed
        if self.kind == "dpor" and len(self.frontier) < 2 * self.backend.workers:
            # too little to share: split it up, quickly at the start
            return 0.02 if run < 0.5 else 0.2
        return min(2.0, max(0.5, run / 20))

    def _next_task(self):
        left = self._budget_left()
        if left is not None and left <= 0:
            return None
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            return None
        seconds = self._slice()
        if self.deadline is not None:
            seconds = max(0.01, min(seconds, self.deadline - time.perf_counter()))
        if self.kind == "seeds":
            return self._seed_task(seconds, left)
        if not self.frontier:
            return None
        if self.found is not None and self.config.stop_on_first:
            self.frontier = [e for e in self.frontier if e[0] < self.found[0]]
            heapq.heapify(self.frontier)
            if not self.frontier:
                return None
        n = max(1, min(64, len(self.frontier) // (2 * self.backend.workers)))
        if left is not None:           # a share of what is left, so all workers get some
            left = max(1, min(left, left // (2 * self.backend.workers) or 1, 4096))
        return Task("dpor", self._take(n), seconds=seconds, max_executions=left,
                    found_key=self.found and self.found[0])

    def _seed_task(self, seconds, left):
        if self.seed_todo:
            start, count = self.seed_todo.pop(0)
        else:
            start, count = self.next_seed, SEED_RANGE
            self.next_seed += count
        if self.found is not None and self.config.stop_on_first and start > self.found[0][0]:
            return None
        if left is not None and count > left:
            self.seed_todo.insert(0, (start + left, count - left))
            count = left
        return Task("seeds", start=start, count=count, seconds=seconds, max_executions=count)

    def _fill(self):
        while not self.stop_reason and len(self.inflight) < 2 * self.backend.workers:
            task = self._next_task()
            if task is None:
                return
            if task.max_executions is not None:
                self.reserved += task.max_executions
            self.inflight[self.backend.submit(task)] = task

    def _merge(self, handle, res):
        task = self.inflight.pop(handle)
        if task.max_executions is not None:
            self.reserved -= task.max_executions
        for k, counts, digests in res.ledger:
            k = tuple(k)
            self.ledger.append((k, counts, digests))
            if digests and self._union is not None and (self._union_cut is None
                                                        or k <= self._union_cut):
                self._union |= digests
        self.duplicates += res.duplicates
        if self.seen is not None and res.seen:
            self.seen |= res.seen
        if res.found is not None and (self.found is None or tuple(res.found[0]) < self.found[0]):
            self.found = (tuple(res.found[0]),) + tuple(res.found[1:])
        cut = self.found[0] if self.found is not None and self.config.stop_on_first else None
        for key, item in res.leftovers:
            if cut is None or tuple(key) < cut:
                self._push(key, item)
        if task.kind == "seeds" and res.done < task.count and res.found is None:
            # the slice ended early: the rest of the range goes round again
            self.seed_todo.insert(0, (task.start + res.done, task.count - res.done))

    # -- the run ---------------------------------------------------------------------
    def run(self):
        """Explore until done, a budget, a violation (with stop_on_first) or a
        signal; returns the ``Result``."""
        cfg = self.config
        self.t0 = time.perf_counter() - self.elapsed     # elapsed: before a resume
        self.deadline = None if cfg.max_seconds is None else self.t0 + cfg.max_seconds
        last_save = time.perf_counter()
        old = _catch_signals(self._on_signal)
        if self.path is not None:
            self.save()                    # a run killed at once still resumes
        try:
            self._fill()
            while self.inflight:
                timeout = None if self.path is None else max(0.05, last_save + self.every
                                                             - time.perf_counter())
                for handle, res in self.backend.wait(list(self.inflight), timeout):
                    self._merge(handle, res)
                if len(self.ledger) > 4096:
                    self._compact()
                self._report()
                self._fill()
                if self.path is not None and time.perf_counter() - last_save >= self.every:
                    self.save()
                    last_save = time.perf_counter()
        finally:
            _restore_signals(old)
        self._compact()
        if self.path is not None:
            self.save()
        return self.result()

    def _on_signal(self, signum, frame):
        self.stop_reason = f"interrupted by {signal.Signals(signum).name}"

    def _report(self):
        if self.progress is None:
            return
        e, b, _ = self.totals()
        st = Stats(executions=e, blocked=b, seconds=time.perf_counter() - self.t0)
        est = None if self.estimate is None else max(self.estimate, e + b + len(self.frontier))
        self.progress(st, est)

    def _done(self) -> bool:
        """Nothing left: the whole tree (dpor) or the whole budget (seeds)."""
        if self.kind == "dpor":
            return not self.frontier and not self.inflight
        return False

    def result(self):
        cfg = self.config
        e, b, ev = self.totals()
        stopped = self.found is not None and cfg.stop_on_first
        stats = Stats(executions=e, blocked=b, events=ev,
                      seconds=time.perf_counter() - self.t0,
                      exhausted=self._done() and not stopped and not self.stop_reason)
        if self.weak:
            stats.duplicates = self.duplicates + self._sums()[0] - e
            if self.seen is not None:          # (as one worker: none under a weak model)
                stats.classes = len(self.seen)
            from ..check.memory import axiomatic_model
            from ..check.strategies.weakresult import weak_result
            found = self.found and (self.found[1], self.found[2])
            res = weak_result(cfg, stats, found, axiomatic_model(cfg.memory_model))
        else:
            if self.seen is not None:
                stats.classes = len(self.seen)
                stats.duplicates = e - len(self.seen)
            found = None
            if self.found is not None:
                found = (_Found(self.found[2]), list(self.found[1]))
            res = build_result(self.factory, cfg, stats, found, None)
        res.bounds["workers"] = self.backend.workers
        if self.kind == "dpor":
            res.bounds["exact"] = ["verdict", "executions", "counterexample"] + \
                ([] if self.weak else ["blocked", "events"])
        if not stats.exhausted and found is None:
            res.bounds["covered"] = self._coverage()
            if self.stop_reason:
                res.bounds["stopped_by"] = self.stop_reason
        return res

    def _coverage(self) -> dict:
        e, b, _ = self.totals()
        out = {"executions": e, "blocked": b}
        if self.kind == "dpor":
            out["pending_items"] = len(self.frontier)
            if self.estimate is not None:     # at least what is known to exist
                out["estimated_total"] = int(max(self.estimate, e + b + len(self.frontier)))
        else:
            out["seeds"] = f"executions 0..{e - 1} of seed {self.config.seed}"
        return out

    # -- checkpoints -----------------------------------------------------------------
    def state(self) -> dict:
        """The JSON-able frontier (in-flight work included) and totals."""
        if self._cells is None:
            self._cells = ckpt.program_cells(self.factory)
        items = [(k, i) for k, _, i in self.frontier]
        todo = list(self.seed_todo)
        for task in self.inflight.values():
            items += [(tuple(k), i) for k, i in task.items]
            if task.kind == "seeds":
                todo.append((task.start, task.count))
        items.sort(key=lambda ki: ki[0])
        frontier = [[list(k), ckpt.encode(ckpt.as_records(i, self._cells))] for k, i in items]
        found = None
        if self.found is not None:
            found = {"key": list(self.found[0]), "violation": self.found[2].to_json()}
            if self.weak:
                found["counterexample"] = ckpt.encode(self.found[1])
            else:
                found["schedule"] = encode_schedule(self.found[1])
        ledger = [[list(k), c] + ([] if d is None else [_hex(d)]) for k, c, d in self.ledger]
        return {"job": self.job, "config": asdict(self.config), "kind": self.kind,
                "frontier": frontier, "seed_todo": sorted(todo), "next_seed": self.next_seed,
                "base": self.base, "ledger": ledger,
                "base_digests": None if self.base_digests is None else _hex(self.base_digests),
                "duplicates": self.duplicates,
                "found": found, "seen": None if self.seen is None else _hex(self.seen),
                "seconds": time.perf_counter() - self.t0, "estimate": self.estimate}

    def save(self):
        ckpt.save(self.path, self.state())

    def restore(self, data: dict) -> None:
        """Continue from ``checkpoint.load(path)``'s ``data``."""
        self.frontier, self.tiebreak = [], 0
        for key, item in data["frontier"]:
            self._push(tuple(key), ckpt.decode(item))
        self.seed_todo = [tuple(r) for r in data["seed_todo"]]
        self.next_seed = data["next_seed"]
        self.base = list(data["base"])
        self.ledger = [(tuple(e[0]), list(e[1]), _unhex(e[2]) if len(e) > 2 else
                        (set() if self.weak else None)) for e in data["ledger"]]
        if self.weak:
            self.base_digests = _unhex(data.get("base_digests") or [])
        self._union = None
        self.duplicates = data.get("duplicates", 0)
        f = data["found"]
        if f is not None:
            shown = ckpt.decode(f["counterexample"]) if "counterexample" in f else \
                decode(f["schedule"])
            self.found = (tuple(f["key"]), shown, Violation.from_json(f["violation"]))
        else:
            self.found = None
        if data.get("seen") is not None:
            self.seen = _unhex(data["seen"])
        self.elapsed = data["seconds"]
        self.estimate = data.get("estimate")


def _hex(digests) -> list:
    return sorted(x.hex() for x in digests)


def _unhex(texts) -> set:
    return {bytes.fromhex(x) for x in texts}


def _catch_signals(handler):
    """SIGINT and SIGTERM set the stop flag (main thread only)."""
    import threading
    if threading.current_thread() is not threading.main_thread():
        return None
    return {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}


def _restore_signals(old):
    for s, h in (old or {}).items():
        signal.signal(s, h)
