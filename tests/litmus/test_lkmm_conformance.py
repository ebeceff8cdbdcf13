"""The kernel's own LKMM litmus tests, judged under ``lkmm`` like herd7.

Every one of the kernel's tests (55 in ``../shared/litmus/lkmm``, 47 in a kernel
tree or ``.cache/lkmm``) must observe what its
``Result:`` line says (``DEADLOCK`` is ``Never 0 0``), with the model read from
the kernel's own ``linux-kernel.cat``. ``dpor`` must agree with ``enum`` on
every test without load buffering in its executions (which dpor's revisits do
not build; ``enum`` is the strategy ``gupsim litmus`` uses under weak models).
"""

from __future__ import annotations

import pytest

from gupsim.litmus import parse_file
from gupsim.litmus.run import run

from lkmm_files import lkmm_files

FILES = lkmm_files()


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_observation_matches_the_result_line(path):
    result = run(parse_file(path), "lkmm")
    assert result.expected is not None
    assert result.judged, (result.observation, result.positive, result.negative,
                           result.expected)


LB_FREE = [p for p in FILES if not p.stem.startswith("LB+")]


@pytest.mark.parametrize("path", LB_FREE, ids=[p.stem for p in LB_FREE])
def test_dpor_agrees_with_enum_under_lkmm(path):
    test = parse_file(path)
    a, b = run(test, "lkmm", "enum"), run(test, "lkmm", "dpor")
    assert (a.states, a.positive, a.negative) == (b.states, b.positive, b.negative)
