"""A loaded cat model as a list of steps, and running it on one execution.

Loading inlines ``include``s (found next to the including file, then in the
model's directory): ``stdlib.cat`` and ``cross.cat`` are the builtins of
``base``; ``cos.cat`` and ``cos-opt.cat``, which in herd enumerate the coherence
orders of the writes ``W`` of that point, become "co is the graph's own co
on ``W``" (with ``coi``, ``coe``, ``fr``, ``fri``, ``fre`` recomputed from the
``rf`` of that point), because the exploration that built the graph chose co
already.

herd's lock.cat derives the reads-from of lock reads (LKR, LF, RL, RU) that
herd's core leaves out, forking with ``with ... from`` over the possible
sources of a failed trylock or an unlocked spin_is_locked(). Our graphs carry
an rf for every read, so a model that includes lock.cat is given herd's core
view (the lock reads without rf, see ``base``), and right after lock.cat a
built-in check, ``lock-rf``, keeps only the choices whose derived ``rf`` and
``co`` (lock.cat places each unlock right after its lock in co) equal the
graph's: a graph is then judged exactly as herd judges the one candidate
execution it is, and a graph whose lock reads read from somewhere (or whose
unlocks sit somewhere in co) herd would never allow is inconsistent
(``failed == "lock-rf"``).

Running: ``with x from S`` forks; the execution is consistent if some choice
passes every check, and its flags are that choice's. Checks run in file
order and the first failing one is the verdict (as in herd).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import syntax as S
from .compile import Scope, bind_values, compile_expr
from .operators import elements, is_empty, same
from .parser import parse
from .values import EMPTY, CatError, Tag, VSet

BUILTIN_INCLUDES = {"stdlib.cat", "cross.cat"}
COS_INCLUDES = {"cos.cat", "cos-opt.cat"}
LOCK_INCLUDE = "lock.cat"
COS_TEXT = """
let co = [W] ; graph.co ; [W]
let coi = co & int
let coe = co \\ coi
let fr = (rf^-1 ; co) \\ id
let fri = fr & int
let fre = fr \\ fri
"""
LOCK_RF = "lock-rf"


@dataclass
class Step:
    op: str                          # let, rec, check, with, rf-agrees
    pos: S.Pos
    data: tuple


@dataclass
class Program:
    title: str
    files: list[str]
    steps: list[Step] = field(default_factory=list)
    slots: dict[str, int] = field(default_factory=dict)       # final slot of each name
    defs: dict[int, tuple] = field(default_factory=dict)      # slot -> (expr, scope)
    nslots: int = 0
    tags: set[str] = field(default_factory=set)               # declared by enum
    locks: bool = False                                       # includes lock.cat
    checks: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    def new_slot(self, name: str) -> int:
        slot = self.nslots
        self.nslots += 1
        self.slots[name] = slot
        return slot


class Loader:
    def __init__(self, search: list[Path]):
        self.search = search
        self.seen: list[str] = []
        self.stack: list[Path] = []          # the includes being read

    def load(self, files: list[Path]) -> Program:
        prog = Program("", [str(f) for f in files])
        for i, f in enumerate(files):
            model = self.parse_file(f)
            if i == len(files) - 1 or not prog.title:
                prog.title = model.title or prog.title
            self.stack = [f.resolve()]
            self.instrs(prog, model.instrs, f.parent)
        return prog

    def parse_file(self, path: Path) -> S.Model:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise CatError(f"cannot read the cat model {str(path)!r}: {err.strerror}") from None
        self.seen.append(str(path))
        return parse(text, str(path))

    def find_include(self, name: str, here: Path, pos: S.Pos) -> Path:
        for d in [here, *self.search]:
            if (d / name).is_file():
                return d / name
        where = ", ".join(str(d) for d in [here, *self.search])
        raise CatError(f"{pos}: include {name!r}: no such file in {where}")

    def instrs(self, prog: Program, instrs: list[S.Instr], here: Path) -> None:
        for ins in instrs:
            handler = getattr(self, "_" + type(ins).__name__.lower(), None)
            if handler is None:
                raise CatError(f"{ins.pos}: {type(ins).__name__.lower()} is not supported "
                               f"by this cat interpreter (see gupsim/models/README.md)")
            handler(prog, ins, here)

    def _let(self, prog: Program, ins: S.Let, here: Path) -> None:
        if ins.rec:
            slots = [prog.new_slot(b.names[0]) for b in ins.bindings]
            sc = Scope(dict(prog.slots))
            items = []
            for b, slot in zip(ins.bindings, slots):
                if len(b.names) != 1:
                    raise CatError(f"{b.pos}: let rec binds one name at a time")
                items.append((slot, compile_expr(b.expr, sc), isinstance(b.expr, S.Fun)))
                prog.defs[slot] = (b.expr, sc)
            prog.steps.append(Step("rec", ins.pos, (items,)))
            return
        sc = Scope(dict(prog.slots))
        items = [(b, compile_expr(b.expr, sc)) for b in ins.bindings]
        out = []
        for b, fn in items:
            slots = [prog.new_slot(n) for n in b.names]
            if len(slots) == 1:
                prog.defs[slots[0]] = (b.expr, sc)
            out.append((b.names, slots, fn, b.pos))
        prog.steps.append(Step("let", ins.pos, (out,)))

    def _check(self, prog: Program, ins: S.Check, here: Path) -> None:
        sc = Scope(dict(prog.slots))
        name = ins.name or f"{ins.test} {ins.expr.text}"
        (prog.flags if ins.mode == "flag" else prog.checks).append(name)
        prog.steps.append(Step("check", ins.pos, (ins, compile_expr(ins.expr, sc), sc, name)))

    def _include(self, prog: Program, ins: S.Include, here: Path) -> None:
        base = Path(ins.file).name
        if base in BUILTIN_INCLUDES:
            return
        if base in COS_INCLUDES:
            self.instrs(prog, parse(COS_TEXT, f"<{base}: the graph's co>").instrs, here)
            return
        path = self.find_include(ins.file, here, ins.pos)
        if path.resolve() in self.stack:
            raise CatError(f"{ins.pos}: include {ins.file!r} includes itself")
        self.stack.append(path.resolve())
        self.instrs(prog, self.parse_file(path).instrs, path.parent)
        self.stack.pop()
        if base == LOCK_INCLUDE:
            prog.locks = True
            sc = Scope(dict(prog.slots))
            rf = compile_expr(S.Var(ins.pos, "rf", text="rf"), sc)
            co = compile_expr(S.Var(ins.pos, "co", text="co"), sc)
            prog.checks.append(LOCK_RF)
            prog.steps.append(Step("rf-agrees", ins.pos, (rf, co)))

    def _enum(self, prog: Program, ins: S.Enum, here: Path) -> None:
        prog.tags.update(ins.tags)
        slot = prog.new_slot(ins.name)
        value = VSet(Tag(t) for t in ins.tags)
        prog.steps.append(Step("const", ins.pos, (slot, value)))

    def _events(self, prog: Program, ins: S.Events, here: Path) -> None:
        return None          # instructions R[...]: the tags are the enum's

    def _ignored(self, prog: Program, ins: S.Ignored, here: Path) -> None:
        return None          # show / unshow / debug

    def _withfrom(self, prog: Program, ins: S.WithFrom, here: Path) -> None:
        fn = compile_expr(ins.expr, Scope(dict(prog.slots)))
        slot = prog.new_slot(ins.name)
        prog.steps.append(Step("with", ins.pos, (slot, fn, ins.name)))


# -- running ---------------------------------------------------------------------

class Eval:
    """One evaluation: slots, predefined names, flags so far."""

    __slots__ = ("g", "base", "alg", "graph", "variants", "flags")

    def __init__(self, nslots, base, alg, graph, variants):
        self.g = [None] * nslots
        self.base, self.alg, self.graph, self.variants = base, alg, graph, variants
        self.flags: list[str] = []

    def fork(self) -> Eval:
        e = Eval.__new__(Eval)
        e.g, e.base, e.alg, e.graph, e.variants = (
            list(self.g), self.base, self.alg, self.graph, self.variants)
        e.flags = list(self.flags)
        return e


@dataclass
class Outcome:
    E: Eval
    failures: list[tuple[str, int]]       # (check name, step index), in order

    @property
    def ok(self) -> bool:
        return not self.failures


def test_holds(E: Eval, ins: S.Check, value) -> bool:
    alg = E.alg
    if ins.test == "acyclic":
        ok = alg.acyclic(alg.rel(value))
    elif ins.test == "irreflexive":
        ok = alg.irreflexive(alg.rel(value))
    else:
        ok = is_empty(E, value)
    return not ok if ins.negate else ok


def run(prog: Program, E: Eval, i: int = 0, stop: bool = True) -> Outcome:
    """Run the steps from ``i``; with ``stop`` the first failing check ends it."""
    failures: list[tuple[str, int]] = []
    steps = prog.steps
    while i < len(steps):
        st = steps[i]
        op = st.op
        if op == "let":
            for names, slots, fn, pos in st.data[0]:
                value = fn(E, None)
                if len(slots) == 1:
                    E.g[slots[0]] = value
                else:
                    for slot, (_, v) in zip(slots, bind_values(names, value, pos)):
                        E.g[slot] = v
        elif op == "check":
            ins, fn, _, name = st.data
            if not test_holds(E, ins, fn(E, None)):
                if ins.mode == "check":
                    failures.append((name, i))
                    if stop:
                        return Outcome(E, failures)
                elif ins.mode == "requires":
                    E.flags.append("undefined")
            elif ins.mode == "flag":
                E.flags.append(name)
        elif op == "with":
            return _fork(prog, E, i, stop, failures)
        elif op == "rf-agrees":
            rf, co = st.data
            if not (same(E, rf(E, None), E.base["graph.rf"])
                    and same(E, co(E, None), E.base["graph.co"])):
                failures.append((LOCK_RF, i))
                if stop:
                    return Outcome(E, failures)
        elif op == "rec":
            _rec(E, st.data[0])
        else:                                   # const
            E.g[st.data[0]] = st.data[1]
        i += 1
    return Outcome(E, failures)


def _fork(prog: Program, E: Eval, i: int, stop: bool, failures) -> Outcome:
    slot, fn, name = prog.steps[i].data
    outcomes = []
    for choice in elements(E, fn(E, None)):
        E2 = E.fork()
        E2.g[slot] = choice
        out = run(prog, E2, i + 1, stop)
        out.failures[:0] = failures
        if out.ok:
            return out
        outcomes.append(out)
    if not outcomes:                    # nothing to choose from: no such execution
        return Outcome(E, failures + [(f"with {name} from", i)])
    matching = [o for o in outcomes if all(f != LOCK_RF for f, _ in o.failures)]
    return (matching or outcomes)[0]


def _rec(E: Eval, items) -> None:
    """A top-level let rec: functions once, then herd's in-order fixpoint
    (each value re-evaluated with the latest ones) from empty."""
    for slot, fn, is_fun in items:
        if not is_fun:
            E.g[slot] = EMPTY
    for slot, fn, is_fun in items:
        if is_fun:
            E.g[slot] = fn(E, None)
    for _ in range(10_000):
        changed = False
        for slot, fn, is_fun in items:
            if not is_fun:
                v = fn(E, None)
                changed = changed or not same(E, v, E.g[slot])
                E.g[slot] = v
        if not changed:
            return
    raise CatError("a let rec does not reach a fixpoint")
