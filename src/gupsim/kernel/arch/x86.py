"""x86: TLB shootdown by IPI (arch/x86/mm/tlb.c, flush_tlb_others -> IPI + wait).

x86-64 (4 levels, 4K pages) and x86 PAE (3 levels, pud folded; 64-bit entries
that a 32-bit CPU reads as two 32-bit halves, hence gup_get_pte()'s
low/rmb/high/rmb/low retry loop in arch/x86/mm/gup.c since 2008).
Bit layout: arch/x86/include/asm/pgtable_types.h (_PAGE_BIT_*).
"""

from __future__ import annotations

from .base import Arch

X86_BITS = {
    "present": 0,    # _PAGE_BIT_PRESENT
    "write": 1,      # _PAGE_BIT_RW
    "user": 2,       # _PAGE_BIT_USER
    "young": 5,      # _PAGE_BIT_ACCESSED
    "dirty": 6,      # _PAGE_BIT_DIRTY
    "huge": 7,       # _PAGE_BIT_PSE
    "protnone": 8,   # _PAGE_BIT_PROTNONE == _PAGE_BIT_GLOBAL
    "special": 9,    # _PAGE_BIT_SPECIAL == _PAGE_BIT_SOFTW1
    "splitting": 10,  # _PAGE_BIT_SPLITTING == _PAGE_BIT_SOFTW2 (2011-2016)
    "table": 11,     # MODEL: no such bit on x86; a non-leaf entry is present && !PSE
}


class X86_64(Arch):
    name = "x86-64"
    levels = 4
    tlb_flush_ipi = True
    rcu_table_free = False
    has_pte_special = True
    memory_model = "tso"
    bits = X86_BITS
    doc = "x86-64: 4 levels, TLB shootdown by IPI with wait"


class X86_PAE(Arch):
    name = "x86-pae"
    levels = 3
    tlb_flush_ipi = True
    rcu_table_free = False
    has_pte_special = True
    entry_halves = 2
    memory_model = "tso"
    bits = X86_BITS
    doc = "x86 PAE: 3 levels, 64-bit entries read as two 32-bit halves, IPI shootdown"
