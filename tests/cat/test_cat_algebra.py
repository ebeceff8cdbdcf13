"""The relation algebra cat expressions are evaluated with (``cat.values``):
composition, closure and inverse on bitset rows against the same operations
on sets of pairs, including when a result comes from the memo that keeps them
for the executions that follow (and when that memo is cleared)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gupsim.check.cat import values
from gupsim.check.cat.values import Algebra, Rel


def relations(n):
    pairs = st.sets(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n)
    return pairs.map(lambda ps: (n, frozenset(ps)))


def rel_of(n, pairs):
    rows = [0] * n
    for a, b in pairs:
        rows[a] |= 1 << b
    return Rel(rows)


def pairs_of(r):
    return frozenset(r.pairs())


def closure(pairs):
    out = set(pairs)
    while True:
        more = {(a, d) for a, b in out for c, d in out if b == c} - out
        if not more:
            return frozenset(out)
        out |= more


two = st.integers(1, 40).flatmap(lambda n: st.tuples(relations(n), relations(n)))


@pytest.mark.parametrize("memo", [values.MEMO_SIZE, 1])
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(two)
def test_seq_plus_inv_are_the_operations_on_pairs(memo, monkeypatch, rs):
    monkeypatch.setattr(values, "MEMO_SIZE", memo)   # 1: cleared at every new result
    (n, p), (_, q) = rs
    alg = Algebra(n)
    r, s = rel_of(n, p), rel_of(n, q)
    want_seq = frozenset((a, d) for a, b in p for c, d in q if b == c)
    for _ in range(2):                                # the second time from the memo
        assert pairs_of(alg.seq(r, s)) == want_seq
        assert pairs_of(alg.plus(r)) == closure(p)
        assert pairs_of(alg.inv(r)) == frozenset((b, a) for a, b in p)
        assert alg.domain(r) == sum(1 << a for a in {a for a, _ in p})

