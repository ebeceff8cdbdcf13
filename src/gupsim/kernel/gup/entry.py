"""GUP entry points: get_user_pages_fast, __get_user_pages_fast, pin_user_pages_fast,
and the release side (put_page / unpin_user_page).

get_user_pages_fast() follows the seed patch (and arch/x86/mm/gup.c): walk
with IRQs off; on a short walk, fall back to get_user_pages() under mmap_sem
for the rest, and be careful with return values: pages already pinned by the
fast walk are never lost to a slow-path error (``nr`` wins over ``-errno``).

__get_user_pages_fast() is the IRQ-safe variant: it may be called with IRQs
disabled (futex, perf), saves and restores the IRQ state, never falls back,
and returns how many pages it pinned (possibly 0).

The weak default (mm/util.c, ARM before 2014): __get_user_pages_fast returns
0 and get_user_pages_fast is get_user_pages under mmap_sem.
"""

from __future__ import annotations

from ...ops import Note
from ..mm import down_read, up_read
from ..page import FOLL_GET, FOLL_PIN, HEAD, compound_head, put_page
from ..pagetable import PAGE_SIZE
from .fast import Walk, gup_fast, gup_put_folio
from .slow import get_user_pages


class Pages(list):
    """pages[]: the caller's array a GUP call fills, as a list of pfns, plus
    per page the registers of the entry the walker found it through
    (``regs``). The walker stores the pointer and the caller loads it, so
    the caller's accesses through ``pages[j]`` carry an address dependency on
    that entry's read: ``addr=pages.regs_of(j)``, until the thread's next
    read into those registers (its next GUP call). MODEL: a register names
    its latest read only, so of the pages found through successive ptes only
    the last names its pte (Walk.found): the others' accesses name none and
    may be reordered more than in the kernel, never less. Pages from the
    slow path name none either (get_user_pages() finds them under the pte
    lock). A plain list works too; accesses through it name no read of the
    walk."""

    def __init__(self, *args):
        super().__init__(*args)
        self.regs: list[tuple[str, ...]] = [() for _ in self]

    def append(self, pfn) -> None:
        self.add([pfn])

    def extend(self, pfns) -> None:
        self.add(list(pfns))

    def add(self, pfns, regs=None) -> None:
        """``pfns``, each found through the entry read into ``regs[i]``
        (None: through none the caller can name)."""
        super().extend(pfns)
        self.regs.extend(regs if regs is not None else [()] * len(pfns))

    def regs_of(self, j: int) -> tuple[str, ...]:
        return self.regs[j]


def _give(pages, w) -> None:
    """The walk's pages into the caller's array, with their registers when it
    is a ``Pages``."""
    if isinstance(pages, Pages):
        pages.add(w.pages, w.page_regs)
    else:
        pages.extend(w.pages)


def _slow(k, t, start, nr_pages, write, pages, flags):
    yield from down_read(t.mm.mmap_sem)
    ret = yield from get_user_pages(k, t, start, nr_pages, write, pages, flags)
    yield from up_read(t.mm.mmap_sem)
    return ret


def _gup_fast_fallback(k, t, start, nr_pages, write, pages, flags):
    start &= ~(PAGE_SIZE - 1)
    end = start + nr_pages * PAGE_SIZE
    if nr_pages <= 0:
        return 0
    if k.design.walker is None:
        return (yield from _slow(k, t, start, nr_pages, write, pages, flags))
    w = Walk(write, flags)
    nr = yield from gup_fast(k, t.mm, w, start, end)
    _give(pages, w)
    if nr == nr_pages:
        return nr
    # slow: try to get the remaining pages with get_user_pages
    ret = yield from _slow(k, t, start + nr * PAGE_SIZE, nr_pages - nr, write, pages, flags)
    # "Have to be a bit careful with return values"
    if nr > 0:
        ret = nr if ret < 0 else ret + nr
    return ret


def get_user_pages_fast(k, t, start, nr_pages, write, pages):
    """Pin (FOLL_GET) ``nr_pages`` from ``start`` into ``pages``; returns the count
    pinned (a prefix) or -errno if none."""
    return (yield from _gup_fast_fallback(k, t, start, nr_pages, write, pages, FOLL_GET))


def pin_user_pages_fast(k, t, start, nr_pages, write, pages):
    """FOLL_PIN variant (2020+); designs before the folio walker treat it as a get."""
    flags = FOLL_PIN if k.design.walker == "folio" else FOLL_GET
    return (yield from _gup_fast_fallback(k, t, start, nr_pages, write, pages, flags))


def __get_user_pages_fast(k, t, start, nr_pages, write, pages):
    """IRQ-safe, no fallback. 0 for the weak default."""
    if k.design.walker is None:
        yield Note("__get_user_pages_fast: the weak default (mm/util.c) pins nothing, "
                   "returns 0")
        return 0
    if nr_pages <= 0:
        return 0
    start &= ~(PAGE_SIZE - 1)
    w = Walk(write, FOLL_GET)
    nr = yield from gup_fast(k, t.mm, w, start, start + nr_pages * PAGE_SIZE)
    _give(pages, w)
    return nr


def put_user_pages(k, pages):
    """put_page() on each page a FOLL_GET call returned. MODEL: the pages
    come back in ``pages`` (a Python list; the caller's array in the kernel),
    so their accesses name no read of the walk."""
    for pfn in pages:
        yield from put_page(k, pfn)


def unpin_user_pages(k, pages):
    """unpin_user_page() on each page: gup_put_folio(page_folio(page), 1, FOLL_PIN)."""
    if k.design.walker != "folio":
        yield from put_user_pages(k, pages)
        return
    for pfn in pages:
        folio = yield from compound_head(k, pfn)
        yield from gup_put_folio(k, folio, 1, FOLL_PIN, addr=HEAD)


__all__ = ["Pages", "get_user_pages_fast", "__get_user_pages_fast", "pin_user_pages_fast",
           "put_user_pages", "unpin_user_pages"]
