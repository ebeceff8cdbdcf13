"""The barriers the weak models need: each is a named protection, and taking
it away turns its cell into a violation under the models that need it while
``sc`` still says safe (the seeded-mutant check of the old answers under the
new models). Plus the walker's dependencies, which those models see.

The readers counter of the 2013 thread (Will Deacon's proposal): under
``sc`` its three barriers are redundant, under ``tso`` the walker's two are
(TSO's atomics are locked instructions) but the splitter's is not (its store
then load is store buffering), and under ``armv8`` and ``lkmm`` each one is
necessary --
without smp_mb__after_atomic_inc() the walker's pmd read may be satisfied
before its increment is visible, so the splitter sees no reader and splits
under it; without smp_mb__before_atomic_dec() the walker's reference counting
may become visible after its decrement; without the splitter's smp_mb() its
read of the counter may pass its store of the splitting pmd. And the split's
own smp_mb__after_atomic_inc() after a tail's _count update is needed under
armv8 and lkmm: without it PageTail may be seen cleared (and the head's count
updated) before the tail's pins reach its _count, and the GUP user's
put_page() of the tail drops the tail's own count below zero.

Two places where the model finds no barrier in the kernel and the weak
models find a race; each is shown with a barrier added by a protection that
no kernel has (``+fork:write_protect_seq-smp_mb``, ``+migrate:smp_rmb``).
They are findings of this model under study, not claims about the kernel:
a barrier the model leaves out would change them.

* fork against a FOLL_PIN GUP-fast: fork makes mm->write_protect_seq odd and
  then reads each page's refcount; GUP-fast pins and then re-reads the count.
  A store then a load on each side: only a full barrier on both sides orders
  that, and fork has smp_wmb() (plus the pte lock's acquire): on arm64 and
  powerpc both can miss each other, and the pinned page is shared with the
  child (pin-exclusive). x86 and ARMv7 (spin_lock ends in dmb) order it.
* migration of an anonymous page: the refcount check, then the copy's reads
  of the old page, with only a control dependency between them: the copy
  may miss what a GUP user wrote before the put_page() the check saw.

khugepaged's isolate_lru_page() bitop on arm64. Between
__collapse_huge_page_isolate()'s refcount check and the copy of the page the
pte lock is dropped, and on arm64 spin_unlock() is a release store (stlr),
which orders nothing after it: without the fully ordered TestClearPageLRU()
the copy may read the page's data before the refcount, and so miss what a
GUP user wrote before its put_page(). On powerpc (lwsync) and 32-bit ARM
(dmb) the unlock's barrier orders the two reads anyway."""

from __future__ import annotations

import pytest

import gupsim.scenarios  # noqa: F401  (registers the scenarios)
from gupsim.check import CheckConfig, check
from gupsim.spec import SCENARIOS

# (scenario, design, arch, protection) -> (models where it is necessary: the
# invariant its absence breaks; models where it is redundant)
RC = ("gup-vs-thp-split", "readers-counter-2013", "arm64")
NEEDED = {
    # Will Deacon's question: the counter's barriers on ARM.
    (*RC, "reader:smp_mb__after_atomic"):
        ({"armv8": "ref-across-split", "lkmm": "ref-across-split"}, ("sc", "tso")),
    (*RC, "reader:smp_mb__before_atomic"):
        ({"armv8": "refcount-balanced", "lkmm": "refcount-balanced"}, ("sc", "tso")),
    (*RC, "splitter:smp_mb"):
        ({"tso": "ref-across-split", "armv8": "ref-across-split", "lkmm": "ref-across-split"},
         ("sc",)),
    # ... and the split's own, between a tail's _count and the head's (load
    # buffering: each side's RMW reads the other's po-later one)
    (*RC, "split:smp_mb__after_atomic"):
        ({"armv8": "refcount-non-negative", "lkmm": "refcount-non-negative"}, ("sc", "tso")),
    # Two fixes the weak models ask for, not in any kernel (see below).
    # (lkmm gives armv8's answers here too; its runs take 40 s, so not in CI)
    ("gup-vs-fork", "modern+fork:write_protect_seq-smp_mb", "arm64",
     "fork:write_protect_seq-smp_mb"):
        ({"armv8": "pin-exclusive"}, ("sc", "tso")),
    ("gup-vs-fork", "modern+fork:write_protect_seq-smp_mb", "powerpc",
     "fork:write_protect_seq-smp_mb"):
        ({"power": "pin-exclusive"}, ("sc",)),
    ("gup-vs-migration", "modern+migrate:smp_rmb", "arm64", "migrate:smp_rmb"):
        ({"armv8": "gup-write-reaches-mapping", "lkmm": "gup-write-reaches-mapping"},
         ("sc", "tso")),
    # ... and, with that one in place, the kernel's own smp_wmb() in
    # folio_mark_uptodate() before the new page is mapped.
    ("gup-vs-migration", "modern+migrate:smp_rmb", "arm64", "migrate:smp_wmb"):
        ({"armv8": "gup-write-reaches-mapping", "lkmm": "gup-write-reaches-mapping"},
         ("sc", "tso")),
    ("gup-vs-collapse", "modern", "arm64", "collapse:isolate_lru_page"):
        ({"armv8": "gup-write-reaches-mapping", "lkmm": "gup-write-reaches-mapping"},
         ("sc",)),
    ("gup-vs-collapse", "modern", "powerpc", "collapse:isolate_lru_page"):
        ({}, ("sc", "power")),
    ("gup-vs-collapse", "modern", "arm-lpae", "collapse:isolate_lru_page"):
        ({}, ("sc", "armv7")),
    # Asked about and redundant, each for a reason of its own (REDUNDANT_BECAUSE).
    ("gup-vs-collapse", "modern", "arm64", "collapse:smp_wmb"):
        ({}, ("sc", "armv8", "lkmm")),
    ("gup-vs-thp-split", "modern", "arm64", "split:smp_wmb"):
        ({}, ("sc", "armv8")),
    ("gup-vs-thp-split", "generic-rcu-2014", "arm64", "split:smp_wmb"):
        ({}, ("sc", "armv8")),
    ("gup-vs-thp-split", "modern", "arm64", "split:smp_wmb-tail"):
        ({}, ("sc", "armv8")),
}

REDUNDANT_BECAUSE = {
    "collapse:smp_wmb": "__collapse_huge_page_copy() takes and drops the pte lock after "
                        "each page's copy, and set_pmd_at() is under the pmd lock: the "
                        "unlock's release then the lock's acquire order the copy before "
                        "the pmd on every model (arm64: stlr then ldaxr)",
    "split:smp_wmb": "2016: a walker that reads the new pmd before the ptes reach the "
                     "deposited table reads pte_none and goes to the slow path; 2013: the "
                     "TLB flush between the ptes and pmd_populate() (IPI, or tlbi + dsb) "
                     "is a full barrier",
    "split:smp_wmb-tail": "page_ref_unfreeze() is atomic_set_release(), which orders "
                          "clear_compound_head() before it by itself",
}


def verdict(scenario, design, arch, model, without=None):
    if without:
        design = f"{design}-without-{without}"
    res = check(SCENARIOS[scenario].factory(arch=arch, design=design),
                CheckConfig(strategy="dpor", memory_model=model))
    assert res.verdict == "violation" or res.stats.exhausted
    return res.violation.name if res.violation else res.verdict


@pytest.mark.parametrize("key", sorted(NEEDED), ids=lambda k: "/".join(k))
def test_each_barrier_is_needed_exactly_where_said(key):
    scenario, design, arch, protection = key
    needed, redundant = NEEDED[key]
    for model in [*needed, *redundant]:
        assert verdict(scenario, design, arch, model) == "safe", model
    for model, invariant in needed.items():
        assert verdict(scenario, design, arch, model, protection) == invariant, model
    for model in redundant:
        assert verdict(scenario, design, arch, model, protection) == "safe", model


@pytest.mark.parametrize("key", sorted(k for k in NEEDED if not NEEDED[k][0]
                                      and k[3] in REDUNDANT_BECAUSE), ids=lambda k: "/".join(k))
def test_a_redundant_barrier_is_asked_about(key):
    """A barrier said to be redundant is on a path the scenario runs (else the
    ablation would say n/a, and "redundant" would mean nothing)."""
    from gupsim.kernel import get_design
    scenario, design, arch, protection = key
    d = get_design(design)
    res = check(SCENARIOS[scenario].factory(arch=arch, design=d),
                CheckConfig(strategy="dpor", memory_model="armv8"))
    assert res.verdict == "safe" and protection in d.asked


def test_the_walker_reads_each_level_through_the_one_above():
    """Under a weak model the GUP thread's events carry address dependencies:
    pgd -> pud/pmd -> pte (each table found through the entry above it) and
    pte -> the struct page accesses (page = pte_page(pte))."""
    graphs = []
    res = check(SCENARIOS["gup-vs-munmap"].factory(arch="arm64", design="modern"),
                CheckConfig(strategy="dpor", memory_model="armv8", stop_on_first=False),
                observe=lambda o: graphs.append(o.graph))
    assert res.verdict == "safe" and graphs
    g = graphs[0]
    gup = g.threads[0]
    cells = {e: g.events[e].cell for e in gup}
    edges = {(cells[a], cells[b]) for a, b in g.addr if a in cells and b in cells}
    pmd = next(c for c in cells.values() if c and ".pmd" in c)
    pte = next(c for c in cells.values() if c and ".pte" in c)
    assert (pmd, pte) in edges
    assert any(a == pte and b.startswith("page[") and b.endswith("._refcount")
               for a, b in edges)
    assert any(a == pte and b.endswith(".compound_head") for a, b in edges)
    assert g.ctrl          # the branches on the entries' bits
