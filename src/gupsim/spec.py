"""What a checker run is made of: programs, threads, invariants, violations.

A ``Program`` is one freshly built world: the initial values of the shared
cells, the threads (each a generator pinned to a CPU) and the properties to
check. The checker is stateless: it calls a *factory* (a zero-argument
callable returning a new ``Program``) before every execution, so a factory
must build everything anew and must be deterministic.

Properties come in three kinds:

* ``Assert`` ops inside threads (and Python ``assert``): checked where they run.
* ``Invariant(..., when="end")``: a predicate over the final values of the
  cells (and the threads' return values), checked after every complete
  execution. Sound under every strategy.
* ``Invariant(..., when="always")``: a predicate over the cells after every
  step. Exact under the interleaving strategies (dfs, random, pct, replay);
  under dpor it is evaluated along one interleaving of each equivalence class,
  so a property that holds only transiently may be missed there: write such a
  property as an ``Assert`` at the access instead.

A ``Scenario`` is a named, parameterised factory kept in ``SCENARIOS``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import UnknownName, UsageError


@dataclass
class ThreadSpec:
    """One thread: ``body`` is a generator object (already called).

    ``cpu`` is the CPU it runs on; None gives it a CPU of its own (numbered
    after the named ones). Two threads may not share a CPU.
    """

    name: str
    body: Generator
    cpu: int | None = None


@dataclass(frozen=True)
class Violation:
    """A property that failed: the result of a found bug (never an exception).

    ``kind`` is ``assertion``, ``invariant``, ``deadlock``, ``livelock`` or
    ``exception`` (the model raised). ``name`` names the property.
    """

    kind: str
    name: str
    message: str
    evidence: tuple[tuple[str, str], ...] = ()
    hint: str = ""

    def headline(self) -> str:
        return f"{self.kind} violated: {self.name}" if self.kind in (
            "invariant", "assertion") else f"{self.kind}: {self.name}"

    def to_json(self) -> dict:
        return {"kind": self.kind, "name": self.name, "message": self.message,
                "evidence": [list(p) for p in self.evidence], "hint": self.hint}

    @classmethod
    def from_json(cls, d: Mapping) -> "Violation":
        return cls(d["kind"], d["name"], d["message"],
                   tuple((str(k), str(v)) for k, v in d.get("evidence", ())),
                   d.get("hint", ""))


def make_violation(kind: str, name: str, message: str, evidence: Mapping[str, Any] | None = None,
                   hint: str = "") -> Violation:
    ev = tuple((str(k), v if isinstance(v, str) else repr(v))
               for k, v in (evidence or {}).items())
    return Violation(kind, name, message, ev, hint)


@dataclass(frozen=True)
class Invariant:
    """A named property over the cells.

    ``check(mem)`` (``when="always"``) or ``check(mem, results)``
    (``when="end"``) returns None when the property holds, otherwise a message
    (str) or a ``Violation``. ``mem`` maps cell names to current values;
    ``results`` maps thread names to their return values.
    """

    name: str
    check: Callable[..., Any]
    when: str = "always"

    def __post_init__(self):
        if self.when not in ("always", "end"):
            raise UsageError(f"when={self.when!r}: expected 'always' or 'end'")

    def evaluate(self, mem: Mapping[str, Any], results: Mapping[str, Any] | None = None):
        out = self.check(mem) if self.when == "always" else self.check(mem, results or {})
        if out is None or out is True:
            return None
        if isinstance(out, Violation):
            return out
        return make_violation("invariant", self.name, str(out) if out is not False
                              else f"{self.name} does not hold")


def invariant(name: str, when: str = "always") -> Callable[[Callable], Invariant]:
    """Decorator: ``@invariant("refcount-non-negative")`` makes an ``Invariant``."""
    def wrap(fn: Callable) -> Invariant:
        return Invariant(name, fn, when)
    return wrap


@dataclass
class Program:
    """One freshly built world for one execution."""

    threads: list[ThreadSpec]
    memory: dict[str, Any]
    invariants: list[Invariant] = field(default_factory=list)
    context: Any = None
    """Opaque model state (for example a kernel); the checker never looks inside,
    but hands it to ``snapshot`` when it records a trace."""
    snapshot: Callable[[Any, Mapping[str, Any]], Any] | None = None
    """Optional ``snapshot(context, mem) -> JSON-able`` for trace viewers."""
    describe: Callable[[Any, Any], str | None] | None = None
    """Optional ``describe(op, value) -> str`` naming an op in the model's terms."""
    interrupts: bool = True
    """Whether a thread may send IPIs. Under dpor every CPU then looks for
    pending IPIs at each boundary where its IRQs are enabled (a read of its
    ``cpuN.ipi_sent`` cell). Programs that never send one may set False to
    skip those reads; a SendIpi is then refused."""


Factory = Callable[[], Program]


@dataclass(frozen=True)
class Param:
    """A scenario parameter: its default and an optional check."""

    name: str
    default: Any
    doc: str = ""
    choices: tuple = ()


@dataclass(frozen=True)
class Scenario:
    """A named, parameterised program factory."""

    name: str
    build: Callable[..., Program]
    doc: str = ""
    params: tuple[Param, ...] = ()
    tags: tuple[str, ...] = ()

    def factory(self, **kwargs: Any) -> Factory:
        """A zero-argument factory with ``kwargs`` bound (validated here)."""
        known = {p.name: p for p in self.params}
        for key, value in kwargs.items():
            if key not in known:
                raise UnknownName(f"parameter of scenario {self.name}", key, known)
            p = known[key]
            if p.choices and value not in p.choices:
                raise UsageError(f"{key}={value!r}: expected one of "
                                 f"{', '.join(map(str, p.choices))}")
        args = {p.name: p.default for p in self.params}
        args.update(kwargs)
        return lambda: self.build(**args)


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, *, tags: tuple[str, ...] = (), registry: dict | None = None,
             **param_docs: str) -> Callable[[Callable[..., Program]], Scenario]:
    """Register ``build(**params) -> Program`` as a scenario; defaults come from
    the function's signature."""
    def wrap(build: Callable[..., Program]) -> Scenario:
        params = tuple(
            Param(p.name, p.default, param_docs.get(p.name, ""))
            for p in inspect.signature(build).parameters.values()
            if p.default is not inspect.Parameter.empty)
        sc = Scenario(name, build, inspect.getdoc(build) or "", params, tags)
        target = SCENARIOS if registry is None else registry
        target[name] = sc
        return sc
    return wrap


def get_scenario(name: str) -> Scenario:
    if name not in SCENARIOS:
        raise UnknownName("scenario", name, SCENARIOS)
    return SCENARIOS[name]
