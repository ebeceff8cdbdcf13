"""The classic litmus suite (tests/litmus/classic/) against its published results.

``EXPECTED.tsv`` gives, per test and memory model (sc, tso, lkmm, armv8,
power), the observation the literature states (Never: no execution satisfies
the ``exists`` clause; Sometimes: some does) and where it is stated. Each row
is run end to end through ``gupsim.litmus.run`` under that model; rows whose
model the checker does not explore yet are skipped with the reason. Two
independent routes run every row today: sc and tso rows through the checker
itself (``check.check`` with an observer), lkmm/armv8/power rows through the
cat models on herd-style candidate executions (``candidates.py``). The table
itself is checked against the files (every test has rows, every row a file, a
test's ``Result:`` line is its lkmm row).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from candidates import holds, observation
from gupsim.check import CheckConfig, check
from gupsim.check.cat import load_model
from gupsim.errors import UnknownName
from gupsim.litmus import compile_test, parse_file

CLASSIC = Path(__file__).resolve().parent.parent / "litmus" / "classic"
MODELS = ("sc", "tso", "lkmm", "armv8", "power")


def _rows() -> list[dict]:
    with open(CLASSIC / "EXPECTED.tsv", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


ROWS = _rows()
FILES = sorted(CLASSIC.glob("*.litmus"))


def test_table_columns_and_values():
    assert list(ROWS[0]) == ["test", "model", "result", "source"]
    for row in ROWS:
        assert row["model"] in MODELS, row
        assert row["result"] in ("Never", "Sometimes"), row
        assert len(row["source"]) > 10, row
    pairs = [(r["test"], r["model"]) for r in ROWS]
    assert len(pairs) == len(set(pairs)), "one row per test and model"


def test_every_file_has_rows_and_every_row_a_file():
    names = {p.stem for p in FILES}
    tested = {r["test"] for r in ROWS}
    assert names == tested
    for name in names:
        models = {r["model"] for r in ROWS if r["test"] == name}
        assert {"sc", "tso", "armv8", "power"} <= models, name


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_file_parses_and_its_result_line_is_the_lkmm_row(path):
    test = parse_file(path)
    assert test.name == path.stem
    compile_test(test)
    lkmm = [r["result"] for r in ROWS if r["test"] == path.stem and r["model"] == "lkmm"]
    assert test.expected == (lkmm[0] if lkmm else None)


def _run(path: Path, model: str):
    """The test's observation under ``model`` through the litmus front end."""
    from gupsim.litmus.run import run
    return run(path, model=model)


@pytest.mark.slow
@pytest.mark.parametrize("row", ROWS, ids=[f"{r['test']}-{r['model']}" for r in ROWS])
def test_observation_matches_the_published_result(row):
    result = _run(CLASSIC / f"{row['test']}.litmus", row["model"])
    assert result.observation == row["result"], row["source"]


def _rows_for(models):
    rows = [r for r in ROWS if r["model"] in models]
    return pytest.mark.parametrize("row", rows, ids=[f"{r['test']}-{r['model']}" for r in rows])


def _compiled(row):
    return compile_test(parse_file(CLASSIC / f"{row['test']}.litmus"))


@_rows_for(("sc", "tso"))
def test_checker_observation_matches_the_published_result(row):
    """Every execution the checker explores under sc/tso, the exists clause
    evaluated on its registers and final memory."""
    compiled = _compiled(row)
    index = {t.name: t.index for t in compiled.test.threads}
    seen = []

    def observe(outcome):
        state = {f"{index[name]}:{reg}": v for name, regs in outcome.results.items()
                 for reg, v in (regs or {}).items()}
        state.update(outcome.memory)
        seen.append(holds(compiled.test.condition.prop, state))

    check(compiled, CheckConfig(memory_model=row["model"], stop_on_first=False),
          observe=observe)
    assert seen and ("Sometimes" if any(seen) else "Never") == row["result"], row["source"]


@pytest.fixture(scope="module")
def cat_models():
    return {m: load_model(m) for m in ("lkmm", "armv8", "power")}


@_rows_for(("lkmm", "armv8", "power"))
def test_cat_model_observation_matches_the_published_result(row, cat_models):
    """The model's consistent candidate executions, herd7's way."""
    word, pos, neg = observation(_compiled(row), cat_models[row["model"]])
    assert pos + neg > 0
    assert word == row["result"], row["source"]
