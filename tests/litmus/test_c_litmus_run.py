"""Running C litmus tests: herd7's counts, states, observations and output."""

from __future__ import annotations

import pytest
from lkmm_files import lkmm_files, lkmm_test

from gupsim.errors import UsageError
from gupsim.litmus import parse_file, parse_text
from gupsim.litmus.format import format_result, judge_table
from gupsim.litmus.run import LitmusResult, default_strategy, run


def test_sb_under_tso_is_sometimes_with_herd_output():
    r = run(lkmm_test("SB+poonceonces"), "tso")
    assert (r.observation, r.positive, r.negative, r.judged) == ("Sometimes", 1, 3, True)
    lines = format_result(r).splitlines()
    assert lines[:10] == [
        "Test SB+poonceonces Allowed", "States 4",
        "0:r0=0; 1:r0=0;", "0:r0=0; 1:r0=1;", "0:r0=1; 1:r0=0;", "0:r0=1; 1:r0=1;",
        "Ok", "Witnesses", "Positive: 1 Negative: 3",
        "Condition exists (0:r0=0 /\\ 1:r0=0)"]
    assert lines[10] == "Observation SB+poonceonces Sometimes 1 3"
    assert lines[11].startswith("Time SB+poonceonces ") and len(lines) == 12


def test_sb_under_sc_is_never_and_mismatches_its_result_line():
    r = run(lkmm_test("SB+poonceonces"), "sc")
    assert (r.observation, r.positive, r.negative, r.ok, r.judged) == ("Never", 0, 3,
                                                                      False, False)
    assert "No" in format_result(r).splitlines()


def test_pointer_values_in_states_and_locations_order():
    r = run(lkmm_test("MP+onceassign+derefonce"), "sc")
    assert r.locations == ("1:r0", "1:r1")
    assert [r.state_text(s) for s in r.states] == ["1:r0=x; 1:r1=1;", "1:r0=y; 1:r1=0;"]
    r = run(lkmm_test("SB+rfionceonce-poonceonces"), "tso")
    assert r.locations == ("0:r1", "0:r2", "1:r3", "1:r4", "x", "y")


def test_a_filter_drops_executions_and_deadlock_means_never_0_0():
    r = run(lkmm_test("RM-broken"), "sc")
    assert (r.observation, r.positive, r.negative) == ("Never", 0, 0)
    assert r.filtered == r.executions > 0 and r.judged is True
    fixed = run(lkmm_test("RM-fixed"), "sc")
    assert (fixed.positive, fixed.negative, fixed.judged) == (0, 1, True)


def test_deadlocked_executions_are_not_counted():
    text = ("C T\n{}\nP0(spinlock_t *a, spinlock_t *b, int *x) { spin_lock(a); spin_lock(b);"
            " WRITE_ONCE(*x, 1); }\nP1(spinlock_t *a, spinlock_t *b) { spin_lock(b); "
            "spin_lock(a); }\nexists (x=1)")
    r = run(parse_text(text), "sc")
    assert r.deadlocked > 0
    assert (r.positive, r.negative, r.observation) == (0, 0, "Never")


@pytest.mark.parametrize(("kind", "ok", "witnesses"), [
    ("exists", True, (1, 3)), ("~exists", False, (3, 1)), ("forall", False, (1, 3))])
def test_condition_kinds_ok_and_witnesses(kind, ok, witnesses):
    text = lkmm_test("SB+poonceonces").read_text()
    test = parse_text(text.replace("exists (", f"{kind} ("), "sb.litmus")
    r = run(test, "tso")
    assert (r.positive, r.negative, r.observation) == (1, 3, "Sometimes")
    assert (r.ok, r.witnesses) == (ok, witnesses)
    assert r.verdict == {"exists": "Allowed", "~exists": "Forbidden", "forall": "Required"}[kind]
    assert r.condition == f"{kind} (0:r0=0 /\\ 1:r0=0)"


def test_not_equal_prints_as_herd_does():
    test = parse_text("C T\n{}\nP0(int *x) { int r0 = READ_ONCE(*x); }\n"
                      "P1(int *x) { WRITE_ONCE(*x, 1); }\nexists (0:r0!=0)")
    r = run(test, "sc")
    assert r.condition == "exists (not (0:r0=0))"
    assert (r.positive, r.negative) == (1, 1)


def test_always():
    test = parse_text("C T\n{ x = 2; }\nP0(int *x) { int r0 = READ_ONCE(*x); }\n"
                      "forall (0:r0=2 /\\ x=2)")
    r = run(test, "sc")
    assert (r.observation, r.ok, r.positive, r.negative) == ("Always", True, 1, 0)


ALL = list(lkmm_files())


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_dfs_dpor_and_enum_count_the_same_executions(path):
    """Under sc the three explorations agree on every test, locks included."""
    test = parse_file(path)
    a, b, c = run(test, "sc", "dfs"), run(test, "sc", "dpor"), run(test, "sc", "enum")
    assert (a.states, a.positive, a.negative) == (b.states, b.positive, b.negative) \
        == (c.states, c.positive, c.negative)


def test_default_strategy_is_dpor_operational_and_enum_axiomatic():
    test = parse_file(lkmm_test("MP+polocks"))
    assert default_strategy(test, "sc") == default_strategy(test, "tso") == "dpor"
    assert default_strategy(test, "lkmm") == "enum"
    r = run(test, "tso")
    assert r.strategy == "dpor" and (r.positive, r.negative) == (0, 3)


def test_dereferencing_a_number_is_a_usage_error_at_the_access():
    test = parse_text("C T\n{}\nP0(int *x) {\n int *r0 = READ_ONCE(*x);\n"
                      " int r1 = READ_ONCE(*r0);\n}\nexists (0:r1=0)", "d.litmus")
    with pytest.raises(UsageError, match=r"^d.litmus:5:22: P0: dereferences 0, which is "
                                         r"not a pointer"):
        run(test, "sc")


def test_flags_are_printed_after_the_witnesses_and_judge_table():
    r = LitmusResult("T", "t.litmus", "lkmm", "dpor", "exists", "exists (x=1)", ("x",),
                     [(0,), (1,)], positive=1, negative=1, flags=("data-race",),
                     expected="Never")
    lines = format_result(r).splitlines()
    assert lines[lines.index("Positive: 1 Negative: 1") + 1] == "Flag data-race"
    table = judge_table([r]).splitlines()
    assert table[0].split() == ["test", "expected", "got", "ok"]
    assert table[1].split() == ["T", "Never", "Sometimes", "1", "1", "MISMATCH"]
    assert table[-1].startswith("1 test under lkmm: 0 match, 1 mismatch")


def test_same_test_same_result_twice():
    a, b = (run(lkmm_test("IRIW+poonceonces+OnceOnce"), "tso") for _ in range(2))
    assert a.to_json() | {"seconds": 0} == b.to_json() | {"seconds": 0}
