"""struct page reference counting: include/linux/mm.h, mm/swap.c, include/linux/pagemap.h.

Two eras, selected by the design's era (``k.design.era``):

* before 2016 (v3.x): ``page->_count`` on every page; a THP tail page keeps
  its GUP pins in its own ``_mapcount`` (get_huge_page_tail) while the head's
  ``_count`` counts them too; __split_huge_page_refcount() moves them over.
  put_page() on a tail goes through put_compound_page() under compound_lock.
* from 2016 (Kirill Shutemov's THP refcounting rework, v4.5) and the folio
  era: every reference is on the head (``_refcount``), tails have 0, and a
  split freezes the head's count (page_ref_freeze) so speculative getters
  fail; pins of large folios go to ``_pincount``.

Protection scheme: a speculative reference (get_page_unless_zero /
page_cache_get_speculative / folio_ref_try_add) never revives a page whose
count reached zero; freers and freezers decide with an atomic on the same
counter, so one of the two sides always sees the other.

Assertions are the kernel's own VM_BUG_ONs: get_page() on a page with count
<= 0 and get_huge_page_tail() on a tail whose _count is not 0 (i.e. a split
already ran) are violations.
"""

from __future__ import annotations

from ..ops import Assert, Branch, IrqDisable, IrqEnable, Load, Note, Rmw, SpinHint, Store

GUP_PIN_COUNTING_BIAS = 1024
FREE_LIST = "zone.free_list"
"""Cell: the page allocator's free frames, most recently freed first."""
PAGE_POISON = "PAGE_POISON"
"""Contents of a freed frame (include/linux/poison.h PAGE_POISON, 0xaa in
every byte): what a user access through a stale translation reads."""
FOLL_GET, FOLL_PIN, FOLL_WRITE = 1, 2, 4


def alloc_page(k, t):
    """alloc_page(GFP_HIGHUSER_MOVABLE | __GFP_ZERO) for ``current`` (``t``): a
    free frame or None.

    __rmqueue_pcplist(): the most recently freed frame comes first (the hot
    end of the per-CPU list), so a frame freed by reclaim, munmap or migration
    is what the next fault gets. (1) pop the free list with a cmpxchg loop,
    then (2) bump the frame's generation and zero it (prep_new_page,
    clear_highpage). Pairs with: free_page (push).
    MODEL: the per-CPU lists and the buddy free lists are one LIFO list shared
    by every CPU (one cell, like an llist), so a frame freed on one CPU can be
    reused on another at once; when it is empty the frame comes from the
    task's pool reserved at setup. The reference count is left at 0: callers
    set the first reference (set_page_refcounted) themselves.
    MODEL: the new frame's accesses do not name the free-list read their
    address came from; the acquire cmpxchg that took the frame orders every
    one of them after it anyway."""
    while True:
        yield SpinHint("alloc_page: free list cmpxchg")
        frames = yield Load(FREE_LIST, reg="free_list")
        yield Branch("free_list")
        if not frames:
            pfn = t.alloc_page()
            break
        old = yield Rmw(FREE_LIST, "cmpxchg", frames[1:], expected=frames, order="acquire",
                        reg="free_list_old", data="free_list")
        yield Branch("free_list_old", "free_list")
        if old == frames:
            pfn = frames[0]
            break
    if pfn is None:
        return None
    gen = yield Rmw(k.alloc_gen(pfn), "add", 1, order="once")
    yield Assert(gen % 2 == 0, "alloc_page() handed out a frame that is not free "
                 "(bad_page: the frame is still in use)", page=pfn, generation=gen,
                 name="bad-page-state")
    # MODEL: free_pages_prepare() clears page->mapping and PG_anon_exclusive
    # when the page is freed (and _mapcount is already -1 by then); the model
    # resets them here, when the frame is handed out again, which keeps the
    # freeing path (munmap, reclaim: every race scenario) short. A stale
    # reader of a free frame is caught by its poisoned data and generation.
    yield Store(k.mapcount(pfn), -1)
    yield Store(k.mapping(pfn), None)
    yield Store(k.anon_exclusive(pfn), False)
    yield Store(k.data(pfn), 0)
    return pfn


def free_page(k, pfn, addr=()):
    """free_unref_page() / __free_pages(): the frame goes back to the allocator.

    free_pages_prepare(): bump the generation (a double free is bad_page),
    poison the contents (CONFIG_PAGE_POISONING: PAGE_POISON), then (1) push
    the frame on the free list with a cmpxchg loop. Pairs with: alloc_page
    (pop, and the struct page resets, see there).
    MODEL: a THP head is poisoned and marked free but not put on the list
    (only order-0 frames are handed out again); its tails keep their state.
    ``addr``: the registers the page's address came from (the caller's)."""
    gen = yield Rmw(k.alloc_gen(pfn), "add", 1, order="once", addr=addr)
    yield Assert(gen % 2 == 1, "freeing a page that is already free (bad_page: "
                 "double free)", page=pfn, generation=gen, name="bad-page-state")
    yield Note(f"free page {pfn}")
    yield Store(k.data(pfn), PAGE_POISON, addr=addr)
    if pfn in k.large_folios:
        return
    while True:
        yield SpinHint("free_page: free list cmpxchg")
        frames = yield Load(FREE_LIST, reg="free_list")
        old = yield Rmw(FREE_LIST, "cmpxchg", (pfn,) + frames, expected=frames,
                        order="release", reg="free_list_old", data=("free_list", *addr))
        yield Branch("free_list_old", "free_list")
        if old == frames:
            return


def check_page_owner(k, pfn, gen, what):
    """The frame still belongs to the owner a translation or reference was
    obtained for: not free (``page-use-after-free``) and not reallocated since
    (``access-to-reused-page``). ``gen`` is the generation seen then."""
    now = yield Load(k.alloc_gen(pfn))
    yield Assert(now % 2 == 1, f"{what} on a freed page (use-after-free: the frame "
                 "is back in the page allocator)", page=pfn, generation=now,
                 generation_then=gen, name="page-use-after-free")
    yield Assert(now == gen, f"{what} on a reused page (the frame was freed and "
                 "allocated to a new owner since)", page=pfn, generation=now,
                 generation_then=gen, name="access-to-reused-page")
    return now


INT_MAX = 2**31 - 1
"""page->_count is an atomic_t: past INT_MAX it wraps negative, and a later
put frees a page still in use (the 2019 overflow: commit 8fde12ca79af)."""


def _no_wrap(k, pfn, old, refs):
    yield Assert(old + refs <= INT_MAX, "page refcount overflow: the count wraps past "
                 "INT_MAX", page=pfn, count_before=old, added=refs, name="refcount-wrap")


def get_page(k, pfn):
    """get_page() on a non-tail page: VM_BUG_ON(count <= 0); atomic_inc.

    MODEL: the VM_BUG_ON is evaluated on the value the atomic increment
    found (one access instead of a read then an increment), which reports the
    same "reference on a free page" bug without an extra interleaving point."""
    old = yield Rmw(k.count(pfn), "add", 1, order="once")
    yield Assert(old > 0, "get_page() on a free page (VM_BUG_ON(page_count(page) <= 0))",
                 page=pfn, count_before=old, name="get_page-on-free-page")
    yield from _no_wrap(k, pfn, old, 1)


def get_page_unless_zero(k, pfn, refs: int = 1):
    """atomic_add_unless(&page->_count, refs, 0) != 0 (fully ordered); every
    caller tests it (a control dependency)."""
    old = yield Rmw(k.count(pfn), "add_unless", refs, expected=0, order="mb",
                    reg="get_page_unless_zero")
    yield Branch("get_page_unless_zero")
    yield from _no_wrap(k, pfn, old, refs)
    return old != 0


def page_cache_get_speculative(k, pfn):
    """include/linux/pagemap.h (SMP): get_page_unless_zero().

    MODEL: the VM_BUG_ON(PageTail(page)) is not evaluated (a pte never maps a
    tail page before 2016, and the 2013 walkers only call this on ptes)."""
    return (yield from get_page_unless_zero(k, pfn, 1))


def page_cache_add_speculative(k, pfn, refs: int):
    """atomic_add_unless(&page->_count, refs, 0) on a head page."""
    return (yield from get_page_unless_zero(k, pfn, refs))


def get_huge_page_tail(k, pfn):
    """include/linux/mm.h (2011-2016): a GUP pin on a THP tail, in _mapcount.

    The kernel's comment says __split_huge_page_refcount() cannot run from
    under us; its VM_BUG_ON(_count != 0) is what fires when it did."""
    count = yield Load(k.count(pfn))
    yield Assert(count == 0, "get_huge_page_tail() on a page that is no longer a THP "
                 "tail (VM_BUG_ON(atomic_read(&page->_count) != 0)): the split ran "
                 "under the walker", page=pfn, count=count, name="ref-across-split")
    yield Rmw(k.mapcount(pfn), "add", 1, order="once")


def get_head_page_multiple(k, head, nr):
    """arch/x86/mm/gup.c: atomic_add(nr, &head->_count), VM_BUG_ON(count == 0)."""
    old = yield Rmw(k.count(head), "add", nr, order="once")
    yield Assert(old > 0, "get_head_page_multiple() on a free page", page=head,
                 count_before=old, name="get_page-on-free-page")
    yield from _no_wrap(k, head, old, nr)


HEAD = "compound_head"
"""The register compound_head() reads the head link into: what the head
page's accesses after it depend on (``addr=HEAD``)."""


def compound_head(k, pfn):
    """compound_head()/page_folio(): READ_ONCE of the head link, tested for
    the tail bit (a control dependency); the head's address comes from it
    (callers name ``HEAD`` in their accesses' ``addr``)."""
    h = yield Load(k.head(pfn), reg=HEAD)
    yield Branch(HEAD)
    return pfn if h is None else h


def _put_single(k, pfn, refs=1, addr=()):
    """put_page_testzero(): if (atomic_dec_and_test(&page->_count)) free it
    (a control dependency on the decrement's read)."""
    old = yield Rmw(k.count(pfn), "sub", refs, order="mb", reg="put_page_testzero",
                    addr=addr)
    yield Branch("put_page_testzero")
    yield Assert(old >= refs, "page refcount went negative (put_page() without a "
                 "reference)", page=pfn, count_before=old, put=refs, name="refcount-non-negative")
    if old == refs:
        yield from free_page(k, pfn, addr)


def compound_lock(k, head, addr=()):
    """compound_lock(): bit_spin_lock(PG_compound_lock, &page->flags) with IRQs
    saved (include/linux/mm.h, 2.6.38-4.4); returns the IRQ state.
    MODEL: the lock bit is a cell of its own, and the lock is one acquire RMW
    that waits until the bit is clear (``Rmw(cell, "bit_spin_lock")``):
    test_and_set_bit_lock() retried while the bit reads set."""
    was_on = yield IrqDisable()
    yield Rmw(k.compound_lock(head), "bit_spin_lock", reg="compound_lock", addr=addr)
    return was_on


def compound_unlock(k, head, was_on, addr=()):
    yield Store(k.compound_lock(head), 0, order="release", addr=addr)
    if was_on:
        yield IrqEnable()


def put_page(k, pfn, addr=()):
    """put_page(): mm/swap.c. Tail pages (pre-2016) via put_compound_page().

    From 2016 every reference is on the head: folio_put(page_folio(page)).
    ``addr``: the registers the page's address came from (the pte it was
    found through); the head page is found through the head link (``HEAD``)."""
    head = yield Load(k.head(pfn), reg=HEAD, addr=addr)
    yield Branch(HEAD)                   # if (unlikely(PageTail(page)))
    if head is None:
        yield from _put_single(k, pfn, addr=addr)
        return
    if not k.design.thp_refcount_2013:
        yield from _put_single(k, head, addr=HEAD)
        return
    # put_compound_page(), THP tail branch. (1) lock the head, then (2) recheck
    # PageTail: the split clears it under the same lock, after which the pin
    # has been moved to the tail's own _count.
    # Pairs with: thp.__split_huge_page_refcount().
    # MODEL: the temporary get_page_unless_zero(page_head) is not modelled.
    was_on = yield from compound_lock(k, head, addr=HEAD)
    still = yield Load(k.head(pfn), reg="PageTail", addr=addr)
    yield Branch("PageTail")
    if still is None:
        yield from compound_unlock(k, head, was_on, addr=HEAD)
        yield from _put_single(k, pfn, addr=addr)
        return
    old = yield Rmw(k.mapcount(pfn), "sub", 1, order="once", addr=addr)
    yield Assert(old >= 0, "put_page() on a tail page without a GUP pin "
                 "(VM_BUG_ON(page_mapcount(page) <= 0))", page=pfn, mapcount_before=old, name="ref-across-split")
    yield from compound_unlock(k, head, was_on, addr=HEAD)
    yield from _put_single(k, head, addr=HEAD)


def folio_put_refs(k, folio, refs, addr=()):
    """folio_put_refs(); ``addr``: where the folio's address came from."""
    yield from _put_single(k, folio, refs, addr)


def page_ref_freeze(k, pfn, count):
    """page_ref_freeze() / page_freeze_refs() (2008): cmpxchg(count -> 0);
    every caller tests it (a control dependency)."""
    old = yield Rmw(k.count(pfn), "cmpxchg", 0, expected=count, order="mb",
                    reg="page_ref_freeze")
    yield Branch("page_ref_freeze")
    return old == count


def page_ref_unfreeze(k, pfn, count):
    """page_ref_unfreeze(): atomic_set_release(count)."""
    yield Store(k.count(pfn), count, order="release")


__all__ = ["HEAD", "alloc_page", "FREE_LIST", "check_page_owner", "PAGE_POISON", "FOLL_GET", "FOLL_PIN", "FOLL_WRITE", "GUP_PIN_COUNTING_BIAS", "free_page",
           "get_page", "get_page_unless_zero", "page_cache_get_speculative",
           "page_cache_add_speculative", "get_huge_page_tail", "get_head_page_multiple",
           "compound_head", "put_page", "folio_put_refs", "compound_lock",
           "compound_unlock", "page_ref_freeze", "page_ref_unfreeze"]
