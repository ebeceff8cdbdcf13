"""``AddrScope``: every later access of the thread has an address dependency
on the named reads, as every ``page->`` access has on the ``pte`` that gave
``page``. Message passing with smp_wmb() on the writer and the reader's
second load dependent on its first is forbidden on armv8, armv7 and power
(and under LKMM); without the dependency it is allowed on all of them. An
``AddrScope()`` ends the scope, and an IPI handler does not inherit it."""

from __future__ import annotations

import pytest

from gupsim import AddrScope, CheckConfig, Fence, Invariant, Load, SendIpi, Store, check

WEAK = ("lkmm", "armv8", "armv7", "power")


def writer():
    yield Store("data", 1)
    yield Fence("wmb")
    yield Store("flag", 1)


def reader(scope: str):
    f = yield Load("flag", reg="f")
    if scope == "on":
        yield AddrScope("f")
    elif scope == "ended":
        yield AddrScope("f")
        yield AddrScope()
    d = yield Load("data")
    yield Store("saw", (f, d))


def stale(mem, results):
    if mem["saw"] == (1, 0):
        return "the reader saw the flag and then the old data"


def mp(make_program, scope):
    return make_program(writer(), reader(scope), memory={"data": 0, "flag": 0, "saw": None},
                        invariants=[Invariant("mp", stale, "end")])


@pytest.mark.parametrize("model", WEAK)
@pytest.mark.parametrize("strategy", ["dpor", "enum"])
def test_the_dependency_orders_the_reads(model, strategy, make_program):
    cfg = CheckConfig(strategy=strategy, memory_model=model, stop_on_first=False)
    assert check(lambda: mp(make_program, "on"), cfg).verdict == "safe"
    for scope in ("none", "ended"):
        assert check(lambda: mp(make_program, scope), cfg).verdict == "violation", scope


def test_an_ipi_handler_starts_without_the_scope():
    """The handler's load of ``data`` is not ordered after the interrupted
    code's read of ``flag`` by that code's dependency: the handler computes
    its addresses itself. It runs after the read (it sees the ``phase`` store
    that follows it in program order) and may still see the old data."""
    from gupsim import Program, ThreadSpec

    def handler(cpu):
        p = yield Load("phase")
        d = yield Load("data")
        yield Store("saw_h", (p, d))

    def target():
        f = yield Load("flag", reg="f")
        yield AddrScope("f")
        yield Store("phase", 1)
        yield Store("seen_flag", f)

    def sender():
        yield SendIpi([1], handler, wait=False, name="look")

    seen = set()

    def factory():
        return Program([ThreadSpec("W", writer(), cpu=0), ThreadSpec("T", target(), cpu=1),
                        ThreadSpec("S", sender(), cpu=2)],
                       {"data": 0, "flag": 0, "phase": 0, "seen_flag": None, "saw_h": None})
    res = check(factory, CheckConfig(strategy="dpor", memory_model="armv8",
                                     stop_on_first=False),
                observe=lambda o: seen.add((o.memory["seen_flag"], o.memory["saw_h"])))
    assert res.stats.exhausted
    assert (1, (1, 1)) in seen
    assert (1, (1, 0)) in seen     # after the flag read, the old data
