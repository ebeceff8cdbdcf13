"""Schedules: the plain-data record of one execution's choices.

A schedule is the list of actions an execution took, ``(tid, kind)`` with
kind ``s`` (perform the thread's next op: a shared access, or a
``local_irq_disable()`` reached with IRQs on), ``i`` (take pending IPIs) or ``f``
(drain one store-buffer entry). Printed compactly, it is what a user pastes
back to ``gupsim replay``::

    s1:0*3.1.1i.0.2f

``s1`` is the format version; ``0*3`` is thread 0 three times; ``1i`` thread
1 takes its IPIs; ``2f`` thread 2's oldest buffered store reaches memory.
"""

from __future__ import annotations

import re

from ..errors import UsageError

VERSION = "s1"
_TOKEN = re.compile(r"^(\d+)([sif]?)(?:\*(\d+))?$")


def encode(actions) -> str:
    parts: list[str] = []
    prev, count = None, 0
    for tid, kind in actions:
        tok = f"{tid}{'' if kind == 's' else kind}"
        if tok == prev:
            count += 1
            continue
        if prev is not None:
            parts.append(prev if count == 1 else f"{prev}*{count}")
        prev, count = tok, 1
    if prev is not None:
        parts.append(prev if count == 1 else f"{prev}*{count}")
    return f"{VERSION}:" + ".".join(parts)


def decode(text: str) -> list[tuple[int, str]]:
    text = text.strip()
    head, sep, body = text.partition(":")
    if not sep or head != VERSION:
        raise UsageError(f"schedule {text[:40]!r}: expected a string starting with "
                         f"'{VERSION}:' as printed by gupsim check")
    actions: list[tuple[int, str]] = []
    if not body:
        return actions
    for tok in body.split("."):
        m = _TOKEN.match(tok)
        if not m:
            raise UsageError(f"schedule token {tok!r}: expected THREAD[i|f][*COUNT], "
                             f"e.g. 0, 1i, 2f, 0*3")
        tid, kind, count = int(m.group(1)), m.group(2) or "s", int(m.group(3) or 1)
        actions.extend([(tid, kind)] * count)
    return actions

