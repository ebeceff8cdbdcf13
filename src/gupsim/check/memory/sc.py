"""Sequential consistency: every load sees the latest store to its cell."""

from __future__ import annotations

from typing import Any

from ...ops import BLOCKING_RMW, NO_WRITE


def undeclared_cell(cell, mem):
    """The error for an access to a cell the program's memory does not declare."""
    from ...errors import ScenarioError
    near = sorted(mem)[:8]
    return ScenarioError(f"access to cell {cell!r}, which the program's memory does "
                         f"not declare (declared: {', '.join(near)}...)")


class Declared(dict):
    """A program's initial memory that refuses a cell it does not declare."""

    def __missing__(self, cell):
        raise undeclared_cell(cell, self)


class SequentialConsistency:
    name = "sc"

    def __init__(self, init: dict[str, Any]):
        self.mem = dict(init)
        self.src: dict[str, Any] = {}          # cell -> id of the write it holds
        self.order: dict[str, list] = {}       # cell -> write ids in coherence order

    def _known(self, cell: str) -> None:
        if cell not in self.mem:
            raise undeclared_cell(cell, self.mem)

    def visible(self, ctx, cell: str):
        try:
            return self.mem[cell], self.src.get(cell)
        except KeyError:
            self._known(cell)

    def load(self, ctx, cell: str, order: str):
        return self.visible(ctx, cell)

    def store(self, ctx, cell, value, wid, order, ex) -> None:
        if cell not in self.mem:
            self._known(cell)
        self.mem[cell] = value
        self.src[cell] = wid
        self.order.setdefault(cell, []).append(wid)

    def fence(self, ctx, kind: str) -> None:
        pass

    def can_perform(self, ctx, op) -> bool:
        if op.code == 5:   # Await
            return bool(op.predicate(*(self.visible(ctx, c)[0] for c in op.cells)))
        if op.code == 3 and op.kind in BLOCKING_RMW:    # spin_lock(): waits for 0
            return op.apply(self.visible(ctx, op.cell)[0]) is not NO_WRITE
        return True

    def can_interrupt(self, ctx) -> bool:
        return True

    def can_flush(self, ctx) -> bool:
        return False

    def flush(self, ctx, ex) -> None:  # pragma: no cover - never enabled
        raise AssertionError("sc has no store buffers")

    def changed_since(self, ctx, reads) -> bool:
        return any(self.visible(ctx, cell)[1] != wid for cell, wid in reads)

    def view(self):
        return dict(self.mem)

    def coherence(self):
        return {k: list(v) for k, v in self.order.items()}
