"""Time a folder of C litmus tests under one or more memory models.

    .venv/bin/python benchmarks/litmus_folder.py ../shared/litmus/lkmm --models sc,tso

Prints one line per model: tests, executions counted, matches with the tests'
Result: lines, and the wall-clock seconds of the whole folder (parsing,
compiling and exploring), plus the slowest test. Figures are printed, never
asserted.
"""

from __future__ import annotations

import argparse
import time

from gupsim.errors import GupsimError
from gupsim.litmus import compile_test, parse_file
from gupsim.litmus.run import collect, run


def bench(folder: str, model: str, strategy: str | None) -> str:
    t0 = time.perf_counter()
    tests = [compile_test(parse_file(p)) for p in collect([folder])]
    results = [run(t, model, strategy) for t in tests]
    seconds = time.perf_counter() - t0
    executions = sum(r.executions for r in results)
    match = sum(1 for r in results if r.judged)
    slow = max(results, key=lambda r: r.seconds)
    return (f"{model:5} {len(results):3} tests  {executions:6,} executions  "
            f"{match:3} match  {seconds:7.2f} s  (slowest: {slow.name} {slow.seconds:.2f} s, "
            f"{slow.strategy})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("--models", default="sc,tso")
    ap.add_argument("--strategy", choices=("dpor", "dfs"))
    args = ap.parse_args()
    try:
        for model in args.models.split(","):
            print(bench(args.folder, model.strip(), args.strategy), flush=True)
    except GupsimError as err:
        print(f"litmus_folder: {err}")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
