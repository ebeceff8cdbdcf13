"""The designs x arches x hazards matrix, ablations, and counterexamples in kernel terms.

This is the top layer: it builds scenario factories (``scenarios``), names
designs and arches (``kernel``), runs the checker (``check``) and hands plain
data to the renderers (``report.matrix``, ``report.story``).

* ``run_matrix(designs, arches, scenarios, memory_models)`` -> list of ``Cell``:
  each applicable cell is one exhaustive ``dpor`` check (no preemption bound;
  the time budget ``CELL_BUDGET`` is only a safety net, and a cell that hits it
  is reported ``incomplete``).
* ``ablate(scenario, design, arch, memory_models)`` -> list of ``Ablation``:
  the design re-checked with each protection taken away (``design.without``).
* ``counterexample(scenario, **params)`` -> the fewest-preemption
  counterexample (dfs with a growing preemption bound) with each trace step's
  call stack, ready for ``report.story``.

What ``n/a`` means (``not_applicable``): the cell is not checked because it
would not answer a question anyone asked. Three reasons, in order:

1. the arch cannot host the hazard (``arm``, 2-level classic ARM, has no THP:
   no THP split, no futex on a THP tail);
2. the design was never a candidate on that arch (``APPLIES``): x86-2008 is
   arch/x86/mm/gup.c, the RFC and the readers counter were proposed for ARM
   and arm64, powerpc-2008 is arch/powerpc/mm/gup.c, the weak default is what
   ARM/arm64 ran without a GUP-fast of their own; a copy of one on another
   arch is the same walker under another name and adds noise, not answers;
3. the design needs ``pte_special()`` and the arch has none (the generic 2014
   walker and its successors were only enabled where it exists).

Memory model per cell: ``default`` is the arch's own model (``Arch.memory_model``:
x86 -> tso, arm64 -> armv8, arm and arm-lpae -> armv7, powerpc -> power), each
with the arch's mapping of the kernel's primitives. Any explicit list (``sc``,
``tso``, ``lkmm``, ``armv8``, ...) runs every applicable cell under each;
``lkmm`` is what portable kernel code must be correct against.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace

from .check import CheckConfig, check
from .check.memory import ALL_MODELS, MODELS as OPERATIONAL
from .check.context import call_chain
from .errors import NondeterminismError, UnknownName, UsageError
from .kernel import ARCHES, DESIGNS, get_arch, get_design

HAZARDS = ("gup-vs-thp-split", "gup-vs-munmap", "gup-vs-reclaim", "futex-thp-tail")
THP_HAZARDS = ("gup-vs-thp-split", "futex-thp-tail")
CELL_BUDGET = 60.0
"""Seconds per cell: a safety net only (every default cell ends in well under one)."""

_ARM = ("arm", "arm-lpae", "arm64")
APPLIES: dict[str, tuple[str, ...] | None] = {
    "x86-2008": ("x86-64", "x86-pae"),
    "arm-rfc-2013": _ARM,
    "readers-counter-2013": _ARM,
    "powerpc-2008": ("powerpc",),
    "weak-default": _ARM,
    "generic-rcu-2014": None,       # every arch (subject to pte_special)
    "modern": None,
}
"""Design -> the arches it was written or proposed for (None: every arch)."""

VERDICTS = ("safe", "violation", "livelock", "n/a", "incomplete")


def short_invariant(violation) -> str | None:
    """The short name of a violated property: every kernel Assert and
    invariant carries one (``progress`` for a livelock or deadlock)."""
    return None if violation is None else violation.name


def _scenarios():
    from . import scenarios  # noqa: F401  (registers the kernel scenarios)
    from .spec import SCENARIOS
    return SCENARIOS


def memory_model_for(arch: str, choice: str = "default") -> str:
    """The model a cell runs under: ``choice``, or for ``default`` the arch's own."""
    if choice != "default":
        return choice
    model = get_arch(arch).memory_model
    if model not in ALL_MODELS:
        raise UsageError(f"arch {arch!r} names memory model {model!r}, which the checker "
                         f"lacks: expected one of {', '.join(ALL_MODELS)}")
    return model


def known_hazards() -> tuple[str, ...]:
    """The seed's hazards (the default rows), then every other registered
    scenario that takes an ``arch`` and a ``design``."""
    extra = sorted(n for n, sc in _scenarios().items() if n not in HAZARDS
                   and {"arch", "design"} <= {p.name for p in sc.params})
    return HAZARDS + tuple(extra)


def needs_huge_pages(scenario: str) -> bool:
    tags = set(getattr(_scenarios().get(scenario), "tags", ()) or ())
    return scenario in THP_HAZARDS or bool(tags & {"thp", "hugetlb"})


def not_applicable(design: str, arch: str, scenario: str) -> str | None:
    """Why the cell is n/a (see the module docstring), or None."""
    a, d = get_arch(arch), get_design(design)
    if needs_huge_pages(scenario) and not a.has_thp:
        return f"{arch} has no THP"
    applies = APPLIES.get(d.name)
    if applies is not None and a.name not in applies:
        return f"{d.name} was written for {', '.join(applies)}, not {arch}"
    if d.requires_pte_special and not a.has_pte_special:
        return f"{d.name} needs pte_special(), which {arch} lacks"
    return None


@dataclass
class Cell:
    """One matrix cell; ``to_json`` gives the keys ``gupsim matrix --json`` prints."""

    design: str
    arch: str
    scenario: str
    memory_model: str
    verdict: str
    invariant: str | None = None
    executions: int = 0
    seconds: float = 0.0
    message: str = ""

    def to_json(self) -> dict:
        d = asdict(self)
        d["seconds"] = round(self.seconds, 3)
        return d

    @property
    def label(self) -> str:
        if self.verdict == "violation":
            return f"violation: {self.invariant}"
        return self.verdict


def check_cell(scenario: str, memory_model: str, budget: float = CELL_BUDGET, **params):
    """One exhaustive dpor check -> (verdict, violation, executions, seconds).

    Every violating execution is also observed as it happens, so the verdict
    survives a counterexample whose trace cannot be rebuilt (a checker
    problem, reported in the message rather than hiding the finding)."""
    factory = _scenarios()[scenario].factory(**params)
    seen = []

    def observe(outcome):
        if outcome.violation is not None and not seen:
            seen.append(outcome.violation)

    t0 = time.perf_counter()
    config = CheckConfig(strategy="dpor", memory_model=memory_model, max_seconds=budget)
    try:
        res = check(factory, config, observe=observe)
    except NondeterminismError:
        if not seen:
            raise
        v = seen[0]
        return (v.kind if v.kind in ("livelock", "deadlock") else "violation", v, None,
                time.perf_counter() - t0)
    return res.verdict, res.violation, res.stats.executions, res.stats.seconds


def run_cell(design: str, arch: str, scenario: str, model_choice: str = "default",
             budget: float = CELL_BUDGET) -> Cell:
    model = memory_model_for(arch, model_choice)
    why = not_applicable(design, arch, scenario)
    if why is not None:
        return Cell(design, arch, scenario, model, "n/a", message=why)
    verdict, v, n, secs = check_cell(scenario, model, budget, arch=arch, design=design)
    if verdict == "deadlock":
        verdict = "livelock" if v.kind == "livelock" else "violation"
    msg = v.message if v is not None else ""
    if n is None:
        msg += " (trace not rebuilt: the checker's replay diverged)"
    return Cell(design, arch, scenario, model, verdict, short_invariant(v), n or 0, secs,
                msg)


def _names(kind: str, given: Iterable[str] | None, known: Sequence[str]) -> list[str]:
    if not given:
        return list(known)
    out = []
    for name in given:
        if name not in known:
            raise UnknownName(kind, name, known)
        out.append(name)
    return out


def run_matrix(designs=None, arches=None, scenarios=None, memory_models=None,
               budget: float = CELL_BUDGET, progress=None, workers: int = 1) -> list[Cell]:
    """Every (design, arch, scenario, memory model) cell, in the given orders
    (``workers`` processes check cells side by side)."""
    designs = _names("design", designs, tuple(DESIGNS))
    arches = _names("arch", arches, tuple(ARCHES))
    scenarios = list(scenarios) if scenarios else list(HAZARDS)
    _names("hazard", scenarios, known_hazards())
    models = _names("memory model", memory_models, ("default",) + tuple(ALL_MODELS)) \
        if memory_models else ["default"]
    args = [(d, a, s, m, budget) for d in designs for s in scenarios for a in arches
            for m in models]
    from .distributed.local import map_ordered
    return map_ordered(run_cell, args, workers,
                       None if progress is None else lambda i, cell: progress(cell))


# -- ablation -------------------------------------------------------------------------------

@dataclass
class Ablation:
    """One protection under one memory model: is the design still safe without it?"""

    design: str
    arch: str
    scenario: str
    memory_model: str
    protection: str          # "(none)" for the full design
    verdict: str             # of the check without the protection
    necessary: bool | None   # None: the full design's row, an incomplete check, or n/a
    invariant: str | None = None
    executions: int = 0
    seconds: float = 0.0
    reason: str = ""         # why the row is n/a
    params: dict = field(default_factory=dict)   # the scenario's other parameters

    def to_json(self) -> dict:
        d = asdict(self)
        d["seconds"] = round(self.seconds, 3)
        return d


def ablate(scenario: str, design: str, arch: str | None = None,
           memory_models: Sequence[str] = ("sc", "tso"),
           budget: float = CELL_BUDGET, workers: int = 1,
           params: Mapping[str, Any] | None = None) -> list[Ablation]:
    """The full design, then the design without each of its protections, under
    each memory model (``params``: the scenario's other parameters). A protection is necessary under a model when the check
    without it finds a counterexample, redundant when it is still safe, and
    n/a when the arch makes it inert (``Arch.inert``: not checked) or when no
    run of the scenario ever asked about it (``Design.asked``)."""
    if scenario not in _scenarios():
        raise UnknownName("scenario", scenario, _scenarios())
    base = get_design(design)
    if not base.protections:
        raise UsageError(f"--design {base.name}: has no protections to ablate; "
                         f"try one of {', '.join(n for n, d in DESIGNS.items() if d.protections)}")
    arch = arch or _default_param(scenario, "arch")
    get_arch(arch)
    for m in memory_models:
        if m not in ALL_MODELS:
            raise UnknownName("memory model", m, ALL_MODELS)
    from .distributed.local import map_ordered
    # The full design first: a protection its exhaustive run never asked about
    # changes nothing when taken away (the runs are the same), so it is n/a.
    extra = dict(params or {})
    for key in ("arch", "design"):
        if key in extra:
            raise UsageError(f"--param {key}={extra[key]}: give the {key} with --{key}")
    fulls = map_ordered(_ablation_row, [(scenario, base.name, arch, m, None, budget, True,
                                         extra) for m in memory_models], workers)
    args = [(scenario, base.name, arch, m, p, budget, _reached(full, p), extra)
            for m, full in zip(memory_models, fulls) for p in base.protections]
    rows = iter(map_ordered(_ablation_row, args, workers))
    out = []
    for full, _ in fulls:
        out.append(full)
        out.extend(next(rows)[0] for _ in base.protections)
    return out


def _reached(full: tuple, p: str) -> bool:
    row, asked = full
    return p in asked or row.verdict != "safe"      # (a violation stops early)


def _ablation_row(scenario, design, arch, m, p, budget, reached=True, params=None):
    """One row of ``ablate``: ``design`` without protection ``p`` (None: all of
    it), and the protections its runs asked about."""
    base = get_design(design)
    params = dict(params or {})
    why = p and get_arch(arch).inert(p)
    if why:
        return Ablation(base.name, arch, scenario, m, p, "n/a", None, reason=why,
                        params=params), ()
    if not reached:
        return Ablation(base.name, arch, scenario, m, p, "n/a", None,
                        reason=f"{scenario} never runs the code it protects", params=params), ()
    d = replace(base) if p is None else base.without(p)     # (a copy: its own ``asked``)
    verdict, v, n, secs = check_cell(scenario, m, budget, arch=arch, design=d, **params)
    asked = frozenset(d.asked)
    found = verdict in ("violation", "livelock", "deadlock")
    necessary = None if p is None or verdict == "incomplete" else found
    return Ablation(base.name, arch, scenario, m, p or "(none)", verdict, necessary,
                    short_invariant(v), n or 0, secs, params=params), asked


def _default_param(scenario: str, name: str):
    for p in _scenarios()[scenario].params:
        if p.name == name:
            return p.default
    raise UsageError(f"scenario {scenario} has no parameter {name!r}")


# -- counterexamples in kernel terms ------------------------------------------------------

@dataclass
class Counterexample:
    """The fewest-preemption counterexample of a scenario, with call stacks."""

    scenario: str
    params: dict
    memory_model: str
    preemptions: int
    result: object                     # check.Result (trace, schedule, violation)
    stacks: list = field(default_factory=list)


def counterexample(scenario: str, memory_model: str = "sc", max_preemptions: int = 3,
                   budget: float = CELL_BUDGET, **params) -> Counterexample | None:
    """The counterexample with the fewest preemptions, or None when the
    scenario is safe (an exhaustive dpor check decides that first). The search
    runs dfs under preemption bounds 0, 1, 2, ... up to ``max_preemptions``;
    past it, when a bound does not finish within the budget, and for a
    livelock, dpor's own counterexample is returned (``preemptions`` = -1)."""
    verdict, _, _, _ = check_cell(scenario, memory_model, budget, **params)
    if verdict in ("safe", "incomplete"):
        return None
    factory = _scenarios()[scenario].factory(**params)
    # A livelock is searched for by dpor only: dfs does not detect a thread
    # that spins alone and would run it for ever. Under an axiomatic (weak)
    # model dfs cannot run: dpor's own execution graph is the counterexample.
    if memory_model not in OPERATIONAL:
        res = check(factory, CheckConfig(strategy="dpor", memory_model=memory_model,
                                         max_seconds=budget))
        return Counterexample(scenario, dict(params), memory_model, -1, res, [])
    bounds = range(max_preemptions + 1) if verdict == "violation" else ()
    for k in bounds:
        res = check(factory, CheckConfig(strategy="dfs", memory_model=memory_model,
                                         preemption_bound=k, max_seconds=budget))
        if res.violation is not None:
            res.trace, stacks = traced_run(factory, res.schedule, memory_model)
            return Counterexample(scenario, dict(params), memory_model, k, res, stacks)
        if res.verdict == "incomplete":
            break        # a larger bound would not finish either: take dpor's
    res = check(factory, CheckConfig(strategy="dpor", memory_model=memory_model,
                                     max_seconds=budget))
    res.trace, stacks = traced_run(factory, res.schedule, memory_model)
    return Counterexample(scenario, dict(params), memory_model, -1, res, stacks)


def traced_run(factory, schedule: str, memory_model: str):
    """Replay ``schedule`` recording, for every trace step, the call stack of the
    thread that took it: (trace, stacks)."""
    from .check.explorer import trace_of
    from .check.runtime import Execution
    from .check.schedule import decode
    ex = Execution(factory, memory_model, record=True)
    stacks: list[list[str]] = [[] for _ in ex.events]      # notes before the first op
    for action in decode(schedule):
        if ex.violation is not None:
            break
        if action not in ex.enabled():
            raise NondeterminismError(f"replay diverged at {action[0]}{action[1]}; "
                                      f"enabled: {ex.enabled()}")
        stack = call_chain(ex.contexts[action[0]].frames) if action[1] == "s" else []
        before = len(ex.events)
        ex.apply(action)
        stacks.extend([stack] * (len(ex.events) - before))
    if ex.violation is None and not ex.enabled():
        ex.finish()
    stacks.extend([] for _ in range(len(ex.events) - len(stacks)))
    trace = trace_of(ex)
    for d, st in zip(trace, stacks):
        d["stack"] = st
    return trace, stacks


__all__ = ["known_hazards", "needs_huge_pages", "HAZARDS", "APPLIES", "VERDICTS", "Cell", "Ablation", "Counterexample",
           "run_matrix", "run_cell", "check_cell", "ablate", "counterexample",
           "traced_run", "not_applicable", "memory_model_for", "short_invariant"]


# -- the kernel cells benchmark (`gupsim bench --kernel`) ------------------------------------

KERNEL_BENCH: tuple[tuple[str, dict], ...] = (
    ("gup-vs-thp-split", {"design": "x86-2008", "arch": "x86-64"}),
    ("gup-vs-munmap", {"design": "x86-2008", "arch": "x86-64"}),
    ("gup-vs-thp-split", {"design": "arm-rfc-2013", "arch": "arm64"}),
    ("gup-vs-munmap", {"design": "arm-rfc-2013", "arch": "arm64"}),
    ("gup-vs-thp-split", {"design": "readers-counter-2013", "arch": "arm64"}),
    ("gup-vs-thp-split", {"design": "generic-rcu-2014", "arch": "arm64"}),
    ("gup-vs-munmap", {"design": "generic-rcu-2014", "arch": "arm64"}),
    ("gup-vs-reclaim", {"design": "generic-rcu-2014", "arch": "arm64"}),
    ("futex-thp-tail", {"design": "weak-default", "arch": "arm64"}),
    ("gup-vs-fork", {"design": "modern", "arch": "x86-64"}),
    ("gup-vs-fork", {"design": "modern", "arch": "arm64"}),
    ("dirty-cow", {"arch": "x86-64"}),
    ("gup-vs-munmap", {"design": "generic-rcu-2014", "arch": "arm64", "gup_cpus": 3}),
)
"""The seed's cells (each 2013 design on the arch it was written for, one per
hazard it is known for), then dirty-cow, gup-vs-fork and the RCU walker's
munmap fix with three GUP CPUs: the fixed set ``gupsim bench --kernel`` runs."""

SPIN_REFERENCE = ("SPIN, gup-vs-munmap with 3 walkers, a much smaller model: "
                  "454,948 states in about 1.7 s")
"""The published figure the three-walker cell is compared with (not a model
in this project)."""


def kernel_cell_label(scenario: str, params: dict) -> str:
    where = params.get("arch", "")
    if "design" in params:
        where = f"{params['design']}@{where}"
    cpus = params.get("gup_cpus")
    return f"{scenario} {where}" + (f" cpus={cpus}" if cpus else "")


KERNEL_BENCH_SECONDS = 300.0
"""``bench_kernel``'s budget per cell by default."""


def bench_kernel_cell(scenario: str, params: dict, max_seconds: float = KERNEL_BENCH_SECONDS,
                      memory_model: str = "default") -> dict:
    """Explore every execution of one kernel cell (``stop_on_first`` off) and
    count what dpor did: executions, distinct access signatures, blocked
    graphs and graphs reached again. ``optimality`` is distinct signatures per
    graph explored (1.0: each class exactly once, nothing blocked)."""
    from .check.strategies.dpor import class_digest
    model = memory_model_for(params["arch"], memory_model)
    factory = _scenarios()[scenario].factory(**params)
    seen: set = set()
    config = CheckConfig(strategy="dpor", memory_model=model, stop_on_first=False,
                         max_seconds=max_seconds, count_classes=True)
    res = check(factory, config, observe=lambda o: seen.add(class_digest(o.signature)))
    st = res.stats
    weak = model not in OPERATIONAL
    # (under sc/tso a repeated class is one of the executions; under the weak
    # models executions are distinct already and repeats are extra graphs)
    again = st.duplicates if weak else st.executions - len(seen)
    explored = len(seen) + again + st.blocked
    return {"cell": kernel_cell_label(scenario, params), "scenario": scenario,
            "params": dict(params), "memory_model": model, "verdict": res.verdict,
            "executions": st.executions, "distinct": len(seen), "blocked": st.blocked,
            "again": again, "optimality": round(len(seen) / explored, 4) if explored else None,
            "complete": st.exhausted, "seconds": round(st.seconds, 3),
            "per_second": round(st.per_second, 1)}


def bench_kernel(max_seconds: float = KERNEL_BENCH_SECONDS, cells=None,
                 progress=None) -> list[dict]:
    """``bench_kernel_cell`` for each of ``cells`` (default ``KERNEL_BENCH``)."""
    rows = []
    for scenario, params in (KERNEL_BENCH if cells is None else cells):
        rows.append(bench_kernel_cell(scenario, params, max_seconds))
        if progress is not None:
            progress(rows[-1])
    return rows
