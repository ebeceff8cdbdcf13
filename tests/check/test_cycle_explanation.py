"""A weak-memory counterexample says which reordering made it possible: the
po | rf | co | fr cycle no interleaving has, and for each program-order pair
of it whether a full fence there would forbid the execution."""

from __future__ import annotations

from click.testing import CliRunner

from gupsim import CheckConfig, Fence, Invariant, Load, Program, Store, ThreadSpec, check
from gupsim.check.execgraph import build, interleaving_cycle, sequentially_consistent, \
    with_fence_after
from gupsim.check.memory import axiomatic_model
from gupsim.cli import main
from gupsim.report.text import render


def sb_graph():
    """SB's weak outcome: each thread writes its cell, then reads the other's initial value."""
    return build({"x": 0, "y": 0}, [
        [{"kind": "W", "cell": "x", "value": 1, "tags": ["ONCE"]},
         {"kind": "R", "cell": "y", "value": 0, "rf": "init", "tags": ["ONCE"]}],
        [{"kind": "W", "cell": "y", "value": 1, "tags": ["ONCE"]},
         {"kind": "R", "cell": "x", "value": 0, "rf": "init", "tags": ["ONCE"]}]])


def test_the_cycle_of_store_buffering():
    g = sb_graph()
    cycle = interleaving_cycle(g)
    assert sorted(kind for _, _, kind in cycle) == ["fr", "fr", "po", "po"]
    # it is a cycle: each edge starts where the previous one ended
    assert all(cycle[i][1] == cycle[(i + 1) % len(cycle)][0] for i in range(len(cycle)))
    po = {(g.events[a].tid, g.events[a].kind, g.events[b].kind) for a, b, k in cycle if k == "po"}
    assert po == {(0, "W", "R"), (1, "W", "R")}


def test_an_interleaving_has_no_cycle():
    g = build({"x": 0}, [[{"kind": "W", "cell": "x", "value": 1}],
                         [{"kind": "R", "cell": "x", "value": 1, "rf": (0, 0)}]])
    assert sequentially_consistent(g) and interleaving_cycle(g) == []


def test_a_fence_after_an_event_renumbers_the_graph():
    g = sb_graph()
    a = g.threads[0][0]
    fenced = with_fence_after(g, a, frozenset({"MB"}), "smp_mb()")
    assert len(fenced.events) == len(g.events) + 1
    row = fenced.threads[0]
    assert [fenced.events[i].kind for i in row] == ["W", "F", "R"]
    assert [fenced.events[i].index for i in row] == [0, 1, 2]
    assert fenced.events[row[1]].label == "smp_mb()"
    # the reads still read the initial writes, and both cells' co is unchanged in shape
    assert all(fenced.events[w].is_init for w in fenced.rf.values())
    armv8 = axiomatic_model("armv8")
    assert armv8.check(g).consistent and armv8.check(fenced).consistent
    both = with_fence_after(fenced, fenced.threads[1][0], frozenset({"MB"}), "smp_mb()")
    assert not armv8.check(both).consistent


def sb_program(fenced_p0: bool):
    def p0():
        yield Store("x", 1)
        if fenced_p0:
            yield Fence("mb")
        return (yield Load("y"))

    def p1():
        yield Store("y", 1)
        return (yield Load("x"))

    def both_zero(mem, results):
        if results["P0"] == 0 and results["P1"] == 0:
            return "both loads read 0"
    return Program([ThreadSpec("P0", p0(), cpu=0), ThreadSpec("P1", p1(), cpu=1)],
                   {"x": 0, "y": 0}, [Invariant("sb", both_zero, "end")], interrupts=False)


def fences_of(result):
    return sorted(f for _, _, kind, f in result.graph["cycle"] if kind == "po")


def test_the_report_names_the_pair_a_fence_would_forbid():
    one = check(lambda: sb_program(True), CheckConfig(memory_model="armv8"))
    assert one.verdict == "violation"
    # P0's pair is ordered by its smp_mb(); a fence between P1's pair alone forbids it
    assert fences_of(one) == ["alone", "no"]
    text = render(one)
    assert "why no interleaving gives it: a cycle armv8 allows and sc forbids" in text
    assert "an smp_mb() between them would forbid this execution" in text
    assert "between them: smp_mb()" in text and "would not forbid it" in text
    none = check(lambda: sb_program(False), CheckConfig(memory_model="armv8"))
    assert fences_of(none) == ["together", "together"]
    assert "together with one between each other program-order pair" in render(none)


def test_nothing_to_explain_under_sc():
    """SB is safe under sc, so there is no counterexample, and a graph
    without a cycle gets no explanation lines."""
    from gupsim.report.story import cycle_lines
    res = check(lambda: sb_program(False), CheckConfig(memory_model="sc"))
    assert res.verdict == "safe"
    assert cycle_lines([], {"cycle": []}, "sc") == [] and cycle_lines([], None, "sc") == []


def test_the_litmus_cli_counterexample_tells_the_cycle():
    r = CliRunner().invoke(main, ["check", "litmus/SB", "--memory-model", "power"])
    assert r.exit_code == 1, r.output
    assert "why no interleaving gives it: a cycle power allows" in r.stdout
    assert r.stdout.count("  po  step") == 2 and r.stdout.count("  fr  step") == 2


def test_the_html_page_and_dot_show_the_cycle(tmp_path):
    page, dot = tmp_path / "sb.html", tmp_path / "sb.dot"
    r = CliRunner().invoke(main, ["check", "litmus/SB", "--memory-model", "armv8",
                                  "--html", str(page), "--dot", str(dot)])
    assert r.exit_code == 1, r.output
    html = page.read_text()
    assert 'id="why"' in html and "a cycle armv8 allows and sc forbids" in html
    assert html.count("<li>po  step") + html.count("<li>po step") == 2
    text = dot.read_text()
    assert text.count("cycle po") == 2 and text.count("cycle fr") == 2
