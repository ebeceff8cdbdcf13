"""Undeclared dependencies: where a thread decides on a value it read without
saying so to the weak memory models.

The weak models see only declared dependencies (``reg=`` on a read, then
``Branch``, ``data=``, ``addr=`` or ``AddrScope``; see ``gupsim.ops``). A
thread that computes a later op from a read value in Python without declaring
it lets a weak model move that op before the read: for a store, an execution
(load buffering) that hardware never produces, since no CPU makes a store
visible before the load its address, value or control flow depends on.

``audit(factory)`` finds such places by counterfactual re-execution. It runs a
few executions of the program under ``sc`` and then, for every read event of
every thread (a ``Load``, the read of an ``Rmw``, the values of an ``Await``),
re-runs the same execution with every read of every thread returning what it
returned before except that one, which returns another value that a write to
the cell gives in some sampled execution (or the cell's initial value). Every
other thread then does exactly what it did; only the forced thread may change.
Its later ops are compared with the original ones:

* ``ctrl``: the thread takes another path: a later op reached from another
  place in the code (another call chain, file and line), of another kind,
  order or label, or the thread ending, raising or going on where it did
  not, without a ``Branch`` naming the read before that op (in both runs);
* ``addr``: the same op at the same place accesses another cell, without
  ``addr=`` or an ``AddrScope`` naming the read (in both runs);
* ``data``: the same store or RMW at the same place writes another value (or
  has another ``expected``), without ``data=`` naming the read (in both runs).

A failed ``Assert`` in a forced run is not a decision: the thread runs on past
it, as if the check were compiled out (it is a model check, not control flow
the ordering rests on); if the thread then raises, that is a ``ctrl``
divergence like any other. Reads made by the checker's own code (the
interrupt protocol) are not forced. An ``Await``'s reads are forced only to
values its predicate accepts; a change in what follows them is reported with
``read_kind="await"``, except a change of path: the wait is a loop on those
reads, a control dependency to everything after it (as herd counts a spin
loop's exit), and the exploration never lets an ``Await``'s reads be
satisfied early. (An ``Await`` names no register, so what it returns cannot
be declared as an address or a value.)

The result is deterministic: the executions are those of the seeded
``random`` strategy (or of ``dfs``), the values are tried in first-seen order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..errors import NondeterminismError, UsageError
from ..ops import Await, Load, Rmw, Store
from .config import CheckConfig
from .context import IRQ, short, source_of
from .explorer import drive
from .runtime import Execution
from .strategies import make_strategy

_OWN = "gupsim/check/"                   # the checker's own frames (short paths)


@dataclass(frozen=True)
class Site:
    """A place in the thread's code: ``file:line`` in ``function``."""

    file: str
    line: int
    function: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} ({self.function})"


@dataclass(frozen=True)
class Finding:
    """One undeclared dependency: the op at ``op`` (or, for ``ctrl``, the
    path taken there) changes with the value the read at ``read`` returns."""

    kind: str               # "ctrl", "addr" or "data"
    thread: str
    read: Site
    read_op: str            # what the read does (op.describe())
    read_kind: str          # "load", "rmw" or "await"
    op: Site                # the original op that changes (or where the thread was)
    op_desc: str
    alt: Site | None        # where the forced run went instead (ctrl), if anywhere
    alt_desc: str
    value: str              # repr of the value read, and of the one forced
    forced: str
    count: int = 1          # forced runs that showed it
    stack: tuple = ()       # the read's call chain (Sites, outermost first)
    op_stack: tuple = ()    # the op's call chain in the recorded run

    def describe(self) -> str:
        what = {"ctrl": f"decides the path at {self.op}: {self.op_desc} becomes "
                        f"{self.alt_desc}" + (f" at {self.alt}" if self.alt else "")
                        + " (no Branch names the read)",
                "addr": f"gives the address of {self.op_desc} at {self.op}: it becomes "
                        f"{self.alt_desc} (no addr= or AddrScope names the read)",
                "data": f"gives the value of {self.op_desc} at {self.op}: it becomes "
                        f"{self.alt_desc} (no data= names the read)"}[self.kind]
        return (f"{self.kind}: {self.read} {self.read_op} in {self.thread} "
                f"{what}; read {self.value}, forced {self.forced}")

    @property
    def key(self) -> tuple:
        """What identifies the finding across runs: kind, read and op sites
        by file and function (line numbers move with edits)."""
        return (self.kind, self.read.file, self.read.function, self.op.file, self.op.function)


@dataclass
class Audit:
    """What ``audit`` found, and how much it ran."""

    findings: list[Finding] = field(default_factory=list)
    executions: int = 0      # sampled executions
    reads: int = 0           # distinct (thread history, read) pairs forced
    runs: int = 0            # forced re-executions
    skipped_asserts: int = 0  # failed Asserts run past in forced runs
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_json(self) -> dict:
        return {"findings": [dict(asdict(f), message=f.describe()) for f in self.findings],
                "executions": self.executions, "reads": self.reads, "runs": self.runs,
                "skipped_asserts": self.skipped_asserts, "seconds": round(self.seconds, 3)}


def _site(where) -> Site:
    file, line, fn = where
    return Site(file, line, fn)


def _stack(ctx, irq_only: bool = False) -> tuple:
    """The sites of a context's generator chain, outermost first (with
    ``irq_only``, from the innermost interrupt handler's frame on, if any)."""
    out = []
    frames = ctx.frames
    if irq_only and IRQ in ctx.kinds:
        top = len(ctx.kinds) - 1 - ctx.kinds[::-1].index(IRQ)
        frames = frames[top:]
    for gen in frames:
        while gen is not None and getattr(gen, "gi_frame", None) is not None:
            f = gen.gi_frame
            out.append(Site(short(f.f_code.co_filename), f.f_lineno, f.f_code.co_name))
            gen = getattr(gen, "gi_yieldfrom", None)
    return tuple(out)


def _here(ctx) -> Site:
    if not ctx.frames:
        return Site("?", 0, "?")
    file, line, fn = source_of(ctx.frames[-1])
    return Site(short(file), line, fn)


def _own(where) -> bool:
    return where is not None and where[0].startswith(_OWN)


def _short_repr(value, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[:width - 3] + "..."


def _is_irq(ev) -> bool:
    return ev.op is None and ev.kind == "R"


def _fed(ev):
    """The value the thread got back for event ``ev``."""
    if ev.kind == "U":
        return ev.text
    if ev.kind in ("R", "A"):
        return ev.value
    return None


def _sample(factory, strategy: str, executions: int, seed: int, preemption_bound):
    """Recorded executions under sc, as (events, final pending ops per thread)."""
    config = CheckConfig(strategy=strategy, memory_model="sc", seed=seed,
                         preemption_bound=preemption_bound)
    strat = make_strategy(config)
    out = []
    while len(out) < executions and strat.begin():
        ex = Execution(factory, "sc", record=True)
        drive(ex, strat)
        strat.end()
        events = [ev for ev in ex.events if ev.kind not in ("note", "flush")]
        out.append((events, [(c.done, c.op) for c in ex.contexts]))
    return out


class _Replay:
    """One re-execution of recorded ``events`` with every read returning its
    recorded value, except event ``force`` (an index), which returns
    ``value``. Dependencies are tracked as in the weak explorations: a
    register names the index of the read that set it."""

    def __init__(self, factory, events, force=None, value=None):
        self.force, self.value = force, value
        ex = Execution(factory, "sc", record=False, start=False)
        for ctx in ex.contexts:
            ctx.regs = {}
        self.ex = ex
        self.lost: set[int] = set()      # threads no longer driven
        self.crash: dict[int, Any] = {}  # tid -> violation that stopped it
        self.skipped = 0
        ex.start()
        for ctx in ex.contexts:
            self._settle(ctx)

    def _settle(self, ctx) -> None:
        """Run past failed Asserts; a raise stops the thread."""
        ex = self.ex
        while ex.violation is not None:
            v, ex.violation = ex.violation, None
            gen = ctx.frames[-1] if ctx.frames else None
            # a failed Assert leaves its generator suspended at the yield; a
            # raise (AssertionError included) has finished it
            if v.kind == "assertion" and ctx.op is None and not ctx.done \
                    and getattr(gen, "gi_frame", None) is not None:
                self.skipped += 1
                ctx.advance(None)
            else:
                self.crash[ctx.tid] = v
                self.lost.add(ctx.tid)
                return

    def pending(self, ctx):
        """The thread's next shared op (past a local_irq_disable() step, which
        makes no event), or None when it ended or is no longer driven."""
        while ctx.op is not None and ctx.op.code == 7 and ctx.tid not in self.lost:
            ctx.irq_disable()
            self._settle(ctx)
        return None if ctx.tid in self.lost else ctx.op

    def deps_of(self, ctx, op):
        """What the op at hand depends on, and where it is (its call chain)."""
        ctrl = ctx.ctrl
        addr = frozenset(ctx.dep_events(op, "addr")) if hasattr(op, "addr") else frozenset()
        data = frozenset(ctx.dep_events(op, "data")) if hasattr(op, "data") else frozenset()
        return ctrl, addr, data, _chain(ctx)

    def step(self, i: int, ev) -> Any:
        """Drive event ``i``; returns the thread's op there (None for an IRQ)."""
        ex = self.ex
        ctx = ex.contexts[ev.tid]
        if ctx.tid in self.lost:
            return None
        if _is_irq(ev):
            try:
                ctx.take_irqs(ev.value)
            except KeyError:               # the sender did not send it this time
                self.lost.add(ctx.tid)
                return None
            self._settle(ctx)
            return None
        return self.pending(ctx)

    def perform(self, i: int, ev, op) -> None:
        ctx = self.ex.contexts[ev.tid]
        value = self.value if i == self.force else _fed(ev)
        reg = getattr(op, "reg", None)
        if reg is not None:
            ctx.regs[reg] = i
        ctx.advance(value)
        self._settle(ctx)


def _chain(ctx) -> tuple:
    """Where a context is: (file, line) of every frame of its call chain (of
    the running interrupt handler's, in one: where it interrupted the thread
    is not its path)."""
    return _stack(ctx, irq_only=True)


def _compare(orig, new, chains=None):
    """How op ``new`` differs from the recorded ``orig``: a list of
    (kind, description of new), ctrl first; empty if the same. With
    ``chains`` (the two call chains), an op reached from another place is
    another path (ctrl) even if it does the same."""
    if chains is not None and chains[0] != chains[1]:
        return [("ctrl", new.describe())]
    if type(orig) is not type(new):
        return [("ctrl", new.describe())]
    if isinstance(orig, Await):
        if orig.label != new.label:
            return [("ctrl", new.describe())]
        if orig.cells != new.cells:
            return [("addr", new.describe())]
        return []
    if getattr(orig, "order", None) != getattr(new, "order", None) or \
            getattr(orig, "kind", None) != getattr(new, "kind", None):
        return [("ctrl", new.describe())]
    out = []
    if getattr(orig, "cell", None) != getattr(new, "cell", None):
        out.append(("addr", new.describe()))
    if isinstance(orig, Store):
        if orig.value != new.value:
            out.append(("data", new.describe()))
    elif isinstance(orig, Rmw):
        if orig.arg != new.arg or orig.expected != new.expected:
            out.append(("data", new.describe()))
    return out


def _alternatives(ev, values: dict, init: dict) -> list:
    """The values the read ``ev`` is forced to, in a fixed order."""
    op = ev.op
    if isinstance(op, Await):
        out = []
        got = ev.value
        for k, cell in enumerate(op.cells):
            for v in values.get(cell, ()):
                if v == got[k]:
                    continue
                alt = got[:k] + (v,) + got[k + 1:]
                try:
                    ok = op.predicate(*alt)
                except Exception:      # noqa: BLE001 - a predicate that cannot take it
                    ok = False
                if ok and alt not in out:
                    out.append(alt)
        return out
    got = _fed(ev)
    return [v for v in values.get(ev.cell, ()) if v != got]


def audit(factory: Callable, executions: int = 20, seed: int = 0, strategy: str = "random",
          preemption_bound: int | None = None, max_seconds: float | None = None) -> Audit:
    """Find undeclared dependencies of ``factory``'s threads (see the module
    docstring). ``executions`` sampled executions under sc, by ``strategy``
    (``random`` with ``seed``, or ``dfs`` with ``preemption_bound``);
    ``max_seconds`` stops early (what was found so far is returned)."""
    if strategy not in ("random", "dfs", "pct"):
        raise UsageError(f"strategy={strategy!r}: the audit samples executions with "
                         f"random, pct or dfs")
    if not isinstance(executions, int) or executions < 1:
        raise UsageError(f"executions={executions!r}: expected a whole number >= 1")
    t0 = time.perf_counter()
    report = Audit()
    runs = _sample(factory, strategy, executions, seed, preemption_bound)
    report.executions = len(runs)
    init = Execution(factory, "sc", start=False).init
    values: dict[str, list] = {}
    for cell, v in init.items():
        values.setdefault(cell, []).append(v)
    for events, _ in runs:
        for ev in events:
            if ev.kind in ("W", "U") and ev.value not in values.setdefault(ev.cell, []):
                values[ev.cell].append(ev.value)
    found: dict[tuple, Finding] = {}
    seen: set = set()
    for events, final in runs:
        if max_seconds is not None and time.perf_counter() - t0 > max_seconds:
            break
        base = _baseline(factory, events, final)
        histories: dict[int, list] = {}
        for ev in events:
            histories.setdefault(ev.tid, []).append((ev.kind, ev.cell, _fed(ev)))
        for i, ev in enumerate(events):
            if ev.kind not in ("R", "U", "A") or ev.op is None or _own(ev.where):
                continue
            k = sum(1 for e in events[:i] if e.tid == ev.tid)
            key = (ev.tid, tuple(histories[ev.tid]), k)
            if key in seen:
                continue
            seen.add(key)
            report.reads += 1
            for alt in _alternatives(ev, values, init):
                if max_seconds is not None and time.perf_counter() - t0 > max_seconds:
                    break
                report.runs += 1
                got, skipped = _forced(factory, events, final, base, i, alt)
                report.skipped_asserts += skipped
                for f in got:
                    fk = f.key + (f.read.line, f.op.line)
                    if fk in found:
                        old = found[fk]
                        found[fk] = replace(old, count=old.count + 1)
                    else:
                        found[fk] = f
    report.findings = sorted(found.values(), key=lambda f: (f.read.file, f.read.line,
                                                            f.op.file, f.op.line, f.kind))
    report.seconds = time.perf_counter() - t0
    return report


def _baseline(factory, events, final):
    """Re-run ``events`` unchanged: the dependencies of every op, and a check
    that the program is a function of the values its threads read."""
    r = _Replay(factory, events)
    deps = {}
    for i, ev in enumerate(events):
        op = r.step(i, ev)
        if _is_irq(ev):
            continue
        if op is None or _compare(ev.op, op):
            where = f"{ev.where[0]}:{ev.where[1]}" if ev.where else "?"
            raise NondeterminismError(
                f"re-running an execution with the values it read, thread "
                f"{r.ex.contexts[ev.tid].name} did {op.describe() if op else 'nothing'} "
                f"where it did {ev.op.describe()} ({where}): its ops must follow from the "
                f"values its loads return (no state outside the cells)")
        deps[i] = r.deps_of(r.ex.contexts[ev.tid], op)
        r.perform(i, ev, op)
    ends = {}
    for ctx in r.ex.contexts:
        op = r.pending(ctx)
        ends[ctx.tid] = (op, r.deps_of(ctx, op) if op is not None else None)
    return deps, ends


def _forced(factory, events, final, base, force: int, value):
    """The findings of one forced run, and how many failed Asserts it ran past."""
    deps, ends = base
    rev = events[force]
    tid = rev.tid
    r = _Replay(factory, events, force, value)
    ctx = r.ex.contexts[tid]
    last = max(i for i, ev in enumerate(events) if ev.tid == tid)
    out: list[Finding] = []
    stack: tuple = ()
    read_kind = "await" if rev.kind == "A" else "rmw" if isinstance(rev.op, Rmw) else "load"

    def finding(kind, site, desc, alt, alt_desc, op_stack=()):
        out.append(Finding(kind, ctx.name, _site(rev.where), rev.op.describe(), read_kind,
                           site, desc, alt, alt_desc, _short_repr(_fed(rev)),
                           _short_repr(value), stack=stack, op_stack=op_stack))

    def crashed():
        v = r.crash[tid]
        return f"'{v.message}' {dict(v.evidence).get('where', '')}".strip()

    def differs(op0, dep0, op1, site):
        """Compare the recorded op with the forced run's; True if the paths part."""
        ctrl0, addr0, data0, chain0 = dep0
        ctrl1, addr1, data1, chain1 = r.deps_of(ctx, op1)
        diffs = _compare(op0, op1, (chain0, chain1))
        if diffs and diffs[0][0] == "ctrl":
            if not (force in ctrl0 and force in ctrl1) and read_kind != "await":
                finding("ctrl", site, op0.describe(), _here(ctx), op1.describe(), chain0)
            return True
        for kind, desc in diffs:
            if force not in {"addr": addr0 & addr1, "data": data0 & data1}[kind]:
                finding(kind, site, op0.describe(), _here(ctx), desc, chain0)
        return False

    for i, ev in enumerate(events[:last + 1]):
        op = r.step(i, ev)
        if _is_irq(ev):
            continue
        if ev.tid != tid:
            if op is not None and not _compare(ev.op, op):
                r.perform(i, ev, op)
            else:
                r.lost.add(ev.tid)
            continue
        if i == force:
            stack = _stack(ctx)
        if i <= force:
            r.perform(i, ev, op)
            continue
        site = _site(ev.where)
        if op is None:       # the thread ended, raised or was lost
            declared = force in deps[i][0] and force in ctx.ctrl or read_kind == "await"
            if tid in r.crash and not declared:
                finding("ctrl", site, ev.op.describe(), None, crashed(), deps[i][3])
            elif tid not in r.lost and not declared:
                finding("ctrl", site, ev.op.describe(), None, "the thread's end", deps[i][3])
            return out, r.skipped
        if differs(ev.op, deps[i], op, site):
            return out, r.skipped
        r.perform(i, ev, op)
    # past the last recorded event: the thread should end (or wait) where it did
    op0, dep0 = ends[tid]
    op1 = r.pending(ctx)
    if tid in r.crash:
        if force not in ctx.ctrl and read_kind != "await":
            finding("ctrl", _here(ctx), op0.describe() if op0 is not None
                    else "the thread's end", None, crashed())
    elif tid not in r.lost and op1 is not None:
        if op0 is None and final[tid][0]:
            if force not in ctx.ctrl and read_kind != "await":
                finding("ctrl", _here(ctx), "the thread's end", _here(ctx), op1.describe())
        elif op0 is not None:
            differs(op0, dep0, op1, _here(ctx))
    return out, r.skipped
