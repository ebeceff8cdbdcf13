"""A counterexample told in kernel terms: one line per step, read top to bottom.

Each line names the CPU, its IRQ state, the kernel function that acted and
what it did, decoded::

      9  cpu1  irqs on   pmdp_splitting_flush: set splitting bit in pmd[0] (table page 2)
     10  cpu1  irqs on   flush_tlb_range: TLB invalidate broadcast by hardware (no IPI: ...)

and ends with the violated property on one line. It reads only the trace (the
JSON form of a ``Result``): cell names of the kernel model (``mm0.pmd2[0]``,
``page[4]._count``, ``cpu0.ipi_sent``), the entry decoding the model put in
``text``, and, when the trace was recorded with call stacks (``stack``, see
``gupsim.matrix.traced_run``), the innermost kernel function of each step
rather than the accessor it went through.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..ops import BLOCKING_RMW, Rmw

ACCESSORS = frozenset({
    "read_entry", "write_entry", "xchg_entry", "lockless_read", "_put_single",
    "_send_ipi", "_sync_ipi", "handler", "gup_thread", "futex_thread",
})
"""Model helpers that stand for a plain access: the story names their caller."""

PHRASES = {
    ("flush_tlb_range", "F"): "TLB invalidate broadcast by hardware (TLBI, no IPI: "
                              "no CPU is interrupted, nobody waits for IRQs-off walkers)",
    ("kick_all_cpus_sync", "F"): "smp_mb() before the kick IPI",
    ("_sync_ipi", "F"): "smp_mb() before the dummy IPI",
}
"""(function, event kind) -> what that step means, where the op alone does not say."""

DEPENDENCY = {"addr": "an address", "data": "a data", "ctrl": "a control"}
"""How a cycle's program-order pair names the graph's dependency edge between them."""
_ENTRY = re.compile(r"^mm(\d+)\.(pgd|pud|pmd|pte)(\d+)\[(\d+)\](\.lo|\.hi)?$")
_PAGE = re.compile(r"^page\[(\d+)\]\.(\w+)$")
_CPU = re.compile(r"^cpu(\d+)\.ipi_(sent|done)$")
_DECODED = re.compile(r"^pfn (\d+) \[([^\]]*)\]$")


def _function(ev: Mapping[str, Any]) -> str:
    stack = ev.get("stack")
    if stack and ev.get("kind") != "note":
        for name in reversed(stack):
            if name not in ACCESSORS:
                return name
    return ev.get("function") or ""       # (a litmus test's steps name no function)


def _irq_state(ev: Mapping[str, Any]) -> str:
    if ev.get("in_irq"):
        return "in IPI"
    if ev.get("irqs") is None:
        return ""
    return "irqs on" if ev["irqs"] else "irqs off"


def _decoded(ev: Mapping[str, Any]) -> str:
    text = ev.get("text") or ""
    return text.split(": ", 1)[1] if ": " in text else text


def _flags(decoded: str):
    m = _DECODED.match(decoded)
    return (int(m.group(1)), set(m.group(2).split())) if m else None


# how the RMWs that wait for a lock are described (each takes it with acquire order)
WAITING_LOCKS = tuple(Rmw("c", kind).describe().split("(")[0] + "(" for kind in BLOCKING_RMW)

class _Story:
    def __init__(self):
        self.entries: dict[str, str] = {}     # cell -> last decoded value seen

    def entry(self, ev, m) -> str:
        level, table, index, half = m.group(2), m.group(3), m.group(4), m.group(5)
        where = f"{level}[{index}] (table page {table})"
        if half:
            where = f"{level}[{index}] {half[1:]} half (table page {table})"
        cell, kind = ev["cell"], ev["kind"]
        now = _decoded(ev)
        before = self.entries.get(cell)
        if kind == "R":
            self.entries[cell] = now
            if ev.get("value") == "POISON":
                return f"read {where}: POISON (the page-table page was freed)"
            return f"read {where} = {now}"
        if kind == "flush":
            return f"store buffer drains: {where} = {ev.get('value')} reaches memory"
        self.entries[cell] = now
        if ev.get("value") == "POISON":
            return f"poison {where} (page-table page freed)"
        if now == "none":
            was = f" (was {before})" if before and before != "none" else ""
            return f"clear {where}{was}"
        old, new = _flags(before or ""), _flags(now)
        if old and new and old[0] == new[0] and old[1] != new[1]:
            added, removed = sorted(new[1] - old[1]), sorted(old[1] - new[1])
            parts = []
            if added:
                parts.append(f"set {' '.join(added)} bit{'s' if len(added) > 1 else ''}")
            if removed:
                parts.append(f"clear {' '.join(removed)} bit{'s' if len(removed) > 1 else ''}")
            return f"{' and '.join(parts)} in {where}"
        return f"write {where} = {now}"

    def page(self, ev, m) -> str:
        pfn, field = m.group(1), m.group(2)
        kind, value = ev["kind"], ev.get("value")
        if field == "compound_head":
            if kind == "R":
                return (f"page {pfn} is a tail of THP {value}" if value is not None
                        else f"page {pfn}: compound_head none (not a tail page)")
            if kind == "flush":
                return f"store buffer drains: page {pfn} compound_head = {value}"
            return (f"clear PageTail of page {pfn}" if value is None
                    else f"page {pfn} compound_head = {value}")
        if field == "compound_lock":
            if kind == "U":
                return f"compound_lock(page {pfn}): {ev.get('old')} -> {value}"
            return f"compound_lock(page {pfn}) = {value}" + (
                " (released)" if value == 0 else "")
        if kind == "U":
            return f"page {pfn} {field} {ev.get('old')} -> {value}"
        if kind == "R":
            return f"read page {pfn} {field} = {value}"
        if kind == "flush":
            return f"store buffer drains: page {pfn} {field} = {value} reaches memory"
        return f"page {pfn} {field} = {value}"

    def ipi(self, ev, m) -> str:
        target, what = m.group(1), m.group(2)
        if ev["kind"] == "U" and what == "sent":
            return f"send IPI to cpu{target}"
        if ev["kind"] == "U":
            return f"cpu{target} acknowledges its IPI"
        return f"takes pending IPIs (request {ev.get('value')})"

    def other(self, ev) -> str:
        kind, cell, value, op = ev["kind"], ev.get("cell"), ev.get("value"), ev.get("op", "")
        if kind == "F":
            return PHRASES.get((_function(ev), "F"), op)
        if kind == "A":
            return f"waited for {op.removeprefix('await ')}"
        name = cell.split(".", 1)[-1] if isinstance(cell, str) else str(cell)
        if kind == "U":
            return f"{name} {ev.get('old')} -> {value}" + (
                " (acquire)" if "acquire" in op or op.startswith(WAITING_LOCKS) else "")
        if kind == "R":
            return f"read {name} = {value}"
        if kind == "flush":
            return f"store buffer drains: {name} = {value} reaches memory"
        # (spin_unlock() is a release store on every arch modelled here)
        return f"{name} = {value}" + (" (release)" if "release" in op or "(unlock)" in op
                                      else "")

    def phrase(self, ev) -> str:
        if ev.get("kind") == "note":
            return ev.get("text", "")
        if ev.get("op") == "take pending IPIs":
            return "takes its pending IPIs (IRQs are on)"
        cell = ev.get("cell")
        if isinstance(cell, str):
            for pattern, render in ((_ENTRY, self.entry), (_PAGE, self.page), (_CPU, self.ipi)):
                m = pattern.match(cell)
                if m:
                    return render(ev, m)
        return self.other(ev)


def story_lines(trace: Sequence[Mapping[str, Any]], violation=None,
                indent: str = "  ", name: str | None = None) -> list[str]:
    """The steps, then ``violated: NAME: message`` (one line) when given;
    ``name`` is a short name for the property (default: its own)."""
    story = _Story()
    rows = []
    for ev in trace:
        cpu = f"cpu{ev['cpu']}" if "cpu" in ev else ""
        what = story.phrase(ev)    # a buffer drain is the CPU's, not a function's
        rows.append((str(ev.get("step", "")), cpu, _irq_state(ev),
                     what if ev.get("kind") == "flush" or not _function(ev)
                     else f"{_function(ev)}: {what}"))
    widths = [max((len(r[i]) for r in rows), default=0) for i in range(3)]
    lines = [f"{indent}{r[0].rjust(widths[0])}  {r[1].ljust(widths[1])}  "
             f"{r[2].ljust(widths[2])}  {r[3]}".rstrip() for r in rows]
    if violation is not None:
        lines.append(violated_line(violation, indent, name))
    return lines


def violated_line(violation, indent: str = "  ", name: str | None = None) -> str:
    """One line: the property and the kernel's message (evidence-free)."""
    message = " ".join(str(violation.message).split())
    return f"{indent}violated: {name or violation.name}: {message}"


def threads_line(trace: Sequence[Mapping[str, Any]]) -> str:
    """``cpu0 runs gup0, cpu1 runs split`` from the trace."""
    seen: dict[int, str] = {}
    for ev in trace:
        if "cpu" in ev and not ev.get("in_irq"):
            seen.setdefault(ev["cpu"], ev.get("thread", "?"))
    return ", ".join(f"cpu{c} runs {t}" for c, t in sorted(seen.items()))


__all__ = ["story_lines", "violated_line", "threads_line", "ACCESSORS", "PHRASES"]


def cycle_lines(trace: Sequence[Mapping[str, Any]], graph: Mapping[str, Any] | None,
                model: str, indent: str = "  ") -> list[str]:
    """Why no interleaving gives a weak-memory counterexample, edge by edge:
    the cycle of program order, reads-from, coherence and from-reads that
    ``model`` allows and sequential consistency forbids (``graph["cycle"]``,
    see ``check.execgraph.interleaving_cycle``). Empty without one."""
    cycle = (graph or {}).get("cycle") or []
    if not cycle:
        return []
    at: dict[int, Mapping[str, Any]] = {}
    for ev in trace:
        at[ev["event"]] = ev
        if "write_event" in ev:
            at[ev["write_event"]] = ev
    events = graph.get("events", [])
    rank = {rel: i for i, rel in enumerate(DEPENDENCY)}    # addr before data before ctrl
    deps: dict = {}
    for a, b, rel in graph.get("edges", []):
        if rel in rank and rank[rel] < rank.get(deps.get((a, b)), len(rank)):
            deps[(a, b)] = rel
    story = _Story()
    said = {id(ev): story.phrase(ev) for ev in trace}

    def name(e: int) -> str:
        ev = at.get(e)
        if ev is None:
            return f"event {e}"
        return f"step {ev['step']}"

    def what(e: int) -> str:
        ev = at.get(e)
        if ev is None:
            return events[e]["label"] if e < len(events) else f"event {e}"
        fn = _function(ev)
        return f"{fn}: {said[id(ev)]}" if fn else said[id(ev)]

    def kind(e: int) -> str:
        k = events[e]["kind"] if e < len(events) else "?"
        return {"R": "read", "W": "write"}.get(k, k)

    lines = [f"{indent}why no interleaving gives it: a cycle {model} allows and sc forbids "
             f"(po: program order, rf: reads from, fr: reads a value older than, "
             f"co: written before)"]
    for a, b, rel, *rest in cycle:
        forbids = rest[0] if rest else None
        head = f"{indent}  {rel}  {name(a)} -> {name(b)}  "
        if rel == "po":
            ev_a = events[a] if a < len(events) else {}
            lo, hi = ev_a.get("index", 0), events[b]["index"] if b < len(events) else 0
            between = [e["label"] for e in events
                       if e.get("tid") == ev_a.get("tid") and lo < e.get("index", -1) < hi
                       and e.get("kind") == "F" and e.get("label")]
            dep = deps.get((a, b))
            if dep:
                between.append(f"{DEPENDENCY[dep]} dependency")
            fences = (f"between them: {', '.join(dict.fromkeys(between))}" if between
                      else "no barrier between them")
            cpu = at[a].get("cpu") if a in at else ev_a.get("tid")
            if forbids == "alone":
                verdict = (f"{model} lets these two take effect out of order ({fences}); "
                           f"an smp_mb() between them would forbid this execution")
            elif forbids == "together":
                verdict = (f"{model} lets these two take effect out of order ({fences}); "
                           f"an smp_mb() here forbids this execution together with one "
                           f"between each other program-order pair of the cycle")
            elif forbids == "no":
                verdict = (f"kept in order as far as this cycle goes ({fences}): an smp_mb() "
                           f"here would not forbid it")
            else:
                verdict = fences
            lines.append(f"{head}cpu{cpu}: {what(a)}, then {what(b)}: a {kind(a)} then a "
                         f"{kind(b)}; {verdict}")
        elif rel == "rf":
            lines.append(f"{head}{what(b)} reads what {what(a)} wrote")
        elif rel == "fr":
            lines.append(f"{head}{what(a)} reads a value older than {what(b)} writes")
        else:
            lines.append(f"{head}{what(a)} is overwritten by {what(b)}")
    return lines
