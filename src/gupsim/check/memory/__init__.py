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

# Axiomatic models, judged on execution graphs by a cat model (check.cat);
# ``sc`` and ``tso`` have an axiomatic form too (check.axioms).
WEAK = ("lkmm", "armv8", "armv7", "power")
ALL_MODELS = (*MODELS, *WEAK)

DESCRIPTIONS = {
    "sc": "sequential consistency: one global order of all accesses",
    "tso": "x86-TSO: per-CPU FIFO store buffers; smp_mb() and locked atomics drain them",
    "lkmm": "the Linux-kernel memory model (tools/memory-model's linux-kernel.cat, "
            "evaluated from the kernel's own files)",
    "armv8": "ARMv8 AArch64, multicopy-atomic (Pulte et al., POPL 2018), with the arm64 "
             "kernel's mapping of each primitive",
    "armv7": "32-bit ARMv7, not multicopy-atomic (Alglave et al., TOPLAS 2014), with the "
             "arm kernel's mapping of each primitive",
    "power": "IBM POWER, not multicopy-atomic (Alglave et al., TOPLAS 2014), with the "
             "powerpc kernel's mapping of each primitive",
}

_LOADED: dict = {}


def axiomatic_model(name: str):
    """The model that judges execution graphs for ``name`` (loaded once)."""
    if name in _LOADED:
        return _LOADED[name]
    from ..axioms import PYTHON_MODELS
    if name in PYTHON_MODELS:
        model = PYTHON_MODELS[name]()
    elif name in WEAK:
        from .. import cat
        model = cat.load_model(name)
    else:
        raise UnknownName("memory model", name, ALL_MODELS)
    _LOADED[name] = model
    return model


def get_model(name: str):
    """The operational model (for the interleaving runtime) called ``name``."""
    if name not in MODELS:
        if name in WEAK:
            from ...errors import UsageError
            raise UsageError(f"memory model {name!r} is axiomatic: explore it with strategy "
                             f"dpor or enum")
        raise UnknownName("memory model", name, MODELS)
    return MODELS[name]
