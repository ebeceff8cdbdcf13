"""dpor against the enumerator under the weak models, on generated programs.

    python benchmarks/weak_oracle.py [--programs 2000] [--models lkmm,armv8,power,armv7]

For each model, the same ``--programs`` generated programs (two or three
threads of up to three ops, at most seven in all, over two cells: marked loads and stores, acquire
and release, declared data and control dependencies, an undeclared one,
Python control flow on a loaded value, RMWs, fences; see
``tests/check/weak_programs.py``) are explored by ``enum`` (every candidate
execution judged by the model: the ground truth) and by ``dpor``. Printed per
model: programs, executions (enum = dpor on every program, else a mismatch),
load-buffering executions (LB: po | rf cyclic), dpor's duplicates and blocked graphs, and the
seconds of each strategy. Exit 1 on any mismatch. Deterministic: the programs
come from a fixed seed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "check"))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402

from weak_programs import SMALL_PROGRAMS, explore  # noqa: E402


def programs(n: int) -> list:
    out: list = []

    @seed(20261205)
    @settings(max_examples=n + n // 5, deadline=None, database=None,   # (some repeat)
              suppress_health_check=list(HealthCheck))
    @given(SMALL_PROGRAMS)
    def collect(prog):
        if prog not in out:
            out.append(prog)
    collect()
    return out[:n]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--programs", type=int, default=2000)
    ap.add_argument("--models", default="lkmm,armv8,power,armv7")
    args = ap.parse_args(argv)
    progs = programs(args.programs)
    print(f"{len(progs)} distinct generated programs")
    print(f"{'model':6} {'programs':>8} {'executions':>10} {'LB':>6} {'mismatch':>8} "
          f"{'duplicates':>10} {'blocked':>8} {'enum s':>7} {'dpor s':>7}")
    bad = 0
    for model in args.models.split(","):
        execs = dups = blocked = mismatch = cyclic = 0
        t_enum = t_dpor = 0.0
        for prog in progs:
            t0 = time.perf_counter()
            a = explore(prog, "enum", model)
            t1 = time.perf_counter()
            b = explore(prog, "dpor", model)
            t2 = time.perf_counter()
            t_enum += t1 - t0
            t_dpor += t2 - t1
            execs += a[0]
            cyclic += a[4]
            dups += b[2]
            blocked += b[3]
            if (a[0], a[1], a[4]) != (b[0], b[1], b[4]):
                mismatch += 1
                print(f"  mismatch under {model}: {prog}: enum {a[0]}, dpor {b[0]}")
        bad += mismatch
        print(f"{model:6} {len(progs):8} {execs:10,} {cyclic:6,} {mismatch:8} {dups:10,} "
              f"{blocked:8,} {t_enum:7.1f} {t_dpor:7.1f}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
