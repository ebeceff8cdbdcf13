"""The trace, matrix and ablation pages as HTML text: self-contained, escaped,
and carrying the data the viewer draws (no browser here; see test_html_browser)."""

from __future__ import annotations

import json
import re

from conftest import graph_result, hostile

from gupsim.report.html import ipi_arrows, matrix_page, script_json, states, steps, trace_page
from gupsim.report.text import _writers

NETWORK = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|@import|url\(\s*["']?https?:""",
                     re.I)


def payload(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="gupsim-data">(.*?)</script>', page, re.S)
    return json.loads(m.group(1))


def test_trace_page_is_self_contained(seed_result):
    page = trace_page(seed_result)
    assert page.startswith("<!DOCTYPE html>")
    assert not NETWORK.search(page)
    assert "<link" not in page and "<script src" not in page
    assert "<style>" in page and "<script>" in page


def test_trace_page_shows_the_violation_at_the_last_step(seed_result):
    page = trace_page(seed_result)
    data = payload(page)
    n = len(seed_result["trace"])
    assert data["violating"] == n - 1
    assert page.count('class="row violating"') == 1
    assert f'id="r{n - 1}"' in page.split('class="row violating"')[1][:40]
    assert "get_page-on-free-page" in page
    assert "gupsim replay gup-vs-munmap --param arch=arm64 --param design=arm-rfc-2013" in page


def test_every_step_has_a_state_and_a_lane(seed_result):
    rows = steps(seed_result["trace"])
    snaps, index = states(seed_result["trace"])
    assert len(rows) == len(index) == len(seed_result["trace"])
    assert index[0] == 0 and all(i >= 0 for i in index)
    assert {r["cpu"] for r in rows} == {0, 1}
    assert 'class="lane off"' in trace_page(seed_result)   # the walker's IRQs-off span
    first = snaps[0]
    assert first["roots"] == {"mm0": "pgd1"}
    assert {t["level"] for t in first["tables"]} >= {"pgd", "pmd", "pte"}
    assert any(p["refcount"] == 1 and "PageAnon" in p["flags"] for p in first["pages"])
    assert set(first["ipis"]) == {"cpu0", "cpu1"}


def test_text_is_escaped_everywhere(seed_result):
    page = trace_page(hostile(seed_result))
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert page.count("<script") == 2          # the data block and the viewer's own code
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    data = payload(page)                        # the JSON block survives the </script> inside
    assert data["states"][0]["tables"][0]["entries"][0]["text"].startswith("</script>")


def test_script_json_cannot_close_its_element():
    text = script_json({"a": "</script><!-- & -->"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"a": "</script><!-- & -->"}


def test_ipi_arrows_go_to_the_handler_and_back_to_the_wait(ipi_result):
    trace = ipi_result["trace"]
    arrows = ipi_arrows(trace)
    kinds = [a["kind"] for a in arrows]
    assert kinds == ["ipi", "ack"]
    send, ack = arrows
    assert trace[send["from"]]["cell"] == "cpu0.ipi_sent" and trace[send["from"]]["cpu"] == 1
    assert trace[send["to"]]["op"] == "take pending IPIs" and trace[send["to"]]["cpu"] == 0
    assert trace[ack["from"]]["cell"] == "cpu0.ipi_done" and trace[ack["from"]]["in_irq"]
    assert trace[ack["to"]]["kind"] == "A" and trace[ack["to"]]["cpu"] == 1
    page = trace_page(ipi_result)
    assert "TLB flush IPI" in page and "IPI taken" in page and "IPI ack" in page
    assert 'class="lane irq"' in page          # the handler's steps, shaded on cpu0's lane


def test_graph_panel_only_with_a_graph(seed_result):
    assert 'id="graph"' not in trace_page(seed_result)
    page = trace_page(graph_result(seed_result))
    assert 'id="graph"' in page
    for name in ("po", "rf", "co", "fr", "ppo"):
        assert f'class="edge e-{name}"' in page
    assert page.count('class="edge e-fr"') == 1      # READ_ONCE(x) read init, before x=1
    assert "R x=0 [ONCE]" in page


def test_matrix_page_links_and_colours():
    cells = [{"design": "d<1>", "arch": "arm64", "scenario": "s1", "memory_model": "sc",
              "verdict": "violation", "invariant": "inv", "executions": 3, "seconds": 0.1,
              "message": "m"},
             {"design": "d<1>", "arch": "arm64", "scenario": "s2", "memory_model": "sc",
              "verdict": "safe", "invariant": None, "executions": 5, "seconds": 0.2,
              "message": ""},
             {"design": "d<1>", "arch": "arm", "scenario": "s1", "memory_model": "sc",
              "verdict": "n/a", "invariant": None, "executions": 0, "seconds": 0.0,
              "message": "no THP"},
             {"design": "d<1>", "arch": "arm", "scenario": "s2", "memory_model": "sc",
              "verdict": "n/a", "invariant": None, "executions": 0, "seconds": 0.0,
              "message": "no THP"}]
    page = matrix_page(cells, {0: "m-0.html"})
    assert '<a href="m-0.html">violation: inv →</a>' in page
    assert 'class="cell c-violation"' in page and 'class="cell c-safe"' in page
    assert "d&lt;1&gt;" in page and "d<1>" not in page
    assert "1 design × arch rows where every hazard is n/a are not shown" in page
    assert not NETWORK.search(page)


def test_a_weak_counterexample_page_has_the_state_each_step_observed(weak_result):
    """Under armv8 each step's state is the kernel as its CPU has observed
    it: the walker's (gup0) _mapcount update on the tail page is in its own
    state at once, not in the splitter's until the splitter reads it."""
    data = payload(trace_page(weak_result))
    trace = weak_result["trace"]
    assert weak_result["graph"] and data["weak"]
    assert len(data["states"]) > 1 and all(i >= 0 for i in data["stateOf"])
    final = weak_result["final_memory"]                        # still shown below, exactly:
    assert data["final"] == {c: json.dumps(v, separators=(",", ":")) for c, v in final.items()}
    assert any(isinstance(v, int) and v > 2 ** 53 for v in final.values())    # (a pmd entry)

    def page_of(step, pfn):
        state = data["states"][data["stateOf"][step]]
        assert state["roots"] == {"mm0": "pgd1"} and state["tables"]
        return next(p for p in state["pages"] if p["pfn"] == pfn)
    inc = next(ev for ev in trace if ev["thread"] == "gup0" and ev["kind"] == "U"
               and ev["cell"].endswith("._mapcount"))
    pfn = int(inc["cell"].split("[")[1].split("]")[0])
    assert page_of(inc["step"], pfn)["mapcount"] == inc["value"] != inc["old"]
    split = [ev for ev in trace if ev["thread"] == "split"]
    writers = _writers(trace)                  # read_from -> the step that wrote
    seen = next(ev for ev in split if ev.get("read_from") not in (None, "init")
                and writers[tuple(ev["read_from"])] is inc)
    before = [ev for ev in split if ev["step"] < seen["step"]]
    assert before and all(page_of(ev["step"], pfn)["mapcount"] == inc["old"] for ev in before)
    assert page_of(seen["step"], pfn)["mapcount"] == inc["value"]
