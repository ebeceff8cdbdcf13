"""powerpc (hash MMU, 64-bit): no IPI on TLB flush, page tables freed by RCU.

Hash-table invalidation (``tlbie``) is broadcast; since 2.6.x page-table pages
are freed through ``pte_free_tlb`` -> ``pgtable_free_tlb`` with RCU-sched
(generalised as CONFIG_HAVE_RCU_TABLE_FREE in 2011), which is why the 2008
powerpc get_user_pages_fast() takes speculative references and re-reads the
pte. Bit layout: arch/powerpc/include/asm/pte-hash64.h (_PAGE_*), 2013.
"""

from __future__ import annotations

from .base import Arch

PPC_BITS = {
    "present": 0,     # _PAGE_PRESENT
    "user": 1,        # _PAGE_USER
    "write": 2,       # _PAGE_RW
    "special": 3,     # _PAGE_SPECIAL (hash64)
    "young": 8,       # _PAGE_ACCESSED
    "dirty": 7,       # _PAGE_DIRTY
    "huge": 4,        # MODEL: _PAGE_THP_HUGE
    "splitting": 5,   # _PAGE_SPLITTING
    "protnone": 6,    # MODEL: _PAGE_NUMA (2013) stands in for PROT_NONE
    "table": 11,      # MODEL: no such bit; a non-leaf entry is a pointer
}


class PowerPC(Arch):
    name = "powerpc"
    levels = 4
    tlb_flush_ipi = False
    rcu_table_free = True
    has_pte_special = True
    memory_model = "power"
    bits = PPC_BITS
    doc = "powerpc hash MMU: broadcast tlbie, no IPI, RCU table freeing always"
