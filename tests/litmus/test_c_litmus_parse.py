"""The C litmus parser: every kernel test parses; the AST says what the C says;
malformed input is one FILE:LINE:COL line."""

from __future__ import annotations

import pytest
from lkmm_files import expected_count, lkmm_files, lkmm_test

from gupsim.errors import UsageError
from gupsim.litmus import ast as A
from gupsim.litmus import compile_test, parse_file, parse_text

FILES = lkmm_files()


def test_the_kernel_folder_holds_every_test():
    if not FILES:
        pytest.skip("the kernel's litmus folder is not there (set GUPSIM_LKMM_LITMUS)")
    assert len(FILES) == expected_count()


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_kernel_test_parses_and_compiles(path):
    test = parse_file(path)
    assert test.name == path.read_text().split()[1]
    assert test.expected in ("Never", "Sometimes", "Always", "DEADLOCK")
    assert test.condition is not None and test.threads
    compiled = compile_test(test)
    assert len(compiled.factory().threads) == len(test.threads)


def test_header_comment_and_result_line():
    t = parse_file(lkmm_test("RM-broken"))
    assert t.comment.startswith("(*") and "roach motel" in t.comment
    assert t.expected == "DEADLOCK"


def test_init_forms():
    t = parse_text("C T\n{ int x = 1; int *y = &x; p=y; atomic_t v = ATOMIC_INIT(-2);\n"
                   "  int flag; 0:r1 = 3; spinlock_t lo; }\n"
                   "P0(int *x) { int r1; }\nexists (0:r1=3)\n", "t.litmus")
    got = [(i.name, i.value, i.thread) for i in t.init]
    assert got == [("x", 1, None), ("y", "x", None), ("p", "y", None), ("v", -2, None),
                   ("flag", 0, None), ("r1", 3, 0), ("lo", 0, None)]
    assert t.init[1].type == "int *"


def test_final_part_locations_filter_and_condition_kinds():
    t = parse_file(lkmm_test("RM-broken"))
    assert [loc.key for loc in t.locations] == ["x", "0:r2", "1:r0", "1:r1", "1:r2"]
    assert t.filter == A.And((A.Atom(A.Loc("r0", 1), 0, False, t.filter.args[0].pos),
                              A.Atom(A.Loc("r1", 1), 1, False, t.filter.args[1].pos)))
    body = "C T\n{}\nP0(int *x) { WRITE_ONCE(*x, 1); }\n"
    for text, kind in (("~exists (x=1)", "~exists"), ("forall (x=1 \\/ x=2)", "forall"),
                       ("exists\n(x=1)", "exists")):
        assert parse_text(body + text).condition.kind == kind


def test_pointer_values_negation_and_precedence():
    t = parse_text("C T\n{}\nP0(int *x) { int *r0; }\n"
                   "exists (0:r0=x /\\ ~(x=1) \\/ x!=2 /\\ true) (* remark *)\n")
    prop = t.condition.prop
    assert isinstance(prop, A.Or) and len(prop.args) == 2
    first, second = prop.args
    assert first.args[0].value == "x" and isinstance(first.args[1], A.Not)
    assert second.args[0].negated and second.args[1] == A.Const(True)


def test_statements_and_expressions():
    t = parse_file(lkmm_test("dep+plain"))
    p0 = t.threads[0]
    assert [type(s).__name__ for s in p0.body] == ["Decl", "ExprStmt", "ExprStmt", "If"]
    cond = p0.body[3].cond
    assert isinstance(cond, A.Binary) and cond.op == "==" and isinstance(cond.left, A.Deref)
    assert [p.name for p in p0.params] == ["x", "y", "z1", "z2"]


def test_void_cast_and_else_branches():
    t = parse_text("C T\n{}\nP0(atomic_t *v, int *x) {\n int r;\n"
                   " (void)atomic_add_unless(v, 1, 0);\n"
                   " if (r == 0 && !r) { r = 1 + 2 * 3; } else r = -r;\n}\nexists (0:r=7)\n")
    stmts = t.threads[0].body
    assert isinstance(stmts[1].expr, A.Call) and stmts[1].expr.name == "atomic_add_unless"
    branch = stmts[2]
    assert len(branch.then) == 1 and len(branch.orelse) == 1
    value = branch.then[0].expr.value
    assert value.op == "+" and value.right.op == "*"


@pytest.mark.parametrize(("text", "where", "expected", "found"), [
    ("P0(int *x) {}\nexists (x=1)", "1:1", "'C NAME'", "'P0(int *x) {'"),
    ("C T\n{ x = ; }\nP0(int *x) {}\nexists (x=1)", "2:7", "a value", "';'"),
    ("C T\n{}\nP0(int *x) {\n\tWRITE_ONCE(*x, 1)\n}\nexists (x=1)", "5:1",
     "';' after the statement", "'}'"),
    ("C T\n{}\nP0(int *x) {\n\tint r0;\n\tr0 = READ_ONCE(*x;\n}\nexists (x=1)", "5:19",
     "',' or ')' in the arguments of READ_ONCE()", "';'"),
    ("C T\n{}\nP0(int *x) { }\nexists (x=1 /\\ )", "4:16", "a location", "')'"),
    ("C T\n{}\nP0(int *x) { }\n", "4:1", "the final condition", "end of file"),
    ("C T\n{}\nP1(int *x) { }\nexists (x=1)", "3:1", "P0", "'P1'"),
    ("C T\n{}\nP0(int *x) { while (1) { } }\nexists (x=1)", "3:14", "a statement", "'while'"),
    ("C T\n{}\nP0(int *x) { }\nexists (x=1)\n(* unclosed", "5:1", "'*)'", "end of file"),
    ("C T\n{}\nP0(int *x) { }\nexists (x 1)", "4:11", "'=' or '!='", "'1'"),
])
def test_malformed_input_is_one_line_with_line_and_col(text, where, expected, found):
    with pytest.raises(UsageError) as err:
        parse_text(text, "bad.litmus")
    message = str(err.value)
    assert message.startswith(f"bad.litmus:{where}: expected "), message
    assert expected in message and message.endswith(f"found {found}")
    assert "\n" not in message


@pytest.mark.parametrize(("body", "fragment"), [
    ("WRITE_ONCE(*x, 1, 2);", "WRITE_ONCE() takes 2 arguments, not 3"),
    ("READ_ONSE(*x);", "unknown primitive READ_ONSE(); did you mean READ_ONCE"),
    ("r9 = q;", "P0 uses q, which is neither a parameter nor a local"),
])
def test_compile_errors_point_at_the_call(body, fragment):
    test = parse_text(f"C T\n{{}}\nP0(int *x) {{\n {body}\n}}\nexists (x=1)", "c.litmus")
    with pytest.raises(UsageError, match="^c.litmus:4:") as err:
        compile_test(test)
    assert fragment in str(err.value)


def test_condition_on_a_missing_register_is_a_usage_error():
    test = parse_text("C T\n{}\nP0(int *x) { int r0; }\nexists (0:r7=1)", "m.litmus")
    with pytest.raises(UsageError, match=r"0:r7: P0 has no local r7 \(its locals: r0\)"):
        compile_test(test)


def test_missing_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        parse_file(tmp_path / "nope.litmus")
