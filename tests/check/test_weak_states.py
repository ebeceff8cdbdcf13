"""A weak-memory counterexample's steps carry the program's snapshot of the
memory as each step has observed it (``weakresult.observed_memories``):
for each cell the coherence-latest of the writes its thread made or read up
to that step, else the initial value. Programs here snapshot the memory
they are handed, so a step's state is that memory."""

from __future__ import annotations

import pytest

from gupsim import CheckConfig, Invariant, Load, Program, Store, ThreadSpec, check
from gupsim.check.execgraph import build
from gupsim.check.strategies.weakresult import observed_memories


def as_given(context, mem):
    return dict(mem)


def mp_program(snapshot=as_given):
    """Message passing without fences; the end invariant flags the weak
    outcome (flag seen, data not)."""
    def writer():
        yield Store("data", 1)
        yield Store("flag", 1)

    def reader():
        flag = yield Load("flag")
        data = yield Load("data")
        return flag, data

    def mp(mem, results):
        if results["reader"] == (1, 0):
            return "the reader saw the flag but not the data"
    return Program([ThreadSpec("writer", writer(), cpu=0),
                    ThreadSpec("reader", reader(), cpu=1)],
                   {"data": 0, "flag": 0, "untouched": 7}, [Invariant("mp", mp, "end")],
                   snapshot=snapshot, interrupts=False)


def lb_program():
    """Load buffering: each thread reads the cell the other writes after its read."""
    def t(mine, other):
        def body():
            got = yield Load(other)
            yield Store(mine, 1)
            return got
        return body()

    def lb(mem, results):
        if results["P0"] == 1 and results["P1"] == 1:
            return "each load read the other thread's later store"
    return Program([ThreadSpec("P0", t("x", "y"), cpu=0), ThreadSpec("P1", t("y", "x"), cpu=1)],
                   {"x": 0, "y": 0}, [Invariant("lb", lb, "end")], snapshot=as_given,
                   interrupts=False)


def in_force(trace) -> list:
    """Per step, the state it carries or the last one before it (as the page reads them)."""
    out, cur = [], None
    for ev in trace:
        cur = ev.get("state", cur)
        out.append(cur)
    return out


def step_states(res):
    return list(zip(res.trace, in_force(res.trace)))


@pytest.mark.parametrize("strategy", ["dpor", "enum"])
def test_the_mp_reader_has_observed_the_flag_but_not_the_data(strategy):
    res = check(mp_program, CheckConfig(strategy=strategy, memory_model="armv8"))
    assert res.verdict == "violation"
    assert all(state is not None for _, state in step_states(res))
    writer = [(ev, s) for ev, s in step_states(res) if ev["thread"] == "writer"]
    reader = [(ev, s) for ev, s in step_states(res) if ev["thread"] == "reader"]
    # the writer's own state after its first store has that store, not the second
    assert writer[0][0]["cell"] == "data"
    assert writer[0][1] == {"data": 1, "flag": 0, "untouched": 7}
    assert writer[1][1] == {"data": 1, "flag": 1, "untouched": 7}
    # the reader that read the flag's new value has the flag write, not the data write
    (flag_ev, at_flag), (data_ev, at_data) = reader
    assert (flag_ev["cell"], flag_ev["value"], data_ev["value"]) == ("flag", 1, 0)
    assert at_flag == {"data": 0, "flag": 1, "untouched": 7}
    assert at_data == at_flag           # it read the initial data: still not observed


@pytest.mark.parametrize("model", ["armv8", "power", "lkmm"])
def test_load_buffering_each_read_step_shows_the_value_it_read(model):
    """A po | rf cycle: each thread's read reads the other's po-later store;
    the state at every read shows what it read, at every write what it wrote."""
    res = check(lb_program, CheckConfig(strategy="dpor", memory_model=model))
    assert res.verdict == "violation"
    for ev, state in step_states(res):
        assert state[ev["cell"]] == ev["value"], (ev, state)
    reads = [(ev, s) for ev, s in step_states(res) if ev["kind"] == "R"]
    assert [ev["value"] for ev, _ in reads] == [1, 1]
    # at its read P0 has observed P1's store to y, but not its own store to x yet
    p0_read = next(s for ev, s in reads if ev["thread"] == "P0")
    assert p0_read == {"x": 0, "y": 1}


def test_a_step_carries_a_state_only_when_it_changed():
    res = check(mp_program, CheckConfig(strategy="dpor", memory_model="armv8"))
    states = [ev.get("state") for ev in res.trace]
    assert states[0] is not None
    shown = [s for s in states if s is not None]
    assert all(a != b for a, b in zip(shown, shown[1:]))
    assert len(shown) < len(states)       # the reader's second step repeats its first


def test_the_states_are_deterministic_and_replayed_from_the_schedule():
    config = CheckConfig(strategy="dpor", memory_model="armv8")
    one, two = check(mp_program, config), check(mp_program, config)
    assert one.trace == two.trace and one.schedule == two.schedule
    replayed = check(mp_program, config.with_(strategy="replay", schedule=one.schedule))
    assert replayed.trace == one.trace


def test_no_hook_no_states():
    res = check(lambda: mp_program(snapshot=None), CheckConfig(strategy="dpor",
                                                                memory_model="armv8"))
    assert res.verdict == "violation"
    assert not any("state" in ev for ev in res.trace)


def test_observed_memories_on_a_hand_built_graph():
    """P1's view follows what it read: the flag write alone (not P0's writes
    to x before it), then x's co-last write; its fence changes nothing. The
    cells the graph does not touch keep their initial values."""
    g = build({"x": 0, "y": 0}, [
        [{"kind": "W", "cell": "x", "value": 1, "co": 0},
         {"kind": "W", "cell": "x", "value": 2, "co": 1},
         {"kind": "W", "cell": "y", "value": 1}],
        [{"kind": "R", "cell": "y", "value": 1, "rf": (0, 2)},
         {"kind": "F", "cell": None, "value": "mb"},
         {"kind": "R", "cell": "x", "value": 2, "rf": (0, 1)}]])
    seen = observed_memories(g, {"z": 3})
    p0, p1 = g.threads
    assert [seen[e] for e in p0] == [{"z": 3, "x": 1, "y": 0}, {"z": 3, "x": 2, "y": 0},
                                     {"z": 3, "x": 2, "y": 1}]
    assert [seen[e] for e in p1] == [{"z": 3, "x": 0, "y": 1}, {"z": 3, "x": 0, "y": 1},
                                     {"z": 3, "x": 2, "y": 1}]
    assert not any(g.events[e].is_init for e in seen)
