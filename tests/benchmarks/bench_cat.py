"""How fast the cat interpreter judges graphs under LKMM (prints, asserts nothing).

    .venv/bin/python tests/benchmarks/bench_cat.py [--repeat N]

For each candidate execution: its number of events (initial writes
included), the verdict, and the mean CPU time of ``CatModel.check`` over N
runs (process time, so other load on the machine does not count); then the
time to parse and compile the model files (uncached).
"""

from __future__ import annotations

import argparse
import sys
import time

from gupsim.check.cat import find_lkmm, load_model
from gupsim.check.cat.model import _CACHE
from gupsim.check.execgraph import build


def W(cell, value, *tags, **kw):
    return dict(kind="W", cell=cell, value=value, tags=set(tags), **kw)


def R(cell, value, *tags, rf="init", **kw):
    return dict(kind="R", cell=cell, value=value, tags=set(tags), rf=rf, **kw)


def F(tag):
    return dict(kind="F", tags={tag})


def graphs():
    sb = [[W("x", 1, "ONCE"), F("MB"), R("y", 0, "ONCE")],
          [W("y", 1, "ONCE"), F("MB"), R("x", 0, "ONCE")]]
    yield "SB+fencembonceonces", build({"x": 0, "y": 0}, sb)
    sb_plain = [[W("x", 1, "ONCE"), R("y", 0, "ONCE")], [W("y", 1, "ONCE"), R("x", 0, "ONCE")]]
    yield "SB+poonceonces (allowed: every check runs)", build({"x": 0, "y": 0}, sb_plain)
    mp = [[W("x", 1, "ONCE"), F("wmb"), W("y", 1, "ONCE")],
          [R("y", 1, "ONCE", rf=(0, 2)), F("rmb"), R("x", 0, "ONCE")]]
    yield "MP+fencewmbonceonce+fencermbonceonce", build({"x": 0, "y": 0}, mp)
    iriw = [[W("x", 1, "ONCE")], [R("x", 1, "ONCE", rf=(0, 0)), F("MB"), R("y", 0, "ONCE")],
            [W("y", 1, "ONCE")], [R("y", 1, "ONCE", rf=(2, 0)), F("MB"), R("x", 0, "ONCE")]]
    yield "IRIW+fencembonceonces+OnceOnce", build({"x": 0, "y": 0}, iriw)
    locks = [[W("buf", 1, "ONCE"), R("l", 0, "LKR", rmw_op=True),
              W("l", 1, "LKW", rmw=True, rmw_op=True), W("flag", 1, "ONCE"), W("l", 0, "UL", co=1)],
             [R("l", 0, "LKR", rf=(0, 4), rmw_op=True), W("l", 1, "LKW", rmw=True, rmw_op=True, co=2),
              R("flag", 1, "ONCE", rf=(0, 3)), W("l", 0, "UL", co=3), R("buf", 0, "ONCE")]]
    yield "MP+polocks", build({"buf": 0, "flag": 0, "l": 0}, locks)
    big = []
    for t in range(4):                  # 4 CPUs x 4 accesses + 4 initial writes: 20 events
        mine, other = f"c{t}", f"c{(t + 1) % 4}"
        big.append([W(mine, 1, "ONCE"), F("MB"), R(other, 0, "ONCE"),
                    R(mine, 1, "ACQUIRE", rf=(t, 0))])
    yield "SB-4cpu+mb+acquire (20 events)", build({f"c{t}": 0 for t in range(4)}, big)
    rcu = [[F("rcu-lock"), W("x", 1, "ONCE"), W("y", 1, "ONCE"), F("rcu-unlock")],
           [R("x", 1, "ONCE", rf=(0, 1)), F("sync-rcu"), R("y", 0, "ONCE")]]
    yield "RCU+sync+read", build({"x": 0, "y": 0}, rcu)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=500)
    args = ap.parse_args(argv)
    model = load_model("lkmm")
    print(f"LKMM from {find_lkmm()}")
    print(f"{'candidate':44} {'events':>6}  {'verdict':28} {'ms CPU/check':>13}")
    for name, g in graphs():
        verdict = str(model.check(g))
        t0 = time.process_time()
        for _ in range(args.repeat):
            model.check(g)
        ms = (time.process_time() - t0) / args.repeat * 1000
        print(f"{name:44} {len(g):>6}  {verdict:28} {ms:13.3f}")
    _CACHE.clear()
    t0 = time.process_time()
    load_model("lkmm")
    print(f"parse + compile linux-kernel.bell, .cat, lock.cat: "
          f"{(time.process_time() - t0) * 1000:.1f} ms (then cached)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
