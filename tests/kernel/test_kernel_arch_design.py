"""Arch registry, geometry, entry encodings and the design registry (no exploration)."""

from dataclasses import replace

import pytest

from gupsim.errors import UnknownName
from gupsim.kernel import ARCHES, DESIGNS, PROTECTIONS, Kernel, get_arch, get_design
from gupsim.kernel.pagetable import POISON, Encoding, Geometry


def test_arch_registry_and_capabilities():
    assert set(ARCHES) == {"x86-64", "x86-pae", "arm", "arm-lpae", "arm64", "powerpc"}
    assert get_arch("x86-64").tlb_flush_ipi and get_arch("x86-64").memory_model == "tso"
    assert not get_arch("arm64").tlb_flush_ipi
    assert get_arch("powerpc").rcu_table_free and not get_arch("arm-lpae").rcu_table_free
    assert get_arch("x86-pae").entry_halves == 2 and get_arch("x86-pae").levels == 3
    assert get_arch("arm").levels == 2 and not get_arch("arm").has_thp
    with pytest.raises(UnknownName, match="arm64"):
        get_arch("arm65")


def test_assumption_violations_name_the_seed_thread_problems():
    arm64, x86 = get_arch("arm64"), get_arch("x86-64")
    rfc = get_design("arm-rfc-2013")
    problems = arm64.assumption_violations(rfc)
    assert len(problems) == 2 and "page-table page is freed" in problems[0]
    assert "split" in problems[1]
    assert x86.assumption_violations(get_design("x86-2008")) == []
    assert arm64.assumption_violations(get_design("generic-rcu-2014")) == []
    assert arm64.assumption_violations(get_design("readers-counter-2013")) == [problems[0]]


@pytest.mark.parametrize("levels,shifts", [
    (4, {"pte": 12, "pmd": 13, "pud": 14, "pgd": 15}),
    (3, {"pte": 12, "pmd": 13, "pud": 14, "pgd": 14}),   # pud folded into pgd
    (2, {"pte": 12, "pmd": 13, "pud": 13, "pgd": 13}),   # pud and pmd folded
])
def test_geometry_shifts_and_folding(levels, shifts):
    g = Geometry(levels, 2)
    assert {lvl: g.shift(lvl) for lvl in shifts} == shifts
    # a folded level's *_addr_end is the end itself, like pgtable-nop*d.h
    for lvl in ("pud", "pmd"):
        if g.folded(lvl):
            assert g.addr_end(lvl, 0x1000, 0x3000) == 0x3000
    assert g.addr_end("pte" if levels == 2 else "pmd", 0x1000, 0x8000) == 0x2000


def test_encodings_roundtrip_and_arm_readonly_bit():
    for name, arch in ARCHES.items():
        enc = Encoding(arch)
        pte = enc.mk_pte(5, write=True)
        assert enc.pte_pfn(pte) == 5 and enc.pte_present_user(pte) and enc.pte_write(pte)
        ro = enc.mk_pte(5, write=False)
        assert not enc.pte_write(ro) and enc.pte_present(ro), name
        pmd = enc.mk_huge_pmd(9)
        assert enc.pmd_huge(pmd) and not enc.pmd_trans_splitting(pmd)
        assert enc.pmd_trans_splitting(enc.pmd_mksplitting(pmd))
        assert enc.pmd_pfn(enc.pmd_mksplitting(pmd)) == 9
        assert not enc.pmd_present(enc.pmd_mknotpresent(pmd)) or arch.name == "?"
    lpae = Encoding(get_arch("arm-lpae"))
    # ARM stores L_PTE_RDONLY: a writable pte has the bit clear
    assert lpae.mk_pte(1, write=True) & (1 << 7) == 0
    assert lpae.mk_pte(1, write=False) & (1 << 7)
    assert Encoding(get_arch("x86-64")).describe(POISON) == POISON


def test_design_registry_and_ablation_hook():
    assert set(DESIGNS) == {"x86-2008", "arm-rfc-2013", "powerpc-2008", "generic-rcu-2014",
                            "readers-counter-2013", "modern", "weak-default"}
    g = get_design("generic-rcu-2014")
    assert g.enabled("split:ipi") and g.enabled("walker:recheck-pte")
    a = g.without("split:ipi")
    assert not a.enabled("split:ipi") and a.removed == ("split:ipi",)
    assert set(a.protections) == set(g.protections) - {"split:ipi"}
    with pytest.raises(UnknownName):
        g.without("split:ipo")
    with pytest.raises(UnknownName):
        g.enabled("no-such-protection")
    rc = get_design("readers-counter-2013")
    for p in ("reader:smp_mb__after_atomic", "reader:smp_mb__before_atomic",
              "splitter:smp_mb", "splitter:wait-readers", "walker:irqs-off"):
        assert rc.enabled(p)
    assert set(PROTECTIONS) >= {p for d in DESIGNS.values() for p in d.protections}
    mine = replace(get_design("arm-rfc-2013"), name="rfc+rcu",
                   protections=get_design("arm-rfc-2013").protections + ("table:rcu-free",))
    assert Kernel("arm64", mine).rcu_table_free
    assert not Kernel("arm64", "arm-rfc-2013").rcu_table_free
    assert Kernel("powerpc", "arm-rfc-2013").rcu_table_free       # the arch forces it
    assert not Kernel("powerpc", get_design("powerpc-2008").without("table:rcu-free")).rcu_table_free
    assert Kernel("x86-64", "x86-2008").flush_by_ipi
    assert not Kernel("x86-64", get_design("x86-2008").without("tlb:flush-ipi")).flush_by_ipi


def test_setup_builds_tables_and_counts():
    k = Kernel("x86-64", "x86-2008")
    mm = k.new_mm()
    k.add_vma(mm, 0, 0x2000)
    pfn = k.map_page(mm, 0x1000)
    t, i = k.pte_slot(mm, 0x1000, create=False)
    assert (t.level, i) == ("pte", 1)
    assert k.enc.pte_pfn(k.get_entry(t, i)) == pfn
    assert k.memory[k.count(pfn)] == 1 and k.memory[k.mapcount(pfn)] == 0
    k2 = Kernel("arm64", "modern", ptrs_per_pte=4)
    mm2 = k2.new_mm()
    k2.add_vma(mm2, 0, k2.geo.size("pmd"))
    head = k2.map_thp(mm2, 0)
    assert [k2.memory[k2.head(head + i)] for i in range(4)] == [None, head, head, head]
    assert k2.memory[k2.count(head)] == 1 and k2.COUNT == "_refcount"


def test_derived_design_names_read_back_as_the_design_they_name():
    from gupsim.errors import UnknownName
    base = get_design("arm-rfc-2013")
    d = base.with_("table:rcu-free", "walker:recheck-pte").without("walker:irqs-off")
    assert get_design(d.name) == d
    assert get_design("modern-without-walker:recheck-pte") == \
        get_design("modern").without("walker:recheck-pte")
    for bad in ("modrn-without-walker:irqs-off", "modern-without-walker:bogus",
                "modern+walker:bogus", "modern-"):
        with pytest.raises(UnknownName):
            get_design(bad)


@pytest.mark.parametrize("arch", sorted(ARCHES))
def test_offset_walk_reaches_the_pte_the_setup_wrote(arch):
    from gupsim.kernel.pagetable import (PAGE_SIZE, pgd_offset, pmd_offset, pte_offset_map,
                                         pud_offset)
    k = Kernel(arch, "modern", cpus=1, ptrs_per_pte=4)
    mm = k.new_mm()
    k.add_vma(mm, 0, k.geo.task_size)
    addr = k.geo.task_size - 3 * PAGE_SIZE          # the last pgd entry, a middle pte
    pfn = k.map_page(mm, addr)
    table, i = pgd_offset(k, mm, addr)
    entry = k.get_entry(table, i)
    for level, offset in (("pud", pud_offset), ("pmd", pmd_offset)):
        if not k.geo.folded(level):
            assert k.enc.pmd_present(entry) and not k.enc.pmd_none(entry)
            table, i = offset(k, entry, addr)
            entry = k.get_entry(table, i)
    table, i = pte_offset_map(k, entry, addr)
    assert table.level == "pte" and i == k.geo.index("pte", addr)
    assert k.enc.pte_pfn(k.get_entry(table, i)) == pfn
    assert pte_offset_map(k, k.get_entry(table, i), addr)[0] is None   # a leaf is no table
