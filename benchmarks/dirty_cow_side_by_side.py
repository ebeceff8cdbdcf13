"""dirty-cow on x86-64 under TSO, every design, explored to the end by dpor
in two checkouts side by side: this one and another (a release's commit).

    python benchmarks/dirty_cow_side_by_side.py OTHER_SRC [--max-seconds S]

OTHER_SRC is the ``src`` folder of the other checkout (e.g. made with
``git worktree add /tmp/old COMMIT``). Each cell runs in a fresh process
of the same interpreter, alternating between the checkouts, and the table
prints executions, blocked and seconds for each, with the speed-up.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "src"

CELL = """
import json, sys, time
from gupsim.check import CheckConfig, check
import gupsim.scenarios
from gupsim.spec import SCENARIOS
factory = SCENARIOS["dirty-cow"].factory(arch="x86-64", design=sys.argv[1])
t = time.process_time()
r = check(factory, CheckConfig(strategy="dpor", memory_model="tso", stop_on_first=False,
                               max_seconds=float(sys.argv[2])))
print(json.dumps({"verdict": r.verdict, "executions": r.stats.executions,
                  "blocked": r.stats.blocked, "complete": r.stats.exhausted,
                  "cpu": time.process_time() - t}))
"""


def designs(src: Path) -> list[str]:
    out = subprocess.run([sys.executable, "-c",
                          "from gupsim.kernel import DESIGNS; print(' '.join(DESIGNS))"],
                         env={**os.environ, "PYTHONPATH": str(src)}, capture_output=True,
                         text=True, check=True)
    return out.stdout.split()


def run(src: Path, design: str, max_seconds: float) -> dict:
    out = subprocess.run([sys.executable, "-c", CELL, design, str(max_seconds)],
                         env={**os.environ, "PYTHONPATH": str(src)}, capture_output=True,
                         text=True)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("other", type=Path, help="the other checkout's src folder")
    ap.add_argument("--max-seconds", type=float, default=600.0)
    ap.add_argument("--designs", default=None, help="comma-separated (default: every design)")
    a = ap.parse_args(argv)
    if not (a.other / "gupsim").is_dir():
        print(f"{a.other}: not a src folder with gupsim in it (give the other checkout's src)")
        return 2
    known = designs(HERE)
    names = a.designs.split(",") if a.designs else known
    unknown = [d for d in names if d not in known]
    if unknown:
        print(f"--designs {a.designs}: unknown design {unknown[0]!r}; expected some of "
              f"{', '.join(known)}")
        return 2
    print(f"{'design':24s} {'other: executions blocked cpu-s':>34s} {'this: executions blocked cpu-s':>34s}  speed-up")
    for d in names:
        old, new = run(a.other, d, a.max_seconds), run(HERE, d, a.max_seconds)
        if "error" in old or "error" in new:
            print(f"{d:24s} {old.get('error', '')} {new.get('error', '')}")
            continue

        def cell(r):
            flag = "" if r["complete"] else "+"
            return f"{r['executions']:>12,}{flag:1s} {r['blocked']:>8,} {r['cpu']:>9.1f}"
        print(f"{d:24s} {cell(old):>34s} {cell(new):>34s}  {old['cpu'] / new['cpu']:6.1f}x",
              flush=True)
    print("(+: stopped at --max-seconds; cpu-s: process time of the exploration)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
