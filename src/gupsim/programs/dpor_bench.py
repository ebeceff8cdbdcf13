"""The classic DPOR benchmark programs with their published execution counts.

Transcribed from the benchmark table (GenMC and Nidhugg test suites): every
shared access is one op, thread-local computation is free, all cells start at 0
unless stated. ``BENCHMARKS[name].build(n)`` returns a ``Program``;
``BENCHMARKS[name].expected`` maps N to the published number of executions
under sequential consistency (one per reads-from/coherence class).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from math import factorial

from ..ops import Load, Rmw, Store
from ..spec import Program, ThreadSpec


def _prog(threads, memory) -> Program:
    return Program([ThreadSpec(name, body) for name, body in threads], memory,
                   interrupts=False)


def readers(n: int) -> Program:
    def writer():
        yield Store("x", 42)

    def reader():
        yield Load("x")
    return _prog([("W", writer())] + [(f"R{i}", reader()) for i in range(1, n + 1)],
                 {"x": 0})


def lastzero(n: int) -> Program:
    def t0():
        i = n
        while (yield Load(f"a[{i}]")) != 0:
            i -= 1

    def tj(j):
        v = yield Load(f"a[{j - 1}]")
        yield Store(f"a[{j}]", v + 1)
    return _prog([("T0", t0())] + [(f"T{j}", tj(j)) for j in range(1, n + 1)],
                 {f"a[{i}]": 0 for i in range(n + 1)})


def casrot(n: int) -> Program:
    def t(i):
        yield Rmw("x", "cmpxchg", i, expected=i - 1)
    return _prog([(f"T{i}", t(i)) for i in range(1, n + 1)], {"x": 0})


def wcas(n: int) -> Program:
    def t0():
        yield Store("x", 2)

    def t():
        yield Rmw("x", "cmpxchg", 3, expected=2)
    return _prog([("T0", t0())] + [(f"T{i}", t()) for i in range(1, n + 1)], {"x": 0})


def ainc(n: int) -> Program:
    def t():
        yield Rmw("x", "add", 1)
    return _prog([(f"T{i}", t()) for i in range(1, n + 1)], {"x": 0})


def coa(n: int) -> Program:
    def a():
        yield Store("x", 1)
        yield Load("y")
        yield Load("x")

    def b():
        yield Store("x", 2)
        yield Load("z")
        yield Load("x")

    def c(i):
        yield Store("y", i)
        yield Store("z", i)
    threads = [("A", a()), ("B", b())] + [(f"C{i}", c(i)) for i in range(n - 1)]
    return _prog(threads, {"x": 0, "y": 0, "z": 0})


def fib_bench(n: int = 5) -> Program:
    def t1():
        for _ in range(n):
            a = yield Load("x")
            b = yield Load("y")
            yield Store("x", a + b)

    def t2():
        for _ in range(n):
            a = yield Load("x")
            b = yield Load("y")
            yield Store("y", a + b)

    def t3():
        r1 = yield Load("x")
        if r1 <= 144:
            yield Load("y")
    return _prog([("T1", t1()), ("T2", t2()), ("T3", t3())], {"x": 1, "y": 1})


def indexer(n: int) -> Program:
    def t(tid):
        for i in range(4):
            w = 11 * i + tid
            h = (7 * w) % 128
            while (yield Rmw(f"table[{h}]", "cmpxchg", w, expected=0)) != 0:
                h = (h + 1) % 128
    return _prog([(f"T{t_}", t(t_)) for t_ in range(n)], {f"table[{h}]": 0 for h in range(128)})


def inc(n: int) -> Program:
    def t(i):
        r = yield Load("x")
        yield Store("x", r + 2 ** i)
    return _prog([(f"T{i}", t(i)) for i in range(n)], {"x": 0})


@dataclass(frozen=True)
class Benchmark:
    name: str
    build: Callable[[int], Program]
    expected: dict[int, int]
    no_reduction: dict[int, int] = field(default_factory=dict)
    bounded: dict[int, tuple[int, ...]] = field(default_factory=dict)


BENCHMARKS: dict[str, Benchmark] = {b.name: b for b in [
    Benchmark("readers", readers, {1: 2, 2: 4, 3: 8, 4: 16, 8: 256, 13: 8192},
              {n: factorial(n + 1) for n in (1, 2, 3, 4, 5)}),
    Benchmark("lastzero", lastzero, {1: 2, 2: 5, 3: 12, 4: 28, 5: 64, 10: 3328, 15: 147456},
              {1: 3, 2: 35, 3: 920, 4: 44300}),
    Benchmark("casrot", casrot, {2: 2, 3: 5, 4: 14, 5: 43, 6: 144, 7: 523, 8: 2048, 9: 8597}),
    Benchmark("wcas", wcas, {n: n * 2 ** (n - 1) + 1 for n in range(2, 10)},
              {n: factorial(n + 1) for n in (2, 3, 4, 5)}),
    Benchmark("ainc", ainc, {n: factorial(n) for n in range(2, 8)},
              {n: factorial(n) for n in range(2, 7)}),
    Benchmark("CoA", coa, {1: 4, 2: 15, 3: 130, 4: 2028, 5: 49776},
              bounded={2: (6, 15), 3: (24, 90, 130), 4: (120, 708, 1608, 2028)}),
    Benchmark("fib_bench", fib_bench, {5: 218243}),
    Benchmark("indexer", indexer, {12: 8, 13: 64, 14: 512, 15: 4096}),
    Benchmark("inc", inc, {2: 4, 3: 36, 4: 576}, {2: 6, 3: 90},
              bounded={3: (6, 24, 36), 4: (24, 168, 432, 576)}),
]}
