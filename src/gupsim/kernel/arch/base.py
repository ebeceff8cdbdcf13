"""Architectures: what each one contributes to GUP-fast, declared rather than implied.

An ``Arch`` is a small immutable object with capabilities (class attributes)
and a few hooks that the mm model calls. Capabilities that matter to lockless
page-table walkers:

* ``tlb_flush_ipi``: a remote TLB flush interrupts every other CPU of the mm and
  waits for it (x86 ``native_flush_tlb_others`` -> ``smp_call_function_many``
  with ``wait=1``). A CPU with IRQs disabled therefore holds the flush off, and
  with it whatever the flusher does afterwards (freeing page tables, splitting a
  THP). Where TLB invalidation is broadcast by hardware (ARM ``TLBI ..IS``,
  POWER ``tlbie``), nothing waits for the walker.
* ``rcu_table_free``: the arch frees page-table pages through
  ``tlb_remove_table`` (CONFIG_HAVE_RCU_TABLE_FREE) whatever the GUP design
  (powerpc and sparc since 2011). ``rcu_table_free_available``: the arch can
  select it when a design asks for it (ARM/arm64 did in 2014 with the generic
  RCU GUP series; x86 for paravirt in 2012 and unconditionally in 2020).
* ``has_pte_special``: ``pte_special()`` exists (__HAVE_ARCH_PTE_SPECIAL).
  Without it the generic 2014 walker cannot tell a normal page from a
  PFN-mapped one and declines every pte (gup_pte_range returns 0).
* ``levels``: populated page-table levels; the others are folded.
* ``entry_halves``: 2 when an entry is wider than the native single-copy-atomic
  access (x86 PAE: a 64-bit pte read as two 32-bit halves).
* ``memory_model``: the *name* of the arch's own memory model ("tso",
  "armv8", "armv7", "power"); the kernel model never resolves it (the
  checker does). Each hardware model carries the arch's mapping of every
  kernel primitive to its instructions (src/gupsim/models/*.cat).

The entry encodings follow each arch's own bit layout (names of the kernel
macros in the comments) so a value in a trace decodes the way it would in a
crash dump.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

# Flag names used by the model-wide entry encoding (see pagetable.Encoding).
FLAG_NAMES = ("present", "user", "write", "dirty", "young", "special", "huge",
              "splitting", "protnone", "table")


@dataclass(frozen=True)
class Arch:
    """Base class. Subclasses set the ClassVars; instances are stateless."""

    name: ClassVar[str] = "?"
    levels: ClassVar[int] = 4
    tlb_flush_ipi: ClassVar[bool] = False
    rcu_table_free: ClassVar[bool] = False
    rcu_table_free_available: ClassVar[bool] = True
    has_pte_special: ClassVar[bool] = True
    has_thp: ClassVar[bool] = True
    entry_halves: ClassVar[int] = 1
    memory_model: ClassVar[str] = "sc"
    # flag name -> bit number; flags in ``inverted`` are stored as "not flag"
    # (ARM's L_PTE_RDONLY is "not write").
    bits: ClassVar[dict[str, int]] = {}
    inverted: ClassVar[frozenset[str]] = frozenset()
    doc: ClassVar[str] = ""

    def flush_kind(self) -> str:
        """How a remote TLB flush reaches other CPUs: "ipi" or "broadcast"."""
        return "ipi" if self.tlb_flush_ipi else "broadcast"

    def inert(self, protection: str) -> str | None:
        """Why taking ``protection`` away changes nothing on this arch (so an
        ablation of it is n/a), or None when it can matter."""
        if protection == "tlb:flush-ipi" and not self.tlb_flush_ipi:
            return f"{self.name} flushes TLBs by hardware broadcast: there is no IPI"
        if protection in ("walker:gup_get_pte", "walker:pmdp_get_lockless") \
                and self.entry_halves == 1:
            return f"{self.name} reads an entry in one single-copy-atomic access"
        return None

    def assumption_violations(self, design) -> list[str]:
        """The GUP-fast assumptions ``design`` makes that this arch breaks.

        Empty does not mean safe: it means none of the known, declared
        mismatches applies. The checker is what decides.
        """
        out = []
        if design.walker is None:
            return out
        irqs = design.enabled("walker:irqs-off")
        rcu = self.rcu_table_free or (self.rcu_table_free_available
                                      and design.enabled("table:rcu-free"))
        ipi = self.tlb_flush_ipi and design.enabled("tlb:flush-ipi")
        if not rcu and not (irqs and ipi):
            out.append("nothing waits for a lockless walker before a page-table page is "
                       "freed (needs an IPI TLB flush held off by IRQs-off, or "
                       "RCU table freeing)")
        if self.has_thp and design.era < 2016 and not (
                (irqs and (ipi or design.enabled("split:ipi")))
                or design.enabled("splitter:wait-readers")):
            out.append("nothing stops __split_huge_page_refcount() while a walker "
                       "holds a stale huge pmd (needs an IPI in pmdp_splitting_flush "
                       "or the readers counter)")
        if design.requires_pte_special and not self.has_pte_special:
            out.append("no pte_special(): the walker declines every pte")
        return out

    def __str__(self) -> str:
        return self.name
