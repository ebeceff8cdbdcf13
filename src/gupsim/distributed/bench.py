"""Speed-ups of the scale-out: ``python -m gupsim.distributed.bench``.

Prints, for lastzero(15) and for the biggest default matrix cell (``CELL``),
the wall-clock time of one worker and of two local workers, the speed-up,
and the CPU seconds each run used (so a machine busy with other work can be
told from an overhead of the split);
then the curve for 1, 2 and 4 workers on a local Ray instance with 4 CPUs,
oversubscribed on a 2-core machine; then what those figures predict for a
64-core node. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import time

from ..check import CheckConfig, check
from . import explore

print = functools.partial(print, flush=True)  # noqa: A001 (a long run shows lines as they come)

CELL = ("gup-vs-thp-split", {"design": "modern", "arch": "powerpc"}, "power")
"""The default matrix cell that takes longest (``gupsim matrix --json``, sorted
by seconds: about 7.5 s and 121 executions on one core, ahead of arm64 under
armv8 at 6 s): POWER's own model is axiomatic, and each execution graph is
judged by it as it grows, so the tree is small and each item is dear (tens
of ms). The split must start at once and cut it finely; the x86-pae cell
under TSO (906 executions, 1.6 s) is the biggest sc/tso one."""


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(run):
    """(result, wall seconds, CPU seconds of this process and its children)."""
    c0, t0 = _cpu(), time.perf_counter()
    res = run()
    return res, time.perf_counter() - t0, _cpu() - c0


def targets(quick: bool):
    from ..cli import load_scenarios
    from ..programs.dpor_bench import BENCHMARKS
    from ..spec import get_scenario
    load_scenarios()
    n = 12 if quick else 15
    yield f"lastzero({n})", (lambda: BENCHMARKS["lastzero"].build(n)), "sc"
    name, params, model = CELL
    label = f"{name} {params['design']} {params['arch']} {model}"
    yield label, get_scenario(name).factory(**params), model


def local_speedups(quick: bool) -> list[dict]:
    rows = []
    for label, factory, model in targets(quick):
        config = CheckConfig(strategy="dpor", memory_model=model)
        one, w1, c1 = timed(lambda: check(factory, config))
        two, w2, c2 = timed(lambda: explore(factory, config, workers=2))
        assert (one.verdict, one.stats.executions) == (two.verdict, two.stats.executions)
        rows.append({"program": label, "executions": one.stats.executions, "wall1": w1,
                     "cpu1": c1, "wall2": w2, "cpu2": c2, "speedup": w1 / w2,
                     "per_item_ms": 1000 * c1 / max(1, one.stats.executions
                                                    + one.stats.blocked)})
    return rows


def ray_curve(n: int) -> list[dict]:
    import ray
    from ..programs.dpor_bench import BENCHMARKS
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    try:
        factory = lambda: BENCHMARKS["lastzero"].build(n)  # noqa: E731
        config = CheckConfig(strategy="dpor")
        rows = []
        for workers in (1, 2, 4):
            res, wall, _ = timed(lambda: explore(factory, config, ray="local",
                                                 workers=workers))
            rows.append({"workers": workers, "wall": wall, "executions": res.stats.executions})
        return rows
    finally:
        ray.shutdown()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="lastzero(12) instead of (15)")
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--ray-n", type=int, default=13, help="lastzero size for the Ray curve")
    args = ap.parse_args(argv)
    cores = len(os.sched_getaffinity(0))
    print(f"machine: {cores} cores; load average before: "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{'program':44} {'execs':>8} {'1 worker':>9} {'2 workers':>10} {'speed-up':>9}"
          f" {'CPU s 1/2':>11}")
    rows = local_speedups(args.quick)
    for r in rows:
        print(f"{r['program']:44} {r['executions']:>8,} {r['wall1']:>8.2f}s {r['wall2']:>9.2f}s "
              f"{r['speedup']:>8.2f}x {r['cpu1']:>5.1f}/{r['cpu2']:<5.1f}")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"(above {cores}: other work shared the cores, the speed-up is a lower bound)")
    if args.no_ray:
        return
    try:
        curve = ray_curve(args.ray_n)
    except ImportError:
        print("ray: not installed (pip install 'gupsim[ray]'); no Ray curve")
        return
    print(f"\nRay, local instance with 4 CPUs on {cores} cores (4 workers oversubscribe), "
          f"lastzero({args.ray_n}):")
    base = curve[0]["wall"]
    for r in curve:
        print(f"  {r['workers']} worker{'s' if r['workers'] > 1 else ' '}  {r['wall']:7.2f} s  "
              f"speed-up {base / r['wall']:.2f}x  ({r['executions']:,} executions)")
    lz = rows[0]
    eff = min(1.0, lz["speedup"] / 2)
    print(f"\n64-core node, from {lz['per_item_ms']:.2f} ms of CPU per item ({lz['program']}) "
          f"and a 2-worker efficiency of {eff:.2f}: {lz['program']} in about "
          f"{lz['cpu1'] / (64 * eff):.1f} s instead of {lz['wall1']:.1f} s")


if __name__ == "__main__":
    main()
