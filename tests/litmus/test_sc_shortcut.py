"""``CatModel.consistent`` answers "yes" without running the model when the
graph is an interleaving of ordering-only primitives. That is sound only if
each model allows every such graph: checked here on every candidate
execution (consistent or not) of the kernel's litmus tests and the classic
shapes, under each model, and the shortcut must never decide a graph that
uses a grace period or a read-side critical section. Lock events are
decided too: the oracle covers every locking litmus test, whose lock reads
lock.cat derives from the lock order."""

from __future__ import annotations

from pathlib import Path

import pytest

from gupsim.check.cat import load_model
from gupsim.check.execgraph import build, sequentially_consistent
from gupsim.check.strategies.enum import candidates
from gupsim.litmus import parse_file
from gupsim.litmus.compile import compile_test

from lkmm_files import lkmm_files

CLASSIC = sorted((Path(__file__).parent / "classic").glob("*.litmus"))
FILES = CLASSIC + lkmm_files()
MODELS = ("lkmm", "armv8", "armv7", "power")


def _all_candidates(path):
    return [g for _, g in candidates(compile_test(parse_file(path)).factory, 60)]


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_every_interleaving_the_shortcut_allows_the_model_allows(path):
    graphs = _all_candidates(path)
    assert graphs
    decided = 0
    for name in MODELS:
        model = load_model(name)
        for g in graphs:
            if model.sc_allows(g):
                decided += 1
                out = model.run(g)
                assert out.ok, (name, path.stem, out.failures)
    interleavings = sum(sequentially_consistent(g) for g in graphs)
    assert interleavings > 0          # (every test has its SC executions)
    if not any(t in ev.tags for g in graphs for ev in g.events
               for t in ("rcu-lock", "sync-rcu", "srcu-lock", "sync-srcu")):
        assert decided == interleavings * len(MODELS)


def test_sequentially_consistent_is_the_shasha_snir_test():
    """SB: both reads of 0 is the one non-SC outcome; an RMW that does not read
    its co-predecessor is not atomic."""
    def sb(r0, r1):
        return build({"x": 0, "y": 0}, [
            [dict(kind="W", cell="x", value=1), dict(kind="R", cell="y", value=r0,
                                                     rf="init" if r0 == 0 else (1, 0))],
            [dict(kind="W", cell="y", value=1), dict(kind="R", cell="x", value=r1,
                                                     rf="init" if r1 == 0 else (0, 0))]])
    assert [sequentially_consistent(sb(a, b)) for a, b in ((0, 0), (0, 1), (1, 0), (1, 1))] \
        == [False, True, True, True]

    def inc_pair(first_reads_init, second_reads):
        return build({"x": 0}, [
            [dict(kind="R", cell="x", value=0, rf="init", rmw_op=True),
             dict(kind="W", cell="x", value=1, rmw=True, rmw_op=True, co=0)],
            [dict(kind="R", cell="x", value=0, rf=second_reads, rmw_op=True),
             dict(kind="W", cell="x", value=1, rmw=True, rmw_op=True, co=1)]])
    assert sequentially_consistent(inc_pair(True, (0, 1)))
    assert not sequentially_consistent(inc_pair(True, "init"))   # lost update


def test_the_shortcut_leaves_grace_periods_to_the_model():
    lkmm, armv8 = load_model("lkmm"), load_model("armv8")
    gp = build({"x": 0}, [[dict(kind="F", tags={"sync-rcu"}),
                           dict(kind="W", cell="x", value=1)]])
    assert sequentially_consistent(gp)
    assert not lkmm.sc_allows(gp) and not armv8.sc_allows(gp)
    lock = build({"s": 0}, [[dict(kind="R", cell="s", value=0, tags={"LKR"}, rmw_op=True),
                             dict(kind="W", cell="s", value=1, tags={"LKW"}, rmw=True,
                                  rmw_op=True)]])
    assert lkmm.sc_allows(lock) and armv8.sc_allows(lock)   # (the oracle test above)
    assert lkmm.run(lock).ok


def test_a_model_loaded_from_a_file_is_always_run(tmp_path):
    f = tmp_path / "strict.cat"
    f.write_text('"forbids every write"\nempty W \\ IW as no-writes\n')
    model = load_model(str(f))
    g = build({"x": 0}, [[dict(kind="W", cell="x", value=1)]])
    assert sequentially_consistent(g)
    assert not model.weaker_than_sc
    assert not model.consistent(g) and not model.check(g).consistent


def _without(g, e):
    """``g`` without event ``e``, the last of its thread and read by nobody
    (ids above it move down)."""
    from gupsim.check.execgraph import Event, ExecutionGraph

    def m(i):
        return i - 1 if i > e else i
    events = [Event(m(x.id), x.tid, x.index, x.kind, x.cell, x.value, x.tags, x.rmw_op,
                    x.label, x.origin) for x in g.events if x.id != e]

    def pairs(ps):
        return [(m(a), m(b)) for a, b in ps if e not in (a, b)]
    return ExecutionGraph(events, [[m(i) for i in row if i != e] for row in g.threads],
                          {m(r): m(w) for r, w in g.rf.items() if r != e},
                          {c: [m(w) for w in ws if w != e] for c, ws in g.co.items()},
                          pairs(g.rmw), pairs(g.addr), pairs(g.data), pairs(g.ctrl),
                          list(g.names))


def _extended(path, last) -> int:
    """For every candidate of ``path`` under each model, and every thread whose
    last event ``e`` is one ``last(model, g, e)`` says dpor adds unjudged:
    the graph without ``e`` consistent means the graph with it is too.
    Returns how many graphs that decided."""
    decided = 0
    for name in MODELS:
        model = load_model(name)
        for g in _all_candidates(path):
            for row in g.threads:
                if not row or not last(model, g, row[-1]):
                    continue
                if model.run(_without(g, row[-1])).ok:
                    decided += 1
                    out = model.run(g)
                    assert out.ok, (name, path.stem, g.describe(row[-1]), out.failures)
    return decided


def _latest_read(model, g, e):
    ev = g.events[e]
    return ev.kind == "R" and g.rf[e] == g.co[ev.cell][-1] \
        and model.extends_with_latest(ev.tags)


def _latest_write(model, g, e):
    ev = g.events[e]
    if ev.kind != "W" or e in g.rf.values() or g.co[ev.cell][-1] != e \
            or not model.extends_with_latest(ev.tags):
        return False
    reads = [r for r, w in g.rmw if w == e]        # an RMW's write: right after its read's source
    return not reads or g.rf[reads[0]] == g.co[ev.cell][-2]


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_a_read_of_the_latest_write_added_last_keeps_a_graph_consistent(path):
    """dpor adds a read of its cell's coherence-latest write, as the last event
    of its thread, without asking the model (``extends_with_latest``)."""
    decided = _extended(path, _latest_read)
    if path.stem == "MP+poonceonces":
        assert decided > 0         # (not vacuous: the reader ends in a read)


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_a_write_put_last_in_coherence_keeps_a_graph_consistent(path):
    """dpor puts a write last in its cell's coherence order, as the last event
    of its thread and read by nobody, without asking the model
    (``extends_with_latest``; an RMW's write right after the write its
    read read)."""
    decided = _extended(path, _latest_write)
    if path.stem == "LB+poonceonces":
        assert decided > 0         # (not vacuous: each thread ends in a write)


def test_a_model_loaded_by_path_judges_every_read(tmp_path):
    from gupsim.check.cat import load_model as load
    lkmm = load_model("lkmm")
    assert lkmm.extends_with_latest(frozenset({"ONCE"}))
    assert not lkmm.extends_with_latest(frozenset({"LKR"}))
    assert not lkmm.extends_with_latest(frozenset({"rcu-lock"}))
    copy = tmp_path / "armv8.cat"
    copy.write_text((Path(__file__).resolve().parents[2] / "src" / "gupsim" / "models"
                     / "armv8.cat").read_text())
    loaded = load(str(copy))
    assert not loaded.extends_with_latest(frozenset({"ONCE"}))
    assert load_model("armv8").extends_with_latest(frozenset({"ONCE"}))
