"""ARM (32-bit classic and LPAE) and arm64: TLB invalidation broadcast in hardware.

``TLBI``/``tlbimvais`` with the inner-shareable attribute invalidates every
CPU's TLB without interrupting it, so "IRQs off" on a walking CPU holds off
nothing (the point Will Deacon makes in the 2013 thread). Table freeing in 2013
was direct (tlb_remove_page after the flush); RCU table freeing was selected
for ARM_LPAE and arm64 by the 2014 generic RCU GUP series.

Bit layouts: arch/arm/include/asm/pgtable-3level.h (L_PTE_*, PMD_SECT_*),
arch/arm/include/asm/pgtable-2level.h, arch/arm64/include/asm/pgtable-hwdef.h
and pgtable.h (PTE_*). ARM stores "read-only" rather than "writable"
(L_PTE_RDONLY / PTE_RDONLY), hence ``inverted``.
"""

from __future__ import annotations

from .base import Arch

LPAE_BITS = {
    "present": 0,     # L_PTE_VALID / PMD_TYPE_SECT|TABLE bit 0
    "table": 1,       # PMD_TYPE_TABLE (bit 1 set) vs PMD_TYPE_SECT (clear)
    "user": 6,        # L_PTE_USER (AP[1])
    "write": 7,       # L_PTE_RDONLY (AP[2]), inverted
    "young": 10,      # L_PTE_YOUNG (AF)
    "huge": 2,        # MODEL: a block/section descriptor is "valid && !table";
                      # a separate bit keeps the encoding uniform across arches
    "dirty": 55,      # L_PTE_DIRTY
    "special": 56,    # L_PTE_SPECIAL (added by the 2014 series)
    "splitting": 57,  # PMD_SECT_SPLITTING (arm64 uses bit 57 as well)
    "protnone": 58,   # L_PTE_NONE
}

CLASSIC_BITS = {
    "present": 0,     # L_PTE_PRESENT
    "young": 1,       # L_PTE_YOUNG
    "table": 2,       # MODEL: first-level entry points at a pte table
    "huge": 3,        # unused: no THP on 2-level ARM
    "dirty": 6,       # L_PTE_DIRTY
    "write": 7,       # L_PTE_RDONLY, inverted
    "user": 8,        # L_PTE_USER
    "protnone": 11,   # L_PTE_NONE
    "special": 10,    # MODEL: no pte_special on 2-level ARM in 2013; never set
    "splitting": 9,   # MODEL: never set (no THP)
}


class ArmLpae(Arch):
    name = "arm-lpae"
    levels = 3
    tlb_flush_ipi = False
    rcu_table_free = False
    has_pte_special = True    # L_PTE_SPECIAL: added by the 2014 generic GUP series;
                              # before it pte_special() was 0 (no special ptes here)
    memory_model = "armv7"     # LPAE is an ARMv7-A extension (Cortex-A15 and on)
    bits = LPAE_BITS
    inverted = frozenset({"write"})
    doc = "ARM LPAE: 3 levels, broadcast TLBI, no pte_special in 2013"


class ArmClassic(Arch):
    name = "arm"
    levels = 2
    tlb_flush_ipi = False
    rcu_table_free = False
    has_pte_special = False
    has_thp = False
    memory_model = "armv7"
    bits = CLASSIC_BITS
    inverted = frozenset({"write"})
    doc = "ARM classic: 2 levels (pud and pmd folded), broadcast TLBI, no THP"


class Arm64(Arch):
    name = "arm64"
    levels = 3                # 4K pages, 39-bit VA: pud folded
    tlb_flush_ipi = False
    rcu_table_free = False
    has_pte_special = True    # PTE_SPECIAL since 3.14-ish (2013)
    memory_model = "armv8"
    bits = LPAE_BITS
    inverted = frozenset({"write"})
    doc = "arm64: 3 levels (4K, 39-bit VA), broadcast TLBI"
