"""One execution of a program, stepped by a strategy.

``Execution`` builds a fresh ``Program`` from the factory, starts one
``Context`` per thread and applies actions chosen by a strategy. An *action*
is ``(tid, kind)``: ``"s"`` performs the thread's next shared op (or a
``local_irq_disable()`` reached with IRQs on, a step of its own: see
``Context.irq_disable``), ``"i"`` makes
the CPU take its pending IPIs (at the first boundary where its IRQs are
enabled: delivery is not delayed further, see ``ops.SendIpi``), ``"f"``
(TSO) drains the oldest entry of the CPU's store buffer to memory.

Every shared access becomes an ``Event`` (kept for traces and for the
reads-from/coherence signature of the execution). Write identities are
``(tid, index)`` pairs, stable across executions, so two executions can be
compared by what each read read from and by the order of writes per cell.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ScenarioError
from ..ops import NO_WRITE
from ..spec import Program, Violation, make_violation
from .context import Context, done_cell, sent_cell, short, source_of
from .memory import get_model
from .memory.sc import Declared

STEP, IRQ_ACTION, FLUSH = "s", "i", "f"


class Event:
    """One shared access (or trace note) of one execution."""

    __slots__ = ("tid", "idx", "kind", "cell", "value", "src", "op", "where", "text",
                 "irqs", "depth")

    def __init__(self, tid, idx, kind, cell=None, value=None, src=None, op=None):
        self.tid, self.idx, self.kind, self.cell = tid, idx, kind, cell
        self.value, self.src, self.op = value, src, op
        self.where = self.text = None
        self.irqs = None
        self.depth = 0

    @property
    def wid(self):
        return (self.tid, self.idx)


class Execution:
    """A fresh world and its contexts, plus what happened so far."""

    def __init__(self, factory: Callable[[], Program], memory_model: str = "sc",
                 record: bool = False, start: bool = True):
        try:
            program = factory()
        except Exception as err:
            raise ScenarioError(f"the scenario factory raised {type(err).__name__}: {err}") \
                from err
        if not isinstance(program, Program):
            raise ScenarioError(f"the factory returned {type(program).__name__}, "
                                f"expected gupsim.spec.Program")
        self.program = program
        self.record = record
        self.events: list[Event] = []
        self.states: dict[int, Any] = {}
        """Recorded runs of a program with a ``snapshot`` hook: event index ->
        the program's state after the action that ended with that event."""
        self.violation: Violation | None = None
        self.requests: dict = {}
        contexts: list[Context] = []
        by_cpu: dict[int, Context] = {}
        threads = program.threads
        explicit = {t.cpu for t in threads if t.cpu is not None}
        spare = 0
        for tid, spec in enumerate(threads):
            cpu = spec.cpu
            if cpu is None:                # the lowest CPU nobody asked for
                while spare in explicit:
                    spare += 1
                cpu = spare
                spare += 1
            elif cpu in by_cpu:
                raise ScenarioError(f"threads {by_cpu[cpu].name!r} and {spec.name!r} "
                                    f"both on cpu{cpu}: one thread per CPU")
            ctx = Context(self, tid, spec.name, cpu, spec.body)
            contexts.append(ctx)
            by_cpu[cpu] = ctx
        self.contexts, self.by_cpu = contexts, by_cpu
        init = program.memory          # the program is fresh: no copy needed
        if program.interrupts:
            for cpu in by_cpu:
                init.setdefault(sent_cell(cpu), 0)
                init.setdefault(done_cell(cpu), 0)
        self.init = Declared(init)     # (an undeclared cell: ScenarioError)
        self.mem = get_model(memory_model)(init) if memory_model else None
        self.step_invariants = [i for i in program.invariants if i.when == "always"]
        self.end_invariants = [i for i in program.invariants if i.when == "end"]
        if start:
            self.start()

    def start(self, skip=()) -> None:
        """Run every thread (except ``skip``) up to its first shared op."""
        for ctx in self.contexts:
            if self.violation is None and ctx.tid not in skip:
                ctx.start()
        self._snapshot()

    # -- called by contexts -----------------------------------------------------
    def note(self, ctx: Context, text: str) -> None:
        if self.record:
            ev = Event(ctx.tid, None, "note")
            ev.text = text
            self._where(ev, ctx)
            self.events.append(ev)

    def fail(self, violation: Violation) -> None:
        if self.violation is None:
            self.violation = violation

    def _where(self, ev: Event, ctx: Context) -> None:
        file, line, fn = source_of(ctx.frames[-1]) if ctx.frames else ("?", 0, "?")
        ev.where = (short(file), line, fn)
        ev.irqs = ctx.irqs
        ev.depth = ctx.kinds.count(2)

    # -- the actions ------------------------------------------------------------
    def enabled(self) -> list[tuple[int, str]]:
        """Actions that can run now, in a fixed order (by tid, then s, i, f)."""
        out = []
        mem = self.mem
        irq = self.program.interrupts
        for ctx in self.contexts:
            tid = ctx.tid
            # An IPI is taken at the first boundary where the target's IRQs are
            # on: while one is pending the CPU does nothing else (under TSO it
            # first drains its store buffer).
            pending = (irq and ctx.irqs
                       and (ctx.op is not None or ctx.done or ctx.blocked is not None)
                       and mem.visible(ctx, sent_cell(ctx.cpu))[0] > ctx.handled)
            if pending:
                if mem.can_interrupt(ctx):
                    out.append((tid, IRQ_ACTION))
            elif ctx.blocked is not None:
                if ctx.blocked[0] == "spin" and mem.changed_since(ctx, ctx.blocked[2]):
                    out.append((tid, STEP))
            elif ctx.op is not None and mem.can_perform(ctx, ctx.op):
                out.append((tid, STEP))
            if mem.can_flush(ctx):
                out.append((tid, FLUSH))
        return out

    def apply(self, action: tuple[int, str]) -> None:
        tid, kind = action
        ctx = self.contexts[tid]
        if kind == STEP:
            if ctx.blocked is not None:
                ctx.unblock_spin()
            else:
                self.perform(ctx)
        elif kind == IRQ_ACTION:
            sent, src = self.mem.visible(ctx, sent_cell(ctx.cpu))
            self._event(ctx, "R", sent_cell(ctx.cpu), sent, src, None)
            ctx.take_irqs(sent)
        else:
            cell, value = self.mem.flush(ctx, self)
            if self.record:          # when a buffered store reaches memory
                ev = Event(ctx.tid, None, "flush", cell, value)
                ev.irqs = ctx.irqs
                self.events.append(ev)
        if self.violation is None and self.step_invariants:
            self.check_step_invariants()
        self._snapshot()

    def _snapshot(self) -> None:
        """Keep the program's own view of its state after an action (recorded
        runs only: the counterexample re-run and replays)."""
        snap = self.program.snapshot
        if self.record and snap is not None and self.events:
            self.states[len(self.events) - 1] = snap(self.program.context, self.mem.view())

    def perform(self, ctx: Context) -> None:
        """Perform the context's pending shared op on the memory model."""
        op, mem = ctx.op, self.mem
        code = op.code
        if code == 1:      # Load
            value, src = mem.load(ctx, op.cell, op.order)
            self._event(ctx, "R", op.cell, value, src, op)
            ctx.record_read(op.cell, src, value)
            ctx.advance(value)
        elif code == 2:    # Store
            ev = self._event(ctx, "W", op.cell, op.value, None, op)
            mem.store(ctx, op.cell, op.value, ev.wid, op.order, self)
            ctx.record_write(op.cell, op.value)
            ctx.advance(None)
        elif code == 3:    # Rmw
            old, src = mem.load(ctx, op.cell, "mb")
            new = op.apply(old)
            ctx.record_read(op.cell, src, old)
            if new is NO_WRITE:
                self._event(ctx, "R", op.cell, old, src, op)
            else:
                ev = self._event(ctx, "U", op.cell, new, src, op)
                ev.text = old
                mem.store(ctx, op.cell, new, ev.wid, "mb", self)
                ctx.record_write(op.cell, new)
            ctx.advance(old)
        elif code == 4:    # Fence
            mem.fence(ctx, op.kind)
            self._event(ctx, "F", None, op.kind, None, op)
            ctx.advance(None)
        elif code == 5:    # Await (enabled only when the predicate holds)
            vals = []
            for cell in op.cells:
                value, src = mem.load(ctx, cell, "once")
                ctx.record_read(cell, src, value)
                vals.append(value)
            self._event(ctx, "A", op.cells, tuple(vals), None, op)
            ctx.advance(tuple(vals))
        elif code == 7:    # IrqDisable with IRQs on: a local step
            ctx.irq_disable()
        else:
            raise ScenarioError(f"{ctx.name}: cannot perform {op!r}")

    def _event(self, ctx, kind, cell, value, src, op) -> Event:
        ev = Event(ctx.tid, ctx.nevents, kind, cell, value, src, op)
        ctx.nevents += 1
        if self.record:
            self._where(ev, ctx)
        self.events.append(ev)
        return ev

    # -- properties -------------------------------------------------------------
    def check_step_invariants(self) -> None:
        view = self.mem.view()
        for inv in self.step_invariants:
            v = self._evaluate(inv, view, None)
            if v is not None:
                self.fail(v)
                return

    def _evaluate(self, inv, view, results):
        try:
            return inv.evaluate(view, results)
        except Exception as err:
            return make_violation("exception", inv.name,
                                  f"invariant {inv.name} raised {type(err).__name__}: {err}")

    def finish(self) -> None:
        """After the last action: deadlock detection and end invariants."""
        if self.violation is not None:
            return
        stuck = [c for c in self.contexts if not c.done]
        if stuck:
            self.fail(stuck_violation(stuck))
            return
        view = self.mem.view()
        results = {c.name: c.result for c in self.contexts}
        for inv in self.end_invariants:
            v = self._evaluate(inv, view, results)
            if v is not None:
                self.fail(v)
                return

    @property
    def results(self) -> dict[str, Any]:
        return {c.name: c.result for c in self.contexts}

    def signature(self) -> tuple:
        """The execution's reads-from map and per-cell write order (hashable)."""
        rf, co = [], {}
        for ev in self.events:
            if ev.kind in ("R", "U") and ev.op is not None:
                rf.append(((ev.tid, ev.idx), ev.src))
            if ev.kind in ("W", "U"):
                co.setdefault(ev.cell, []).append((ev.tid, ev.idx))
        order = self.mem.coherence()
        if order is not None:
            co = order
        return (tuple(sorted(rf)), tuple(sorted((k, tuple(v)) for k, v in co.items())))


def stuck_violation(stuck: list[Context]) -> Violation:
    """Deadlock, or livelock when a stuck thread is spinning."""
    spinning = [c for c in stuck if c.blocked is not None and c.blocked[0] == "spin"]
    parts = {}
    for c in stuck:
        if c.blocked is not None and c.blocked[0] == "spin":
            label = c.blocked[1].label or "retry loop"
            parts[f"{c.name} (cpu{c.cpu})"] = f"spins in {label}: nothing it reads changes"
        elif c.op is not None:
            parts[f"{c.name} (cpu{c.cpu})"] = f"waits at {c.op.describe()}" + (
                " with IRQs off" if not c.irqs else "")
        else:
            parts[f"{c.name} (cpu{c.cpu})"] = "cannot proceed"
    if spinning:
        names = ", ".join(c.name for c in spinning)
        return make_violation("livelock", "progress",
                              f"{names} loops for ever: no other thread can change what it reads",
                              parts)
    return make_violation("deadlock", "progress",
                          "every unfinished thread is waiting for another", parts)

