"""Optimal DPOR by execution-graph exploration: the ``dpor`` strategy.

After TruSt (Kokologiannakis, Marmanis, Gladstein and Vafeiadis, "Truly
stateless, optimal dynamic partial order reduction", POPL 2022). An execution
is a graph: events per thread in program order (po), the write each read reads
from (rf) and, per cell, the order of writes (co). Graphs are grown one event
at a time, always for the leftmost thread that can run; a read tries every
write it may consistently read from, a write every consistent coherence
position (forward choices), and a new write may *revisit* an earlier read that
is not in its po/rf prefix: the events added after that read and outside the
prefix are deleted and the read now reads the new write (backward choice). A
revisit is taken only if every deleted event (and the read) was added
*maximally*, reading from or being the co-latest write among those added
before it plus the prefix; that makes every consistent graph reached exactly
once. Memory stays polynomial: pending choices are plain data on a stack.

Consistency (sequential consistency: acyclic po | rf | co | fr) is kept by
construction. Each event carries the bitset of its ancestors under that
relation; a read may read from the co-latest write among its ancestors or any
later one, a write may be placed after the co-latest write among its
ancestors, and an atomic read-modify-write sits right after the write it read.

Under a weak model (``check.weakgraph``) a write may also be read *early*:
by a read in its own po/rf prefix, in another thread (load buffering, after
the revisits of hardware-model DPOR, Kokologiannakis and Vafeiadis, "HMC:
model checking for hardware memory models", ASPLOS 2020). The graph keeps
the events added before that read and the write's prefix, so the events
after the read that the write needs stay; other reads of that prefix may
read the write early as well. Rebuilding such a graph runs the read's
thread on with the new value: if it no longer does what the graph records
(the events after the read depended on it), the graph is dropped (counted
as blocked); the write, when it comes, must write the value read. Such
revisits can reach a graph twice, by different routes: a work item of a
load-buffering graph that was explored already is skipped (its subtree is
the same), and a complete execution reached again is counted as a
duplicate, not an execution (a digest of each is kept). Neither route can
simply be forbidden: in ``[[r = y; x = 1], [r' = x; y = 1]]`` the graph
where both read 1 is reached when T1's ``y = 1`` reads back into T0's load
(T0 must then do ``x = 1`` again with y = 1) or when ``y = 1`` first
revisits T0's load and the ``x = 1`` T0 then writes reads back into T1's
(T1 must do ``y = 1`` again with x = 1); which of the two exists depends on
what the thread does with the other value, which only running it tells
(``test_each_route_to_a_load_buffering_graph_is_kept``). HMC's answer, a
revisit's prefix made of dependencies and rf instead of po and rf, needs
every dependency of the program known; a thread's Python control flow on a
value it read is not declared.

Waiting. A lock's read that finds the lock held (a blocking RMW such as
``spin_lock()``, ``down_read()``) is added when the thread gets to it, so
that the graph where it took the lock first is pushed with only its own
past (``_conflict``). When a write of another thread makes that read stale
(the lock is released or changes hands) the read is *woken in place*
(``_wake``, after the in-place revisits of Kokologiannakis, Marmanis and
Vafeiadis, "Unblocking dynamic partial order reduction", CAV 2023): it keeps
its place and now reads the writes after the one it read, and the write does
not revisit it. With nothing after the read in its thread, the events added
after it do not depend on it, so none are deleted; a wait added after it
that the write does not see waits again from the start. The woken read
stands for two graphs, the one where it waited and the one where it was
revisited, and is maximal if it is in either (``graph.maximal``); a revisit
that deletes the write that woke it makes it wait again. A CPU with IRQs on
may instead go on spinning and take an IPI sent after the release before it
sees the release: the send pushes that graph (``_spin_revisits``; a
violation that ends a graph first pushes it with ``_spin_on``). So no graph
in which a lock waits for ever is explored. Two other waits add no event
while they wait: a CPU's look for IPIs while it waits or has finished (the
IPI counter only grows) and an Await declared ``monotone`` (an IPI's ack).
Such a thread is *parked*, as an await that cannot proceed is not scheduled
in Optimal-DPOR-Await (Jonsson, Lång and Sagonas, "Awaiting for Godot",
FMCAD 2022): it reads once the cell holds what it waits for. Other Awaits
are events like any other: a later write that ends the wait revisits them,
and the graph in which the wait stays is dropped (counted as blocked).
Under the weak models a lock's read is woken the same way: the woken read
is judged by the model with the write it now reads when its RMW's write
goes in, as any lock's read is (``_weak_added``).

Threads are Python generators, which cannot be copied: every graph popped
from the stack is rebuilt by running a fresh world and feeding each thread the
values its recorded reads read, in an order where every write precedes its
readers. The counterexample is turned into an ordinary schedule (an
interleaving consistent with the graph) so that ``replay`` and the trace use
the interleaving runtime.
"""

from __future__ import annotations

import time

from ...errors import NondeterminismError, ScenarioError
from ...ops import BLOCKING_RMW, NO_WRITE
from ..context import sent_cell
from ..explorer import Outcome, build_result, run_schedule
from ..graph import (AGAIN, AWAIT, CHOOSE, CLI, DRAINW, FAILED, IDLE, INIT, LAST, POLL, PROMISE, REV,
                     RMW_R, RMW_W, SPIN, TAKE, WAKE, WOKEN, GEvent, Graph, access_signature, maximal)
from ..result import Stats
from ..memory import WEAK, axiomatic_model
from ..runtime import Execution, stuck_violation
from ..weakgraph import (PLAIN, POLL_META, POLL_NONE_META, coherence_floor, coherent_positions,
                         coherent_reads, op_meta, to_execgraph)


def _judged(tags) -> bool:
    """A model without ``extends_with_latest`` judges every access."""
    return False


class GraphRun:
    """One graph: rebuilt from an item, then extended to a full execution."""

    def __init__(self, factory, item, stack, stats, memory_model="sc"):
        self.ex = ex = Execution(factory, None, start=False)
        self.stack, self.stats = stack, stats
        self.init = ex.init
        self.interrupts = ex.program.interrupts
        self.aux: dict[int, list] = {}        # tid -> in-flight RMW / Await state
        self.dead = False                     # every choice was pushed elsewhere
        self.senders: set[int] = set()        # threads that sent an IPI
        self.boundary: dict[int, int] = {}    # tid -> its look for IPIs at this boundary
        self.replaying = False                # re-running threads on a copied graph
        self.pending_pos = None
        self._snap_at = None
        self.rev = 0
        self.again = False                   # (``AGAIN``: the record's read was woken)
        self.woke = False                    # the last event wrote a parked cell
        self.parked: set = set()             # cells parked threads wait on
        self.promised: dict[int, list] = {}  # write stamp -> reads that read it early
        self.lenient = False                 # rebuilding a load-buffering graph
        self.promising = False               # the graph has such a read
        self.wake = None                     # (stamp, rf, first wait) of a lock read again
        self.woken_as = None                 # the first wait of the WOKEN read being added
        self.moved = False                   # the graph went on as an item (``_wake``)
        self.model = axiomatic_model(memory_model) if memory_model in WEAK else None
        self.unjudged = getattr(self.model, "extends_with_latest", None) or _judged
        """(weak models) ``tags -> bool``: may an access with nothing after it
        (the latest write read, a write put last) go in without the model?"""
        if self.model is not None:
            self.names = [c.name for c in ex.contexts]
            for c in ex.contexts:
                c.regs = {}
        if item[0] == "snap":
            self._restore(item)
            return
        self.g = Graph(tso=memory_model == "tso")
        ex.start()
        _, records, co, top = item
        self.item_co = co
        self.rank: dict = {}
        self.g.top = top
        # A graph where a read reads a write added after it is rebuilt with the
        # read's new value: its thread may now do something else (the events
        # after the read depended on it), and then the graph is no execution.
        self.lenient = self.promising = any(rec[4] & PROMISE for rec in records)
        contexts = ex.contexts
        fast = self.model is None
        for i, rec in enumerate(records):
            if ex.violation is not None or self.dead:
                break
            ctx = contexts[rec[1]]
            op = ctx.op
            if rec[4] & WAKE:                  # a woken lock reads again, forward
                self.wake = (rec[0], rec[3], rec[5])
                self.perform(ctx)
                self.wake = None
                continue
            # the common cases inline, as ``perform`` does them: a look for
            # IPIs that finds none, a plain load or store (sc and tso)
            if fast and op is not None and ctx.blocked is None and self._replay_fast(ctx, op, rec):
                continue
            if rec[4] & CHOOSE:
                self._tail = records[i + 1:]
                self._wtid = rec[1]
                op = ex.contexts[rec[1]].op     # (None: diverged, ``perform`` says so)
                self._wcell = getattr(op, "cell", None)
            self.perform(ex.contexts[rec[1]], rec)

    def _replay_fast(self, ctx, op, rec) -> bool:
        """Rebuild the record ``rec`` of ``ctx`` inline if it is one of the
        common kinds (what ``perform`` would do with it); False leaves it to
        ``perform``."""
        flags, g, tid, s = rec[4], self.g, ctx.tid, rec[0]
        if flags == POLL:                      # a look for IPIs that finds none
            if not (self.interrupts and ctx.irqs and not ctx.polled):
                return False
            cell = sent_cell(ctx.cpu)
            value = g.value_of(rec[3], self.init[cell])
            if value > ctx.handled or op.code == 7 or tid in self.boundary:
                return False
            g.add_read(s, tid, cell, rec[3], POLL, 0, value)
            ctx.polled = True
            self.boundary[tid] = s
            return True
        code = op.code
        if code > 3 or not (ctx.polled or not self.interrupts or not ctx.irqs):
            return False
        cell = op.cell
        if rec[2] == "R":
            rf = rec[3]
            if rf != INIT and (rf not in g.ev or g.ev[rf].cell != cell):
                return False                   # (``perform`` reports the divergence)
            value = g.value_of(rf, self.init[cell])
        if code == 3:                          # an atomic RMW: its read, then its write
            if flags == RMW_R and rec[2] == "R" and tid not in self.aux:
                new = op.apply(value)
                if new is NO_WRITE:
                    return False
                g.add_read(s, tid, cell, rf, RMW_R, 3, value, drain=True)
                ctx.record_read(cell, rf, value)
                self.aux[tid] = [value, new, rf]
                return True
            if not (flags == RMW_W and rec[2] == "W" and tid in self.aux):
                return False
            value, new, rf = self.aux[tid]
            if rf != INIT and rf not in g.ev:
                return False
            del self.aux[tid]
            if cell.endswith(".ipi_sent"):
                self.senders.add(tid)
            ctx.record_write(cell, new)
            g.add_write(s, tid, cell, new, 0 if rf == INIT else g.co[cell].index(rf) + 1,
                        RMW_W, 3)
        elif flags or code != (1 if rec[2] == "R" else 2):
            return False
        elif code == 1:
            g.add_read(s, tid, cell, rf, 0, 1, value, drain=op.order == "mb")
            ctx.record_read(cell, rf, value)
        else:
            if cell.endswith(".ipi_sent"):
                return False
            pos = self._item_pos(cell, s)
            if pos is None:
                return True                    # (dead: the thread writes elsewhere now)
            mb = op.order == "mb"
            ctx.record_write(cell, op.value)
            g.add_write(s, tid, cell, op.value, pos, DRAINW if mb else 0, 2, drain=mb)
            value = None
        poll = self.boundary.pop(tid, None)    # the op tied to this boundary's look
        if poll is not None:
            self._after_poll(poll, s)
        ctx.advance(value)
        return True

    # -- items ------------------------------------------------------------------
    def _restore(self, item):
        """A forward choice: copy the graph, re-run only the threads that need it
        (unfinished ones and IPI senders), then take the recorded choice."""
        _, snap, rec, pos = item
        graph, done, handled, senders, boundary, users = snap
        ex = self.ex
        snap[5] = users - 1          # the last choice from a point takes its copy
        self.g = g = graph.clone() if users > 1 else graph
        if self.model is not None:
            self.promising = any(e.flags & PROMISE for e in g.ev.values())
        self.senders = set(senders)
        skip = {t for t in done if t not in senders}
        ex.start(skip)
        for t in skip:
            ctx = ex.contexts[t]
            ctx.done, ctx.result, ctx.op, ctx.blocked = True, done[t], None, None
            ctx.frames, ctx.kinds = [], []       # finished: nothing left to run
            if handled is not None:
                ctx.handled = handled[t]
        self.replaying = True
        contexts, init = ex.contexts, self.init
        for s in g.order:
            e = g.ev[s]
            if e.tid in skip:
                continue
            ctx = contexts[e.tid]
            op = ctx.op
            # the common cases inline: a plain load or store of the recorded cell
            if (not e.flags and op is not None and ctx.blocked is None
                    and ctx.tid not in self.boundary and op.code == (1 if e.kind == "R" else 2)
                    and op.cell == e.cell and (ctx.polled or not self.interrupts
                                               or not ctx.irqs)):
                if e.kind == "R":
                    value = init[e.cell] if e.rf == INIT else g.ev[e.rf].value
                    ctx.record_read(e.cell, e.rf, value)
                    if op.reg is not None and ctx.regs is not None:
                        ctx.regs[op.reg] = s
                    ctx.advance(value)
                else:
                    ctx.record_write(e.cell, e.value)
                    ctx.advance(None)
                continue
            self.perform(ctx, (s, e.tid, e.kind, e.rf, e.flags))
        self.replaying = False
        self.boundary = dict(boundary)
        self.pending_pos = pos
        self.perform(ex.contexts[rec[1]], rec)
        self.pending_pos = None

    def _snapshot(self):
        key = (len(self.g.order), self.g.top)
        if self._snap_at is not None and self._snap_at[0] == key:
            return self._snap_at[1]
        ctxs = self.ex.contexts
        handled = {c.tid: c.handled for c in ctxs} if self.interrupts else None
        snap = [self.g.clone(), {c.tid: c.result for c in ctxs if c.done and not c.frames},
                handled, frozenset(self.senders), dict(self.boundary), 0]
        self._snap_at = (key, snap)
        return snap

    def _records(self, skip=()):
        g = self.g
        return [(s, g.ev[s].tid, g.ev[s].kind, g.ev[s].rf, g.ev[s].flags)
                if not g.ev[s].flags & (PROMISE | WOKEN) else
                (s, g.ev[s].tid, "R", g.ev[s].rf, g.ev[s].flags, g.woken[s])
                if g.ev[s].flags & WOKEN else
                (s, g.ev[s].tid, "R", g.ev[s].rf, g.ev[s].flags, (g.ev[s].cell, g.ev[s].value))
                for s in g.order if s not in skip]

    def _co(self, skip=()):
        return {c: tuple(w for w in ws if w not in skip) for c, ws in self.g.co.items()}

    def push_read(self, s, tid, rf, flags, extra=()):
        snap = self._snapshot()
        snap[5] += 1
        self.stack.append(("snap", snap, (s, tid, "R", rf, flags, *extra), None))

    def push_write(self, s, tid, cell, pos, flags):
        snap = self._snapshot()
        snap[5] += 1
        self.stack.append(("snap", snap, (s, tid, "W", None, flags), pos))

    # -- the next event of a context --------------------------------------------
    def next_event(self, ctx):
        """'P' poll, 'R', 'W', 'F', or None if the context cannot move."""
        if ctx.blocked is not None or ctx.done and ctx.op is None:
            # A CPU that waits (or has finished) with IRQs on looks for IPIs
            # only when one is pending for it: a look that would find none is
            # no event. It becomes movable again when an IPI is sent
            # (``extend`` scans from the left then).
            return "P" if self.interrupts and ctx.irqs and not ctx.polled \
                and self._pending(ctx) else None
        if self.interrupts and ctx.irqs and not ctx.polled and ctx.op is not None:
            return "P"
        op = ctx.op
        if op is None:
            return None
        if self._parks(ctx) and not self._ends(op):
            # parked (no event; a write of the cell wakes it); a CPU with
            # IRQs on still takes the IPIs sent to it
            return "P" if self.interrupts and ctx.irqs and self._pending(ctx) else None
        code = op.code
        if code == 1 or code == 5:
            return "R"
        if code == 3:
            return "W" if ctx.tid in self.aux else "R"
        if code == 2:
            return "W"
        if code == 4:
            return "F"
        raise ScenarioError(f"{ctx.name}: cannot perform {op!r} under dpor")

    def _latest_ends(self, cell, test) -> bool:
        """Does ``test`` hold for ``cell``'s co-latest value? If not, the
        thread waiting on it is parked until a write of ``cell`` wakes it."""
        if test(self.g.value_of(self.g.co_max(cell), self.init[cell])):
            return True
        self.parked.add(cell)
        return False

    def _pending(self, ctx) -> bool:
        """Is an IPI sent to ``ctx``'s CPU that it has not taken?"""
        return self._latest_ends(sent_cell(ctx.cpu), lambda v: v > ctx.handled)

    def _parks(self, ctx) -> bool:
        """Is ``ctx`` at an op that parks while it waits (a monotone Await)?
        A blocking RMW (``spin_lock()``) on a held lock does not park: its
        read is added when the thread gets there, so that it could have taken
        the lock before the holder is pushed then (``_conflict``) with only
        its own past; parked, it would read only once the lock is free, with
        the holder (its unlock, an IPI it sent) in its past."""
        op = ctx.op
        return op is not None and op.code == 5 and op.monotone

    def _ends(self, op) -> bool:
        """Would the parking op ``op`` end its wait on its cell's latest write?"""
        if op.code == 5:
            return self._latest_ends(op.cells[0], op.predicate)
        return self._latest_ends(op.cell, lambda v: op.apply(v) is not NO_WRITE)

    def perform(self, ctx, rec=None):
        if self.lenient and rec is not None and rec[4] & RMW_W and ctx.tid not in self.aux:
            # its RMW read the value it was promised and writes nothing now (a
            # cmpxchg that fails with it): the graph loses that write
            return
        kind = self.next_event(ctx)
        if rec is not None and ctx.blocked is None and self._parks(ctx):
            # Rebuilt in the record's order, a parked op's cell may already
            # end the wait where the graph has the CPU take an IPI instead,
            # or not yet where the graph has it read (a revisit moved the
            # look or the read): the record says which.
            if kind == "R" and rec[4] & POLL and ctx.polled:
                kind = "P"
            elif not rec[4] & (POLL | IDLE) and (kind is None or kind == "P" and ctx.polled):
                kind = "R"
        if rec is not None and (kind is None or (kind == "P") != bool(rec[4] & (POLL | IDLE))
                                or (kind != "P" and kind != rec[2])):
            if self.lenient:
                self.dead = True       # another path of the thread (load buffering)
                return
            raise NondeterminismError(
                f"rebuilding an execution diverged at {ctx.name}: recorded a {rec[2]} event, "
                f"the thread now does {kind or 'nothing'} ({ctx.op and ctx.op.describe()}). "
                f"Is the scenario deterministic?")
        if kind == "P":
            self._poll(ctx, rec)
            return
        poll = self.boundary.get(ctx.tid)     # kept until the op is in (snapshots)
        before = len(self.g.order)
        if kind == "R":
            self._read(ctx, rec)
        elif kind == "W":
            self._write(ctx, rec)
        else:
            s = rec[0] if rec else self.g.stamp()
            if not self.replaying:
                self.g.add_fence(s, ctx.tid, 4, ctx.op.kind)
                if self.model is not None:
                    # Not judged now: what a fence forbids is an order between
                    # the events before it and those after it in its thread,
                    # and none is after it yet. Each of those is judged when
                    # it is added, the complete graph at the end.
                    self.g.meta[s] = op_meta(ctx, ctx.op, "F")
            ctx.advance(None)
        if self.model is not None:
            self.boundary.pop(ctx.tid, None)    # the look for IPIs is an acquire read
        elif poll is not None and not self.replaying and len(self.g.order) > before \
                and ctx.tid not in self.aux:   # an RMW or Await: its last event
            del self.boundary[ctx.tid]
            self._after_poll(poll, self.g.order[-1])

    def _after_poll(self, poll, e):
        """A CPU looks for IPIs at a boundary and performs its op there in one
        step: the op too must come before any IPI sent after the one the look
        saw (as if the op read the IPI counter as well)."""
        g = self.g
        op = g.ev[e]
        if g.tso and op.kind == "W" and not op.flags & (RMW_W | DRAINW):
            return    # TSO: the store enters the buffer with the look; memory gets it later
        p = g.ev[poll]
        lst = g.co.get(p.cell, ())
        later = lst[0] if p.rf == INIT and lst else None
        if p.rf != INIT and lst.index(p.rf) + 1 < len(lst):
            later = lst[lst.index(p.rf) + 1]
        if later is not None and (g.anc[e] >> later) & 1:
            self.dead = True       # the op saw the world after that IPI was sent
            return
        g.readers.setdefault(g._wkey(p.rf, p.cell), []).append(e)
        if later is not None:
            g._propagate(later, g.anc[e] | (1 << e))

    def _choose_rf(self, ctx, cell, rec, flags, ok=None, drain=False, meta=None, waits=None):
        """The write a new read reads (the others are pushed). ``waits(c)``:
        reading ``c`` leaves the thread waiting (a lock held, an await's
        predicate false)."""
        g = self.g
        if rec is not None:
            self.rev = rec[4] & (REV | WOKEN | SPIN)
            self.again = bool(rec[4] & AGAIN)
            if rec[4] & WOKEN and len(rec) > 5:
                self.woken_as = rec[5]
            if self.lenient and rec[3] != INIT and (
                    rec[3] in g.ev and g.ev[rec[3]].cell != cell
                    or rec[3] not in g.ev and not rec[4] & PROMISE):
                self.dead = True               # it reads another cell now, or a write
                return None, None              # the graph lost (``perform``)
            return rec[0], rec[3]
        self.rev = 0
        self.again = False
        if self.model is None:
            cands = g.read_candidates(ctx.tid, cell, drain)
        else:
            cands = coherent_reads(g, ctx.tid, cell)
        if self.wake is not None:          # (woken: the writes after the one it read;
            lst = g.co.get(cell, ())       # it stands for their revisit of it)
            _, had, first = self.wake
            after = set(lst if had == INIT else lst[lst.index(had) + 1:])
            cands = [c for c in cands if c in after]
            self.rev, self.woken_as = REV | WOKEN, first
        if ok is not None:
            cands = [c for c in cands if ok(c)]
        if waits is not None:
            # A wait on a value that a later write of another thread has
            # already replaced lasts for ever in this graph: it only ends
            # through a revisit by that write, which is another graph. Not
            # reading it is not losing an execution.
            def stale(c, cell=cell):
                return _overwritten(g, cell, c, ctx.tid) is not None
            # (an await on several cells waits for ever if any of its reads does)
            before = any(stale(g.ev[x].rf, g.ev[x].cell) for x, _ in self.aux.get(ctx.tid, ())) \
                if flags & AWAIT else False
            cands = [c for c in cands if not (waits(c) and (before or stale(c)))]
            if not cands:
                self.dead = True
                return None, None
        if self.model is not None and not (ctx.op is not None and ctx.op.code == 3
                                           and ctx.op.kind in ("lock", "trylock")):
            # (a lock's read is judged with its write: cat models pair them)
            lst = g.co.get(cell)
            latest = lst[-1] if lst else INIT

            def allowed(c):
                m = meta(c) if callable(meta) else (meta or PLAIN)
                if c == latest and self.unjudged(m.tags):
                    return True          # the graph was consistent; this read adds no cycle
                return self._consistent((ctx.tid, "R", cell, g.value_of(c, self.init[cell]),
                                         c, m, flags))
            cands = [c for c in cands if allowed(c)]
        if (ok is not None or self.model is not None) and not cands:
            self.dead = True
            return None, None
        if self.wake is not None:          # (in place: the read keeps its stamp)
            s = self.wake[0]
            for c in cands[:-1]:
                self.push_read(s, ctx.tid, c, flags | REV | WOKEN, (self.woken_as,))
            return s, cands[-1]
        s = g.stamp()
        for c in cands[:-1]:
            self.push_read(s, ctx.tid, c, flags)
        return s, cands[-1]

    def _poll(self, ctx, rec):
        """A CPU with IRQs on looks for IPIs (reads its ``ipi_sent``) at a
        boundary: it takes the new ones, or performs its op tied to the look
        (``_after_poll``); a waiting or finished CPU looks only to take them. Right before a
        ``local_irq_disable()`` the look *is* the cli when it finds nothing:
        IPIs sent after it (later in coherence) wait until IRQs are on again."""
        cell = sent_cell(ctx.cpu)
        cli = ctx.blocked is None and ctx.op is not None and ctx.op.code == 7
        flags = IDLE if ctx.done else (POLL | CLI if cli else POLL)
        g, init = self.g, self.init[cell]
        strict = set(g.read_candidates(ctx.tid, cell, True)) if g.tso else None

        # (a waiting, parked or finished CPU looks only when an IPI is
        # pending, and only to take it: ``next_event``)
        waiting = ctx.done or ctx.blocked is not None or self._parks(ctx) and ctx.polled

        def ok(c):      # taking an IPI drains the store buffer first
            if g.value_of(c, init) <= ctx.handled:
                return not waiting
            return strict is None or c in strict
        def meta(c):    # only a look that takes IPIs is an acquire
            return POLL_META if g.value_of(c, init) > ctx.handled else POLL_NONE_META
        s, rf = self._choose_rf(ctx, cell, rec, flags, ok, meta=meta)
        if rf is None:
            return
        value = g.value_of(rf, init)
        take = value > ctx.handled
        if not self.replaying:
            g.add_read(s, ctx.tid, cell, rf, flags | (TAKE if take else 0) | self.rev, 0,
                       value, drain=take)
            self._weak_added(s, meta(rf))
        ctx.polled = True
        if take:
            # (a parked CPU looked at this boundary before and found none;
            # its op now comes after the handlers, at a boundary of its own)
            self.boundary.pop(ctx.tid, None)
            ctx.take_irqs(value)
        elif cli:       # no IPI yet: IRQs go off here, later ones wait for them on
            ctx.irq_disable()
        else:
            self.boundary[ctx.tid] = s

    def _read(self, ctx, rec):
        op, g, tid = ctx.op, self.g, ctx.tid
        code = op.code
        if code == 5:                          # Await: one read per cell
            st = self.aux.setdefault(tid, [])
            cell = op.cells[len(st)]
            meta = op_meta(ctx, op, "R") if self.model is not None else None
            last = len(st) + 1 == len(op.cells)
            init = self.init[cell]
            s, rf = self._choose_rf(
                ctx, cell, rec, AWAIT, drain=True, meta=meta,
                # (a monotone Await reads only writes it holds for: ``next_event``)
                ok=(lambda c: op.predicate(g.value_of(c, init))) if op.monotone else None,
                waits=(lambda c: not op.predicate(*(v for _, v in st), g.value_of(c, init)))
                if last and not op.monotone else None)
            if rf is None:
                return
            value = g.value_of(rf, init)
            if not self.replaying:
                g.add_read(s, tid, cell, rf, AWAIT | (LAST if last else 0) | self.rev, 5,
                           value, drain=True)
                self._weak_added(s, meta)
            ctx.record_read(cell, rf, value)
            st.append((s, value))
            if last:
                del self.aux[tid]
                values = tuple(v for _, v in st)
                if op.predicate(*values):
                    ctx.advance(values)
                else:
                    if not self.replaying:
                        g.ev[s].flags |= FAILED
                    ctx.blocked = ("await", op, [(g.ev[x].cell, g.ev[x].rf) for x, _ in st])
                    ctx.polled = False         # it may still take IPIs while it waits
            return
        cell = op.cell
        if code == 3:                          # the read part of an atomic RMW
            def waits(c):
                return op.apply(g.value_of(c, self.init[cell])) is NO_WRITE

            def ok(c):
                if waits(c) or g._wkey(c, cell) not in g.taken:
                    return True
                self._conflict(ctx, c)         # another RMW already read c
                return False

            def meta(c):
                v = self._value_read(rec, c, cell)
                return op_meta(ctx, op, "R", success=op.apply(v) is not NO_WRITE)
            s, rf = self._choose_rf(ctx, cell, rec, RMW_R, ok, drain=True,
                                    waits=waits if op.kind in BLOCKING_RMW else None,
                                    meta=meta if self.model is not None else None)
            if rf is None:
                return
            old, promise = self._take_value(rec, rf, cell, s)
            if old is _DIVERGED:
                return
            new = op.apply(old)
            waits = new is NO_WRITE and op.kind in BLOCKING_RMW
            if waits and self.again:
                # A woken lock's read that this revisit leaves waiting: the
                # revisit deleted the write that woke it, and the graph where
                # it waits again at its own place (``_unwake``) is woken from
                # there; waiting here too would reach its classes twice.
                self.moved = self.dead = True
                return
            if not self.replaying:
                g.add_read(s, tid, cell, rf, RMW_R | self.rev | (FAILED if waits else 0)
                           | promise, 3, old, drain=True)
                if self.rev & WOKEN:
                    g.woken[s] = self.woken_as
                if self.model is not None:
                    self._weak_added(s, meta(rf))
            self._bind(ctx, op, s)
            ctx.record_read(cell, rf, old)
            if waits:       # spin_lock() on a held lock: waits like an Await
                ctx.blocked = ("await", op, [(cell, rf)])
                ctx.polled = False
            elif new is NO_WRITE:
                ctx.advance(old)
            else:
                self.aux[tid] = [old, new, rf]
            return
        drain = op.order == "mb"

        def meta(c):
            return op_meta(ctx, op, "R", value=self._value_read(rec, c, cell))
        s, rf = self._choose_rf(ctx, cell, rec, 0, drain=drain,
                                meta=meta if self.model is not None else None)
        if rf is None:
            return
        value, promise = self._take_value(rec, rf, cell, s)
        if value is _DIVERGED:
            return
        if not self.replaying:
            g.add_read(s, tid, cell, rf, self.rev | promise, 1, value, drain=drain)
            if self.model is not None:
                self._weak_added(s, meta(rf))
        self._bind(ctx, op, s)
        ctx.record_read(cell, rf, value)
        ctx.advance(value)

    def _value_read(self, rec, c, cell):
        """The value a read reading ``c`` gets: the one recorded if it reads a
        write not in the graph yet (load buffering), else ``c``'s."""
        if rec is not None and rec[4] & PROMISE and c not in self.g.ev:
            return rec[5][1]
        return self.g.value_of(c, self.init[cell])

    def _take_value(self, rec, rf, cell, s):
        """(value, PROMISE or 0) of the read ``s`` of ``rf``; a read of a
        write not in yet waits for it (``_fulfil``). ``_DIVERGED`` if the
        rebuilt thread reads another cell than the one recorded."""
        if rec is not None and rec[4] & PROMISE and rf not in self.g.ev:
            if rec[5][0] != cell:
                self.dead = True
                return _DIVERGED, 0
            self.promised.setdefault(rf, []).append(s)
            return rec[5][1], PROMISE
        return self.g.value_of(rf, self.init[cell]), 0

    # -- weak models ------------------------------------------------------------
    def _bind(self, ctx, op, s):
        if ctx.regs is not None and getattr(op, "reg", None) is not None:
            ctx.regs[op.reg] = s

    def _consistent(self, extra=None) -> bool:
        if self.promised:      # judged when the writes read early are in (``_fulfil``)
            return True
        return self._judge(self.g, extra)

    def _judge(self, graph, extra=None) -> bool:
        """Does the model allow ``graph`` (the dpor graph or a ``_View``)?"""
        eg = to_execgraph(graph, self.init, self.names, extra,
                          _unpaired_locks(graph, self.g.woken))
        judge = getattr(self.model, "consistent", None)   # (a cheaper answer if it has one)
        return judge(eg) if judge is not None else self.model.check(eg).consistent

    def _weak_added(self, s, meta, latest=False):
        """Record an added event's tags; a read placed by a revisit, and an
        RMW's write, are kept only if the model judges the graph with them
        consistent (an RMW's write put last in coherence, ``latest``, needs
        no judging where the model says so: ``unjudged``)."""
        if self.model is None:
            return
        self.g.meta[s] = meta = meta or PLAIN
        ev = self.g.ev[s]
        lock_read = ev.kind == "R" and bool(meta.tags & {"LKR", "LF"})
        rmw_w = ev.flags & RMW_W and not (latest and self.unjudged(meta.tags))
        if ev.kind == "W" and s in self.promised:
            self._fulfil(s)
        elif (self.rev and ev.kind == "R" and not lock_read or rmw_w) \
                and not self._consistent():
            self.dead = True

    def _fulfil(self, w):
        """The write ``w``, read early by load-buffering reads, is in: it must
        have the value they read, and the graph must be consistent."""
        g = self.g
        readers = self.promised.pop(w)
        ev = g.ev[w]
        for r in readers:
            if g.ev[r].cell != ev.cell or g.ev[r].value != ev.value:
                self.dead = True
                return
            g.fulfil(r, w)
        if not self._consistent():
            self.dead = True

    def _positions(self, ctx, cell, value, flags):
        g = self.g
        if self.model is None:
            return g.write_positions(ctx.tid, cell)
        meta = op_meta(ctx, ctx.op, "W")
        end, last_ok = len(g.co.get(cell, ())), self.unjudged(meta.tags)
        return [k for k in coherent_positions(g, ctx.tid, cell)
                if k == end and last_ok
                or self._consistent((ctx.tid, "W", cell, value, k, meta, flags))]

    def _conflict(self, ctx, w):
        """An RMW reading ``w``, which another RMW already read: the new RMW's
        write must revisit that RMW's read (atomicity), so push that graph now."""
        g, tid = self.g, ctx.tid
        cell = ctx.op.cell
        lst = g.co[cell]
        u_c = lst[0] if w == INIT else lst[lst.index(w) + 1]
        r_c = max(x for x in g.order if g.ev[x].tid == g.ev[u_c].tid and x < u_c)
        porf_p = g.porf_pred(tid)
        s_r, s_u = g.stamp(), g.stamp()
        prefix = porf_p | (1 << s_r)
        if w != INIT:
            prefix |= g.porf[w] | (1 << w)
        self._revisits(ctx, s_u, cell, RMW_W, prefix, [(s_r, tid, "R", w, RMW_R)], r_c)

    def _write(self, ctx, rec):
        op, g, tid = ctx.op, self.g, ctx.tid
        cell = op.cell
        if cell.endswith(".ipi_sent"):   # (Context refuses IPIs when interrupts is off)
            self.senders.add(tid)
        if cell in self.parked:
            self.woke = True             # a parked thread may move now
        rmw = self.aux.pop(tid, None)
        if rmw is not None:
            old, value, rf = rmw
            flags = RMW_W
        else:
            value, flags = op.value, 0
        ctx.record_write(cell, value)
        if self.replaying:
            ctx.advance(old if rmw is not None else None)
            return
        self._wvalue = value
        if rec is None:
            s = g.stamp()
            self._revisits(ctx, s, cell, flags)
            if cell.endswith(".ipi_sent") and self.g.woken:
                self._spin_revisits(ctx, s, cell, flags)
            if rmw is not None:
                pos = 0 if rf == INIT else g.co[cell].index(rf) + 1
            else:
                positions = self._positions(ctx, cell, value, flags)
                if not positions:
                    self.dead = True
                    return
                for k in positions[:-1]:
                    self.push_write(s, tid, cell, k, flags)
                pos = positions[-1]
        else:
            s = rec[0]
            if rmw is not None and rf != INIT and rf not in g.ev:
                pos = self._item_pos(cell, s)      # it read a write not in yet
                if pos is None:
                    return
            elif rmw is not None:
                pos = 0 if rf == INIT else g.co[cell].index(rf) + 1
                if rec[4] & CHOOSE and self.model is None and \
                        not self._rmw_pos_ok(tid, cell, pos):
                    self.dead = True           # the reader could not read it here
                    return
            elif rec[4] & CHOOSE:
                pos = self._choose_revisit_pos(ctx, cell, s, flags)
            elif self.pending_pos is not None:
                pos = self.pending_pos
            else:
                pos = self._item_pos(cell, s)
                if pos is None:
                    return
        if rmw is None and op.order == "mb":
            flags |= DRAINW
        g.add_write(s, tid, cell, value, pos, flags, op.code, drain=bool(flags & DRAINW),
                    waking=self._waking(tid, cell))
        if self.model is not None:
            self._weak_added(s, op_meta(ctx, op, "W"), latest=pos == len(g.co[cell]) - 1)
        ctx.advance(old if rmw is not None else None)

    def _item_pos(self, cell, s):
        """Where the rebuilt write ``s`` goes in co[cell]: among the writes in
        so far, where the item's coherence order has it."""
        rank = self.rank.get(cell)
        if rank is None:
            rank = self.rank[cell] = {w: i for i, w in enumerate(self.item_co.get(cell, ()))}
        if s not in rank:              # (lenient: the thread writes elsewhere now)
            self.dead = True
            return None
        mine = rank[s]
        return sum(1 for w in self.g.co.get(cell, ()) if rank[w] < mine)

    def _reader_base(self):
        """Ancestors the revisited read will start with when it is re-added."""
        tid, flags = self._tail[0][1], self._tail[0][4]
        drain = bool(flags & (RMW_R | AWAIT))
        if flags & (POLL | IDLE):
            drain = self._wvalue > self.ex.contexts[tid].handled
        return self.g.base(tid, drain, self._wcell)

    def _rmw_pos_ok(self, tid, cell, pos):
        """Can the revisited reader read an RMW write placed at ``pos``?"""
        g = self.g
        base = self._reader_base()
        return all(not (base >> w) & 1 for w in g.co.get(cell, [])[pos:])

    def _choose_revisit_pos(self, ctx, cell, s, flags):
        """The revisiting write's co position: explore each consistent one."""
        g = self.g
        if self.model is not None:     # the re-added read is judged when it is in
            # (coherence: the read comes after its thread's own writes and
            # reads of the cell, so the write it reads does too)
            floor = coherence_floor(g, self._tail[0][1], cell)
            positions = [k for k in coherent_positions(g, ctx.tid, cell) if k >= floor] \
                or [len(g.co.get(cell, ()))]
        else:
            positions = g.write_positions(ctx.tid, cell, self._reader_base())
        for k in positions[:-1]:
            recs = self._records() + [(s, ctx.tid, "W", None, flags)] + self._tail
            co = self._co()
            lst = list(co.get(cell, ()))
            lst.insert(k, s)
            co[cell] = tuple(lst)
            self.stack.append(("records", recs, co, g.top))
        return positions[-1]

    def _revisits(self, ctx, s, cell, flags, prefix=None, lead=(), must_go=None):
        """Push one item per read this new write may revisit (TruSt's condition).

        ``lead`` are records the write depends on that are not in the graph yet
        (a conflicting RMW's read part); ``must_go``, a read that must end up
        revisited or deleted (the RMW that already read the same write).
        """
        g = self.g
        if prefix is None:
            prefix = g.porf_pred(ctx.tid)
        for r in list(g.reads.get(cell, ())):
            if (prefix >> r) & 1 or (must_go is not None and r > must_go):
                continue
            if g.ev[r].tid != ctx.tid and self._placeholder(self.ex.contexts[g.ev[r].tid]) == r:
                continue               # a waiting lock: the write wakes it instead (``_wake``)
            deleted = {x for x in g.order if x > r and not (prefix >> x) & 1}
            if must_go is not None and must_go != r and must_go not in deleted:
                continue
            if self.promising and _orphans(g, deleted):
                continue
            if not maximal(g, r, prefix) or not all(maximal(g, x, prefix) for x in deleted):
                continue
            rev = g.ev[r]
            base = [self._unwake(rec, deleted) for rec in self._records(deleted) if rec[0] != r]
            co = self._co(deleted | {r})
            # (weak models) reads in the write's prefix may read it too, early
            early = [()] if self.model is None else _subsets(
                [x for x in g.order if (prefix >> x) & 1 and x > r
                 and self._may_read_early(x, cell, ctx.tid) and not g.ev[x].flags & RMW_R])
            # (a woken lock's read whose waking write goes: ``AGAIN``)
            again = AGAIN if rev.flags & WOKEN and rev.rf in deleted else 0
            for also in early:
                keep = self._promise(base, also, s, cell, lead, ctx) if also else \
                    list(base)
                keep.extend(lead)
                keep.append((s, ctx.tid, "W", None, flags | CHOOSE))
                # the read is re-added after the write it now reads from
                keep.append((s + 1, rev.tid, "R", s,
                             (rev.flags & ~(TAKE | LAST | FAILED | PROMISE | WOKEN | SPIN))
                             | REV | again))
                self.stack.append(("records", keep, co, max(g.top, s + 1)))
        if self.model is not None:
            self._lb_revisits(ctx, s, cell, flags, prefix, lead, must_go)

    @staticmethod
    def _unwake(rec, deleted, also=0):
        """A woken lock read whose write goes with ``deleted`` waits again
        on what it read before it was woken (``_wake``), with flags ``also``."""
        if rec[4] & WOKEN and rec[3] in deleted:
            rf, flags, _ = rec[5]
            return (rec[0], rec[1], "R", rf, flags | also)
        return rec

    def _spin_on(self):
        """A violation ended this graph early, or it was dropped: the IPI
        sends still to come would each have pushed the graph where a CPU
        woken in place with IRQs on spins on instead (``_spin_revisits``).
        Push that graph from here (``run_items`` skips it if it was seen):
        the woken CPU's events after its lock's read (and all that saw them)
        go, and the read waits (SPIN) until the CPU takes an IPI."""
        g = self.g
        for r, (_, _, irqs) in list(g.woken.items()):
            if not irqs or g.ev[r].flags & FAILED:
                continue
            tid = g.ev[r].tid
            deleted = {x for x in g.order if x != r and (
                g.ev[x].tid == tid and x > r or (g.porf[x] >> r) & 1)}
            keep = [rec if rec[0] != r else self._unwake(rec, {rec[3]}, SPIN)
                    for rec in self._records(deleted)]
            self.stack.append(("records", keep, self._co(deleted), g.top))

    def _spin_revisits(self, ctx, s, cell, flags):
        """The new IPI send ``s`` (to the CPU of ``cell``) may reach a CPU
        that a write woke in place (``_wake``) while it still spins, with
        IRQs on: the graph where it has not seen the release yet takes the
        IPI there and retries after the handler. That graph keeps the events
        up to the waking write and the send's prefix; the lock's read waits
        again, and a look that takes the IPI follows it (a revisit of that
        look, so the deleted events must be maximal as for any revisit)."""
        g = self.g
        prefix = g.porf_pred(ctx.tid)
        for r, (_, _, irqs) in list(g.woken.items()):
            e = g.ev[r]
            c = self.ex.contexts[e.tid]
            if not irqs or e.tid == ctx.tid or sent_cell(c.cpu) != cell or (prefix >> r) & 1:
                continue
            w = e.rf
            deleted = {x for x in g.order if x > w and not (prefix >> x) & 1}
            if not all(maximal(g, x, prefix) for x in deleted):
                continue
            keep = [rec if rec[0] != r else self._unwake(rec, {w})
                    for rec in self._records(deleted)]
            keep.append((s, ctx.tid, "W", None, flags | CHOOSE))
            keep.append((s + 1, e.tid, "R", s, POLL | REV))
            self.stack.append(("records", keep, self._co(deleted), max(g.top, s + 1)))

    def _may_read_early(self, x, cell, tid) -> bool:
        """Can the read ``x`` (in a new write's prefix) read that write early?"""
        e = self.g.ev[x]
        return e.kind == "R" and e.cell == cell and e.tid != tid \
            and not e.flags & ~(REV | PROMISE | RMW_R) \
            and not (e.code == 3 and self.g.meta[x].tags & {"LKR", "LF"})

    def _new_value(self, ctx, cell, lead):
        """The value the new write writes (a conflicting RMW's read is in ``lead``)."""
        if lead:
            return ctx.op.apply(self.g.value_of(lead[0][3], self.init[cell]))
        return self._wvalue

    def _promise(self, records, reads, s, cell, lead, ctx):
        """``records`` with each of ``reads`` reading the new write ``s`` early."""
        g, value = self.g, self._new_value(ctx, cell, lead)
        reads = set(reads)
        return [rec if rec[0] not in reads else
                (rec[0], rec[1], "R", s,
                 (g.ev[rec[0]].flags & ~(TAKE | LAST | FAILED)) | REV | PROMISE, (cell, value))
                for rec in records]

    def _lb_revisits(self, ctx, s, cell, flags, prefix, lead=(), must_go=None):
        """Load buffering under a weak model: the new write ``s`` may also be
        read by a read *in* its po/rf prefix (of another thread), which then
        reads it early. Kept: the events added before that read and the
        write's prefix, so the read's thread keeps the events after it that
        the write needs; when the graph is rebuilt that thread runs on with
        the new value and must do the same again (``lenient``), and the
        write, when it is in, must have the value read (``_fulfil``).
        ``lead`` and ``must_go`` as for ``_revisits``."""
        g, tid, op = self.g, ctx.tid, ctx.op
        extra = []
        value = self._new_value(ctx, cell, lead)
        if lead:                       # a conflicting RMW: its read part is not in yet
            s_r, _, _, w0, _ = lead[0]
            extra.append((GEvent(s_r, tid, "R", cell, g.value_of(w0, self.init[cell]), w0,
                                 RMW_R, 3), op_meta(ctx, op, "R", success=True)))
        elif flags & RMW_W:            # the write its own read part read
            w0 = g.ev[max(x for x in g.order if g.ev[x].tid == tid)].rf
        extra.append((GEvent(s, tid, "W", cell, value, None, flags, 2), op_meta(ctx, op, "W")))
        eligible = [x for x in g.order if (prefix >> x) & 1
                    and self._may_read_early(x, cell, tid)]
        if eligible:           # (cheaper than the model's no for most of them)
            before = _ordered_before(g, tid, extra[-1][1])
            eligible = [x for x in eligible if x not in before]
        for r in eligible:
            deleted = {x for x in g.order if x > r and not (prefix >> x) & 1}
            if must_go is not None and must_go != r and must_go not in deleted:
                continue
            if self.promising and _orphans(g, deleted):
                continue
            if not all(maximal(g, x, prefix) for x in deleted):
                continue
            # (the others are in the prefix, so kept; only later ones join r:
            # a set with an earlier one is that one's revisit)
            for also in _subsets([x for x in eligible if x > r]):
                reads = (r, *also)
                rmws = [x for x in reads if g.ev[x].flags & RMW_R]
                if len(rmws) > 1:
                    continue           # two RMWs cannot both read it
                view = _View(g, deleted, reads, s, value, extra)
                lst = view.co.get(cell, [])
                positions = coherent_positions(view, tid, cell)
                if flags & RMW_W:      # right after the write its own read part read
                    positions = [0 if w0 == INIT else lst.index(w0) + 1] \
                        if w0 == INIT or w0 in lst else []
                if rmws:               # and the revisited RMW's write right after it
                    x0 = rmws[0]
                    after = [y for y in g.ev if g.ev[y].tid == g.ev[x0].tid and y > x0]
                    part = min(after) if after else None      # its write part, if it wrote
                    if part is not None and g.ev[part].flags & RMW_W and part in lst:
                        k = lst.index(part)
                        ok = k >= coherence_floor(view, tid, cell) and \
                            (not flags & RMW_W or positions == [k])
                        positions = [k] if ok else []
                records = self._promise(self._records(deleted), reads, s, cell, lead, ctx)
                records.extend(lead)
                records.append((s, tid, "W", None, flags))
                for k in positions:
                    view.co[cell] = lst[:k] + [s] + lst[k:]
                    if not self._judge(view):
                        continue
                    co = {c: tuple(ws) for c, ws in view.co.items()}
                    self.stack.append(("records", list(records), co, max(g.top, s)))

    # -- running to the end -----------------------------------------------------
    def extend(self):
        ex = self.ex
        contexts = ex.contexts
        n, i = len(contexts), 0
        # A context that cannot move now cannot move later in this run (a
        # blocked read only changes through a revisit, which is another
        # graph), so the leftmost movable context only moves right, except
        # a *parked* one: a CPU waiting or finished with IRQs on and no IPI
        # pending, or a monotone Await that does not hold yet (``_parks``,
        # ``_ends``). It adds no event while it waits (so no graph is
        # explored in which it waits for ever), and a write of the cell it
        # waits on sends the scan back to the left.
        # An RMW's write follows its read at once: until it is in, the write
        # its read read is not taken, and another RMW could read it too.
        self.woke = False
        for c in contexts:
            if self._rmw_half(c):
                self.perform(c)          # (a graph rebuilt with an RMW half in)
        if self._wake():
            return
        while ex.violation is None and not self.dead:
            if self.woke:        # a parked thread to the left may move now
                i = 0
                self.parked.clear()
            while i < n and self.next_event(contexts[i]) is None:
                i += 1
            if i == n:
                return
            self.woke = False
            ctx = contexts[i]
            self.perform(ctx)
            if self._rmw_half(ctx) and ex.violation is None and not self.dead:
                self.perform(ctx)
            if self._wake():
                return

    def _placeholder(self, ctx):
        """The stamp of ``ctx``'s read if it waits at a blocking RMW on a
        held lock with nothing after it (no IPI taken while it waits) and is
        not spinning on for an IPI (SPIN); else None."""
        b = ctx.blocked
        if b is None or b[1].code != 3:
            return None
        r = self.g.last.get(ctx.tid)
        e = self.g.ev.get(r)
        return r if e is not None and e.flags & FAILED and e.flags & RMW_R \
            and not e.flags & SPIN else None

    def _wake(self) -> bool:
        """A waiting lock's read that a write of another thread has made
        stale (the lock was released, or changed hands): the wait would read
        again. The read is made again in place, at its own stamp, from the
        writes after the one it read only (the older ones were its choices
        when it was added), and the graph goes on as that item (rebuilt from
        its records: the events after the read lose it as an ancestor). The
        write that made it stale does not revisit it (``_revisits``): with
        nothing after the read in its thread, the events added after it do
        not depend on it, so none need deleting (the in-place revisit of
        Kokologiannakis, Marmanis and Vafeiadis, "Unblocking dynamic partial
        order reduction", CAV 2023); other waits added after it that the
        write does not see start again, as that revisit would delete them.
        A CPU with IRQs on and an IPI pending also spins on in this graph
        (SPIN) until it takes the IPI. True if the graph went on as an item."""
        if self.dead or self.ex.violation is not None:
            return False
        g = self.g
        for c in self.ex.contexts:
            r = self._placeholder(c)
            if r is None:
                continue
            e = g.ev[r]
            w = _overwritten(g, e.cell, e.rf, c.tid)
            if w is None:
                continue
            prefix = g.porf[w] | (1 << w)
            # (the waits added after it that the write does not see would be
            # deleted by the revisit: they wait again from the start, forward)
            drop = {r} | {x for x in (self._placeholder(d) for d in self.ex.contexts)
                          if x is not None and x > r and not (prefix >> x) & 1}
            irqs = bool(self.interrupts and c.irqs)
            records = [rec for rec in self._records() if rec[0] not in drop]
            records.append((r, c.tid, "R", e.rf, WAKE, g.woken.get(r, (e.rf, e.flags, irqs))))
            self.stack.append(("records", records, self._co(), g.top))
            if self._spins_on(c):
                # an IPI is pending for it: this graph goes on with the CPU
                # spinning until it takes the IPI, then it reads the lock again
                g.ev[r] = GEvent(r, e.tid, "R", e.cell, e.value, e.rf, e.flags | SPIN, e.code)
                continue
            self.moved = self.dead = True
            return True
        return False

    def _waking(self, tid, cell):
        """The waiting lock reads on ``cell`` of other threads that a write
        there by ``tid`` would make stale and ``_wake`` then makes again in
        place (not spinning on for an IPI): the read the wait ends with
        comes after the write, so the stale one is not ordered before it
        (else an IPI the waiting CPU sent before it waited would come before
        the write too, and a look of the writer's that did not see that IPI
        would end the graph before the wake)."""
        out = set()
        for c in self.ex.contexts:
            if c.tid == tid:
                continue
            r = self._placeholder(c)
            if r is not None and self.g.ev[r].cell == cell and not self._spins_on(c):
                out.add(r)
        return out

    def _spins_on(self, ctx) -> bool:
        """Does a woken lock's CPU spin on instead (IRQs on, an IPI pending)?"""
        return bool(self.interrupts and ctx.irqs) and self._pending(ctx)

    def _rmw_half(self, ctx) -> bool:
        """Has ``ctx`` read for an RMW whose write is still to come?"""
        return ctx.tid in self.aux and ctx.op is not None and ctx.op.code == 3

    def outcome(self):
        """'violation', 'complete' or 'blocked' (a redundant, stale-blocked graph)."""
        ex, g = self.ex, self.g
        if self.moved:
            return "moved"     # it goes on as another item (``_wake``)
        if self.promised:      # a write read early never came: the thread that read
            return "blocked"   # it went another way (and may have failed there)
        if ex.violation is not None:
            self._spin_on()
            return "violation"
        if self.dead:
            self._spin_on()
            return "blocked"
        stuck = [c for c in ex.contexts if not c.done]
        for c in stuck:
            if c.blocked is None:
                if self._parks(c):
                    continue           # parked: its wait does not end, and nothing moves
                return "blocked"
            for cell, w in c.blocked[2]:
                # stuck for real only if no other thread wrote the cell after
                # the write it read (its own later writes repeat themselves)
                if _overwritten(g, cell, w, c.tid) is not None:
                    return "blocked"
        if stuck:
            ex.fail(stuck_violation(stuck))
            return "violation"
        if not ex.end_invariants:
            return "complete"
        view = self.final_memory()
        results = ex.results
        for inv in ex.end_invariants:
            v = ex._evaluate(inv, view, results)
            if v is not None:
                ex.fail(v)
                return "violation"
        return "complete"

    def final_memory(self):
        g = self.g
        return {cell: g.value_of(g.co_max(cell), init) for cell, init in self.init.items()}

    def schedule(self):
        """An interleaving consistent with the graph, as runtime actions.

        Events are taken in an order that extends the model's global order
        (ancestor counts grow along it). Under TSO a plain store is issued
        (``s``) when its thread first needs to move past it and reaches
        memory (``f``) at its place in the global order.
        """
        g = self.g
        order = sorted(g.ev, key=lambda s: (bin(g.anc[s]).count("1"), s))
        po: dict[int, list[int]] = {}
        for x in sorted(g.ev):
            po.setdefault(g.ev[x].tid, []).append(x)
        issued: set[int] = set()
        actions = []
        for s in order:
            e = g.ev[s]
            t = e.tid
            if e.flags & FAILED:     # an Await that did not hold is not a step
                continue
            if g.tso:
                for x in po[t][:po[t].index(s)]:
                    if x not in issued:        # only buffered stores lag behind
                        issued.add(x)
                        if g.ev[x].kind == "W" and not g.ev[x].flags & (RMW_W | DRAINW):
                            actions.append((t, "s"))
                if e.kind == "W" and not e.flags & (RMW_W | DRAINW):
                    if s not in issued:
                        issued.add(s)
                        actions.append((t, "s"))
                    actions.append((t, "f"))
                    continue
            issued.add(s)
            if e.flags & (POLL | IDLE):
                if e.flags & TAKE:
                    actions.append((t, "i"))
                elif e.flags & CLI:        # the local_irq_disable() step
                    actions.append((t, "s"))
            elif e.flags & AWAIT:
                if e.flags & LAST:
                    actions.append((t, "s"))
            elif e.kind == "R" and e.flags & RMW_R and self._rmw_succeeded(s):
                continue
            else:
                actions.append((t, "s"))
        return actions

    def _rmw_succeeded(self, s):
        g = self.g
        tid = g.ev[s].tid
        later = [x for x in g.order if g.ev[x].tid == tid and x > s]
        return bool(later) and g.ev[min(later)].flags & RMW_W


_DIVERGED = object()


_MARKS = frozenset(("ONCE", "ACQUIRE", "RELEASE", "MB", "NORETURN"))


def _ordered_before(g, tid, wmeta):
    """Events with a path to a new write of ``tid`` (its meta ``wmeta``) in
    (po ordered by a full fence, an acquire or a release | rf between
    threads), marked accesses only: every weak model here forbids a cycle of
    those edges, so none of them can read the write early."""
    if not wmeta.tags & _MARKS:
        return set()
    byt = {}
    for x in sorted(g.ev):
        byt.setdefault(g.ev[x].tid, []).append(x)

    def marked(x):
        e = g.ev[x]
        return e.kind == "F" or bool(g.meta.get(x, PLAIN).tags & _MARKS)

    def into(t, upto, release):
        """Events of ``t`` before position ``upto`` ordered before the
        event there (``release``: it is a release write)."""
        lst = byt.get(t, [])
        out = []
        fence = release
        for i in range(upto - 1, -1, -1):
            x = lst[i]
            e = g.ev[x]
            tags = g.meta.get(x, PLAIN).tags
            if e.kind == "F" and "MB" in tags:
                fence = True
            if fence or (e.kind == "R" and "ACQUIRE" in tags and not e.flags & RMW_R):
                if marked(x):
                    out.append(x)
        return out
    seen = set()
    todo = into(tid, len(byt.get(tid, [])), "RELEASE" in wmeta.tags)
    while todo:
        x = todo.pop()
        if x in seen:
            continue
        seen.add(x)
        e = g.ev[x]
        if e.kind == "R" and e.rf is not None and e.rf != INIT and e.rf in g.ev \
                and g.ev[e.rf].tid != e.tid and marked(e.rf) and not e.flags & PROMISE:
            w = e.rf
            todo.append(w)
            lst = byt[g.ev[w].tid]
            todo.extend(into(g.ev[w].tid, lst.index(w),
                             "RELEASE" in g.meta.get(w, PLAIN).tags))
    return seen


def _unpaired_locks(g, woken) -> set:
    """The lock reads of ``g`` woken in place (``woken``) whose write part is
    not in: a woken read is added again last (``_wake``), after the events
    that follow it, and a revisit may delete its write and keep it. Left out
    of what the model judges: lock.cat derives a lock read's rf from where its
    write sits in co, and an LKR without one would read from nowhere. (Any
    other lock read is judged only once its write is in.)"""
    out = set()
    for x in woken:
        e = g.ev.get(x)
        if e is None or e.flags & FAILED or "LKR" not in getattr(g.meta.get(x), "tags", ()):
            continue
        part = min((y for y in g.ev if y > x and g.ev[y].tid == e.tid), default=None)
        if part is None or not g.ev[part].flags & RMW_W:
            out.add(x)
    return out


def _overwritten(g, cell, w, tid):
    """The first write of ``cell`` after ``w`` in coherence by a thread
    other than ``tid`` (a wait of ``tid`` on ``w`` is stale then), or None."""
    lst = g.co.get(cell, ())
    for x in (lst if w == INIT else lst[lst.index(w) + 1:]):
        if g.ev[x].tid != tid:
            return x
    return None


def _subsets(items, limit: int = 6):
    """Every subset of ``items`` (the empty one first); past ``limit`` items,
    only the empty set and the single ones."""
    items = list(items)
    if len(items) > limit:
        return [()] + [(x,) for x in items]
    from itertools import combinations
    return [c for k in range(len(items) + 1) for c in combinations(items, k)]


def _orphans(g, deleted) -> bool:
    """Would deleting ``deleted`` leave a read of a write added after it
    (load buffering) without its write?"""
    return any(e.flags & PROMISE and e.rf in deleted
               for x, e in g.ev.items() if x not in deleted)


class _View:
    """A graph as a load-buffering revisit would leave it, for the model to
    judge before the item is pushed: ``deleted`` gone, the ``reads`` reading
    the new write ``w`` (its ``value``); ``extra``: the new events with their meta."""

    def __init__(self, g, deleted, reads, w, value, extra):
        self.ev = {x: e for x, e in g.ev.items() if x not in deleted}
        for r in reads:
            old = self.ev[r]
            self.ev[r] = GEvent(r, old.tid, "R", old.cell, value, w, old.flags | PROMISE,
                                old.code)
        self.co = {c: [x for x in ws if x not in deleted] for c, ws in g.co.items()}
        self.meta = dict(g.meta)
        for ev, meta in extra:
            self.ev[ev.s], self.meta[ev.s] = ev, meta


def refuse_step_invariants(factory, memory_model) -> None:
    """Under a weak model there is no interleaving to check an invariant at
    every step of: a program that has one is a ``ScenarioError``."""
    if memory_model in WEAK and Execution(factory, None, start=False).step_invariants:
        raise ScenarioError("invariants checked at every step need an interleaving; "
                            f"under {memory_model} check them at the end "
                            "(when='end') or as Asserts in the threads")


def explore(factory, config, progress=None, observe=None):
    """Explore every graph from the empty one (the ``dpor`` strategy)."""
    refuse_step_invariants(factory, config.memory_model)
    stats = Stats()
    t0 = time.perf_counter()
    seen = set() if config.count_classes else None
    deadline = None if config.max_seconds is None else t0 + config.max_seconds
    stack = [ROOT_ITEM]
    found = run_items(factory, config, stack, stats, deadline=deadline,
                      max_executions=config.max_executions, progress=progress,
                      observe=observe, seen=seen, t0=t0)
    stats.exhausted = not stack and (found is None or not config.stop_on_first)
    stats.seconds = time.perf_counter() - t0
    if seen is not None:
        stats.classes = len(seen)
    if config.memory_model in WEAK:
        from .weakresult import weak_result
        return weak_result(config, stats, found and found[1:],
                           axiomatic_model(config.memory_model), factory=factory)
    return build_result(factory, config, stats, found and found[1:], None)


ROOT_ITEM = ("records", [], {}, -1)
"""The work item of the empty graph: the root of the exploration tree."""


def run_items(factory, config, stack, stats, *, deadline=None, max_executions=None,
              progress=None, observe=None, seen=None, t0=None, keys=None, ledger=None,
              digests=None):
    """Pop and run work items from ``stack`` (last first) until it is empty, a
    budget is spent (``deadline``: a ``perf_counter`` time; ``max_executions``:
    a total for ``stats.executions``) or, with ``stop_on_first``, a violation.

    Each item's children (the choices it left open) are pushed on ``stack``;
    what is left there when a budget stops is independent work. Returns
    ``(key, execution, schedule)`` of the first violation or None. With
    ``keys`` (a list parallel to ``stack``) every item carries its place in the
    sequential order: a child of ``key`` pushed j-th of k gets ``key + (k-1-j,)``,
    so sorted keys are the order one worker explores in. ``ledger`` (with
    ``keys``) maps the keys of the initial items to ``[executions, blocked,
    events]`` lists that receive the counts of each one's subtree.

    Under a weak model the same graph can be reached twice (see the module
    doc): a complete execution whose access signature was seen before in
    this call is a duplicate, not an execution, and a load-buffering item
    seen before is skipped with its subtree. ``digests`` (with ``ledger``)
    maps the same keys to sets that receive the ``class_digest`` of each
    execution counted in each one's subtree, so that runs split across
    processes can count the distinct ones (``gupsim.distributed``).
    """
    t0 = time.perf_counter() if t0 is None else t0
    last = t0                          # when progress was last reported
    found = None
    owner = None
    seen_weak = None
    counted = None
    seen_items = None
    while stack:
        if max_executions is not None and stats.executions >= max_executions:
            break
        if deadline is not None and time.perf_counter() > deadline:
            break
        item = stack.pop()
        key = keys.pop() if keys is not None else None
        if item[0] == "records" and any(rec[4] & (PROMISE | SPIN | WAKE) for rec in item[1]):
            # A load-buffering graph can be reached again by another route,
            # and so can a graph where a waiting lock is woken in place or
            # spins on (two waits woken in turn rebuild the same item):
            # rebuilding it would explore the same subtree again, once is
            # enough (the same item gives the same subtree: determinism).
            digest = class_digest(item_key(item))
            if seen_items is None:
                seen_items = set()
            if digest in seen_items:
                stats.duplicates += 1
                continue
            seen_items.add(digest)
        if ledger is not None and key in ledger:
            owner = ledger[key]
            counted = None if digests is None else digests[key]
        before = len(stack)
        run = GraphRun(factory, item, stack, stats, config.memory_model)
        run.extend()
        if keys is not None:
            k = len(stack) - before
            keys.extend(key + (k - 1 - j,) for j in range(k))
        outcome = run.outcome()
        stats.events += len(run.g.ev)
        if owner is not None:
            owner[2] += len(run.g.ev)
        if outcome == "moved":
            continue
        if outcome == "blocked":
            stats.blocked += 1
            if owner is not None:
                owner[1] += 1
            continue
        stats.executions += 1
        if owner is not None:
            owner[0] += 1
        violation = run.ex.violation
        if run.model is not None:
            eg = to_execgraph(run.g, run.init, run.names)
            judged = run.model.check(eg)
            if not judged.consistent:        # (cannot happen: every addition was judged)
                stats.executions -= 1
                stats.blocked += 1
                continue
            # Load buffering reaches some graphs twice (``_lb_revisits``): the
            # second time counts as a duplicate, not as an execution.
            sig = class_digest(access_signature(run.g, awaits=True))
            if seen_weak is None:
                seen_weak = set()
            if sig in seen_weak:
                stats.executions -= 1
                stats.duplicates += 1
                if owner is not None:
                    owner[0] -= 1
                continue
            seen_weak.add(sig)
            if seen is not None:         # (--count-classes: each weak execution is one)
                seen.add(sig)
            if counted is not None:
                counted.add(sig)
            if observe is not None:
                observe(Outcome(run.ex.results, run.final_memory(), access_signature(run.g),
                                violation, judged.flags, eg))
            if violation is not None and found is None:
                found = (key, eg, violation)
                if config.stop_on_first:
                    break
            if progress is not None:     # (a weak execution is dear: report by time too)
                last = _report(progress, stats, t0, last, 0.5)
            continue
        if outcome == "complete" and run.ex.step_invariants:
            # invariants over every step: checked along one interleaving of the class
            walked = run_schedule(factory, run.schedule(), config.memory_model, record=False)
            if walked.violation is not None:
                outcome, violation = "violation", walked.violation
        if seen is not None:
            sig = class_digest(access_signature(run.g, awaits=True))
            if sig in seen:
                stats.duplicates += 1
            seen.add(sig)
        if observe is not None:
            observe(Outcome(run.ex.results, run.final_memory(), access_signature(run.g),
                            violation))
        if outcome == "violation" and found is None:
            found = (key, run.ex, run.schedule())
            if config.stop_on_first:
                break
        if progress is not None and stats.executions % 512 == 0:
            last = _report(progress, stats, t0, last, 0.0)
    return found


def _report(progress, stats, t0, last, every):
    """Call ``progress`` if ``every`` seconds passed since ``last``; the new ``last``."""
    now = time.perf_counter()
    if now - last < every:
        return last
    stats.seconds = now - t0
    progress(stats)
    return now


def item_key(item):
    """A work item with its stamps renumbered 0, 1, ... in order: two items
    with the same key rebuild the same graph and explore the same subtree
    (only the stamps' order matters, never their values)."""
    _, records, co, _top = item
    stamps = sorted({rec[0] for rec in records} | {w for ws in co.values() for w in ws})
    rank = {x: i for i, x in enumerate(stamps)}
    rank[INIT] = INIT
    def extra(rec):        # (a WOKEN read's first wait names a write too)
        if rec[4] & WOKEN:
            return ((rank.get(rec[5][0], rec[5][0]),) + tuple(rec[5][1:]),)
        return rec[5:]
    return (tuple((rank[rec[0]], rec[1], rec[2], rank.get(rec[3], rec[3]), rec[4]) + extra(rec)
                  for rec in records),
            tuple(sorted((c, tuple(rank[w] for w in ws)) for c, ws in co.items())))


def class_digest(signature) -> bytes:
    """A process-independent digest of an access signature (``hash`` of a
    string differs between processes)."""
    import hashlib
    return hashlib.blake2b(repr(signature).encode(), digest_size=12).digest()
