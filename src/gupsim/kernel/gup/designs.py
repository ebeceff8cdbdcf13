"""GUP-fast designs: one generic walker (gup/fast.py), many historical protocols.

A ``Design`` names a protocol as a set of *protections*: every barrier,
IRQs-off region, recheck and IPI that the walker side or the mm side of the
protocol relies on. The model asks ``k.design.enabled(name)`` at each of them,
so ``design.without(name)`` is the same protocol with exactly that one
protection taken away (the ablation hook).

Protection names are ``side:what`` (``walker``, ``reader``, ``splitter``,
``split``, ``collapse``, ``tlb``, ``table``); ``PROTECTIONS`` maps each to what
it is (``gupsim list protections`` prints them).

Deriving a design takes a line or two::

    from dataclasses import replace
    from gupsim.kernel.gup.designs import get_design

    no_kick = get_design("generic-rcu-2014").without("split:ipi")
    mine = replace(get_design("arm-rfc-2013"), name="arm-rfc+rcu",
                   protections=get_design("arm-rfc-2013").protections
                   + ("table:rcu-free",))
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ...errors import UnknownName, UsageError

PROTECTIONS: dict[str, str] = {
    "walker:irqs-off": "local_irq_disable() around the walk",
    "walker:pmd-splitting-check": "return 0 on pmd_trans_splitting() (pre-2016 THP)",
    "walker:speculative-ref": "get_page_unless_zero()/page_cache_add_speculative() "
                              "instead of a plain get_page()",
    "walker:recheck-pte": "re-read the pte after taking the reference",
    "walker:recheck-pmd": "re-read the pmd after taking the reference",
    "walker:recheck-folio": "try_get_folio(): page_folio(page) is still the folio",
    "reader:readers-count": "atomic_inc/atomic_dec of the 2013 readers counter",
    "reader:smp_mb__after_atomic": "smp_mb__after_atomic_inc() after the inc",
    "reader:smp_mb__before_atomic": "smp_mb__before_atomic_dec() before the dec",
    "splitter:smp_mb": "smp_mb() between setting the splitting pmd and reading the counter",
    "splitter:wait-readers": "the splitter's wait for readers == 0",
    "split:ipi": "kick_all_cpus_sync() in pmdp_splitting_flush()",
    "tlb:flush-ipi": "an IPI TLB flush waits for every CPU (only where the arch "
                     "flushes by IPI)",
    "table:rcu-free": "tlb_remove_table(): page-table pages freed after a grace "
                      "period (IRQs-off walkers hold it off)",
    "walker:gup_get_pte": "split-entry arches: read a pte low, rmb, high, rmb, low "
                          "again (x86 gup_get_pte, 2008)",
    "walker:pmdp_get_lockless": "the same for the pmd (mm/gup.c, 2020)",
    "collapse:tlb_remove_table_sync_one": "khugepaged: the dummy IPI after "
                                          "pmdp_collapse_flush() on RCU-table-free arches "
                                          "(commit 2ba99c5e0881, 2022)",
    "collapse:isolate_lru_page": "khugepaged: isolate_lru_page()'s TestClearPageLRU(), "
                                 "a fully ordered bitop between the refcount check and "
                                 "the copy of the page",
    "walker:pin-smp_mb__after_atomic": "try_grab_folio(): smp_mb__after_atomic() after a "
                                       "FOLL_PIN raises the pin count, before the pte/pmd "
                                       "re-check",
    "split:smp_mb__after_atomic": "__split_huge_page_refcount() (2013): smp_mb__after_atomic() "
                                  "between moving a tail's pins into its _count and clearing "
                                  "PageTail",
    "split:smp_wmb": "THP split: smp_wmb() between filling the pte table and the pmd "
                     "that points at it (__split_huge_page_map 2013, "
                     "__split_huge_pmd_locked 2016)",
    "split:smp_wmb-tail": "__split_huge_page() (2016): smp_wmb() between a tail's "
                          "clear_compound_head() and its page_ref_unfreeze()",
    "collapse:smp_wmb": "collapse_huge_page(): smp_wmb() between the copied huge page "
                        "and set_pmd_at()",
    "fault:smp_wmb": "__SetPageUptodate(): smp_wmb() between zeroing a new anonymous "
                     "page (and its struct page) and the set_pte_at() that maps it",
    "fault:pte_alloc-smp_wmb": "__pte_alloc() (pmd_install() from v5.16): smp_wmb() "
                               "between zeroing a new pte table and the pmd_populate() "
                               "that publishes it",
    "fork:write_protect_seq-smp_mb": "not in any kernel: smp_mb() after fork's "
                                     "raw_write_seqcount_begin(), before it reads the "
                                     "refcounts (what arm64 and powerpc need under the "
                                     "weak models; add it with +)",
    "migrate:smp_wmb": "folio_migrate_flags() -> folio_mark_uptodate(): smp_wmb() between "
                       "the copy and the migration pte that publishes the new page",
    "migrate:smp_rmb": "not in any kernel: smp_rmb() between migration's refcount check "
                       "and its copy of an anonymous page (what the weak models ask "
                       "for; add it with +)",
    "walker:write-protect-seq": "FOLL_PIN walkers read mm->write_protect_seq before and "
                                "after the walk and give up if a fork ran (v5.13, commit "
                                "57efa1fe5957); fork writes it around copy_page_range",
}

WALKERS = ("x86", "generic", "folio")
"""Walker shapes: ``x86`` (gup_pte_range with plain get_page and 2013 THP tail
refcounting, arch/x86/mm/gup.c and its ARM copy), ``generic`` (speculative
references + rechecks, arch/powerpc/mm/gup.c 2008 and mm/gup.c 2014),
``folio`` (mm/gup.c today: try_grab_folio_fast)."""


@dataclass(frozen=True)
class Design:
    """A GUP-fast protocol: walker shape, era and the protections it relies on.

    ``era`` selects the mm side the design was written against: before 2016
    THP tails carry their own GUP pins (get_huge_page_tail) and splitting uses
    the splitting pmd bit; from 2016 refcounts live on the head and a split
    freezes the refcount. ``walker`` None is the weak default that returns 0.
    """

    name: str
    walker: str | None
    era: int
    protections: tuple[str, ...]
    doc: str = ""
    requires_pte_special: bool = False
    removed: tuple[str, ...] = ()

    def __post_init__(self):
        # The protections the model asked about, over every run of this object
        # (not a field: copies start empty). An ablation of a protection the
        # scenario never asks about is n/a.
        object.__setattr__(self, "asked", set())
        if self.walker is not None and self.walker not in WALKERS:
            raise UsageError(f"walker={self.walker!r}: expected one of {', '.join(WALKERS)}")
        for p in self.protections + self.removed:
            if p not in PROTECTIONS:
                raise UnknownName("protection", p, PROTECTIONS)

    def enabled(self, name: str) -> bool:
        """Is protection ``name`` in force? (Unknown names are a usage error.)"""
        if name not in PROTECTIONS:
            raise UnknownName("protection", name, PROTECTIONS)
        self.asked.add(name)
        return name in self.protections

    def without(self, *names: str) -> "Design":
        """A copy with the named protections removed (the ablation hook)."""
        for n in names:
            if n not in self.protections:
                raise UnknownName(f"protection of design {self.name}", n, self.protections)
        keep = tuple(p for p in self.protections if p not in names)
        return replace(self, name=f"{self.name}-without-{'+'.join(names)}",
                       protections=keep, removed=self.removed + tuple(names))

    def with_(self, *names: str) -> "Design":
        """A copy with extra protections added."""
        extra = tuple(n for n in names if n not in self.protections)
        return replace(self, name=f"{self.name}+{'+'.join(names)}",
                       protections=self.protections + extra)

    @property
    def thp_refcount_2013(self) -> bool:
        return self.era < 2016


# Every design lives on top of the arch's TLB flush and of the rest of mm; listing
# their protections makes them ablatable.
_FLUSH = ("tlb:flush-ipi", "collapse:isolate_lru_page", "collapse:smp_wmb", "split:smp_wmb",
          "split:smp_mb__after_atomic", "split:smp_wmb-tail", "fault:smp_wmb",
          "fault:pte_alloc-smp_wmb", "migrate:smp_wmb")

DESIGNS: dict[str, Design] = {d.name: d for d in (
    Design("x86-2008", "x86", 2008,
           ("walker:irqs-off", "walker:pmd-splitting-check", "walker:gup_get_pte")
           + _FLUSH,
           "arch/x86/mm/gup.c (Nick Piggin 2008, THP hunk 2011): IRQs off, plain "
           "get_page(); relies on the TLB-flush IPI to hold off table freeing and "
           "THP splitting; the pmd is read with a plain (on PAE: tearable) load"),
    Design("arm-rfc-2013", "x86", 2013,
           ("walker:irqs-off", "walker:pmd-splitting-check") + _FLUSH,
           "the seed patch (Zi Shen Lim, Oct 2013): a copy of the x86 walker for ARM"),
    Design("powerpc-2008", "generic", 2008,
           ("walker:irqs-off", "walker:pmd-splitting-check", "walker:speculative-ref",
            "walker:recheck-pte", "walker:recheck-pmd", "table:rcu-free") + _FLUSH,
           "arch/powerpc/mm/gup.c (2008): IRQs off as an RCU-sched read side, "
           "speculative references and a re-read of the entry; no IPI on THP split "
           "(THP came to powerpc in 2013, with kick_all_cpus_sync)",
           requires_pte_special=True),
    Design("generic-rcu-2014", "generic", 2014,
           ("walker:irqs-off", "walker:pmd-splitting-check", "walker:speculative-ref",
            "walker:recheck-pte", "walker:recheck-pmd", "split:ipi",
            "table:rcu-free") + _FLUSH,
           "mm/gup.c (Steve Capper, v3.19): speculative refs + rechecks, page tables "
           "via tlb_remove_table, kick_all_cpus_sync() in pmdp_splitting_flush",
           requires_pte_special=True),
    Design("readers-counter-2013", "x86", 2013,
           ("walker:irqs-off", "walker:pmd-splitting-check", "reader:readers-count",
            "reader:smp_mb__after_atomic", "reader:smp_mb__before_atomic",
            "splitter:smp_mb", "splitter:wait-readers") + _FLUSH,
           "Will Deacon's proposal in the thread: the seed walker wrapped in an atomic "
           "readers counter that the THP splitter polls down to zero"),
    Design("modern", "folio", 2024,
           ("walker:irqs-off", "walker:speculative-ref", "walker:recheck-folio",
            "walker:recheck-pte", "walker:recheck-pmd", "table:rcu-free",
            "walker:gup_get_pte", "walker:pmdp_get_lockless",
            "collapse:tlb_remove_table_sync_one", "walker:write-protect-seq",
            "walker:pin-smp_mb__after_atomic") + _FLUSH,
           "mm/gup.c today: try_grab_folio_fast() with the folio recheck, pmd and "
           "pte rechecks, refcount-freezing THP split, RCU table freeing, "
           "mm->write_protect_seq against fork",
           requires_pte_special=True),
    Design("weak-default", None, 2013, _FLUSH,
           "mm/util.c weak __get_user_pages_fast() returning 0 (ARM before 2014)"),
)}


def get_design(name: "str | Design") -> Design:
    """The design called ``name`` (a ``Design`` is returned as is).

    Derived names read back as what they name: ``modern-without-walker:recheck-pte``
    is ``get_design("modern").without("walker:recheck-pte")`` and
    ``arm-rfc-2013+table:rcu-free`` is ``...with_("table:rcu-free")`` (several
    protections joined by ``+``), so a counterexample of an ablated design
    replays from its command line."""
    if isinstance(name, Design):
        return name
    if name in DESIGNS:
        return DESIGNS[name]
    base, _, removed = name.partition("-without-")
    base, *added = base.split("+")
    if base not in DESIGNS or (not added and not removed):
        raise UnknownName("design", name, DESIGNS)
    d = DESIGNS[base]
    if added:
        d = d.with_(*added)
    if removed:
        d = d.without(*removed.split("+"))
    return d


__all__ = ["Design", "DESIGNS", "PROTECTIONS", "WALKERS", "get_design"]
