"""A parsed C litmus test as a gupsim ``Program`` factory.

Each thread is a generator that interprets its C function and yields the ops
of ``litmus.primitives``; it returns a dict of its registers (its locals).
Shared locations are cells named as in the test; a pointer is the name of the
cell it points to (``&x`` and a parameter ``int *x`` are ``"x"``), so ``*p``
accesses the cell named by p's value.

Dependencies, as herd7 sees them: every read gets a register name unique in
its thread (``reg=``; the local it is assigned to, else ``*cell``, with
``#2``, ``#3``, ... on repeats), and every value carries the set of read
registers it was computed from. A store passes those of its value as
``data=`` and those of its address as ``addr=``; a load through a pointer
passes the pointer's as ``addr=``; at each ``if`` the thread yields
``Branch(...)`` with the registers of the condition (herd7 then counts a
control dependency to every later event of the thread). Plain C accesses
(``*x = 1``, ``r = *x``) are ``order="plain"``.

MODEL: ``&&`` and ``||`` evaluate both operands (a litmus condition is a
value computation, not control flow); C's integer widths are not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError
from ..ops import Branch, Load, Store
from ..spec import Program, ThreadSpec
from . import ast as A
from .primitives import NONE, PRIMITIVES


class LitmusRuntimeError(UsageError):
    """A thread did something the test cannot mean (dereferenced a number...)."""


@dataclass(frozen=True)
class Compiled:
    """A test ready to run: ``factory()`` builds a fresh ``Program``."""

    test: A.LitmusTest
    memory: dict                       # cell -> initial value
    registers: dict                    # thread index -> {local: initial value}

    def factory(self) -> Program:
        threads = [ThreadSpec(t.name, Interpreter(self, t).run()) for t in self.test.threads]
        return Program(threads, dict(self.memory), interrupts=False)

    __call__ = factory


def compile_test(test: A.LitmusTest) -> Compiled:
    """Check names and calls statically, collect cells and initial values."""
    memory: dict = {}
    registers: dict = {t.index: {} for t in test.threads}
    for item in test.init:
        if item.thread is None:
            memory[item.name] = item.value
        elif item.thread not in registers:
            raise _error(test, item.pos, f"register {item.thread}:{item.name} of a thread "
                         f"the test does not have (threads: P0..P{len(test.threads) - 1})")
        else:
            registers[item.thread][item.name] = item.value
        if isinstance(item.value, str):
            memory.setdefault(item.value, 0)
    for t in test.threads:
        for p in t.params:
            memory.setdefault(p.name, 0)
        known = {p.name for p in t.params} | set(registers[t.index]) | _locals(t.body)
        _check_body(test, t, t.body, known, memory)
    locs = list(test.locations) + A.prop_locs(test.filter)
    if test.condition is not None:
        locs += A.prop_locs(test.condition.prop)
    for loc in locs:
        if loc.thread is None:
            memory.setdefault(loc.name, 0)
        elif loc.thread not in registers:
            raise UsageError(f"{test.path}: {loc.key}: the test has no thread P{loc.thread}")
        else:
            t = test.threads[loc.thread]
            if loc.name not in _locals(t.body) | set(registers[loc.thread]):
                raise UsageError(f"{test.path}: {loc.key}: {t.name} has no local "
                                 f"{loc.name} (its locals: "
                                 f"{', '.join(sorted(_locals(t.body))) or 'none'})")
    return Compiled(test, dict(sorted(memory.items())), registers)


def _locals(body) -> set[str]:
    out: set[str] = set()
    for s in body:
        if isinstance(s, A.Decl):
            out.add(s.name)
        elif isinstance(s, A.ExprStmt) and isinstance(s.expr, A.Assign) \
                and isinstance(s.expr.target, A.Var):
            out.add(s.expr.target.name)
        elif isinstance(s, A.If):
            out |= _locals(s.then) | _locals(s.orelse)
    return out


def _check_body(test, thread, body, known, memory) -> None:
    for s in body:
        if isinstance(s, A.Decl):
            if s.init is not None:
                _check_expr(test, thread, s.init, known, memory)
        elif isinstance(s, A.ExprStmt):
            _check_expr(test, thread, s.expr, known, memory)
        else:
            _check_expr(test, thread, s.cond, known, memory)
            _check_body(test, thread, s.then, known, memory)
            _check_body(test, thread, s.orelse, known, memory)


def _check_expr(test, thread, e, known, memory) -> None:
    if isinstance(e, A.Var):
        if e.name not in known:
            raise _error(test, e.pos, f"{thread.name} uses {e.name}, which is neither a "
                         f"parameter nor a local of {thread.name}")
        return
    if isinstance(e, A.AddrOf) and isinstance(e.target, A.Var):
        if e.target.name in known:
            raise _error(test, e.pos, f"&{e.target.name}: a local has no address; "
                         f"write &x for a shared location x")
        memory.setdefault(e.target.name, 0)
        return
    if isinstance(e, A.Call):
        if e.name not in PRIMITIVES:
            import difflib
            near = difflib.get_close_matches(e.name, PRIMITIVES, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(near)}?" if near else \
                " (linux-kernel.def lists the primitives)"
            raise _error(test, e.pos, f"unknown primitive {e.name}(){hint}")
        arity = PRIMITIVES[e.name][0]
        if len(e.args) != arity:
            raise _error(test, e.pos, f"{e.name}() takes {arity} argument"
                         f"{'' if arity == 1 else 's'}, not {len(e.args)}")
    for child in _children(e):
        _check_expr(test, thread, child, known, memory)


def _children(e) -> tuple:
    if isinstance(e, A.Call):
        return e.args
    if isinstance(e, A.Binary):
        return (e.left, e.right)
    if isinstance(e, A.Assign):
        return (e.target, e.value)
    if isinstance(e, (A.Deref,)):
        return (e.ptr,)
    if isinstance(e, A.AddrOf):
        return (e.target,)
    if isinstance(e, A.Unary):
        return (e.arg,)
    return ()


def _error(test, pos: A.Pos, message: str) -> UsageError:
    return UsageError(f"{test.path}:{pos.line}:{pos.col}: {message}")


BINOPS = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: int(a / b), "%": lambda a, b: a - b * int(a / b),
    "&": lambda a, b: a & b, "|": lambda a, b: a | b, "^": lambda a, b: a ^ b,
    "<<": lambda a, b: a << b, ">>": lambda a, b: a >> b,
    "==": lambda a, b: int(a == b), "!=": lambda a, b: int(a != b),
    "<": lambda a, b: int(a < b), "<=": lambda a, b: int(a <= b),
    ">": lambda a, b: int(a > b), ">=": lambda a, b: int(a >= b),
    "&&": lambda a, b: int(_truth(a) and _truth(b)),
    "||": lambda a, b: int(_truth(a) or _truth(b)),
}


def _truth(v) -> bool:
    return v != 0        # a pointer (a cell name) is true


class Interpreter:
    """One thread: its environment (value and dependencies of each name)."""

    def __init__(self, compiled: Compiled, thread: A.Thread):
        self.test, self.thread = compiled.test, thread
        self.env: dict[str, tuple] = {p.name: (p.name, NONE) for p in thread.params}
        self.locals: dict[str, None] = {}
        for name, value in compiled.registers[thread.index].items():
            self.env[name] = (value, NONE)
            self.locals[name] = None
        self.regs: dict[str, int] = {}
        self.cells = compiled.memory

    def run(self):
        yield from self.block(self.thread.body)
        return {name: self.env[name][0] for name in sorted(self.locals)}

    def reg(self, base: str) -> str:
        """A register name for a read, unique in the thread."""
        n = self.regs.get(base, 0) + 1
        self.regs[base] = n
        return base if n == 1 else f"{base}#{n}"

    def fail(self, pos: A.Pos, message: str):
        raise LitmusRuntimeError(f"{self.test.path}:{pos.line}:{pos.col}: "
                                 f"{self.thread.name}: {message}")

    # -- statements -------------------------------------------------------------------
    def block(self, body):
        for s in body:
            if isinstance(s, A.Decl):
                value = (yield from self.value(s.init, s.name)) if s.init is not None \
                    else self.env.get(s.name, (0, NONE))
                self.assign(s.name, value)
            elif isinstance(s, A.If):
                value, deps = yield from self.value(s.cond)
                if deps:
                    yield Branch(*sorted(deps))
                yield from self.block(s.then if _truth(value) else s.orelse)
            elif isinstance(s.expr, A.Assign):
                yield from self.assignment(s.expr)
            else:
                yield from self.value(s.expr)

    def assign(self, name: str, value: tuple) -> None:
        self.env[name] = value
        self.locals[name] = None

    def assignment(self, e: A.Assign):
        if isinstance(e.target, A.Var):
            self.assign(e.target.name, (yield from self.value(e.value, e.target.name)))
            return
        cell, addr = yield from self.location(e.target, "location")
        value, data = yield from self.value(e.value)
        yield Store(cell, value, "plain", addr=sorted(addr), data=sorted(data))

    # -- expressions ------------------------------------------------------------------
    def value(self, e: A.Expr, dest: str | None = None):
        """Evaluate ``e``: (value, the read registers it depends on)."""
        if isinstance(e, A.Num):
            return e.value, NONE
        if isinstance(e, A.Var):
            return self.env[e.name]
        if isinstance(e, A.Call):
            return (yield from PRIMITIVES[e.name][1](self, e.args, dest))
        if isinstance(e, A.Deref):
            cell, addr = yield from self.location(e, "location")
            reg = self.reg(dest or f"*{cell}")
            return (yield Load(cell, "plain", reg=reg, addr=sorted(addr))), frozenset((reg,))
        if isinstance(e, A.AddrOf):
            if isinstance(e.target, A.Var):
                return e.target.name, NONE
            if isinstance(e.target, A.Deref):
                return (yield from self.value(e.target.ptr))
            self.fail(e.pos, "& of something that is not a location")
        if isinstance(e, A.Unary):
            v, deps = yield from self.value(e.arg)
            self.need_int(v, e)
            return {"-": -v, "!": int(v == 0), "~": ~v}[e.op], deps
        if isinstance(e, A.Binary):
            a, da = yield from self.value(e.left)
            b, db = yield from self.value(e.right)
            if e.op not in ("==", "!=", "&&", "||"):
                self.need_int(a, e)
                self.need_int(b, e)
            if e.op in ("/", "%") and b == 0:
                self.fail(e.pos, f"division by zero in '{e.op}'")
            return BINOPS[e.op](a, b), da | db
        if isinstance(e, A.Assign):
            self.fail(e.pos, "an assignment inside an expression is not supported")
        self.fail(e.pos, f"cannot evaluate {type(e).__name__}")

    def need_int(self, v, e) -> None:
        if not isinstance(v, int):
            self.fail(e.pos, f"arithmetic on the pointer {v!r}")

    def location(self, e: A.Expr, where: str):
        """The cell an argument designates and the registers its address came
        from. ``where="location"``: written ``*p`` (or ``x`` for a shared x);
        ``"pointer"``: an expression computing the address."""
        if where == "location":
            if isinstance(e, A.Deref):
                e = e.ptr
            elif isinstance(e, A.Var) and e.name not in self.env:
                return e.name, NONE
            else:
                self.fail(e.pos, "expected a location such as *x here")
        addr, deps = yield from self.value(e)
        if not isinstance(addr, str):
            self.fail(e.pos, f"dereferences {addr!r}, which is not a pointer")
        if addr not in self.cells:
            self.fail(e.pos, f"dereferences {addr!r}, which is not a shared location")
        return addr, deps
