"""Page tables: shrunk geometry, per-arch entry encodings, offsets and walkers' reads.

Models include/asm-generic/pgtable.h (``*_addr_end``, folding via
pgtable-nopud.h / pgtable-nopmd.h), the per-arch ``pte_*``/``pmd_*`` predicates
and the entry accessors (``ptep_get_lockless``/``gup_get_pte`` on split-entry
arches). Tables live in page frames from the setup-time allocator; every entry
is one shared cell named ``mm<N>.<level><pfn>[<index>]`` (two cells,
``...lo``/``...hi``, where the arch reads an entry as two halves).

Shrunk geometry (documented so traces can be read):

* ``PAGE_SHIFT`` = 12, so addresses look like addresses;
* a pte table has ``ptrs_per_pte`` entries (2 or 4; it is also HPAGE_PMD_NR,
  the number of base pages in a THP);
* every other table has 2 entries;
* folded levels (pud on 3-level arches, pud and pmd on 2-level ARM) have the
  shift of the level above and one entry, exactly as pgtable-nop*d.h do.

Freed page-table pages are poisoned: each entry cell is overwritten with
``POISON`` (KASAN-style), and every lockless read Asserts it did not read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
PFN_SHIFT = 12
PFN_BITS = 28
PFN_MASK = (1 << PFN_BITS) - 1
UPPER_PTRS = 2

POISON = "POISON"
"""Value of an entry cell of a freed page-table page."""

HALF_SHIFT = 14
"""Split point of a two-halves entry. MODEL: the real split is at bit 32; with
shrunk pfns it is moved down to bit 14 so that a pfn straddles the halves the
way a high-memory pfn straddles bit 32 on PAE."""

LEVELS = {4: ("pgd", "pud", "pmd", "pte"), 3: ("pgd", "pmd", "pte"), 2: ("pgd", "pte")}


def _log2(n: int) -> int:
    assert n > 0 and n & (n - 1) == 0, n
    return n.bit_length() - 1


@dataclass(frozen=True)
class Geometry:
    """Shifts and table sizes for ``levels`` populated levels."""

    levels: int
    ptrs_per_pte: int = 2

    @property
    def present(self) -> tuple[str, ...]:
        return LEVELS[self.levels]

    def folded(self, level: str) -> bool:
        return level not in self.present

    def ptrs(self, level: str) -> int:
        if self.folded(level):
            return 1
        return self.ptrs_per_pte if level == "pte" else UPPER_PTRS

    def shift(self, level: str) -> int:
        """Bytes mapped by one entry of ``level`` (log2), like PMD_SHIFT."""
        order = ("pte", "pmd", "pud", "pgd")
        s = PAGE_SHIFT
        if level == "pte":
            return s
        below = "pte"
        for lvl in order[1:]:
            s = s + _log2(self.ptrs(below)) if not self.folded(below) or below == "pte" \
                else s
            if lvl == level:
                return s
            below = lvl
        raise ValueError(level)

    def size(self, level: str) -> int:
        return 1 << self.shift(level)

    def mask(self, level: str) -> int:
        return ~(self.size(level) - 1)

    def addr_end(self, level: str, addr: int, end: int) -> int:
        """pgd_addr_end()/pud_addr_end()/pmd_addr_end(): the next boundary or end."""
        if self.folded(level):
            return end
        boundary = (addr + self.size(level)) & self.mask(level)
        return boundary if boundary - 1 < end - 1 else end

    def index(self, level: str, addr: int) -> int:
        """pgd_index()/pud_index()/pmd_index()/pte_index()."""
        return (addr >> self.shift(level)) & (self.ptrs(level) - 1)

    def page_in(self, level: str, addr: int) -> int:
        """Which base page of a leaf entry of ``level`` maps ``addr``:
        (addr & ~PMD_MASK) >> PAGE_SHIFT for a huge pmd."""
        return (addr & ~self.mask(level)) >> PAGE_SHIFT

    @property
    def hpage_pmd_nr(self) -> int:
        return self.ptrs_per_pte

    @property
    def task_size(self) -> int:
        return self.size("pgd") * UPPER_PTRS


@dataclass(frozen=True)
class Table:
    """A page-table page: its frame, level, owner and entry cells."""

    pfn: int
    level: str
    mm: int
    nentries: int
    halves: int = 1

    def cell(self, index: int) -> str:
        return self._names[index]

    @cached_property
    def _names(self) -> tuple[str, ...]:
        """Every entry's cell name, formatted once (a walk asks for them often)."""
        return tuple(f"mm{self.mm}.{self.level}{self.pfn}[{i}]" for i in range(self.nentries))

    def cells(self, index: int) -> tuple[str, ...]:
        """The memory cells of entry ``index`` (two on split-entry arches)."""
        c = self.cell(index)
        return (c,) if self.halves == 1 else (c + ".lo", c + ".hi")

    def all_cells(self) -> list[str]:
        return [c for i in range(self.nentries) for c in self.cells(i)]


class Encoding:
    """Entry encoding of one arch: ``mk_*`` builders and the kernel predicates.

    Entries are ints ``pfn << PFN_SHIFT | flag bits``; 0 is pte_none/pmd_none.
    """

    def __init__(self, arch):
        self.arch = arch
        self.bit = {name: 1 << b for name, b in arch.bits.items()}
        self.inverted = arch.inverted

    # builders --------------------------------------------------------------
    def mk(self, pfn: int, **flags: bool) -> int:
        v = pfn << PFN_SHIFT
        for name, bit in self.bit.items():
            on = flags.get(name, False)
            if (name in self.inverted) != on:
                v |= bit
        return v

    def mk_pte(self, pfn: int, write: bool = True, special: bool = False) -> int:
        return self.mk(pfn, present=True, user=True, write=write, young=True,
                       dirty=write, special=special)

    def mk_huge_pmd(self, pfn: int, write: bool = True) -> int:
        return self.mk(pfn, present=True, user=True, write=write, young=True,
                       dirty=write, huge=True)

    def mk_table(self, pfn: int) -> int:
        """pmd_populate()/pud_populate()/pgd_populate(): a pointer to a table."""
        return self.mk(pfn, present=True, table=True, write=True, user=True)

    # raw helpers ------------------------------------------------------------
    def flag(self, v, name: str) -> bool:
        if not isinstance(v, int):
            return False
        on = bool(v & self.bit[name])
        return on != (name in self.inverted)

    def _set(self, v: int, name: str, on: bool) -> int:
        if (name in self.inverted) != on:
            return v | self.bit[name]
        return v & ~self.bit[name]

    @staticmethod
    def pfn(v) -> int:
        """pte_pfn(): bits PFN_SHIFT .. PFN_SHIFT + PFN_BITS (high software bits
        such as ARM's L_PTE_DIRTY at 55 are above the field)."""
        return (v >> PFN_SHIFT) & PFN_MASK if isinstance(v, int) else -1

    # pte predicates -----------------------------------------------------------
    def pte_none(self, v) -> bool:
        return v == 0

    def pte_present(self, v) -> bool:
        return self.flag(v, "present") or self.flag(v, "protnone")

    def pte_protnone(self, v) -> bool:
        return self.flag(v, "protnone") and not self.flag(v, "present")

    def pte_write(self, v) -> bool:
        return self.flag(v, "write")

    def pte_special(self, v) -> bool:
        return self.arch.has_pte_special and self.flag(v, "special")

    def pte_present_user(self, v) -> bool:
        """ARM's pte_present_user(): valid and user-accessible."""
        return self.flag(v, "present") and self.flag(v, "user")

    def pte_access_permitted(self, v, write: bool) -> bool:
        return self.pte_present_user(v) and (not write or self.pte_write(v))

    pte_pfn = pfn

    # pmd/pud/pgd predicates -----------------------------------------------------
    def pmd_none(self, v) -> bool:
        return v == 0

    def pmd_present(self, v) -> bool:
        return self.flag(v, "present") or self.flag(v, "protnone")

    def pmd_huge(self, v) -> bool:
        """pmd_huge()/pmd_large()/pmd_leaf(): a leaf (block) entry."""
        return self.flag(v, "huge")

    pmd_trans_huge = pmd_huge
    pmd_leaf = pmd_huge

    def pmd_trans_splitting(self, v) -> bool:
        return self.flag(v, "splitting")

    def pmd_mksplitting(self, v: int) -> int:
        return self._set(v, "splitting", True)

    def pmd_mknotpresent(self, v: int) -> int:
        return self._set(v, "present", False)

    def pmd_write(self, v) -> bool:
        return self.flag(v, "write")

    pmd_pfn = pfn

    # The upper levels test entries the way the pmd level does (a pointer to a
    # table, or none); pud leaves (1G pages) are not modelled.
    pgd_none = pud_none = pmd_none
    pgd_present = pud_present = pmd_present

    def describe(self, v) -> str:
        """A human rendering, e.g. ``pfn 5 [present user write huge]``."""
        if v == POISON or not isinstance(v, int):
            return str(v)
        if v == 0:
            return "none"
        names = [n for n in self.bit if self.flag(v, n)]
        return f"pfn {self.pfn(v)} [{' '.join(names)}]"


def split_halves(v) -> tuple:
    """The (low, high) halves of an entry value on a split-entry arch."""
    if not isinstance(v, int):
        return (v, v)
    return (v & ((1 << HALF_SHIFT) - 1), v >> HALF_SHIFT)


def join_halves(lo, hi):
    if not isinstance(lo, int) or not isinstance(hi, int):
        return POISON if POISON in (lo, hi) else lo
    return lo | (hi << HALF_SHIFT)


__all__ = ["PAGE_SHIFT", "PAGE_SIZE", "PFN_SHIFT", "POISON", "HALF_SHIFT", "Geometry",
           "Table", "Encoding", "split_halves", "join_halves", "read_entry", "write_entry",
           "xchg_entry", "through_entry", "lower_table", "pgd_offset", "pud_offset", "pmd_offset",
           "pte_offset_map"]


# --- entry accessors (generators: every call is an interleaving point) -------------

def entry_regs(reg: str | None, table: Table) -> tuple[str, ...]:
    """The registers an entry read into ``reg`` fills (both halves on
    split-entry arches): what an access through that entry depends on."""
    if reg is None:
        return ()
    return (reg,) if table.halves == 1 else (reg, reg + ".hi")


def read_entry(k, table: Table, i: int, what: str = "lockless walker", *, reg="entry",
               addr=(), branch=True):
    """READ_ONCE(*entry) (a plain 64-bit read on split-entry arches: the halves
    are loaded one after the other and may tear). Asserts the page-table page
    was not freed under the reader (KASAN-style poison check).

    ``reg`` names the value (``entry_regs``) and ``addr`` the registers the
    entry's address came from: the table was found through the entry above
    it (``pte_offset_map(pmd, addr)``), an address dependency that orders the
    two reads on every architecture (weak models only). With ``branch`` the
    read ends with a ``Branch`` on it: every caller tests the entry it read
    (pte_present(), pmd_none(), pmd_trans_splitting(), a recheck against an
    earlier read), a control dependency to what follows. MODEL: the poison
    Assert is a KASAN-style check, not a branch."""
    from ..ops import Assert, Branch, Load
    if table.halves == 1:
        v = yield Load(table.cell(i), reg=reg, addr=addr)
    else:
        regs = entry_regs(reg, table) or (None, None)
        lo = yield Load(table.cell(i) + ".lo", reg=regs[0], addr=addr)
        hi = yield Load(table.cell(i) + ".hi", reg=regs[1], addr=addr)
        v = join_halves(lo, hi)
    if branch and reg is not None:
        yield Branch(*entry_regs(reg, table))
    if v == POISON:     # (only a failing Assert is yielded: its text costs on every read)
        yield Assert(False, f"{what} read a freed page-table page "
                     "(use-after-free of a page table)", table=f"{table.level}{table.pfn}",
                     entry=table.cell(i), name="pgtable-use-after-free")
    return v


def write_entry(k, table: Table, i: int, v, *, data=()):
    """set_pte_at()/set_pmd_at()/pmd_populate()/pte_clear().

    Split-entry arches (x86 PAE, native_set_pte / native_pte_clear): (1) write
    the high half, smp_wmb(), then (2) the low half (which holds the present
    bit) when setting; low half first when clearing.
    Pairs with: gup_get_pte() (low, rmb, high, rmb, low again).
    ``data`` names the registers the new entry was computed from (the old
    entry, for pte_modify() or pmd_mksplitting()). MODEL: setting or
    clearing is one function here; in the kernel the call site names
    set_pte_at() or pte_clear(). A value computed from a read (``data``) is
    a set, whatever it is, so that choice is no branch on the data."""
    from ..ops import Fence, Store
    if table.halves == 1:
        yield Store(table.cell(i), v, data=data)
        return
    lo, hi = split_halves(v)
    clear = v == 0 and not data
    first, second = ((".lo", lo), (".hi", hi)) if clear else ((".hi", hi), (".lo", lo))
    yield Store(table.cell(i) + first[0], first[1], data=data)
    yield Fence("wmb")
    yield Store(table.cell(i) + second[0], second[1], data=data)


def xchg_entry(k, table: Table, i: int, v=0, *, reg="old_entry", branch=True, addr=()):
    """ptep_get_and_clear()/pmdp_get_and_clear(): returns the old entry.

    Split-entry arches: xchg the low half, then read and clear the high half.
    ``reg`` names the old entry; with ``branch`` the caller tests it
    (pte_present(ptent), pmd_trans_huge(old)): a control dependency, as for
    ``read_entry``. ptep_clear(), which drops the old value, passes
    ``branch=False``. ``addr``: as for ``read_entry``."""
    from ..ops import Branch, Load, Rmw, Store
    if table.halves == 1:
        old = yield Rmw(table.cell(i), "xchg", v, reg=reg, addr=addr)
    else:
        regs = entry_regs(reg, table) or (None, None)
        lo = yield Rmw(table.cell(i) + ".lo", "xchg", split_halves(v)[0], reg=regs[0],
                       addr=addr)
        hi = yield Load(table.cell(i) + ".hi", reg=regs[1], addr=addr)
        yield Store(table.cell(i) + ".hi", split_halves(v)[1], addr=addr)
        old = join_halves(lo, hi)
    if branch and reg is not None:
        yield Branch(*entry_regs(reg, table))
    return old


def through_entry(regs, body):
    """Run ``body`` (accesses to the page an entry maps: ``page =
    pte_page(pte)``, ``vm_normal_page()``, ``pmd_page(pmd)``) with every
    address computed from that entry's registers ``regs`` (``entry_regs``):
    the address dependency the kernel's pointer arithmetic carries."""
    from ..ops import AddrScope
    yield AddrScope(*regs)
    out = yield from body
    yield AddrScope()
    return out


def lower_table(k, v) -> Table | None:
    """pud_offset()/pmd_offset()/pte_offset_map(): the table an entry points to
    (None when the pfn is not a page-table page, e.g. after a torn read)."""
    return k.tables.get(k.enc.pfn(v))


def pgd_offset(k, mm, addr: int) -> tuple[Table, int]:
    """pgd_offset(mm, addr): the pgd table and the index of addr's entry."""
    return mm.pgd, k.geo.index("pgd", addr)


def _offset(k, entry, level: str, addr: int) -> tuple[Table | None, int]:
    return lower_table(k, entry), k.geo.index(level, addr)


def pud_offset(k, pgd, addr: int) -> tuple[Table | None, int]:
    """pud_offset(pgdp, addr) given the pgd entry's value: (pud table, index).
    Where the pud is folded (pgtable-nopud.h) the caller keeps using the pgd."""
    return _offset(k, pgd, "pud", addr)


def pmd_offset(k, pud, addr: int) -> tuple[Table | None, int]:
    """pmd_offset(pudp, addr) given the pud (or, folded, pgd) entry's value."""
    return _offset(k, pud, "pmd", addr)


def pte_offset_map(k, pmd, addr: int) -> tuple[Table | None, int]:
    """pte_offset_map(pmdp, addr) given the pmd entry's value: (pte table, index);
    the table is None when the pmd does not point at a page table."""
    return _offset(k, pmd, "pte", addr)
