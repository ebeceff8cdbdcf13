"""herd7's output for a litmus result, and the judge's summary table.

One test prints as herd7 prints it::

    Test SB+poonceonces Allowed
    States 4
    0:r0=0; 1:r0=0;
    ...
    Ok
    Witnesses
    Positive: 1 Negative: 3
    Condition exists (0:r0=0 /\\ 1:r0=0)
    Observation SB+poonceonces Sometimes 1 3
    Time SB+poonceonces 0.01

(with a ``Flag NAME`` line after ``Positive:`` for each flag an execution
raised, such as ``data-race``). The judge compares each observation with the
test's ``Result:`` line, as the kernel's ``judgelitmus.sh`` does.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..report.text import table
from .run import LitmusResult


def format_result(r: LitmusResult) -> str:
    lines = [f"Test {r.name} {r.verdict}", f"States {len(r.states)}"]
    lines += [r.state_text(s) for s in r.states]
    pos, neg = r.witnesses
    lines += ["Ok" if r.ok else "No", "Witnesses", f"Positive: {pos} Negative: {neg}"]
    lines += [f"Flag {flag}" for flag in r.flags]
    lines += [f"Condition {r.condition}",
              f"Observation {r.name} {r.observation} {r.positive} {r.negative}",
              f"Time {r.name} {r.seconds:.2f}"]
    if not r.complete:
        lines.append(f"Warning {r.name}: the exploration stopped early; counts are partial")
    return "\n".join(lines) + "\n"


def got_text(r: LitmusResult) -> str:
    return f"{r.observation} {r.positive} {r.negative}"


def judge_table(results: Sequence[LitmusResult]) -> str:
    """test / expected / got / ok, then one summary line."""
    rows = []
    for r in results:
        verdict = {True: "ok", False: "MISMATCH", None: "-"}[r.judged]
        rows.append((r.name, r.expected or "(none)", got_text(r), verdict))
    lines = table(rows, ("test", "expected", "got", "ok"))
    bad = sum(1 for r in results if r.judged is False)
    unstated = sum(1 for r in results if r.judged is None)
    model = ", ".join(sorted({r.model for r in results}))
    summary = (f"{len(results)} test{'' if len(results) == 1 else 's'} under {model}: "
               f"{len(results) - bad - unstated} match, {bad} mismatch")
    if unstated:
        summary += f", {unstated} without a Result: line"
    seconds = sum(r.seconds for r in results)
    return "\n".join(lines + ["", summary + f" ({seconds:.2f} s)"])
