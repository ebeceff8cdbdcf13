"""One CPU's execution context: drives a thread generator op by op.

The context is shared by every strategy. It advances the thread to its next
*shared* op (a scheduling point), handling the CPU-local ops inline: ``Note``,
``Assert``, ``IrqDisable``/``IrqEnable`` and ``SpinHint``. The exception is an
``IrqDisable`` reached with IRQs on in a program with interrupts: it stops
there (it becomes ``op``, a step without a memory access, see
``irq_disable``), because an IPI may arrive right before the cli. Compound ops are
expanded into primitive ones by pushing a helper generator on the context's
frame stack (``SendIpi`` becomes one atomic add per target plus an ``Await`` of
the acks); an interrupt handler runs the same way, on top of the interrupted
frame, with IRQs disabled, and acknowledges with a store when it returns.

Interrupt protocol, in cells every strategy sees (so that interrupts are
ordinary memory traffic to the exploration):

* ``cpuN.ipi_sent``: how many IPIs were sent to CPU N. A sender adds 1 and so
  learns its request number.
* ``cpuN.ipi_done``: how many of them CPU N has finished handling (only CPU N
  writes it). A waiting sender awaits ``ipi_done >= its number``.

Which handler a request number runs is recorded by the sender in the
execution's request table; a CPU takes requests in order.
"""

from __future__ import annotations

from collections.abc import Generator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..errors import ScenarioError
from ..ops import Await, Note, Op, Rmw, SendIpi, Store
from ..spec import make_violation

if TYPE_CHECKING:  # pragma: no cover
    from .runtime import Execution

# Frame kinds on a context's stack.
THREAD, HELPER, IRQ = 0, 1, 2


@lru_cache(maxsize=None)      # (asked for at every look for IPIs: formatted once)
def sent_cell(cpu: int) -> str:
    return f"cpu{cpu}.ipi_sent"


@lru_cache(maxsize=None)
def done_cell(cpu: int) -> str:
    return f"cpu{cpu}.ipi_done"


def call_chain(frames) -> list[str]:
    """Function names of a context's generator chain (``Context.frames``),
    outermost first."""
    names = []
    for gen in frames:
        while gen is not None and hasattr(gen, "gi_code"):
            names.append(gen.gi_code.co_name)
            gen = getattr(gen, "gi_yieldfrom", None)
    return names


def source_of(gen: Generator) -> tuple[str, int, str]:
    """(file, line, function) of the innermost frame of a generator chain."""
    frame_gen = gen
    while True:
        inner = getattr(frame_gen, "gi_yieldfrom", None)
        if inner is None or not hasattr(inner, "gi_frame") or inner.gi_frame is None:
            break
        frame_gen = inner
    frame = getattr(frame_gen, "gi_frame", None)
    if frame is None:
        code = getattr(frame_gen, "gi_code", None)
        return (code.co_filename if code else "?", 0, code.co_name if code else "?")
    return frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name


class Context:
    """A CPU running one thread (and, on top of it, IPI helpers and handlers)."""

    # Per-context state; the defaults live on the class so that building the
    # hundreds of contexts an exploration needs per second stays cheap.
    saved: list | None = None        # per IRQ frame: (pending op, irqs before)
    irqs = True
    op: Op | None = None             # the shared op to perform next
    done = False
    result: Any = None
    blocked: Any = None              # None, ("await", op, reads) or ("spin", op, reads)
    handled = 0                      # IPI requests taken so far (CPU-local)
    spin_log: list | None = None     # (cell, write id, value[, written]) per access
    spin_sites: dict | None = None   # loop head -> (log index, last round's accesses)
    polled = False                   # (dpor) looked for IPIs at this boundary
    regs: dict | None = None         # (weak models) register name -> read event
    ctrl: frozenset = frozenset()    # (weak models) reads the control flow depends on
    addr_scope: tuple = ()           # (weak models) registers every address depends on
    nevents = 0

    def __init__(self, ex: "Execution", tid: int, name: str, cpu: int, body: Generator):
        self.ex, self.tid, self.name, self.cpu = ex, tid, name, cpu
        self.frames: list[Generator] = [body]
        self.kinds: list[int] = [THREAD]

    # -- driving the generator --------------------------------------------------
    def start(self) -> None:
        body = self.frames[0]
        if not hasattr(body, "send"):
            raise ScenarioError(
                f"thread {self.name!r}: body={body!r} is not a generator; pass the result of "
                f"calling a generator function (e.g. walker(), not walker)")
        self.advance(None)

    def advance(self, value: Any) -> None:
        """Send ``value`` to the top frame and run to the next shared op."""
        ex = self.ex
        self.polled = False
        while True:
            gen = self.frames[-1]
            try:
                op = gen.send(value)
            except StopIteration as stop:
                if self._pop(stop.value):
                    return
                value = stop.value
                continue
            except AssertionError as err:
                self._fail_exception(gen, "assertion", err)
                return
            except Exception as err:  # the model raised: a finding, not a crash
                self._fail_exception(gen, "exception", err)
                return
            value = None
            try:
                code = op.code
            except AttributeError:
                file, line, fn = source_of(gen)
                raise ScenarioError(
                    f"thread {self.name!r} yielded {op!r} at {file}:{line} in {fn}(); "
                    f"a thread may only yield gupsim ops (Load, Store, Rmw, Fence, ...)"
                ) from None
            if op.shared:
                if code == 9:       # SendIpi: expand into primitive ops
                    self._push(self._send_ipi(op), HELPER)
                    continue
                self.op = op
                return
            if code == 10:          # Note
                ex.note(self, op.text)
            elif code == 11:        # Assert
                if not op.cond:
                    file, line, fn = source_of(gen)
                    ev = dict(op.evidence)
                    ev.setdefault("where", f"{fn}() {short(file)}:{line}")
                    ex.fail(make_violation("assertion", op.name,
                                           f"{self.name} on cpu{self.cpu}: {op.message}", ev))
                    self.op = None
                    return
            elif code == 7:         # IrqDisable
                if self.irqs and ex.program.interrupts:
                    self.op = op    # IRQs on until the cli: a boundary (see irq_disable)
                    return
                value = self.irqs
                self.irqs = False
            elif code == 8:         # IrqEnable
                self.irqs = True
            elif code == 6:         # SpinHint
                if self._spin_check(op):
                    return
            elif code == 12:        # Branch: only explorations that track deps look
                if self.regs is not None:
                    self.ctrl = self.ctrl | {self.regs[r] for r in op.regs if r in self.regs}
            elif code == 13:        # AddrScope: likewise
                self.addr_scope = op.regs
            else:
                raise ScenarioError(f"unsupported op {op!r}")

    def dep_events(self, op, field: str) -> list:
        """(weak models) The read events ``op``'s ``addr`` or ``data`` depends on:
        its own registers, and for ``addr`` those of the ``AddrScope``."""
        regs = self.regs
        if not regs:
            return []
        names = getattr(op, field, ())
        if field == "addr" and self.addr_scope:
            names = names + self.addr_scope
        return sorted({regs[r] for r in names if r in regs})

    def irq_disable(self) -> None:
        """Perform the pending ``IrqDisable`` (IRQs were on) and run on.

        ``local_irq_disable()`` reached with IRQs on is a step of its own, so
        that an IPI sent before it can still be taken right before it (also
        when it is a thread's first op): the CPU is at a boundary with IRQs
        on until the cli. With IRQs already off it stays inline."""
        self.irqs = False
        self.advance(True)

    def _pop(self, value: Any) -> bool:
        """A frame returned. True when the context has nothing left to run now."""
        kind = self.kinds.pop()
        self.frames.pop()
        if kind == THREAD:
            self.done, self.result, self.op = True, value, None
            return True
        if kind == IRQ:
            self.op, self.irqs, self.addr_scope = self.saved.pop()
            if self.kinds and self.kinds[-1] == IRQ:
                return False              # the next pending handler runs now
            self.polled = False           # more IPIs may have come meanwhile
            return self.op is not None or self.done
        return False             # HELPER: its value goes to the frame below

    def _push(self, gen: Generator, kind: int) -> None:
        self.frames.append(gen)
        self.kinds.append(kind)

    def _fail_exception(self, gen: Generator, kind: str, err: BaseException) -> None:
        file, line, fn = source_of(gen)
        msg = str(err) or type(err).__name__
        self.ex.fail(make_violation(
            kind, msg if kind == "assertion" else type(err).__name__,
            f"{self.name} on cpu{self.cpu} raised {type(err).__name__}: {msg}",
            {"where": f"{fn}() {short(file)}:{line}"}))
        self.op = None

    # -- IPIs -----------------------------------------------------------------
    def _send_ipi(self, op: SendIpi) -> Generator:
        ex = self.ex
        if not ex.program.interrupts:
            raise ScenarioError(f"{self.name} sends an IPI, but the program was built with "
                                f"Program(interrupts=False); leave interrupts at True")
        waits = []
        for target in op.targets:
            if target not in ex.by_cpu:
                raise ScenarioError(
                    f"{self.name}: SendIpi to cpu{target}, which runs no thread; "
                    f"CPUs in this program: {sorted(ex.by_cpu)}")
            seq = (yield Rmw(sent_cell(target), "add", 1)) + 1
            ex.requests[(target, seq)] = (self.cpu, op.handler, op.name)
            waits.append((done_cell(target), seq))
        # MODEL: the sender waits for each target's ack in turn, as a
        # synchronous cross-CPU call waits for each target's call data to be
        # released, one CPU after the other. The acks only grow, so waiting in
        # turn ends exactly when all of them are in. Each wait is an acquire
        # read and the handler acks with a release store (below): everything
        # the target did before the ack, interrupted code included, is visible
        # to the sender after the wait. Pairs with: the release store in _irq.
        for cell, need in waits if op.wait else ():
            yield Await((cell,), lambda done, need=need: done >= need,
                        f"{op.name} acked by {cell.split('.')[0]}", order="acquire",
                        monotone=True)

    def take_irqs(self, sent: int) -> None:
        """Run the handlers of requests ``handled+1 .. sent`` now (IRQs off).

        A CPU waiting with IRQs on (an Await, a spinning loop) takes them too:
        an Await is tried again after the handlers, a spinning loop resumes."""
        if self.blocked is not None:
            if self.blocked[0] == "spin":
                self.op = None          # after the handlers: back into the loop
            self.blocked = None
        for seq in range(sent, self.handled, -1):   # pushed last-first: run in order
            sender, handler, name = self.ex.requests[(self.cpu, seq)]
            if self.saved is None:
                self.saved = []
            self.saved.append((self.op, self.irqs, self.addr_scope))
            self.op, self.irqs = None, False         # handlers below run with IRQs off
            self.addr_scope = ()
            self._push(self._irq(sender, handler, name, seq), IRQ)
        self.handled = sent
        self.irqs = False
        self.advance(None)

    def _irq(self, sender: int, handler, name: str, seq: int) -> Generator:
        yield Note(f"IRQ: {name} from cpu{sender}")
        yield from handler(self.cpu)
        yield Store(done_cell(self.cpu), seq, order="release")   # Pairs with: the wait above

    # -- spinning ---------------------------------------------------------------
    def record_read(self, cell: str, wid: Any, value: Any) -> None:
        if self.spin_log is None:
            self.spin_log, self.spin_sites = [], {}
        self.spin_log.append((cell, wid, value))

    def record_write(self, cell: str, value: Any) -> None:
        if self.spin_log is None:
            self.spin_log, self.spin_sites = [], {}
        self.spin_log.append((cell, None, value, True))

    def _spin_check(self, op) -> bool:
        """At a loop head: block if the loop went round doing exactly what it did
        the round before (the same values read, the same values written), so it
        would go on doing so unless another thread changes a cell it reads.
        Writes that repeat (a get/put pair on a refcount, say) are not
        progress. Each loop head (its label, else its source line) keeps its
        own record, so nested retry loops do not disturb each other."""
        if self.spin_log is None:
            self.spin_log, self.spin_sites = [], {}
        site = op.label or source_of(self.frames[-1])[:2]
        log = self.spin_log
        last, prev = self.spin_sites.get(site, (None, None))
        self.spin_sites[site] = (len(log), None)
        if last is None:
            return False
        cur = log[last:]
        key = tuple((a[0], a[2], len(a) == 4) for a in cur)
        if cur and key == prev:
            reads = [(a[0], a[1]) for a in cur if len(a) == 3]
            mem = self.ex.mem
            if mem is not None:   # interleavings: wake on a write made after now
                cells = dict.fromkeys(c for c, _ in reads)
                reads = [(c, mem.visible(self, c)[1]) for c in cells]
            self.blocked = ("spin", op, reads)
            self.ex.note(self, f"spinning: {op.label or 'retry loop'} made no progress")
            return True
        self.spin_sites[site] = (len(log), key)
        return False

    def unblock_spin(self) -> None:
        """Resume after a spin block: the loop body runs again."""
        self.blocked = None
        self.advance(None)



def short(path: str) -> str:
    """A source path shortened to the part a reader needs."""
    for marker in ("/src/gupsim/", "/gupsim/", "/tests/"):
        i = path.rfind(marker)
        if i >= 0:
            return path[i + 1:] if marker != "/src/gupsim/" else path[i + 5:]
    return path.rsplit("/", 1)[-1]
