"""``gupsim litmus --html``: the results as a page, and for each test one
execution its observation is about (its witness), drawn as a trace page."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from gupsim.cli import main
from gupsim.litmus.run import witness

MP = Path(__file__).parent / "classic" / "MP+poonceonces.litmus"

FORALL = """C CoWW+forall
{}
P0(int *x)
{
	WRITE_ONCE(*x, 1);
	WRITE_ONCE(*x, 2);
}
P1(int *x)
{
	int r0;
	r0 = READ_ONCE(*x);
}
forall (x=2 /\\ 1:r0=2)
"""


def write(tmp_path, name, text):
    p = tmp_path / f"{name}.litmus"
    p.write_text(text)
    return p


def reads(data):
    return {(s["thread"], s["cell"]): s["value"] for s in data["trace"] if s["kind"] == "R"}


def test_a_witness_satisfies_the_condition_and_none_exists_where_the_model_forbids_it(tmp_path):
    mp = MP
    data = witness(mp, "lkmm")
    assert data["verdict"] == "witness" and data["graph"] and data["schedule"].startswith("g1:")
    assert reads(data) == {("P1", "y"): 1, ("P1", "x"): 0}
    assert "1:r0=1; 1:r1=0;" in data["violation"]["message"]
    assert witness(mp, "sc") is None and witness(mp, "tso") is None


def test_a_forall_witness_is_an_execution_where_it_fails(tmp_path):
    data = witness(write(tmp_path, "F", FORALL), "sc")
    assert data is not None and "fails" in data["violation"]["message"]
    assert reads(data)[("P1", "x")] != 2


def test_litmus_html_writes_the_table_and_the_witness_pages(tmp_path):
    mp, fa = MP, write(tmp_path, "F", FORALL)
    out = tmp_path / "lit.html"
    r = CliRunner().invoke(main, ["litmus", str(mp), "--model", "armv8", "--html", str(out)])
    assert r.exit_code == 0, r.output
    page = out.read_text()
    assert re.findall(r'href="([^"]+)">witness<', page) == ["lit-MP+poonceonces-armv8.html"]
    assert "Sometimes 1 3" in page
    assert page.count("<div>1:r0=") == 4              # one line per final state
    witness_page = (tmp_path / "lit-MP+poonceonces-armv8.html").read_text()
    assert "reached: <b>exists (1:r0=1 /\\ 1:r1=0)</b>" in witness_page
    assert "why no interleaving gives it" in witness_page     # the MP cycle, in words
    # under sc MP has no witness; the forall test's is an execution where it fails
    r = CliRunner().invoke(main, ["litmus", str(mp), str(fa), "--model", "sc",
                                  "--html", str(out)])
    assert r.exit_code == 0, r.output
    page = out.read_text()
    assert re.findall(r'href="([^"]+)">witness<', page) == ["lit-CoWW+forall-sc.html"]
    assert page.count(">none<") == 1 and "Never 0 3" in page
