"""The kernel model declares the dependencies it decides on.

The weak models see only declared dependencies (``reg=`` then ``Branch``,
``data=``, ``addr=``/``AddrScope``). Where the model decides in Python on a
value it read without declaring it, a weak model may move a later store
before that read: a load-buffering execution no CPU produces (a false
alarm). ``gupsim.check.deps.audit`` finds such places by re-running sampled
executions with one read forced to another value; this test runs it over
every kernel scenario, for every design and arch the matrix checks, and
fails on any finding the allow list below does not explain.

Each allow-list entry is a place where the model's Python decision is not
an ordering the kernel has (or has and the op vocabulary cannot say), with
the reason; the code there carries a ``# MODEL:`` comment.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatch
from functools import lru_cache

import pytest

import gupsim.scenarios  # noqa: F401  (registers the scenarios)
from gupsim.check.deps import audit
from gupsim.errors import ScenarioError, UsageError
from gupsim.kernel import ARCHES, DESIGNS
from gupsim.matrix import known_hazards, not_applicable
from gupsim.spec import SCENARIOS

EXECUTIONS = 10
"""Sampled executions per cell (seeded random walks): at 30 per cell the
audit finds nothing more (nothing the allow list does not explain)."""
VARIANT_EXECUTIONS = 20


GUP_CALLS = ("get_user_pages_fast", "pin_user_pages_fast", "__get_user_pages_fast",
             "get_user_pages")
"""The entry points that hand pages back in ``pages[]``."""


def _after_gup(f) -> bool:
    """The read was made inside a GUP call and the op after that call returned."""
    calls = [s for s in f.stack if s.function in GUP_CALLS]
    return bool(calls) and calls[0] not in f.op_stack


@dataclass(frozen=True)
class Allow:
    kind: str
    read: str           # fnmatch pattern on "file:function" of the read
    op: str             # ... on "file:function" of the op or any of its callers
    reason: str
    read_kind: str | None = None
    after_gup: bool = False     # only for a read in a GUP call, an op after it

    def covers(self, f) -> bool:
        if f.kind != self.kind or (self.read_kind and f.read_kind != self.read_kind):
            return False
        if not fnmatch(f"{f.read.file}:{f.read.function}", self.read):
            return False
        if self.after_gup and not _after_gup(f):
            return False
        sites = [f"{s.file}:{s.function}" for s in f.op_stack] or \
            [f"{f.op.file}:{f.op.function}"]
        return any(fnmatch(s, self.op) for s in sites)


ALLOWED = [
    Allow("addr", "gupsim/kernel/*", "gupsim/scenarios/*",
          "GUP hands the pages back in pages[]: a Python list here, the caller's "
          "array in the kernel (the walker stores the pointer, the caller loads "
          "it). A kernel.gup.Pages names, for a page the fast walk found, the "
          "entry read it came through, and the scenarios' DMA accesses use it; "
          "pages from the slow path, and from an earlier pte than the walk's "
          "last, name none (Walk.found): their accesses may be reordered more "
          "than in the kernel, never less.",
          after_gup=True),
    Allow("addr", "gupsim/kernel/*", "gupsim/kernel/gup/entry.py:put_user_pages",
          "put_user_pages()/unpin_user_pages() take the pages from pages[] (see "
          "above): the put does not name the walk's pte read.", after_gup=True),
    Allow("addr", "gupsim/kernel/*", "gupsim/kernel/tlb.py:tlb_flush_mmu",
          "MODEL: the mmu_gather batch is Python-side (tlb_remove_page()): the put "
          "after the flush does not name the entry the page was found through. The "
          "flush before it (an IPI or a broadcast with dsb) orders it anyway."),
    Allow("addr", "gupsim/kernel/pagetable.py:read_entry",
          "gupsim/kernel/gup/slow.py:_follow_or_fault",
          "MODEL: the write-pin-on-pagecache property's own load of page->mapping "
          "(for its Assert), not a kernel access."),
]


def cells():
    for name in known_hazards():
        for design in DESIGNS:
            for arch in ARCHES:
                if not_applicable(design, arch, name) is None:
                    yield name, design, arch


@lru_cache(maxsize=None)
def _audit(name, design, arch, executions, params=()):
    """One cell's audit (kept: the allow-list test reads the same ones)."""
    report = audit(SCENARIOS[name].factory(arch=arch, design=design, **dict(params)),
                   executions=executions)
    assert report.runs > 0, "the audit forced no read"
    return report


def undeclared(name, design, arch, executions=EXECUTIONS, **params):
    report = _audit(name, design, arch, executions, tuple(sorted(params.items())))
    return [f for f in report.findings if not any(a.covers(f) for a in ALLOWED)]


def _show(findings) -> str:
    lines = []
    for f in findings:
        chain = " < ".join(f"{s.file}:{s.line}" for s in reversed(f.stack[:-1]))
        lines.append(f"{f.describe()}\n    read via {chain}")
    return "\n".join(lines)


def test_every_kernel_scenario_declares_its_dependencies():
    """Every design x arch cell of every kernel scenario, under one budget."""
    bad = {}
    for cell in cells():
        found = undeclared(*cell)
        if found:
            bad[cell] = found
    assert not bad, "undeclared dependencies:\n" + "\n".join(
        f"[{' '.join(c)}]\n{_show(fs)}" for c, fs in bad.items())


VARIANTS = [
    ("gup-vs-munmap", {"pin": True}), ("gup-vs-munmap", {"huge": True}),
    ("gup-vs-munmap", {"fast_only": False}), ("gup-vs-munmap", {"gup_cpus": 2}),
    ("gup-vs-reclaim", {"fast_only": False}), ("gup-vs-thp-split", {"pin": True}),
    ("gup-vs-thp-split", {"fast_only": False}), ("futex-thp-tail", {"split": True}),
    ("gup-vs-fork", {"ordered": True}), ("gup-vs-fork", {"write": False}),
    ("gup-vs-mprotect", {"huge": True}), ("gup-vs-mprotect", {"pin": True}),
    ("gup-vs-collapse", {"pin": True}), ("gup-hugetlb-vs-munmap", {"pin": True}),
    ("user-vs-munmap", {"filled": False}),
]


def _unsupported(cell, params) -> bool:
    """A parameter the cell's arch cannot host (a THP on classic arm)."""
    name, design, arch = cell
    try:
        SCENARIOS[name].factory(arch=arch, design=design, **params)()
    except ScenarioError:
        return True
    except UsageError:
        return True
    return False


@pytest.mark.slow
@pytest.mark.parametrize("name,params", VARIANTS, ids=lambda v: str(v))
def test_scenario_variants_declare_their_dependencies(name, params):
    """The parameters the cells above leave at their defaults, with more
    executions per cell."""
    bad = {}
    known = {p.name for p in SCENARIOS[name].params}
    assert set(params) <= known, (name, params, known)
    for cell in cells():
        if cell[0] != name or _unsupported(cell, params):
            continue
        found = undeclared(*cell, executions=VARIANT_EXECUTIONS, **params)
        if found:
            bad[cell] = found
    assert not bad, "undeclared dependencies:\n" + "\n".join(
        f"[{' '.join(c)}]\n{_show(fs)}" for c, fs in bad.items())


@pytest.mark.slow
def test_the_allow_list_is_needed():
    """Each entry explains at least one finding somewhere (no stale entries):
    the cells first, then the variants, until every entry was used."""
    used = set()
    runs = [(cell, {}) for cell in cells()] + [
        (cell, params) for name, params in VARIANTS for cell in cells()
        if cell[0] == name and not _unsupported(cell, params)]
    for (name, design, arch), params in runs:
        report = _audit(name, design, arch, EXECUTIONS if not params else VARIANT_EXECUTIONS,
                        tuple(sorted(params.items())))
        for f in report.findings:
            used |= {i for i, a in enumerate(ALLOWED) if a.covers(f)}
        if len(used) == len(ALLOWED):
            return
    unused = [ALLOWED[i].reason[:60] for i in range(len(ALLOWED)) if i not in used]
    assert not unused, f"allow-list entries that explain nothing: {unused}"
