"""Plain-text rendering of a check ``Result``: what a terminal user reads.

A violation renders as a headline, the message, aligned evidence lines, the
trace of the failing execution step by step, where and how it was found, the
statistics, and a command line that replays it::

    invariant violated: SB never 0:r0=0 1:r0=0
      SB: outcome 0:r0=0 1:r0=0 happened

    trace (4 steps):
      step  thread  cpu   irqs  where                      op           value  read-from
         0  P0      cpu0  on    p() programs/litmus.py:75  store x = 1
      ...
    found after 3 executions (strategy dfs, memory model tso)
    statistics: 3 executions, 12 events, 0.00 s
    replay: gupsim replay litmus/SB --memory-model tso --schedule 's1:0*2.1*2.0f.1f'

A safe result states its bounds instead ("safe within bounds: ..."). The
renderer reads only the ``Result`` (and its JSON form): it never re-runs.
``bench_header``/``bench_line`` render the rows of ``gupsim bench``.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..check.result import Result, Stats


def table(rows: Iterable[Sequence[Any]], header: Sequence[str] | None = None,
          right: Iterable[int] = (), indent: str = "") -> list[str]:
    """Rows of cells as aligned text lines; columns in ``right`` align right."""
    body = [[("" if c is None else str(c)) for c in row] for row in rows]
    if header is not None:
        body.insert(0, list(header))
    if not body:
        return []
    ncols = max(len(r) for r in body)
    widths = [max((len(r[i]) for r in body if i < len(r)), default=0) for i in range(ncols)]
    right = set(right)
    lines = []
    for row in body:
        cells = [(row[i].rjust(widths[i]) if i in right else row[i].ljust(widths[i]))
                 if i < len(row) else " " * widths[i] for i in range(ncols)]
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def headline(result: Result) -> str:
    """One line: what was found, or within which bounds nothing was."""
    if result.violation is not None:
        return result.violation.headline()
    return bounds_line(result)


def evidence_lines(result: Result, indent: str = "  ") -> list[str]:
    """The violation's message, then its evidence as ``key: value`` aligned on the colon."""
    v = result.violation
    if v is None:
        return []
    lines = [indent + line for line in v.message.splitlines()]
    pairs = list(v.evidence) + ([("hint", v.hint)] if v.hint else [])
    if pairs:
        width = max(len(k) for k, _ in pairs)
        lines += [f"{indent}  {k.rjust(width)}: {val}" for k, val in pairs]
    return lines


# -- the trace --------------------------------------------------------------------

TRACE_HEADER = ("step", "thread", "cpu", "irqs", "where", "op", "value", "read-from")


def _where(ev: Mapping[str, Any]) -> str:
    if "file" not in ev:
        return ""
    return f"{ev.get('function', '?')}() {ev['file']}:{ev.get('line', 0)}"


def _irqs(ev: Mapping[str, Any]) -> str:
    state = "" if ev.get("irqs") is None else ("on" if ev["irqs"] else "off")
    return f"{state} (irq)" if ev.get("in_irq") else state


def _value(ev: Mapping[str, Any]) -> str:
    kind = ev.get("kind")
    if kind == "U":
        return f"{_show(ev.get('old'))} -> {_show(ev.get('value'))}"
    if kind in ("R", "A"):
        return _show(ev.get("value"))
    return ""


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "(" + ", ".join(_show(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value) if isinstance(value, str) else str(value)


def _writers(trace: Sequence[Mapping[str, Any]]) -> dict[tuple[int, int], Mapping]:
    """(thread id, access index) -> trace entry; notes are not accesses."""
    counts: dict[int, int] = {}
    out = {}
    for ev in trace:
        if ev.get("kind") == "note":
            continue
        tid = ev.get("tid", 0)
        idx = counts.get(tid, 0)
        counts[tid] = idx + 1
        out[(tid, idx)] = ev
    return out


def _read_from(ev: Mapping[str, Any], writers: Mapping) -> str:
    src = ev.get("read_from")
    if src is None:
        return ""
    if src == "init":
        return "init"
    w = writers.get(tuple(src))
    return f"step {w['step']} ({w['thread']})" if w is not None else str(src)


def trace_lines(trace: Sequence[Mapping[str, Any]], indent: str = "  ") -> list[str]:
    """One aligned line per step; notes span the op column."""
    writers = _writers(trace)
    rows = []
    for ev in trace:
        cpu = f"cpu{ev['cpu']}" if "cpu" in ev else ""
        if ev.get("kind") == "note":
            op = f"# {ev.get('text', '')}"
            rows.append((ev.get("step", ""), ev.get("thread", ""), cpu, _irqs(ev),
                         _where(ev), op))
            continue
        op = ev.get("op", "")
        if ev.get("text") and ev["text"] != op:
            op = f"{op}  [{ev['text']}]"
        rows.append((ev.get("step", ""), ev.get("thread", ""), cpu, _irqs(ev), _where(ev),
                     op, _value(ev), _read_from(ev, writers)))
    return table(rows, TRACE_HEADER, right=(0,), indent=indent)


# -- statistics, bounds, replay ---------------------------------------------------------

def stats_line(stats: Stats) -> str:
    parts = [plural(stats.executions, "execution")]
    if stats.classes is not None:
        parts.append(f"{stats.classes:,} classes")
    if stats.blocked:
        parts.append(f"{stats.blocked:,} blocked")
    parts.append(f"{stats.events:,} events")
    rate = f" ({stats.per_second:,.0f} executions/s)" if stats.seconds >= 0.01 else ""
    return f"statistics: {', '.join(parts)}, {stats.seconds:.2f} s{rate}"


def _bound_terms(result: Result) -> list[str]:
    b, cfg = result.bounds, result.config
    terms = [f"memory model {b.get('memory_model', cfg.get('memory_model', '?'))}",
             f"strategy {b.get('strategy', cfg.get('strategy', '?'))}"]
    if b.get("preemption_bound") is not None:
        terms.append(f"preemption bound {b['preemption_bound']}")
    if b.get("seed") is not None:
        terms.append(f"seed {b['seed']}")
    return terms


def bounds_line(result: Result) -> str:
    terms = ", ".join(_bound_terms(result))
    n = result.stats.executions
    if result.violation is not None:
        return f"found after {plural(n, 'execution')} ({terms})"
    if result.verdict == "safe":
        return f"safe within bounds: {plural(n, 'execution')}, {terms}"
    why = _incomplete_reason(result)
    return f"no violation in {plural(n, 'execution')}, but {why} ({terms})"


def _incomplete_reason(result: Result) -> str:
    cfg = result.config
    if result.bounds.get("stopped_by"):
        return _covered(result, result.bounds["stopped_by"])
    if cfg.get("strategy") in ("random", "pct", "replay"):
        return f"strategy {cfg['strategy']} does not explore everything"
    if cfg.get("max_executions") is not None and result.stats.executions >= cfg["max_executions"]:
        return _covered(result, f"--max-executions {cfg['max_executions']} stopped the "
                                f"exploration")
    if cfg.get("max_seconds") is not None:
        return _covered(result, f"--max-seconds {cfg['max_seconds']:g} stopped the exploration")
    return "the exploration stopped early"


def _covered(result: Result, why: str) -> str:
    """``why``, plus what a parallel run left unexplored (``bounds["covered"]``)."""
    cov = result.bounds.get("covered")
    if not cov or "pending_items" not in cov:
        return why
    text = f"{why}; {cov['pending_items']:,} subtrees not explored"
    if cov.get("estimated_total"):
        text += f" (of an estimated {cov['estimated_total']:,} executions in all)"
    return text


def replay_command(scenario: str, schedule: str, memory_model: str | None = None,
                   params: Mapping[str, Any] | None = None) -> str:
    """A command line that replays ``schedule``; the schedule is always single-quoted."""
    words = ["gupsim", "replay", shlex.quote(scenario)]
    for key, value in sorted((params or {}).items()):
        words += ["--param", shlex.quote(f"{key}={value}")]
    if memory_model:
        words += ["--memory-model", shlex.quote(memory_model)]
    return " ".join(words) + f" --schedule '{schedule}'"


def replay_line(result: Result, scenario: str | None,
                params: Mapping[str, Any] | None = None) -> str | None:
    if not result.schedule:
        return None
    if scenario is None:
        return (f"replay: gupsim.replay(factory, {result.schedule!r}, "
                f"memory_model={result.config.get('memory_model')!r})")
    cmd = replay_command(scenario, result.schedule, result.config.get("memory_model"), params)
    return f"replay: {cmd}"


# -- benchmark rows ----------------------------------------------------------------------

BENCH_COLUMNS = (("program", 16), ("executions", 12), ("expected", 10), ("optimality", 10),
                 ("blocked", 8), ("seconds", 8), ("executions/s", 12))


def bench_header() -> str:
    """The header of the benchmark table (fixed widths: rows print as they finish)."""
    return "  ".join(name.ljust(w) if i == 0 else name.rjust(w)
                     for i, (name, w) in enumerate(BENCH_COLUMNS))


def bench_line(r: dict) -> str:
    """One fixed-width line per row, so rows can be printed as they finish."""
    opt = "-" if r["optimality"] is None else f"{r['optimality']:.3f}"
    cells = (f"{r['program']}({r['n']})",
             f"{r['executions']:,}" + ("" if r["complete"] else "+"),
             "-" if r["expected"] is None else f"{r['expected']:,}", opt,
             f"{r['blocked']:,}", f"{r['seconds']:.2f}", f"{r['per_second']:,.0f}")
    return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                     for i, (c, (_, w)) in enumerate(zip(cells, BENCH_COLUMNS)))


def render(result: Result, scenario: str | None = None,
           params: Mapping[str, Any] | None = None, show_trace: bool = True) -> str:
    """The full report of one check (see the module docstring)."""
    lines = [headline(result)]
    lines += evidence_lines(result)
    if show_trace and result.trace:
        lines += ["", f"trace ({plural(len(result.trace), 'step')}):"]
        lines += trace_lines(result.trace)
        if result.violation is not None and result.graph:
            from .story import cycle_lines
            model = (result.bounds or {}).get("memory_model") or "the model"
            lines += cycle_lines(result.trace, result.graph, model)
    if result.violation is not None:
        lines.append(bounds_line(result))
    lines.append(stats_line(result.stats))
    replay = replay_line(result, scenario, params)
    if replay:
        lines.append(replay)
    return "\n".join(lines)


KERNEL_BENCH_COLUMNS = (("cell", 46), ("model", 5), ("verdict", 10), ("executions", 10),
                        ("distinct", 8), ("blocked", 7), ("again", 6), ("optimal", 7),
                        ("seconds", 7), ("exec/s", 7))


def kernel_bench_header() -> str:
    return "  ".join(name.ljust(w) if i < 3 else name.rjust(w)
                     for i, (name, w) in enumerate(KERNEL_BENCH_COLUMNS))


def kernel_bench_line(r: dict) -> str:
    """One row of ``gupsim bench --kernel``; ``+``: stopped by the time budget."""
    more = "" if r["complete"] else "+"
    cells = (r["cell"], r["memory_model"], r["verdict"], f"{r['executions']:,}{more}",
             f"{r['distinct']:,}", f"{r['blocked']:,}", f"{r['again']:,}",
             "-" if r["optimality"] is None else f"{r['optimality']:.3f}",
             f"{r['seconds']:.2f}", f"{r['per_second']:,.0f}")
    return "  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                     for i, (c, (_, w)) in enumerate(zip(cells, KERNEL_BENCH_COLUMNS)))
