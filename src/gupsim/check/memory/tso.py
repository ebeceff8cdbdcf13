"""x86-TSO (Sewell et al., CACM 2010): FIFO store buffers per CPU.

A store enters the CPU's buffer; a separate ``flush`` action moves the oldest
buffered store to memory. A load reads the CPU's own newest buffered store to
that cell, else memory. ``smp_mb()``, every atomic read-modify-write (a locked
instruction), a fully ordered store, an ``Await`` and taking an interrupt can
only happen with an empty buffer. ``smp_rmb``/``smp_wmb`` and acquire/release
are free on x86 (TSO already keeps those orders).
"""

from __future__ import annotations

from collections import deque

from .sc import SequentialConsistency



class TotalStoreOrder(SequentialConsistency):
    name = "tso"

    def __init__(self, init):
        super().__init__(init)
        self.buffers: dict[int, deque] = {}

    def visible(self, ctx, cell):
        buf = self.buffers.get(ctx.tid)
        if buf:
            for bcell, value, wid in reversed(buf):
                if bcell == cell:
                    return value, wid
        return super().visible(ctx, cell)

    def store(self, ctx, cell, value, wid, order, ex) -> None:
        if order == "mb":      # a locked store: straight to memory (buffer is empty)
            super().store(ctx, cell, value, wid, order, ex)
            return
        if cell not in self.mem:
            self._known(cell)
        self.buffers.setdefault(ctx.tid, deque()).append((cell, value, wid))

    def can_perform(self, ctx, op) -> bool:
        code = op.code
        if self.buffers.get(ctx.tid):
            if code == 3 or code == 5:           # locked RMW, Await
                return False
            if code == 4 and op.kind == "mb":   # smp_mb__{before,after}_atomic: no-ops on x86
                return False
            if code == 2 and op.order == "mb":
                return False
        return super().can_perform(ctx, op)

    def can_interrupt(self, ctx) -> bool:
        return not self.buffers.get(ctx.tid)

    def can_flush(self, ctx) -> bool:
        return bool(self.buffers.get(ctx.tid))

    def flush(self, ctx, ex):
        """Drain the oldest buffered store; returns (cell, value)."""
        cell, value, wid = self.buffers[ctx.tid].popleft()
        super().store(ctx, cell, value, wid, "once", ex)
        return cell, value
