"""Schedule strings: compact, versioned, and rejected with a usable message when bad."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gupsim.check.schedule import decode, encode
from gupsim.errors import UsageError

actions = st.lists(st.tuples(st.integers(0, 12), st.sampled_from("sif")), max_size=40)


@given(actions)
def test_round_trip(acts):
    assert decode(encode(acts)) == acts


def test_runs_are_compressed():
    assert encode([(0, "s")] * 3 + [(1, "i"), (2, "f"), (2, "f")]) == "s1:0*3.1i.2f*2"


@pytest.mark.parametrize(("text", "echo"), [
    ("0.1.2", "'0.1.2'"),          # no version
    ("s9:0.1", "'s9:0.1'"),        # unknown version
    ("s1:0.x.1", "'x'"),           # bad token
    ("s1:0*", "'0*'"),             # count missing
])
def test_malformed_schedules_echo_the_bad_part(text, echo):
    with pytest.raises(UsageError) as err:
        decode(text)
    message = str(err.value)
    assert echo in message and "\n" not in message
