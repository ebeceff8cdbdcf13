"""The kernel state as a trace viewer shows it: plain JSON, read from memory.

``snapshot(k, mem)`` is the ``Program.snapshot`` hook of every kernel
program. The checker calls it after each step of a recorded execution (the
reported counterexample, a replay); the HTML viewer draws it. It decodes, at
that moment of the execution:

* the page-table tree of each mm, pgd first: every table with its entries
  decoded in kernel terms (``pfn 5 [present user write huge]``), the table
  each entry points to, and whether the table page was freed (its entries
  hold the poison a freed page-table page gets, pagetable.POISON);
* each ``struct page`` of a data frame: its counter (``_count`` before
  2016, ``_refcount`` after), ``_mapcount``, compound head, mapping, the
  page flags the model keeps, and whether the frame is on the free list;
* each CPU's TLB cells (cpu.tlb_declare) and its IPI request counters
  (sent, acknowledged: the difference is the IPIs still pending).

MODEL: a split-entry arch (x86-PAE) shows each entry as its two halves
joined, the way a walker that read both halves would see it.
"""

from __future__ import annotations

from typing import Any

from .pagetable import POISON, join_halves

def _entry(k, t, i, mem):
    if t.halves == 1:
        return mem.get(t.cell(i))
    return join_halves(mem.get(t.cell(i) + ".lo"), mem.get(t.cell(i) + ".hi"))


def _table(k, t, mem) -> dict[str, Any]:
    entries, freed = [], True
    for i in range(t.nentries):
        v = _entry(k, t, i, mem)
        freed = freed and v == POISON
        e: dict[str, Any] = {"index": i, "text": k.enc.describe(v)}
        if isinstance(v, int) and v and t.level != "pte" and not k.enc.pmd_huge(v):
            target = k.tables.get(k.enc.pfn(v))
            if target is not None:
                e["table"] = f"{target.level}{target.pfn}"
        entries.append(e)
    return {"name": f"{t.level}{t.pfn}", "mm": t.mm, "level": t.level, "pfn": t.pfn,
            "freed": freed, "entries": entries}


def _flags(k, pfn: int, mem) -> list[str]:
    flags = []
    if pfn in k.large_folios:
        flags.append("PageHead")
    if mem.get(k.head(pfn)) is not None:
        flags.append("PageTail")
    mapping = mem.get(k.mapping(pfn))
    if mapping == "anon":
        flags.append("PageAnon")
    elif mapping:
        flags.append(f"mapping={mapping}")
    if mem.get(k.anon_exclusive(pfn)):
        flags.append("PageAnonExclusive")
    if mem.get(k.compound_lock(pfn)):
        flags.append("compound_lock held")
    gen = mem.get(k.alloc_gen(pfn))
    if isinstance(gen, int) and gen % 2 == 0:
        flags.append("free")
    return flags


def _page(k, pfn: int, mem) -> dict[str, Any]:
    return {"pfn": pfn, "counter": k.COUNT, "refcount": mem.get(k.count(pfn)),
            "mapcount": mem.get(k.mapcount(pfn)), "compound_head": mem.get(k.head(pfn)),
            "pincount": mem.get(f"page[{pfn}]._pincount"),
            "flags": _flags(k, pfn, mem)}


def _tlb(k, mem) -> dict[str, list]:
    out = {}
    for cpu in range(k.nr_cpus):
        rows = []
        for mm, addr in k.tlb.get(cpu, ()):
            v = mem.get(k.tlb_cell(cpu, mm, addr))
            if isinstance(v, (tuple, list)) and len(v) >= 2:
                shown = f"pfn {v[0]} {'rw' if v[1] else 'ro'}"
            else:
                shown = "invalid" if v is None else f"invalidated ({v})"
            rows.append({"mm": mm, "addr": f"{addr:#x}", "entry": shown})
        out[f"cpu{cpu}"] = rows
    return out


def _ipis(k, mem) -> dict[str, dict]:
    out = {}
    for cpu in range(k.nr_cpus):
        sent, done = mem.get(f"cpu{cpu}.ipi_sent"), mem.get(f"cpu{cpu}.ipi_done")
        if sent is None:
            continue
        out[f"cpu{cpu}"] = {"sent": sent, "acked": done,
                            "pending": max(0, sent - done) if isinstance(done, int) else sent}
    return out


def snapshot(k, mem) -> dict[str, Any]:
    """JSON-able view of ``k``'s state in memory ``mem`` (see the module doc)."""
    tables = [_table(k, k.tables[pfn], mem) for pfn in sorted(k.tables)]
    roots = {f"mm{mm.id}": f"{mm.pgd.level}{mm.pgd.pfn}" for mm in k.mms}
    pages = [_page(k, p, mem) for p in k.data_pages()]
    return {"arch": k.arch.name, "design": k.design.name, "roots": roots,
            "tables": tables, "pages": pages, "tlb": _tlb(k, mem), "ipis": _ipis(k, mem)}


__all__ = ["snapshot"]
