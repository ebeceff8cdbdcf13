"""Cat models against the checker's own litmus tables.

For each straight-line litmus program of ``gupsim.programs.litmus`` every
candidate execution is enumerated (each load reads from the initial value or
any store to its cell, each cell's stores in any coherence order), judged by
an SC and an x86-TSO model written in cat here, and the outcomes of the
consistent ones must be exactly the table's ``allowed`` set, which the
operational SC and TSO memory models are validated against. Under LKMM the
``exists`` outcome must be allowed exactly when the kernel test's ``Result:``
is Sometimes.
"""

from __future__ import annotations

from itertools import permutations, product

import pytest

from gupsim.check.cat import load_model
from gupsim.check.execgraph import build
from gupsim.ops import LKMM_ACCESS_TAG, LKMM_FENCE_TAG, Fence, Load, Store
from gupsim.programs.litmus import LITMUS

SC = '"SC"\nacyclic po | rf | co | fr as sc\n'
TSO = '''"x86-TSO"
include "cos.cat"
enum Fences = 'MB
acyclic po-loc | rf | co | fr as sc-per-location
let mfence = [M] ; fencerel(MB) ; [M]
let ppo = po & ((R * M) | (W * W))
acyclic ppo | mfence | rfe | co | fr as tso
'''
# Result: lines of the kernel's tests of the same shape (../shared/litmus/README.md).
KERNEL_RESULT = {"SB": "Sometimes", "SB+mb": "Never", "MP": "Sometimes",
                 "MP+wmb+rmb": "Never", "LB": "Sometimes", "IRIW": "Sometimes",
                 "CoRR": "Never"}


def ops_of(litmus):
    """Each thread's ops, driving it with 0 for every load (straight-line code)."""
    out = []
    for spec in litmus().threads:
        gen, ops, value = spec.body, [], None
        try:
            while True:
                op = gen.send(value)
                ops.append(op)
                value = 0 if isinstance(op, Load) else None
        except StopIteration:
            out.append(ops)
    return out


def run_with(litmus, reads):
    """The threads' results when their loads return ``reads`` (per thread, in order)."""
    results = {}
    for spec, values in zip(litmus().threads, reads):
        gen, it, value = spec.body, iter(values), None
        try:
            while True:
                op = gen.send(value)
                value = next(it) if isinstance(op, Load) else None
        except StopIteration as stop:
            results[spec.name] = stop.value
    return results


def candidates(litmus):
    """(graph, outcome) for every candidate execution."""
    threads = ops_of(litmus)
    init = litmus().memory
    stores = [(t, i, op) for t, ops in enumerate(threads) for i, op in enumerate(ops)
              if isinstance(op, Store)]
    loads = [(t, i, op) for t, ops in enumerate(threads) for i, op in enumerate(ops)
             if isinstance(op, Load)]
    sources = [["init"] + [(t, i) for t, i, s in stores if s.cell == op.cell]
               for _, _, op in loads]
    cells = sorted({s.cell for _, _, s in stores})
    orders = [list(permutations([(t, i) for t, i, s in stores if s.cell == c])) for c in cells]
    for rf in product(*sources):
        for co in product(*orders):
            yield _graph(litmus, threads, init, loads, rf, co)


def _graph(litmus, threads, init, loads, rf, co):
    pos = {w: k for order in co for k, w in enumerate(order)}
    src = {(t, i): r for (t, i, _), r in zip(loads, rf)}
    value = {(t, i): op.value for t, ops in enumerate(threads) for i, op in enumerate(ops)
             if isinstance(op, Store)}
    events, reads = [], []
    for t, ops in enumerate(threads):
        row, got = [], []
        for i, op in enumerate(ops):
            if isinstance(op, Load):
                v = init[op.cell] if src[(t, i)] == "init" else value[src[(t, i)]]
                got.append(v)
                row.append(dict(kind="R", cell=op.cell, value=v, rf=src[(t, i)],
                                tags={LKMM_ACCESS_TAG[op.order]}))
            elif isinstance(op, Store):
                row.append(dict(kind="W", cell=op.cell, value=op.value, co=pos[(t, i)],
                                tags={LKMM_ACCESS_TAG[op.order]}))
            elif isinstance(op, Fence):
                row.append(dict(kind="F", tags={LKMM_FENCE_TAG[op.kind]}))
        events.append(row)
        reads.append(got)
    g = build(init, events)
    final = {c: g.events[ws[-1]].value for c, ws in g.co.items()}
    return g, litmus.outcome(final, run_with(litmus, reads))


def allowed(model, litmus) -> frozenset:
    return frozenset(out for g, out in candidates(litmus) if model.check(g).consistent)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    (d / "sc.cat").write_text(SC)
    (d / "tso.cat").write_text(TSO)
    return {"sc": load_model(d / "sc.cat"), "tso": load_model(d / "tso.cat")}


@pytest.mark.parametrize("name", sorted(LITMUS))
@pytest.mark.parametrize("memory_model", ["sc", "tso"])
def test_outcomes_match_the_operational_model_tables(models, name, memory_model):
    litmus = LITMUS[name]
    assert allowed(models[memory_model], litmus) == litmus.allowed[memory_model]


@pytest.mark.parametrize("name", sorted(KERNEL_RESULT))
def test_lkmm_allows_the_exists_outcome_as_the_kernel_test_says(lkmm, name):
    litmus = LITMUS[name]
    outcomes = allowed(lkmm, litmus)
    assert (litmus.exists in outcomes) == (KERNEL_RESULT[name] == "Sometimes")
    assert litmus.allowed["sc"] <= outcomes        # LKMM is weaker than SC
