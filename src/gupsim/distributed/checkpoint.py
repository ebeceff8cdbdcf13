"""Checkpoints: the frontier and the totals of a run, as versioned JSON.

A checkpoint holds what a run still has to do (the work items not yet
explored, in-flight ones included, so a run killed at any moment loses only
the work since the last write) and what it has done (the counts, per item
when a violation may still move the reported one, and the counterexample so
far). ``save`` writes a temporary file next to the target, fsyncs it and
renames it over the target: a reader sees the old checkpoint or the new one,
never half of one.

Work items are plain data but hold tuples and dicts with non-string keys;
``encode``/``decode`` make the JSON round trip exact (a tuple comes back a
tuple). A ``snap`` item (a copied graph, which is an optimisation) is written
as the equivalent ``records`` item: its events in replay order plus the
pending choice, rebuilt from scratch on resume.

Version 2 added what a run under a weak model needs: the digests of the
executions counted (``base_digests`` and a third field per ledger entry, see
``coordinator``) and a counterexample as its rendering. Version 3 has the
same fields; its pending graphs are those of the exploration with parked
waits (a CPU's look for IPIs while it waits, a monotone Await: no event
until what they wait for is there) and of the kernel model whose
``spin_lock()`` is the lock primitive. Version 4 has the same fields; its
pending graphs are those of the kernel model whose rwsems and bit locks
are RMWs that wait, explored with a lock's read added where the CPU
reaches it (not parked) and an RMW's write right after its read. Version 5
has the same fields; its pending graphs may hold a lock's read woken in
place (a record with the write it first waited on) or spinning on for an
IPI, and the write that releases a lock does not revisit a read waiting for
it. A file of an older version holds graphs with other events (a wait read, a cmpxchg
loop, a parked lock), which this exploration cannot rebuild: it is refused
with one line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import UsageError

FORMAT = "gupsim-checkpoint"
VERSION = 5
READS = (5,)               # the versions ``load`` reads


def encode(value):
    """JSON-able form of plain data: tuples and dicts are tagged."""
    if isinstance(value, tuple):
        return {"t": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {"d": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, (frozenset, set)):
        return {"s": sorted((encode(v) for v in value), key=repr)}
    if isinstance(value, bytes):
        return {"b": value.hex()}
    return value


def decode(value):
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if "t" in value:
            return tuple(decode(v) for v in value["t"])
        if "d" in value:
            return {decode(k): decode(v) for k, v in value["d"]}
        if "s" in value:
            return {decode(v) for v in value["s"]}
        if "b" in value:
            return bytes.fromhex(value["b"])
    return value


def as_records(item, cells):
    """A ``snap`` item as the ``records`` item that rebuilds the same graph
    and takes the same pending choice; a ``records`` item unchanged.

    ``cells`` are the program's cells. A pending write's item does not name
    its cell, so its stamp is placed at its coherence position in every cell's
    order: only the cell it writes ever consults that order.
    """
    if item[0] != "snap":
        return item
    _, snap, rec, pos = item
    g = snap[0]
    records = [_record(g.ev[s]) for s in g.order]
    records.append(tuple(rec))
    co = {c: tuple(ws) for c, ws in g.co.items()}
    if rec[2] == "W":
        for cell in cells:
            lst = list(co.get(cell, ()))
            lst.insert(min(pos, len(lst)), rec[0])
            co[cell] = tuple(lst)
    return ("records", records, co, g.top)


def _record(e):
    """The record of the graph event ``e``. A read of a write added after it
    (``PROMISE``, load buffering under a weak model) also names the cell and
    the value it read: when it is rebuilt, that write is not in yet."""
    from ..check.graph import PROMISE
    if e.flags & PROMISE:
        return (e.s, e.tid, "R", e.rf, e.flags, (e.cell, e.value))
    return (e.s, e.tid, e.kind, e.rf, e.flags)


def program_cells(factory) -> list:
    """The cells of ``factory``'s program (for ``as_records``)."""
    from ..check.runtime import Execution
    return list(Execution(factory, None, start=False).init)


def save(path: str | os.PathLike, state: dict) -> None:
    """Write ``state`` (already JSON-able) atomically to ``path``."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        text = json.dumps({"format": FORMAT, "version": VERSION, **state},
                          separators=(",", ":"))
    except (TypeError, ValueError) as err:
        # (under a weak model the frontier holds values read early, and the
        # counterexample its final memory: the program's own values)
        raise UsageError(f"--checkpoint {path}: the run holds a value that is not JSON data "
                         f"({err}); a checkpoint needs values made of numbers, strings, "
                         f"None, tuples, lists, dicts and sets") from None
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load(path: str | os.PathLike) -> dict:
    """Read a checkpoint; anything else is a one-line usage error."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such checkpoint; write one with "
                         f"`gupsim check SCENARIO --checkpoint {path}`") from None
    except (OSError, ValueError) as err:
        raise UsageError(f"{path}: not a gupsim checkpoint ({type(err).__name__}: {err}); "
                         f"write one with `gupsim check SCENARIO --checkpoint {path}`") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UsageError(f"{path}: not a gupsim checkpoint (no \"format\": \"{FORMAT}\"); "
                         f"write one with `gupsim check SCENARIO --checkpoint {path}`")
    if data.get("version") in (1, 2, 3, 4):
        raise UsageError(f"{path}: checkpoint version {data['version']} was written by an "
                         f"older gupsim, whose pending graphs this one cannot rebuild (waits "
                         f"and locks are explored differently now); run the check "
                         f"again with --checkpoint {path}")
    if data.get("version") not in READS:
        raise UsageError(f"{path}: checkpoint version {data.get('version')!r}; this gupsim "
                         f"reads versions {', '.join(map(str, READS))}")
    return data
