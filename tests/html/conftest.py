"""Pages for the HTML tests: real counterexamples written by the CLI, a
hand-made result with an execution graph, a 2,000-step trace."""

from __future__ import annotations

import copy
import json

import pytest
from click.testing import CliRunner

from gupsim.cli import main

SEED = ("gup-vs-munmap", "--arch", "arm64", "--design", "arm-rfc-2013", "--memory-model", "sc")
"""The seed patch's race: the page-table page is freed under an IRQs-off walker (as an
interleaving, under sc: the page shows the kernel state at each step)."""
IPI = ("gup-vs-munmap", "--arch", "x86-64", "--design", "x86-2008-without-walker:irqs-off")
"""An x86 race where the flush IPI is sent, taken by the walker's CPU and acknowledged."""

WEAK = ("gup-vs-thp-split", "--arch", "arm64", "--memory-model", "armv8", "--design",
        "readers-counter-2013-without-reader:smp_mb__after_atomic")
"""The 2013 readers counter without the walker's barrier after its increment, under
armv8: a weak counterexample (a graph), each step with the kernel state it observed."""


def cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def result_json(*args: str) -> dict:
    out = cli(*args, "--json")
    assert out.exit_code == 1, out.output
    return json.loads(out.stdout)


@pytest.fixture(scope="session")
def seed_result() -> dict:
    return result_json("explain", *SEED)


@pytest.fixture(scope="session")
def ipi_result() -> dict:
    return result_json("explain", *IPI)


@pytest.fixture(scope="session")
def weak_result() -> dict:
    return result_json("check", *WEAK)


def hostile(data: dict) -> dict:
    """A copy of a result whose every text a page shows tries to inject markup."""
    bad = "<script>alert(1)</script><img src=x onerror=alert(2)>&amp;"
    d = copy.deepcopy(data)
    d["scenario"] = "s" + bad
    d["violation"]["message"] = bad
    d["violation"]["name"] = "p" + bad
    for ev in d["trace"]:
        ev["thread"] = "t" + bad
        if "text" in ev:
            ev["text"] = bad
        if ev.get("function"):
            ev["function"] = "f" + bad
    d["trace"][0]["state"]["tables"][0]["entries"][0]["text"] = "</script>" + bad
    return d


def graph_result(base: dict) -> dict:
    """``base`` with a hand-made weak-model graph (message passing, the reader
    seeing the flag but not the data): events, rf, co and a named ppo edge."""
    d = copy.deepcopy(base)
    ev = [{"id": 0, "tid": -1, "index": -1, "kind": "W", "cell": "x", "value": 0, "tags": [],
           "label": "init"},
          {"id": 1, "tid": -1, "index": -1, "kind": "W", "cell": "y", "value": 0, "tags": [],
           "label": "init"},
          {"id": 2, "tid": 0, "index": 0, "kind": "W", "cell": "x", "value": 1,
           "tags": ["ONCE"], "label": "WRITE_ONCE(x, 1)"},
          {"id": 3, "tid": 0, "index": 1, "kind": "W", "cell": "y", "value": 1,
           "tags": ["RELEASE"], "label": "smp_store_release(y, 1)"},
          {"id": 4, "tid": 1, "index": 0, "kind": "R", "cell": "y", "value": 1,
           "tags": ["ONCE"], "label": "READ_ONCE(y)"},
          {"id": 5, "tid": 1, "index": 1, "kind": "R", "cell": "x", "value": 0,
           "tags": ["ONCE"], "label": "READ_ONCE(x)"}]
    d["graph"] = {"events": ev, "rf": [[4, 3], [5, 0]], "co": {"x": [0, 2], "y": [1, 3]},
                  "edges": [[2, 3, "ppo"]]}
    return d


def long_result(base: dict, steps: int = 2000) -> dict:
    """``base``'s trace repeated (steps renumbered, snapshots kept) to ``steps`` steps."""
    d = copy.deepcopy(base)
    one = base["trace"]
    out = []
    while len(out) < steps:
        for ev in one:
            if len(out) == steps:
                break
            e = copy.deepcopy(ev)
            e["step"] = len(out)
            out.append(e)
    d["trace"] = out
    return d
