"""The classic litmus suite (tests/litmus/classic/) against its published results.

``EXPECTED.tsv`` gives, per test and memory model (sc, tso, lkmm, armv8,
power), the observation the literature states (Never: no execution satisfies
the ``exists`` clause; Sometimes: some does) and where it is stated. Each row
is run end to end through ``gupsim.litmus.run`` under that model; rows whose
model the checker does not explore yet are skipped with the reason. The table
itself is checked against the files (every test has rows, every row a file, a
test's ``Result:`` line is its lkmm row).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

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
    """The test's observation under ``model`` through the litmus front end,
    or a skip when the front end or the model is not there yet."""
    try:
        from gupsim.litmus import run
    except ImportError:
        pytest.skip("gupsim.litmus.run is not available")
    try:
        return run(parse_file(path), model=model)
    except UnknownName as e:
        pytest.skip(f"the checker does not explore {model!r} yet ({e})")


@pytest.mark.slow
@pytest.mark.parametrize("row", ROWS, ids=[f"{r['test']}-{r['model']}" for r in ROWS])
def test_observation_matches_the_published_result(row):
    result = _run(CLASSIC / f"{row['test']}.litmus", row["model"])
    assert result.observation == row["result"], row["source"]
