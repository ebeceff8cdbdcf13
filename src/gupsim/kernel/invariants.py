"""Kernel properties, named, with kernel-term messages.

Most properties are Asserts at the access (sound under every strategy); the
short name is the ``Violation.name`` a check reports:

* ``pgtable-use-after-free``: a freed page-table page is poisoned; every
  lockless entry read Asserts it did not read poison (pagetable.read_entry).
* ``torn-pmd``: the walker descends only into a page-table page (a torn or
  stale pmd, or a leaf taken for a table, points elsewhere); ``pfn-valid``:
  a pte the walker accepts maps a valid data frame (a torn pte does not).
* ``get_page-on-free-page``: get_page()/get_head_page_multiple()/the folio
  grab Assert the count they incremented was > 0 (the kernel's VM_BUG_ON).
* ``page-use-after-free`` / ``access-to-reused-page``: a user access through
  a TLB entry (user.py) finds its frame still allocated to the owner it was
  translated for (page.check_page_owner); ``bad-page-state``: the allocator
  never hands out or frees a frame twice.
* ``ref-across-split``: gup_huge_pmd() Asserts compound_head(page) == head
  and get_huge_page_tail() Asserts the tail's _count is still 0.
* ``refcount-non-negative``: every put Asserts the count it decremented was
  at least the number of references dropped; ``refcount-wrap``: no get
  pushes a count past INT_MAX (the 2019 page refcount overflow).
* ``write-pin-on-pagecache``: a write get_user_pages (FOLL_WRITE, with or
  without FOLL_FORCE) on a private file mapping Asserts the page it returns
  is anonymous, not the page-cache page (gup/slow.py; Dirty COW).
* ``write-ref-after-mprotect`` (scenarios/huge.py): no write reference is
  taken after mprotect(PROT_READ) returned.
* ``progress``: retry loops carry SpinHint; the checker reports a livelock
  (and get_futex_key's bounded form Asserts it).

The end-of-run properties below need the final memory and are checked after
every complete execution (``when="end"``): ``refcount-balanced``,
``gup-returned-mapped-pages``, ``gup-write-reaches-mapping`` and
``pin-exclusive``.
"""

from __future__ import annotations

from ..spec import Invariant, make_violation
from .pagetable import PAGE_SIZE


def _mapping_refs(k, mem) -> dict[int, int]:
    """Expected reference count per page from the final page tables: one per
    present pte mapping (on the folio from 2016, on the page before; special
    ptes hold none) and one per huge pmd (on the head), one per page-cache
    slot, and the zero page's own reference. GUP users have released
    everything by then (unless the scenario says what they hold)."""
    enc = k.enc
    exp = {p: 0 for p in k.data_pages()}
    exp[k.zero_pfn] = 1
    for f in k.files:
        for i in range(f.nr_pages):
            p = mem.get(f.slot(i))
            if p is not None:
                exp[p] = exp.get(p, 0) + 1
    for mm in k.mms:
        stack = [mm.pgd]
        while stack:
            t = stack.pop()
            for i in range(t.nentries):
                c = t.cell(i)
                v = mem.get(c) if t.halves == 1 else _join(mem, c)
                if not isinstance(v, int) or v == 0 or not enc.flag(v, "present"):
                    continue
                if t.level == "pte":
                    if enc.flag(v, "special"):
                        continue
                    p = enc.pfn(v)
                    h = mem.get(k.head(p))
                    if not k.design.thp_refcount_2013 and h is not None:
                        p = h
                    exp[p] = exp.get(p, 0) + 1
                elif enc.pmd_huge(v):
                    exp[enc.pfn(v)] = exp.get(enc.pfn(v), 0) + 1
                elif enc.pfn(v) in k.tables:
                    stack.append(k.tables[enc.pfn(v)])
    return exp


def _join(mem, c):
    from .pagetable import join_halves
    return join_halves(mem.get(c + ".lo"), mem.get(c + ".hi"))


def refcount_balanced(k, held=None) -> Invariant:
    """``refcount-balanced``: at the end every page's count equals the
    references its mappings hold: no GUP reference leaked or lost, none left
    on the wrong page (a ref taken on a THP head for a page split off it),
    and no THP tail still carrying a GUP pin in _mapcount (pre-2016).
    ``held(results) -> {pfn: refs}``: references threads still hold at the end
    (a long-term pin)."""
    def check(mem, results):
        exp = _mapping_refs(k, mem)
        for p, refs in (held(results) if held else {}).items():
            exp[p] = exp.get(p, 0) + refs
        for p in k.data_pages():
            have = mem.get(k.count(p))
            if have != exp[p]:
                what = "leaked" if have > exp[p] else "lost"
                return make_violation(
                    "invariant", "refcount-balanced",
                    f"page {p}: {k.COUNT} is {have} at the end but its mappings hold "
                    f"{exp[p]}: a reference was {what} (taken on one page, dropped on "
                    "another, or never dropped)",
                    {"page": p, "count": have, "expected": exp[p],
                     "compound_head": mem.get(k.head(p))})
            if k.design.thp_refcount_2013 and mem.get(k.head(p)) is not None \
                    and mem.get(k.mapcount(p)) != -1:
                return make_violation(
                    "invariant", "refcount-balanced",
                    f"THP tail page {p} still holds GUP pins in _mapcount at the end",
                    {"page": p, "_mapcount": mem.get(k.mapcount(p))})
        return None
    return Invariant("refcount-balanced", check, when="end")


def gup_results_consistent(k, thread: str, expected_pages: dict[int, int]) -> Invariant:
    """``gup-returned-mapped-pages``: each page a GUP call returned is the page
    mapped at that address at setup (splits are in place: same pfns), and,
    when the thread also reports the allocation generation it saw while it
    held each reference (a third element of its result, page.alloc_gen), the
    same owner of that frame: a reference that landed on the frame after it
    was freed and reused is on someone else's page."""
    gens = {i: k.memory.get(k.alloc_gen(p)) for i, p in expected_pages.items()}

    def check(mem, results):
        r = results.get(thread)
        if not isinstance(r, tuple):
            return None
        nr, pages = r[0], r[1]
        seen = r[2] if len(r) > 2 else ()
        for i, pfn in enumerate(pages):
            want = expected_pages.get(i)
            if want is not None and pfn != want:
                return make_violation(
                    "invariant", "gup-returned-mapped-pages",
                    f"{thread}: page {i} of the range is pfn {pfn}, the address maps "
                    f"pfn {want}", {"nr": nr, "pages": pages})
            if want is not None and i < len(seen) and seen[i] != gens[i]:
                return make_violation(
                    "invariant", "gup-returned-mapped-pages",
                    f"{thread}: page {i} of the range is pfn {pfn} of allocation "
                    f"generation {seen[i]}, but the address mapped generation "
                    f"{gens[i]} of that frame: the reference landed on the frame "
                    "after it was freed and reused (someone else's page)",
                    {"nr": nr, "pages": pages, "generations": seen})
        return None
    return Invariant("gup-returned-mapped-pages", check, when="end")


def _mapped_by(k, mem, pfn) -> list[int]:
    """The mms with a present (non-special) pte mapping ``pfn`` at the end."""
    out = []
    for mm in k.mms:
        for t in k.tables.values():
            if t.mm != mm.id or t.level != "pte":
                continue
            for i in range(t.nentries):
                v = mem.get(t.cell(i)) if t.halves == 1 else _join(mem, t.cell(i))
                if isinstance(v, int) and k.enc.flag(v, "present") \
                        and not k.enc.flag(v, "special") and k.enc.pfn(v) == pfn:
                    out.append(mm.id)
    return sorted(set(out))


def pin_exclusive(k, thread: str, mm) -> Invariant:
    """``pin-exclusive``: a page ``thread`` pinned (FOLL_PIN) for an anonymous
    private mapping of ``mm`` -- and still holds at the end, as a long-term
    pin (RDMA, vfio, io_uring buffers) does -- is mapped by no other mm. A
    page a fork child shares is write-protected in both: the parent's next
    write fault COWs the parent onto a new page and leaves the pin (and the
    DMA) on the child's. ``results[thread]`` is (nr, pages)."""
    def check(mem, results):
        r = results.get(thread)
        if not isinstance(r, tuple):
            return None
        for pfn in r[1]:
            others = [m for m in _mapped_by(k, mem, pfn) if m != mm.id]
            if others:
                return make_violation(
                    "invariant", "pin-exclusive",
                    f"page {pfn} is pinned (FOLL_PIN) for mm{mm.id}'s private anonymous "
                    f"mapping but mm{others[0]} maps it too: a pinned page shared with "
                    "a fork child; the next COW fault leaves the pin on a page the "
                    "pinner no longer maps",
                    {"page": pfn, "pinned_by": f"mm{mm.id}",
                     "also_mapped_by": ", ".join(f"mm{m}" for m in others),
                     k.COUNT: mem.get(k.count(pfn))})
        return None
    return Invariant("pin-exclusive", check, when="end")


GUP_WRITE = "written through the GUP reference"
"""What a GUP user (a driver's DMA) stores through each page it got; see
``gup_write_reaches_mapping``."""

def mapped_pfn(k, mem, mm, addr):
    """The page ``addr`` maps in the final memory (a sub-page of a huge pmd
    included), or None."""
    enc, geo = k.enc, k.geo
    table = mm.pgd
    while True:
        v = mem.get(table.cell(geo.index(table.level, addr)))
        if not isinstance(v, int) or not enc.pmd_present(v):
            return None
        if table.level == "pte":
            return enc.pte_pfn(v)
        if enc.pmd_huge(v):
            return enc.pmd_pfn(v) + geo.page_in(table.level, addr)
        table = k.tables[enc.pfn(v)]


def gup_write_reaches_mapping(k, mm, thread, start) -> Invariant:
    """``gup-write-reaches-mapping``: each page the GUP call returned was
    written through; the page the address maps at the end must hold that
    write (unless the address is no longer mapped)."""
    def check(mem, results):
        r = results.get(thread)
        if not isinstance(r, tuple):
            return None
        for j, pfn in enumerate(r[1]):
            addr = start + j * PAGE_SIZE
            now = mapped_pfn(k, mem, mm, addr)
            if now is not None and mem.get(k.data(now)) != GUP_WRITE:
                return make_violation(
                    "invariant", "gup-write-reaches-mapping",
                    f"{thread} wrote through its reference on page {pfn}, but {addr:#x} "
                    f"now maps page {now}, which does not hold the write: the page was "
                    "replaced while pinned (the write is lost)",
                    {"gup_page": pfn, "mapped_page": now, "data": mem.get(k.data(now))})
        return None
    return Invariant("gup-write-reaches-mapping", check, when="end")


__all__ = ["GUP_WRITE", "mapped_pfn", "gup_write_reaches_mapping", "refcount_balanced",
           "gup_results_consistent", "pin_exclusive"]
