"""User-space loads and stores through the MMU: the TLB, the hardware page-table
walk and the page fault (arch/x86/mm/fault.c do_user_addr_fault,
arch/arm64/mm/fault.c do_page_fault -> handle_mm_fault; any era).

``user_load(k, t, addr)`` / ``user_store(k, t, addr, value)`` are one user
instruction on ``t.cpu``:

1. TLB lookup: the CPU's TLB cell for the page (cpu.py) holds a translation
   ``(pfn, writable, generation)`` -> access the frame's data cell;
2. miss (or a write through a read-only entry): the hardware walk reads the
   tables without locks (read_entry, like the MMU), fills the TLB and
   accesses;
3. no present, user-accessible (and, for a store, writable) entry: a page
   fault (mmops.do_fault under mmap_sem), then the instruction is retried; a
   fault that fails is -EFAULT (SIGSEGV).

Properties, Asserted at every access through a translation
(page.check_page_owner): ``page-use-after-free`` (the frame is free) and
``access-to-reused-page`` (the frame was freed and handed to a new owner
after the translation was obtained).

Protection scheme: the teardown side clears the pte, (2) flushes every TLB,
then (3) frees the frame. An instruction is atomic with respect to both
flushes: it runs with IRQs disabled here (an IPI is taken between
instructions), and it marks ``cpuN.uaccess`` while in flight, which the
flusher's dsb waits for on broadcast arches (cpu.py). The mark is also the
point, with IRQs on, where a pending flush IPI is taken between two
instructions.

MODEL: one value stands for the page's contents; no accessed/dirty bit
updates by the walker; a page address has one TLB cell per CPU only if the
scenario declared it (tlb_declare), otherwise every access walks the tables;
on split-entry arches (x86 PAE) the walker reads the halves one after the
other (the real MMU reads the 64-bit entry at once).
"""

from __future__ import annotations

from ..ops import AddrScope, Branch, IrqDisable, IrqEnable, Load, Rmw, SpinHint, Store
from .mm import EFAULT
from .page import check_page_owner
from .pagetable import PAGE_SIZE, entry_regs, lower_table, read_entry

FAULT, RETRY = "fault", "retry"
# Every level's entry registers: an access through a translation depends on all
# the reads of its walk (those of levels the walk did not reach are unset).
HW_REGS = tuple(r for lvl in ("pgd", "pud", "pmd", "pte") for r in (f"hw.{lvl}", f"hw.{lvl}.hi"))


def hw_walk(k, mm, addr):
    """The MMU's walk from mm->pgd: ``(pfn, writable, special)`` or None.

    Lockless reads of every level, as the hardware does; a huge pmd maps the
    page directly. Pairs with: zap_pte_range / free_pgtables (clear, flush,
    then free), which the flush makes wait for an instruction in flight.

    MODEL (weak models): each level is read through the entry above it (an
    address dependency, ``hw.<level>`` registers), and the translated access
    depends on the last entry read (``_instruction``'s ``AddrScope``), as the
    translation-table-walk ordering of the Armv8-A virtual-memory model
    (Simner et al., "Relaxed virtual memory in Armv8-A", ESOP 2022) has it.
    What a walk is *not* ordered with is a plain store of the same CPU to a
    table, which needs dsb; the model has no such self-modifying tables."""
    geo, enc = k.geo, k.enc
    table = mm.pgd
    above: tuple = ()
    while table is not None:
        i = geo.index(table.level, addr)
        reg = f"hw.{table.level}"
        v = yield from read_entry(k, table, i, "MMU page-table walk", reg=reg, addr=above)
        above = entry_regs(reg, table)
        if not enc.flag(v, "present"):
            return None
        if table.level == "pte":
            if not enc.pte_present_user(v):
                return None
            return enc.pte_pfn(v), enc.pte_write(v), enc.pte_special(v)
        if enc.pmd_huge(v):
            pfn = enc.pmd_pfn(v) + geo.page_in(table.level, addr)
            return pfn, enc.pmd_write(v), False
        table = lower_table(k, v)
    return None


def _tlb_cell(k, t, page):
    cell = k.tlb_cell(t.cpu, t.mm.id, page)
    return cell if (t.mm.id, page) in k.tlb.get(t.cpu, ()) else None


def _translate(k, t, page, write):
    """TLB lookup, else walk and fill: ``(pfn, writable, gen)``, FAULT or
    RETRY (a broadcast flush invalidated the cell while we walked)."""
    cell = _tlb_cell(k, t, page)
    seen = None
    if cell:
        seen = yield Load(cell, reg="hw.tlb")
        yield Branch("hw.tlb")            # a hit, or a walk
    if isinstance(seen, tuple) and (seen[1] or not write):
        yield AddrScope("hw.tlb")         # the access goes where the TLB entry says
        return seen
    found = yield from hw_walk(k, t.mm, page)
    if found is None or (write and not found[1]):
        return FAULT
    pfn, writable, special = found
    yield AddrScope(*HW_REGS)             # the frame's address is the translation's
    gen = None if special else (yield Load(k.alloc_gen(pfn), reg="hw.gen"))
    entry = (pfn, writable, gen)
    if cell:
        # (1) walk, then (2) insert unless a broadcast tlbi hit the cell since
        # the lookup. Pairs with: cpu._broadcast (invalidate, then dsb).
        old = yield Rmw(cell, "cmpxchg", entry, expected=seen, reg="hw.fill",
                        data=("hw.tlb", "hw.gen", *HW_REGS))
        yield Branch("hw.fill")
        if old != seen:
            return RETRY
    return entry


def _instruction(k, t, addr, write, value):
    """One attempt at the access with IRQs off: the value, FAULT or RETRY."""
    page = addr & ~(PAGE_SIZE - 1)
    marked = t.cpu in k.tlb
    if marked:
        # (1) mark the instruction in flight, then (2) look the TLB up.
        # Pairs with: cpu._broadcast (invalidate, then dsb waits for the mark).
        # MODEL: a full barrier (the instruction's own ordering).
        yield Store(k.uaccess_cell(t.cpu), 1, order="mb")
    was_on = yield IrqDisable()
    out = yield from _translate(k, t, page, write)
    if isinstance(out, tuple):
        pfn, _, gen = out
        what = "user store" if write else "user load"
        if gen is not None:
            yield from check_page_owner(k, pfn, gen, f"{what} through the TLB")
        if write:
            yield Store(k.data(pfn), value)
            out = 0
        else:
            out = yield Load(k.data(pfn))
    yield AddrScope()
    if was_on:
        yield IrqEnable()
    if marked:
        yield Store(k.uaccess_cell(t.cpu), 0, order="release")
    return out


def user_access(k, t, addr, write, value=None):
    """The instruction, with the page fault and the retry around it."""
    from .mmops import do_fault
    while True:
        yield SpinHint("user access: retry the instruction")
        out = yield from _instruction(k, t, addr, write, value)
        if out == RETRY:
            continue
        if out != FAULT:
            return out
        if (yield from do_fault(k, t, addr & ~(PAGE_SIZE - 1), write)):
            return -EFAULT


def user_load(k, t, addr):
    """A user load from ``addr``: the page's value, or -EFAULT (SIGSEGV)."""
    return (yield from user_access(k, t, addr, False))


def user_store(k, t, addr, value):
    """A user store to ``addr``: 0, or -EFAULT (SIGSEGV)."""
    return (yield from user_access(k, t, addr, True, value))


__all__ = ["hw_walk", "user_access", "user_load", "user_store"]
