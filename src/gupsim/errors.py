"""The gupsim error tree.

Three voices, kept apart:

* ``UsageError`` / ``UnknownName``: the user asked for something that does not
  exist or passed a bad value. The message echoes the value and says what would
  work. The CLI prints it on one line and exits 2.
* ``ScenarioError`` / ``NondeterminismError``: the program under test misbehaved
  as a program (a bad yield, a replay that diverged). Also exit 2.
* ``InternalError``: gupsim itself is wrong. Prefixed ``[gupsim internal bug]``.

A bug *found* in the model under test is never an exception: it is a
``Violation`` inside a result (exit 1).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class GupsimError(Exception):
    """Base class of every error gupsim raises on purpose."""


class UsageError(GupsimError):
    """A bad argument: echoes ``name=value`` and the constraint."""


class UnknownName(UsageError):
    """A name that is not in a registry; suggests close matches."""

    def __init__(self, kind: str, value: str, known: Iterable[str]):
        known = sorted(known)
        near = difflib.get_close_matches(str(value), known, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(near)}?" if near else ""
        super().__init__(
            f"unknown {kind} {value!r}.{hint} Known: {', '.join(known) or '(none)'}."
        )
        self.kind, self.value, self.known = kind, value, known


class ScenarioError(GupsimError):
    """The program under test broke the op contract (names the source line)."""


class NondeterminismError(ScenarioError):
    """A replay diverged from the recorded run."""


class InternalError(GupsimError):
    """A bug in gupsim itself."""

    def __init__(self, message: str):
        super().__init__(f"[gupsim internal bug] {message}")
