"""get_futex_key(): kernel/futex.c, 2013 (THP tail path) and after the 2016 rework.

2013 (v3.x): a private futex key needs the page; on a THP tail the code wants
the head, and must pin it before enabling IRQs again because "the moment we
re-enable irqs __split_huge_page_splitting() can return and the head page can
be freed from under us":

    again:
        get_user_pages_fast(address, 1, 1, &page)
        if PageTail(page):
            put_page(page)
            local_irq_disable()             /* serialize against splitting */
            if __get_user_pages_fast(address, 1, !ro, &page) == 1:
                page_head = compound_head(page); get_page(page_head); put_page(page)
                local_irq_enable()
            else:
                local_irq_enable(); goto again

With the weak __get_user_pages_fast() that returns 0 (ARM before 2014) the
loop never ends: the forever loop the seed patch set out to fix. After the
2016 THP refcount rework a reference on a tail is a reference on the head,
and the tail special case is gone.

MODEL: private anonymous futexes only (key = (mm, address)); lock_page and
the mapping checks are not modelled; ``max_retries`` (None = unbounded)
turns "retried N times" into a violation, a bounded stand-in for livelock
detection when the retry loop writes (get/put) on every iteration.
"""

from __future__ import annotations

from ..ops import Assert, Branch, IrqDisable, IrqEnable, Load, Note, SpinHint
from .gup.entry import __get_user_pages_fast, get_user_pages_fast
from .mm import EFAULT
from .page import compound_head, get_page, put_page


def get_futex_key(k, t, uaddr, write=True, max_retries=None):
    """Returns ("private", mm id, address) or -errno."""
    retries = 0
    while True:
        yield SpinHint("get_futex_key: again")
        if max_retries is not None:
            yield Assert(retries <= max_retries, "get_futex_key() keeps going back to "
                         "'again': no progress (the __get_user_pages_fast() forever loop)",
                         retries=retries, design=k.design.name, name="progress")
            if retries > max_retries:
                return -EFAULT
        retries += 1
        pages = []
        err = yield from get_user_pages_fast(k, t, uaddr, 1, 1, pages)
        ro = False
        if err == -EFAULT and not write:
            pages = []
            err = yield from get_user_pages_fast(k, t, uaddr, 1, 0, pages)
            ro = True
        if err < 0:
            return err
        page = pages[0]
        if k.design.thp_refcount_2013:
            # MODEL: the page comes back through pages[] (a Python list), so
            # its accesses do not name the walk's pte read.
            is_tail = (yield Load(k.head(page), reg="PageTail")) is not None
            yield Branch("PageTail")
            if is_tail:
                yield from put_page(k, page)
                # (1) IRQs off, then (2) pin the tail again and take the head
                # reference before IRQs come back on: the split cannot finish
                # moving the tail pins in between.
                # Pairs with: thp.pmdp_splitting_flush (its IPI waits for us).
                yield IrqDisable()
                again = []
                n = yield from __get_user_pages_fast(k, t, uaddr, 1, not ro, again)
                if n != 1:
                    yield IrqEnable()
                    continue
                page = again[0]
                page_head = yield from compound_head(k, page)
                if page != page_head:
                    yield from get_page(k, page_head)
                    yield from put_page(k, page)
                yield IrqEnable()
            else:
                page_head = page
        else:
            page_head = yield from compound_head(k, page)
            if page != page_head:
                yield from get_page(k, page_head)
                yield from put_page(k, page)
        yield Note(f"get_futex_key: page_head {page_head}")
        # lock_page(page_head); PageAnon -> private key; unlock_page(page_head)
        yield from put_page(k, page_head)
        return ("private", t.mm.id, uaddr)


__all__ = ["get_futex_key"]
