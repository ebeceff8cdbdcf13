"""gupsim.kernel: an executable model of Linux's lockless GUP-fast and the mm
machinery that races with it, written on the op vocabulary (gupsim.ops).

Layout (each module's docstring names the kernel file, era and protection
scheme it models):

* ``arch/``        architectures: capabilities (IPI or broadcast TLB flush, RCU
                   table freeing, pte_special, levels, entry halves, memory model
                   name) -- ``ARCHES``, ``get_arch``
* ``pagetable``    shrunk geometry, per-arch entry encodings, ``*_offset``, entry
                   reads and writes (split halves on x86 PAE)
* ``core``         ``Kernel``: one booted world; setup helpers; ``program()``
* ``page``         struct page refcounting (pre-2016 tail pins, folio era) and
                   the page allocator, which reuses freed frames
* ``mm``           mmap_sem, page_table_lock, ``Task`` (current)
* ``cpu``/``tlb``  per-CPU TLBs, flush by IPI or broadcast, mmu_gather
* ``rcu``          RCU-sched grace periods, call_rcu_sched
* ``user``         user loads and stores through the TLB or a hardware walk
* ``fault``        handle_mm_fault: anonymous, file, write-protect (COW/reuse)
* ``fork``         dup_mmap/copy_page_range, write_protect_seq, early COW
* ``filemap``      the page cache (lockless find_get_page)
* ``madvise``      MADV_DONTNEED; ``mprotect``: change_protection
* ``mmops``        munmap, reclaim, do_fault
* ``migrate``      migrate_pages with migration entries and refcount freeze
* ``thp``          THP split, 2013 (splitting pmd) and 2016 (refcount freeze)
* ``khugepaged``   collapse_huge_page; ``hugetlb``: hugetlbfs mappings
* ``gup/``         designs, the one lockless walker, slow path, entry points
* ``futex``        get_futex_key (2013 THP-tail loop, post-2016)
* ``invariants``   the named properties (most are Asserts at the access)
* ``variant``      ``override``: any kernel function swapped for a variant

A design is a set of named protections; derive your own in a line::

    from gupsim.kernel import Kernel, get_design
    d = get_design("generic-rcu-2014").without("split:ipi")   # ablate one
    k = Kernel(arch="arm64", design=d, cpus=2)

    from dataclasses import replace
    mine = replace(get_design("arm-rfc-2013"), name="arm-rfc+rcu",
                   protections=get_design("arm-rfc-2013").protections
                   + ("table:rcu-free", "walker:speculative-ref",
                      "walker:recheck-pte"))

Any function of the model can be swapped for a variant for the length of a
``with`` block (``variant.override``)::

    with override(page.get_page_unless_zero, my_version):
        res = check(factory, CheckConfig(strategy="dpor"))

Threads are generators over a ``Kernel`` and a ``Task``::

    k = Kernel("x86-64", "x86-2008", cpus=2)
    mm = k.new_mm(); k.add_vma(mm, 0x0, 0x2000); k.map_page(mm, 0x0)
    t0, t1 = k.task(0, mm), k.task(1, mm)
    prog = k.program([ThreadSpec("gup", gup_thread(k, t0), cpu=0),
                      ThreadSpec("munmap", munmap(k, t1, 0x0, 0x2000), cpu=1)],
                     [refcount_balanced(k)])
"""

from .arch import ARCHES, Arch, get_arch
from .core import Kernel, MmStruct, Vma, snapshot
from .gup.designs import DESIGNS, PROTECTIONS, Design, get_design
from .mm import Task
from .variant import original, override

__all__ = ["ARCHES", "Arch", "get_arch", "Kernel", "MmStruct", "Vma", "snapshot",
           "DESIGNS", "PROTECTIONS", "Design", "get_design", "Task", "override",
           "original"]
