"""Run a C litmus test under a memory model and count as herd7 does.

Every complete execution the checker explores counts once per
reads-from/coherence class (``dpor`` explores each class once; under the
interleaving strategies executions with the same signature count once, so
``dfs`` and ``dpor`` give the same numbers) is first matched against the ``filter``
(an execution that fails it is dropped), then against the condition's
proposition: Positive counts those that satisfy it, Negative those that do
not. The observation is ``Never`` (no positive), ``Always`` (no negative) or
``Sometimes``. Executions that deadlock (a ``spin_lock`` that can never be
taken) are not executions at all for herd7 and are not counted, so a test
whose every execution deadlocks or is filtered out observes ``Never 0 0``
(what ``Result: DEADLOCK`` stands for in the kernel's tests).

The final states shown are over the ``locations`` and the condition's
locations, registers first (by thread, then name), then shared locations by
name, and the states sorted, as herd7 prints them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InternalError, UsageError
from . import ast as A
from .compile import Compiled, compile_test
from .parse import parse_file

KIND_WORD = {"exists": "Allowed", "~exists": "Forbidden", "forall": "Required"}


@dataclass
class LitmusResult:
    name: str
    path: str
    model: str
    strategy: str
    kind: str                          # exists, ~exists or forall
    condition: str                     # as herd7 prints it: exists (0:r0=0 /\ 1:r0=0)
    locations: tuple[str, ...]         # the shown locations, in order
    states: list[tuple] = field(default_factory=list)   # each a tuple of values
    positive: int = 0
    negative: int = 0
    flags: tuple[str, ...] = ()
    seconds: float = 0.0
    executions: int = 0                # distinct complete executions explored
    filtered: int = 0                  # of which dropped by the filter
    deadlocked: int = 0                # executions that deadlocked (not counted)
    complete: bool = True              # the exploration was exhaustive
    expected: str | None = None        # the test's Result: line

    @property
    def observation(self) -> str:
        if self.positive == 0:
            return "Never"
        return "Always" if self.negative == 0 else "Sometimes"

    @property
    def verdict(self) -> str:
        return KIND_WORD[self.kind]

    @property
    def ok(self) -> bool:
        """herd7's Ok/No: the condition is validated."""
        if self.kind == "exists":
            return self.positive > 0
        if self.kind == "~exists":
            return self.positive == 0
        return self.negative == 0

    @property
    def witnesses(self) -> tuple[int, int]:
        if self.kind == "~exists":
            return self.negative, self.positive
        return self.positive, self.negative

    @property
    def judged(self) -> bool | None:
        """Whether the observation is the test's ``Result:`` (None: none stated).
        ``DEADLOCK`` means ``Never 0 0``."""
        if self.expected is None:
            return None
        if self.expected.upper() == "DEADLOCK":
            return self.positive == 0 and self.negative == 0
        return self.observation.lower() == self.expected.lower()

    def state_text(self, state: tuple) -> str:
        return " ".join(f"{k}={_show(v)};" for k, v in zip(self.locations, state))

    def to_json(self) -> dict:
        return {"test": self.name, "path": self.path, "model": self.model,
                "strategy": self.strategy, "kind": self.kind, "condition": self.condition,
                "states": [dict(zip(self.locations, map(_show, s))) for s in self.states],
                "positive": self.positive, "negative": self.negative, "ok": self.ok,
                "observation": self.observation, "flags": list(self.flags),
                "executions": self.executions, "filtered": self.filtered,
                "deadlocked": self.deadlocked, "complete": self.complete,
                "expected": self.expected, "matches": self.judged,
                "seconds": round(self.seconds, 3)}


def run(test, model: str = "lkmm", strategy: str | None = None) -> LitmusResult:
    """Explore ``test`` (a path, a ``LitmusTest`` or a ``Compiled``) under ``model``."""
    from ..check import CheckConfig, check
    compiled = _compiled(test)
    config = CheckConfig(strategy=strategy or default_strategy(compiled.test, model),
                         memory_model=model, stop_on_first=False)
    t = compiled.test
    cond = t.condition
    shown = _shown(t)
    result = LitmusResult(t.name, t.path, model, config.strategy, cond.kind,
                          f"{cond.kind} {show_prop(cond.prop, top=True)}",
                          tuple(loc.key for loc in shown), expected=t.expected)
    seen: set = set()
    states: set = set()
    flags: dict[str, None] = {}

    dedupe = config.strategy != "dpor"     # dpor explores each class once already

    def observe(outcome) -> None:
        if dedupe:
            if outcome.signature in seen:
                return
            seen.add(outcome.signature)
        violation = outcome.violation
        if violation is not None:
            if violation.kind in ("deadlock", "livelock"):
                result.deadlocked += 1
                return
            raise _thread_error(t, violation)
        result.executions += 1
        final = _Final(outcome)
        satisfied = _satisfies(t, final)
        if satisfied is None:
            result.filtered += 1
            return
        for flag in getattr(outcome, "flags", None) or ():
            flags[flag] = None
        if satisfied:
            result.positive += 1
        else:
            result.negative += 1
        states.add(tuple(final[loc] for loc in shown))

    t0 = time.perf_counter()
    res = check(compiled.factory, config, observe=observe)
    result.seconds = time.perf_counter() - t0
    result.complete = res.stats.exhausted
    result.states = sorted(states, key=lambda s: tuple(map(_order, s)))
    result.flags = tuple(flags)
    return result




def _satisfies(t: A.LitmusTest, final) -> bool | None:
    """Whether a final state satisfies the condition's proposition; None
    when the test's ``filter`` drops it."""
    if t.filter is not None and not holds(t.filter, final):
        return None
    return holds(t.condition.prop, final)


class _Found(Exception):
    pass


def witness(test, model: str = "lkmm") -> dict | None:
    """One execution the test's Observation is about, as a result's data for
    a trace page (``report.html.trace_page``): for ``exists`` and ``~exists``
    one whose final state satisfies the condition (allowed, or the execution
    a Forbidden test must not have), for ``forall`` one where it fails;
    filtered and deadlocked executions do not count. None when there is no
    such execution. Explored with ``enum``, which hands every execution over
    as a graph (sc and tso included), and stops at the first."""
    from ..check import CheckConfig, check
    from ..check.memory import axiomatic_model
    from ..check.strategies.weakresult import counterexample
    compiled = _compiled(test)
    t = compiled.test
    cond = t.condition
    wanted = cond.kind != "forall"
    found: list = []

    def observe(outcome) -> None:
        if outcome.violation is not None or outcome.graph is None:
            return
        final = _Final(outcome)
        if _satisfies(t, final) == wanted:        # (None, filtered, is neither)
            found.append((outcome, final))
            raise _Found

    try:
        check(compiled.factory, CheckConfig(strategy="enum", memory_model=model,
                                            stop_on_first=False), observe=observe)
    except _Found:
        pass
    if not found:
        return None
    outcome, final = found[0]
    data = counterexample(outcome.graph, axiomatic_model(model), compiled.factory)
    state = " ".join(f"{loc.key}={_show(final[loc])};" for loc in _shown(t))
    condition = f"{cond.kind} {show_prop(cond.prop, top=True)}"
    says = "fails" if cond.kind == "forall" else "holds"
    data.update(verdict="witness", test=t.name, path=t.path,
                config={"memory_model": model, "strategy": "enum"},
                violation={"kind": "witness", "name": condition,
                           "message": f"final state {state} of an execution {model} "
                                      f"allows: {show_prop(cond.prop, top=True)} {says}"})
    return data


def default_strategy(test: A.LitmusTest, model: str) -> str:
    """``dpor`` under the operational models; ``enum`` (every candidate
    execution judged by the model's axioms, as herd7 does) under the weak
    ones."""
    from ..check.memory import MODELS
    return "dpor" if model in MODELS else "enum"


def _compiled(test) -> Compiled:
    if isinstance(test, Compiled):
        return test
    if isinstance(test, (str, Path)):
        test = parse_file(test)
    if not isinstance(test, A.LitmusTest):
        raise UsageError(f"test={test!r}: expected a path, a LitmusTest or a Compiled test")
    return compile_test(test)


def _shown(t: A.LitmusTest) -> list[A.Loc]:
    locs = list(t.locations) + A.prop_locs(t.condition.prop)
    unique = dict.fromkeys(locs)
    return sorted(unique, key=lambda loc: (0, loc.thread, loc.name) if loc.thread is not None
                  else (1, 0, loc.name))


class _Final:
    """The final value of a location (a register of a thread, or a cell)."""

    def __init__(self, outcome):
        self.results, self.memory = outcome.results, outcome.memory

    def __getitem__(self, loc: A.Loc):
        if loc.thread is None:
            return self.memory[loc.name]
        return self.results[f"P{loc.thread}"][loc.name]


def holds(prop: A.Prop, final) -> bool:
    """Whether the proposition holds of a final state."""
    if isinstance(prop, A.Atom):
        return (final[prop.loc] == prop.value) != prop.negated
    if isinstance(prop, A.Not):
        return not holds(prop.arg, final)
    if isinstance(prop, A.And):
        return all(holds(p, final) for p in prop.args)
    if isinstance(prop, A.Or):
        return any(holds(p, final) for p in prop.args)
    return prop.value


def show_prop(prop: A.Prop, top: bool = False) -> str:
    """A proposition as herd7 prints it: ``(0:r0=0 /\\ 1:r0=0)``, ``not (x=1)``."""
    if isinstance(prop, A.Atom):
        text = f"{prop.loc.key}={_show(prop.value)}"
        text = f"not ({text})" if prop.negated else text
    elif isinstance(prop, A.Const):
        text = "true" if prop.value else "false"
    elif isinstance(prop, A.Not):
        inner = show_prop(prop.arg)
        text = f"not {inner}" if inner.startswith("(") else f"not ({inner})"
    else:
        sep = " /\\ " if isinstance(prop, A.And) else " \\/ "
        return "(" + sep.join(show_prop(p) for p in prop.args) + ")"
    return f"({text})" if top else text


def _thread_error(t: A.LitmusTest, violation) -> Exception:
    marker = "LitmusRuntimeError: "
    if marker in violation.message:
        return UsageError(violation.message.split(marker, 1)[1])
    return InternalError(f"{t.path}: running the test failed: {violation.message}")


def _order(value):
    return (0, value, "") if isinstance(value, int) else (1, 0, str(value))


def _show(value) -> str:
    return str(value)


def collect(paths) -> list[Path]:
    """The test files of ``paths``: each a .litmus file, or a folder searched for
    ``*.litmus`` below it (sorted)."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(p.rglob("*.litmus"))
            if not found:
                raise UsageError(f"{raw}: no *.litmus file in this folder; give a "
                                 f".litmus file or a folder of them")
            out += found
        elif p.is_file():
            out.append(p)
        else:
            raise UsageError(f"{raw}: no such file or folder; give a .litmus file or a "
                             f"folder of them")
    return out


def bench_folder(paths, model: str = "lkmm", strategy: str | None = None) -> dict:
    """Parse, compile and explore every test of ``paths`` under ``model``: one
    JSON-able row with the tests, the executions explored, how many observe
    their ``Result:`` line, the wall-clock seconds of the whole folder and the
    executions per second (``gupsim bench --litmus``)."""
    t0 = time.perf_counter()
    results = [run(compile_test(parse_file(p)), model, strategy) for p in collect(paths)]
    seconds = time.perf_counter() - t0
    executions = sum(r.executions for r in results)
    slow = max(results, key=lambda r: r.seconds)
    return {"model": model, "tests": len(results), "executions": executions,
            "match": sum(1 for r in results if r.judged),
            "mismatch": sum(1 for r in results if r.expected and not r.judged),
            "seconds": round(seconds, 3),
            "per_second": round(executions / seconds, 1) if seconds else None,
            "slowest": slow.name, "slowest_seconds": round(slow.seconds, 3),
            "strategy": slow.strategy}
