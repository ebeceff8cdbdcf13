"""The kernel's state snapshot (what the state panel draws) and the execution
graph relations and DOT text."""

from __future__ import annotations

from conftest import graph_result

from gupsim.kernel import Kernel, snapshot
from gupsim.kernel.pagetable import POISON
from gupsim.report.dot import from_trace, relations, to_dot


def small_kernel():
    k = Kernel("x86-64", "x86-2008", cpus=2)
    mm = k.new_mm()
    k.add_vma(mm, 0x0, 0x2000)
    pfn = k.map_page(mm, 0x0)
    return k, mm, pfn


def test_snapshot_tree_pages_and_freed_tables():
    k, mm, pfn = small_kernel()
    snap = snapshot(k, k.memory)
    tables = {t["name"]: t for t in snap["tables"]}
    root = tables[snap["roots"]["mm0"]]
    assert root["level"] == "pgd"
    chain, t = [], root
    while True:
        chain.append(t["level"])
        nxt = [e["table"] for e in t["entries"] if "table" in e]
        if not nxt:
            break
        t = tables[nxt[0]]
    assert chain == ["pgd", "pud", "pmd", "pte"]
    assert t["entries"][0]["text"].startswith(f"pfn {pfn} [present")
    page = next(p for p in snap["pages"] if p["pfn"] == pfn)
    assert (page["refcount"], page["mapcount"]) == (1, 0) and "PageAnon" in page["flags"]
    mem = dict(k.memory)
    ptes, _ = k.pte_slot(mm, 0x0, create=False)
    for cell in ptes.all_cells():
        mem[cell] = POISON
    freed = {t["name"]: t for t in snapshot(k, mem)["tables"]}
    assert freed[f"pte{ptes.pfn}"]["freed"] and not freed[root["name"]]["freed"]


def test_relations_of_a_hand_made_graph():
    g = graph_result({"trace": []})["graph"]
    rel = set(relations(g))
    assert {(2, 3, "po"), (4, 5, "po"), (3, 4, "rf"), (0, 5, "rf"), (0, 2, "co"),
            (1, 3, "co"), (5, 2, "fr"), (2, 3, "ppo")} == rel


def test_graph_from_an_interleaved_trace(seed_result):
    g = from_trace(seed_result["trace"])
    accesses = [e for e in seed_result["trace"] if e["kind"] not in ("note", "flush")]
    assert len(g["events"]) == len(accesses)
    for r, w in g["rf"]:                 # each rf edge: same cell, value read = value written
        assert g["events"][r]["cell"] == g["events"][w]["cell"]
        assert g["events"][r]["value"] == g["events"][w]["value"] or \
            g["events"][r]["kind"] == "RMW"


def test_dot_text():
    text = to_dot(graph_result({"trace": []})["graph"], 'mp "quoted"')
    assert text.startswith('digraph "mp \\"quoted\\"" {')
    assert 'e5 -> e2 [label="fr"' in text and 'e2 -> e3 [label="ppo"' in text
    assert "subgraph cluster_init" in text and text.rstrip().endswith("}")
