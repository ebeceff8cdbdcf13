"""The Kernel object: one booted world (arch, GUP design, CPUs, memory image).

A scenario factory builds a fresh ``Kernel`` for every execution, populates
it *before* any thread runs (mm_structs, VMAs, page tables, pages: plain
Python that writes initial cell values into ``k.memory``), then creates the
threads (generators over ``k``) and calls ``k.program(...)``.

What is a cell and what is not:

* cells (shared, racy): page-table entries, ``struct page`` counters and
  compound-head links, ``mmap_sem``, the page-table lock, VMA presence, the
  readers counter of the 2013 proposal;
* immutable Python during a run: which frames are page tables (``k.tables``),
  the THP deposited page table, VMA bounds, per-thread page pools.

Data frames freed at run time go back to the page allocator (page.py:
alloc_page/free_page, the ``zone.free_list`` cell) and may be handed out
again in the same execution; ``page[N]._alloc_gen`` tells one owner of a frame
from the next. MODEL: page-table pages are not reallocated within one
execution: a freed page-table page keeps its poison.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import UsageError
from ..spec import Invariant, Program, ThreadSpec
from .arch import Arch, get_arch
from .fault import ZERO_PFN, mm_version
from .gup.designs import Design, get_design
from .page import FREE_LIST
from .pagetable import Encoding, Geometry, Table, split_halves

NO_HEAD = None
"""compound_head cell value of a page that is not a tail page."""


@dataclass(frozen=True)
class Vma:
    """vm_area_struct: bounds and protection (immutable); presence is a cell.

    ``anon``: private anonymous; otherwise ``file`` names the address_space
    (page cache) it maps and ``shared`` says MAP_SHARED; ``hugetlb`` marks a
    hugetlbfs mapping."""

    mm: int
    index: int
    start: int
    end: int
    write: bool = True
    anon: bool = True
    shared: bool = False
    file: int | None = None
    hugetlb: bool = False

    @property
    def cell(self) -> str:
        return f"mm{self.mm}.vma[{self.index}]"

    @property
    def vm_write(self) -> str:
        """Cell: VM_WRITE in vma->vm_flags now (mprotect changes it; ``write`` is
        the value at mmap time)."""
        return f"{self.cell}.vm_write"


@dataclass
class MmStruct:
    """mm_struct: pgd, VMAs, mmap_sem and page_table_lock cells."""

    id: int
    pgd: Table
    vmas: list[Vma] = field(default_factory=list)
    deposited: dict[str, int] = field(default_factory=dict)
    """pmd cell -> pfn of the page table deposited for a THP split
    (pgtable_trans_huge_deposit at fault time)."""

    @property
    def mmap_sem(self) -> str:
        return f"mm{self.id}.mmap_sem"

    @property
    def page_table_lock(self) -> str:
        return f"mm{self.id}.page_table_lock"

    @property
    def write_protect_seq(self) -> str:
        """Cell: mm->write_protect_seq (v5.13 seqcount; fork.py, gup_fast)."""
        return f"mm{self.id}.write_protect_seq"


class Kernel:
    """One booted kernel: ``Kernel(arch, design, cpus)``; see module docstring."""

    def __init__(self, arch: str | Arch = "x86-64", design: str | Design = "modern",
                 cpus: int = 1, ptrs_per_pte: int = 2, mm_era: str | None = None):
        self.arch = get_arch(arch)
        self.design = get_design(design)
        # The mm side's kernel version (fault.py: COW reuse rule, FOLL_COW, early
        # COW in fork); None: the last release of the design's year.
        self.mm_era = mm_version(mm_era, self.design.era)
        self.nr_cpus = cpus
        if not isinstance(ptrs_per_pte, int) or ptrs_per_pte < 2 \
                or ptrs_per_pte & (ptrs_per_pte - 1):
            raise UsageError(f"ptrs_per_pte={ptrs_per_pte!r}: entries per pte table must be "
                             "a power of two, such as 2 or 4")
        self.geo = Geometry(self.arch.levels, ptrs_per_pte)
        self.enc = Encoding(self.arch)
        self.memory: dict[str, object] = {}
        self.tables: dict[int, Table] = {}
        self.page_kind: dict[int, str] = {}
        self.mms: list[MmStruct] = []
        self.large_folios: set[int] = set()
        self.recycled_tables: set[int] = set()
        self._next_pfn = 1           # pfn 0 is never handed out (0 is pte_none)
        d, a = self.design, self.arch
        # The counter is _count before 2016 and _refcount after (commit 0139aa7b7fa1).
        self.COUNT = "_refcount" if d.era >= 2016 else "_count"
        self.flush_by_ipi = a.tlb_flush_ipi and d.enabled("tlb:flush-ipi")
        self.rcu_table_free = (a.rcu_table_free and "table:rcu-free" not in d.removed) or (
            a.rcu_table_free_available and d.enabled("table:rcu-free"))
        self.memory["gup_readers"] = 0
        self.files: list = []
        self.zero_pfn = self._boot_zero_page()
        self.memory[FREE_LIST] = ()
        self.tlb: dict[int, list[tuple[int, int]]] = {}
        """cpu -> the (mm id, address) pairs it has a TLB cell for (cpu.tlb_declare)."""
        self.tlb_flushes: dict[int, int] = {}
        """cpu -> broadcast invalidations issued so far (cpu.py: each writes a
        distinct value into the TLB cells it invalidates)."""

    # --- cells of struct page ------------------------------------------------
    def count(self, pfn: int) -> str:
        return f"page[{pfn}].{self.COUNT}"

    def mapcount(self, pfn: int) -> str:
        return f"page[{pfn}]._mapcount"

    def head(self, pfn: int) -> str:
        """compound_head: head pfn for a tail page, None otherwise.

        MODEL: PG_tail + page->first_page (2013) and the compound_head word
        with bit 0 (2016+) are one cell; split writes it once per tail."""
        return f"page[{pfn}].compound_head"

    def data(self, pfn: int) -> str:
        """The contents of the frame (one value stands for the whole page):
        user stores and copy_user_highpage() write it, user loads read it."""
        return f"page[{pfn}].data"

    def compound_lock(self, pfn: int) -> str:
        return f"page[{pfn}].compound_lock"

    def mapping(self, pfn: int) -> str:
        """page->mapping: None (free), "anon" (PageAnon) or the address_space
        name ("file0") of a page-cache page."""
        return f"page[{pfn}].mapping"

    def lru(self, pfn: int) -> str:
        """PG_lru: the page is on an LRU list (an anon page from its first
        fault on; isolate_lru_page() clears it)."""
        return f"page[{pfn}].PG_lru"

    def anon_exclusive(self, pfn: int) -> str:
        """PG_anon_exclusive (v5.19): the anon page is mapped by one mm only."""
        return f"page[{pfn}].anon_exclusive"
    def alloc_gen(self, pfn: int) -> str:
        """Allocation generation of the frame (page.py): odd while the frame is
        allocated, even while it is free; every allocation and every free adds
        one, so (pfn, generation) names one owner of the frame.

        MODEL: no kernel field; it stands for what KASAN's page tags and
        page_owner record."""
        return f"page[{pfn}]._alloc_gen"

    # --- per-CPU TLB cells (cpu.py, user.py) -----------------------------------
    def tlb_cell(self, cpu: int, mm: int, addr: int) -> str:
        """One cached translation of ``cpu``'s TLB for ``addr`` in mm ``mm``."""
        return f"cpu{cpu}.tlb[mm{mm} {addr:#x}]"

    def uaccess_cell(self, cpu: int) -> str:
        """1 while ``cpu`` is inside one user access (one instruction)."""
        return f"cpu{cpu}.uaccess"

    # --- setup-time allocation (no yields: before threads start) ---------------
    def alloc_pages(self, n: int = 1, kind: str = "data") -> int:
        """Contiguous frames, free (count 0). Returns the first pfn."""
        first = self._next_pfn
        self._next_pfn += n
        for pfn in range(first, first + n):
            self.page_kind[pfn] = kind
            if kind == "data":
                self.memory[self.count(pfn)] = 0
                self.memory[self.mapcount(pfn)] = -1
                self.memory[self.head(pfn)] = NO_HEAD
                self.memory[self.data(pfn)] = 0
                self.memory[self.mapping(pfn)] = None
                self.memory[self.anon_exclusive(pfn)] = False
                self.memory[self.alloc_gen(pfn)] = 1     # allocated at setup
        return first

    def alloc_table(self, mm: int, level: str) -> Table:
        pfn = self.alloc_pages(1, kind="table")
        t = Table(pfn, level, mm, self.geo.ptrs(level), self.arch.entry_halves)
        self.tables[pfn] = t
        for i in range(t.nentries):
            self.set_entry(t, i, 0)
        return t

    def recycle_table(self, t: Table, entries) -> None:
        """Give the (not yet used) page-table page ``t`` the contents its frame
        had before: ``entries[i]`` is what entry ``i`` reads as until the
        allocator's zeroing reaches it (fault.pte_alloc_one)."""
        for i, v in enumerate(entries):
            self.set_entry(t, i, v)
        self.recycled_tables.add(t.pfn)

    def set_entry(self, t: Table, i: int, v) -> None:
        if t.halves == 1:
            self.memory[t.cell(i)] = v
        else:
            lo, hi = split_halves(v)
            self.memory[t.cell(i) + ".lo"], self.memory[t.cell(i) + ".hi"] = lo, hi

    def get_entry(self, t: Table, i: int):
        from .pagetable import join_halves
        if t.halves == 1:
            return self.memory[t.cell(i)]
        return join_halves(self.memory[t.cell(i) + ".lo"], self.memory[t.cell(i) + ".hi"])

    def new_mm(self) -> MmStruct:
        mm = MmStruct(len(self.mms), None)  # type: ignore[arg-type]
        mm.pgd = self.alloc_table(mm.id, "pgd")
        self.memory[mm.mmap_sem] = 0
        self.memory[mm.page_table_lock] = 0
        self.memory[mm.write_protect_seq] = 0
        self.mms.append(mm)
        return mm

    def add_vma(self, mm: MmStruct, start: int, end: int, write: bool = True) -> Vma:
        v = Vma(mm.id, len(mm.vmas), start, end, write)
        mm.vmas.append(v)
        self.memory[v.cell] = True
        self.memory[v.vm_write] = write
        # MODEL: the levels above the pte table (__pud_alloc/__pmd_alloc) are
        # populated when the VMA is created; faults only allocate pte tables.
        if "pmd" in self.geo.present:
            for addr in range(start, end, self.geo.size("pmd")):
                self.pmd_slot(mm, addr)
        return v

    def pmd_slot(self, mm: MmStruct, addr: int, create: bool = True) -> tuple[Table, int]:
        """Setup-time walk to the pmd-level slot of ``addr``: the entry that points
        at the pte table (the pgd entry on 2-level ARM, where the pmd is folded)."""
        return self._slot(mm, addr, "pmd", create)

    def pte_slot(self, mm: MmStruct, addr: int, create: bool = True) -> tuple[Table, int]:
        return self._slot(mm, addr, "pte", create)

    def _slot(self, mm, addr, want, create):
        if want == "pmd" and self.geo.folded("pmd"):
            want = self.geo.present[-2]     # the folded pmd is the entry above the pte table
        t = mm.pgd
        while t.level != want:
            i = self.geo.index(t.level, addr)
            v = self.get_entry(t, i)
            below = self.geo.present[self.geo.present.index(t.level) + 1]
            if v == 0:
                if not create:
                    raise KeyError(hex(addr))
                nt = self.alloc_table(mm.id, below)
                self.set_entry(t, i, self.enc.mk_table(nt.pfn))
                t = nt
            else:
                t = self.tables[self.enc.pfn(v)]
        return t, self.geo.index(want, addr)

    def map_page(self, mm: MmStruct, addr: int, pfn: int | None = None,
                 write: bool = True, special: bool = False) -> int:
        """An already-faulted anonymous page: pte set, count 1, mapcount 1."""
        if pfn is None:
            pfn = self.alloc_pages(1)
        t, i = self.pte_slot(mm, addr)
        self.set_entry(t, i, self.enc.mk_pte(pfn, write=write, special=special))
        if not special:
            self.memory[self.count(pfn)] += 1
            self.memory[self.mapcount(pfn)] += 1
            self.memory[self.mapping(pfn)] = "anon"          # page_add_new_anon_rmap
            self.memory[self.anon_exclusive(pfn)] = True
            self.memory[self.lru(pfn)] = True                 # lru_cache_add_inactive_or_unevictable
        return pfn

    def map_thp(self, mm: MmStruct, addr: int, write: bool = True) -> int:
        """An anonymous THP mapped by one huge pmd, with a deposited pte table.

        Counts as do_huge_pmd_anonymous_page() leaves them: head count 1 and
        mapcount 1, tails count 0 (pre-2016 tails keep GUP pins in _mapcount,
        starting at -1), each tail's compound_head pointing at the head."""
        self._need_huge_pages("THP")
        assert addr % self.geo.size("pmd") == 0, hex(addr)
        nr = self.geo.hpage_pmd_nr
        head = self.prep_compound_page(nr)
        self.memory[self.count(head)] = 1
        self.memory[self.mapcount(head)] = 0
        t, i = self.pmd_slot(mm, addr)
        self.set_entry(t, i, self.enc.mk_huge_pmd(head, write=write))
        deposit = self.alloc_table(mm.id, "pte")
        mm.deposited[t.cell(i)] = deposit.pfn
        return head

    def _need_huge_pages(self, what: str) -> None:
        if not self.arch.has_thp:
            raise UsageError(f"arch={self.arch.name}: no {what} on this arch (no pmd-sized "
                             "pages); try arm-lpae, arm64, x86-64 or powerpc")

    # --- CPUs and current ------------------------------------------------------------
    def task(self, cpu: int, mm: MmStruct, pages: int = 0, tables: int = 0):
        """``current`` for a thread on ``cpu``, with frames it may allocate."""
        from .mm import Task
        pool = [self.alloc_pages(1) for _ in range(pages)]
        for pfn in pool:
            self.memory[self.alloc_gen(pfn)] = 0     # free, reserved for the task
        return Task(cpu, mm, pool, [self.alloc_table(mm.id, "pte") for _ in range(tables)])

    def other_cpus(self, cpu: int) -> tuple[int, ...]:
        return tuple(c for c in range(self.nr_cpus) if c != cpu)

    # --- the program ---------------------------------------------------------------------
    def program(self, threads: list[ThreadSpec], invariants: list[Invariant] = ()) -> Program:
        assert len(threads) <= self.nr_cpus, "one thread per CPU"
        return Program(threads=list(threads), memory=dict(self.memory),
                       invariants=list(invariants), context=self,
                       snapshot=snapshot, describe=self.describe)

    def describe(self, op, value) -> str | None:
        """Name an access in kernel terms: decode page-table entries."""
        cell = getattr(op, "cell", None)
        if not isinstance(cell, str) or "[" not in cell or cell.startswith("page["):
            return None
        level = cell.split(".")[1] if "." in cell else ""
        if not level.startswith(("pgd", "pud", "pmd", "pte")):
            return None
        shown = getattr(op, "value", value)
        if cell.endswith((".lo", ".hi")):
            return f"{level[:3]} {cell[-2:]} half"
        return f"{level[:3]}: {self.enc.describe(shown)}"

    def data_pages(self) -> list[int]:
        return sorted(p for p, k in self.page_kind.items() if k == "data")

    # --- compound pages and hugetlbfs (setup) -----------------------------------
    def prep_compound_page(self, nr: int) -> int:
        """``nr`` contiguous free frames made one compound page (prep_compound_page:
        tails point at the head; _pincount from 2016). Returns the head pfn."""
        head = self.alloc_pages(nr)
        for p in range(head + 1, head + nr):
            self.memory[self.head(p)] = head
        self.memory[self.compound_lock(head)] = 0
        self.large_folios.add(head)
        if not self.design.thp_refcount_2013:
            self.memory[f"page[{head}]._pincount"] = 0
        return head

    def add_hugetlb_vma(self, mm: MmStruct, start: int, end: int, write: bool = True) -> Vma:
        """A MAP_PRIVATE hugetlbfs VMA (huge pages of the pmd size); see hugetlb.py."""
        self._need_huge_pages("hugetlbfs")
        assert start % self.geo.size("pmd") == 0 and end % self.geo.size("pmd") == 0
        v = Vma(mm.id, len(mm.vmas), start, end, write, hugetlb=True)
        mm.vmas.append(v)
        self.memory[v.cell] = True
        self.memory[v.vm_write] = write
        for addr in range(start, end, self.geo.size("pmd")):
            self.pmd_slot(mm, addr)
        return v
    # --- the zero page, files and the page cache (setup time; see filemap.py) ----
    def _boot_zero_page(self) -> int:
        """empty_zero_page: a fixed frame outside the allocator's range, count 1
        (never freed), mapped by special ptes (do_anonymous_page on a read)."""
        self.page_kind[ZERO_PFN] = "data"
        for cell, v in ((self.count(ZERO_PFN), 1), (self.mapcount(ZERO_PFN), -1),
                        (self.head(ZERO_PFN), NO_HEAD), (self.data(ZERO_PFN), 0),
                        (self.mapping(ZERO_PFN), None),
                        (self.anon_exclusive(ZERO_PFN), False),
                        (self.alloc_gen(ZERO_PFN), 1)):
            self.memory[cell] = v
        return ZERO_PFN

    def add_file(self, nr_pages: int = 1):
        """A file whose ``nr_pages`` pages are all in the page cache; returns its
        address_space (filemap.AddressSpace)."""
        from .filemap import setup_file
        return setup_file(self, nr_pages)

    def map_file(self, mm: MmStruct, start: int, end: int, file, write: bool = False,
                 shared: bool = False, populate: bool = False) -> Vma:
        """mmap(file) at [start, end): MAP_PRIVATE or MAP_SHARED; ``populate``
        maps the cached pages read-only now (as read faults would)."""
        from .filemap import setup_file_vma
        return setup_file_vma(self, mm, start, end, file, write, shared, populate)


def snapshot(k: Kernel, mem) -> dict:
    """JSON-able view for trace viewers (kernel/snapshot.py)."""
    from .snapshot import snapshot as view
    return view(k, mem)


__all__ = ["Kernel", "MmStruct", "Vma", "NO_HEAD", "FREE_LIST", "snapshot"]
