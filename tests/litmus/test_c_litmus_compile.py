"""Compiled C litmus tests: the same outcomes as the hand-written programs
under sc and tso, and the ops (orders, registers, dependencies) the C says."""

from __future__ import annotations

import pytest
from lkmm_files import lkmm_test

from gupsim.check import CheckConfig, check
from gupsim.litmus import compile_test, parse_file, parse_text
from gupsim.ops import Branch, Fence, Load, Rmw, Store
from gupsim.programs.litmus import LITMUS, collect_outcomes

C_VERSIONS = {
    "SB": """P0(int *x, int *y) { int r0; WRITE_ONCE(*x, 1); r0 = READ_ONCE(*y); }
             P1(int *x, int *y) { int r0; WRITE_ONCE(*y, 1); r0 = READ_ONCE(*x); }""",
    "SB+mb": """P0(int *x, int *y) { int r0; WRITE_ONCE(*x, 1); smp_mb(); r0 = READ_ONCE(*y); }
                P1(int *x, int *y) { int r0; WRITE_ONCE(*y, 1); smp_mb(); r0 = READ_ONCE(*x); }""",
    "MP": """P0(int *x, int *y) { WRITE_ONCE(*x, 1); WRITE_ONCE(*y, 1); }
             P1(int *x, int *y) { int r0; int r1; r0 = READ_ONCE(*y); r1 = READ_ONCE(*x); }""",
    "MP+wmb+rmb": """P0(int *x, int *y) { WRITE_ONCE(*x, 1); smp_wmb(); WRITE_ONCE(*y, 1); }
                     P1(int *x, int *y) { int r0, r1; r0 = READ_ONCE(*y); smp_rmb();
                                          r1 = READ_ONCE(*x); }""",
    "LB": """P0(int *x, int *y) { int r0 = READ_ONCE(*x); WRITE_ONCE(*y, 1); }
             P1(int *x, int *y) { int r0 = READ_ONCE(*y); WRITE_ONCE(*x, 1); }""",
    "IRIW": """P0(int *x) { WRITE_ONCE(*x, 1); }
               P1(int *y) { WRITE_ONCE(*y, 1); }
               P2(int *x, int *y) { int r0 = READ_ONCE(*x); int r1 = READ_ONCE(*y); }
               P3(int *x, int *y) { int r0 = READ_ONCE(*y); int r1 = READ_ONCE(*x); }""",
    "2+2W": """P0(int *x, int *y) { WRITE_ONCE(*x, 1); WRITE_ONCE(*y, 2); }
               P1(int *x, int *y) { WRITE_ONCE(*y, 1); WRITE_ONCE(*x, 2); }""",
    "CoRR": """P0(int *x) { WRITE_ONCE(*x, 1); }
               P1(int *x) { int r0 = READ_ONCE(*x); int r1 = READ_ONCE(*x); }""",
}


def c_outcomes(text: str, labels, model: str, strategy: str) -> frozenset:
    """Every outcome (the values of ``labels``: "P:reg" or a cell) of a C test."""
    compiled = compile_test(parse_text(f"C T\n{{}}\n{text}\nexists (x=0)\n"))
    seen = set()

    def observe(outcome):
        row = []
        for label in labels:
            thread, _, reg = label.rpartition(":")
            row.append(outcome.results[f"P{thread}"][reg] if thread else outcome.memory[reg])
        seen.add(tuple(row))
    result = check(compiled.factory, CheckConfig(strategy=strategy, memory_model=model,
                                                 stop_on_first=False), observe=observe)
    assert result.stats.exhausted
    return frozenset(seen)


@pytest.mark.parametrize("model", ["sc", "tso"])
@pytest.mark.parametrize("name", sorted(C_VERSIONS))
def test_same_outcomes_as_the_hand_written_program(name, model):
    hand = LITMUS[name]
    expected = collect_outcomes(hand, model, "dfs")
    assert expected == hand.allowed[model]
    assert c_outcomes(C_VERSIONS[name], hand.labels, model, "dpor") == expected


def ops_of(path_or_text, thread: int, reads=()):
    """Drive one compiled thread alone: the ops it yields, each load or RMW
    answered with the next of ``reads``, and the registers it returns."""
    test = parse_file(path_or_text) if not isinstance(path_or_text, str) else \
        parse_text(path_or_text)
    body = compile_test(test).factory().threads[thread].body
    answers = iter(reads)
    ops, value = [], None
    try:
        while True:
            op = body.send(value)
            ops.append(op)
            value = next(answers) if isinstance(op, (Load, Rmw)) else None
    except StopIteration as stop:
        return [show(op) for op in ops], stop.value


def show(op) -> tuple:
    if isinstance(op, Load):
        return ("R", op.cell, op.order, op.reg, op.addr)
    if isinstance(op, Store):
        return ("W", op.cell, op.value, op.order, op.addr, op.data)
    if isinstance(op, Rmw):
        return ("U", op.cell, op.kind, op.arg, op.expected, op.order, op.reg, op.data)
    if isinstance(op, Fence):
        return ("F", op.kind) + ((op.cell,) if op.cell else ())
    if isinstance(op, Branch):
        return ("B",) + op.regs
    raise AssertionError(op)


def test_dep_plain_carries_dependencies_through_plain_accesses():
    ops, regs = ops_of(lkmm_test("dep+plain"), 0, reads=(1, 1, 1))
    assert ops == [("R", "x", "once", "a", ()),
                   ("W", "z1", 1, "plain", (), ("a",)),
                   ("R", "z1", "plain", "*z1", ()),
                   ("W", "z2", 1, "plain", (), ("*z1",)),
                   ("R", "z2", "plain", "*z2", ()),
                   ("B", "*z2"),
                   ("W", "y", 1, "once", (), ())]
    assert regs == {"a": 1}
    ops, _ = ops_of(lkmm_test("dep+plain"), 1, reads=(1,))
    assert ops == [("R", "y", "acquire", "r", ()), ("W", "x", 1, "release", (), ("r",))]


def test_rcu_dereference_gives_an_address_dependency():
    ops, regs = ops_of(lkmm_test("MP+onceassign+derefonce"), 1, reads=("x", 0))
    assert ops == [("F", "rcu_read_lock"), ("R", "p", "once", "r0", ()),
                   ("R", "x", "once", "r1", ("r0",)), ("F", "rcu_read_unlock")]
    assert regs == {"r0": "x", "r1": 0}
    ops, _ = ops_of(lkmm_test("MP+onceassign+derefonce"), 0)
    assert ops == [("W", "x", 1, "once", (), ()), ("W", "p", "x", "release", (), ())]


@pytest.mark.parametrize(("read", "tail"), [(1, [("W", "y", 1, "once", (), ())]), (0, [])])
def test_if_yields_a_control_dependency(read, tail):
    ops, _ = ops_of(lkmm_test("LB+fencembonceonce+ctrlonceonce"), 0, reads=(read,))
    assert ops == [("R", "x", "once", "r0", ()), ("B", "r0")] + tail


def test_repeated_reads_get_unique_registers():
    ops, regs = ops_of("C T\n{}\nP0(int *x) { int r0; r0 = READ_ONCE(*x); "
                       "r0 = READ_ONCE(*x) + r0; WRITE_ONCE(*x, r0); r0 = READ_ONCE(*x); }"
                       "\nexists (x=0)", 0, reads=(1, 2, 3))
    assert [op[3] for op in ops if op[0] == "R"] == ["r0", "*x", "r0#2"]
    assert ops[2] == ("W", "x", 3, "once", (), ("*x", "r0"))
    assert regs == {"r0": 3}


PRIMITIVE_OPS = [
    ("r = atomic_inc_return(v);", (4,), ("U", "v", "add", 1, None, "mb", "r", ()), 5),
    ("atomic_inc(v);", (4,), ("U", "v", "add", 1, None, "noreturn", "*v", ()), None),
    ("r = atomic_fetch_add_relaxed(2, v);", (4,),
     ("U", "v", "add", 2, None, "once", "r", ()), 4),
    ("r = atomic_sub_return_release(1, v);", (4,),
     ("U", "v", "sub", 1, None, "release", "r", ()), 3),
    ("r = atomic_dec_and_test(v);", (1,), ("U", "v", "sub", 1, None, "mb", "r", ()), 1),
    ("r = atomic_add_negative(-5, v);", (4,), ("U", "v", "add", -5, None, "mb", "r", ()), 1),
    ("r = atomic_fetch_andnot_acquire(3, v);", (7,),
     ("U", "v", "andnot", 3, None, "acquire", "r", ()), 7),
    ("r = atomic_add_unless(v, 1, 0);", (0,), ("U", "v", "add_unless", 1, 0, "mb", "r", ()), 0),
    ("r = xchg_acquire(x, 3);", (4,), ("U", "x", "xchg", 3, None, "acquire", "r", ()), 4),
    ("r = cmpxchg(x, 1, 0);", (1,), ("U", "x", "cmpxchg", 0, 1, "mb", "r", ()), 1),
    ("r = atomic_cmpxchg_relaxed(v, 0, 1);", (0,),
     ("U", "v", "cmpxchg", 1, 0, "once", "r", ()), 0),
    ("r = spin_trylock(l);", (0,), ("U", "l", "trylock", None, None, "acquire", "r", ()), 1),
    ("r = spin_trylock(l);", (1,), ("U", "l", "trylock", None, None, "acquire", "r", ()), 0),
    ("spin_lock(l);", (0,), ("U", "l", "lock", None, None, "acquire", "*l", ()), None),
    ("spin_unlock(l);", (), ("W", "l", 0, "unlock", (), ()), None),
    ("r = spin_is_locked(l);", (1,), ("R", "l", "is_locked", "r", ()), 1),
    ("r = srcu_read_lock(s);", (0,), ("R", "s", "srcu_lock", "r", ()), 0),
    ("srcu_read_unlock(s, 1);", (), ("W", "s", 1, "srcu_unlock", (), ()), None),
    ("synchronize_srcu(s);", (), ("F", "synchronize_srcu", "s"), None),
    ("synchronize_rcu_expedited();", (), ("F", "synchronize_rcu"), None),
    ("smp_mb__after_unlock_lock();", (), ("F", "mb__after_unlock_lock"), None),
    ("r = atomic_read_acquire(v);", (2,), ("R", "v", "acquire", "r", ()), 2),
    ("atomic_set_release(v, 2);", (), ("W", "v", 2, "release", (), ()), None),
]


@pytest.mark.parametrize(("stmt", "reads", "op", "value"), PRIMITIVE_OPS,
                         ids=[p[0] for p in PRIMITIVE_OPS])
def test_each_primitive_maps_to_its_op(stmt, reads, op, value):
    text = ("C T\n{}\nP0(atomic_t *v, int *x, spinlock_t *l, struct srcu_struct *s) "
            f"{{ int r; {stmt} }}\nexists (x=0)")
    ops, regs = ops_of(text, 0, reads)
    assert ops == [op]
    if value is not None:
        assert regs["r"] == value


def test_smp_store_mb_is_a_once_store_then_a_full_fence():
    ops, _ = ops_of("C T\n{}\nP0(int *x) { smp_store_mb(*x, 2); }\nexists (x=0)", 0)
    assert ops == [("W", "x", 2, "once", (), ()), ("F", "mb")]


def test_programs_have_no_interrupts_and_initial_values():
    compiled = compile_test(parse_file(lkmm_test("RCU+sync+free")))
    program = compiled.factory()
    assert program.interrupts is False
    assert program.memory == {"x": 1, "y": "x", "z": 1}
