"""Memory models as plug-ins.

Operationally, a model answers for one execution: what a CPU sees when it
loads a cell, where its stores go, which ops it can perform now, and what a
fence does. ``sc`` is sequential consistency; ``tso`` is x86-TSO (a FIFO store
buffer per CPU; a CPU reads its own newest buffered store first; ``smp_mb()``,
every atomic read-modify-write and an IRQ entry wait for the buffer to drain).

The DPOR strategy explores execution graphs instead and asks a model for
the writes a new read may read from and the coherence positions a new write
may take (``check.graph``).
"""

from __future__ import annotations

from ...errors import UnknownName
from .sc import SequentialConsistency
from .tso import TotalStoreOrder

MODELS = {"sc": SequentialConsistency, "tso": TotalStoreOrder}

DESCRIPTIONS = {
    "sc": "sequential consistency: one global order of all accesses",
    "tso": "x86-TSO: per-CPU FIFO store buffers; smp_mb() and locked atomics drain them",
}


def get_model(name: str):
    if name not in MODELS:
        raise UnknownName("memory model", name, MODELS)
    return MODELS[name]
