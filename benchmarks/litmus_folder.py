"""Time a folder of C litmus tests under one or more memory models.

    .venv/bin/python benchmarks/litmus_folder.py ../shared/litmus/lkmm --models sc,tso

Prints one line per model: tests, executions counted, matches with the tests'
Result: lines, and the wall-clock seconds of the whole folder (parsing,
compiling and exploring), plus the slowest test. Figures are printed, never
asserted.
"""

from __future__ import annotations

import argparse

from gupsim.errors import GupsimError
from gupsim.litmus.run import bench_folder


def bench(folder: str, model: str, strategy: str | None) -> str:
    row = bench_folder([folder], model, strategy)
    return (f"{model:5} {row['tests']:3} tests  {row['executions']:6,} executions  "
            f"{row['match']:3} match  {row['seconds']:7.2f} s  {row['per_second'] or 0:9,.0f} exec/s  "
            f"(slowest: {row['slowest']} {row['slowest_seconds']:.2f} s, {row['strategy']})")


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
