"""The ``gupsim`` command line: list, check, replay, report, bench, demo, matrix,
ablate, explain, deps, litmus, cat.

Exit codes: 0 = nothing found (safe, or incomplete within the given budget),
1 = a violation, deadlock or livelock was found, 2 = bad input (one line on
stderr that echoes the value and says what would work; never a traceback),
3 = a bug in gupsim itself (labelled as such).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from typing import Any

import click

from . import __version__
from .errors import GupsimError, InternalError, NondeterminismError, UnknownName, UsageError

EXIT_FOUND, EXIT_USAGE, EXIT_INTERNAL = 1, 2, 3
KINDS = ("scenarios", "designs", "protections", "arches", "strategies", "memory-models",
         "benchmarks")
DEFAULT_BENCH = (("readers", 13), ("casrot", 9), ("lastzero", 10), ("lastzero", 15),
                 ("fib_bench", 5))
STRATEGY_DOCS = {
    "dpor": "optimal DPOR over execution graphs: one execution per reads-from class",
    "dfs": "every interleaving, depth first (the ground truth; slow)",
    "random": "uniform random walk, one seeded generator per execution",
    "pct": "probabilistic concurrency testing (Burckhardt et al. 2010), depth --pct-depth",
    "replay": "follow one schedule string (use `gupsim replay`)",
}


# -- the group: one-line errors --------------------------------------------------------

def _fail(message: str, code: int) -> None:
    click.echo("gupsim: " + " ".join(str(message).split()), err=True)
    sys.exit(code)


class GupsimGroup(click.Group):
    """A click group whose every failure is one line on stderr with exit code 2 or 3."""

    def main(self, args=None, prog_name="gupsim", complete_var=None, standalone_mode=True,
             **extra):
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.ClickException as err:
            _fail(err.format_message(), err.exit_code)
        except click.exceptions.Abort:
            _fail("aborted", 130)
        except InternalError as err:
            _fail(str(err), EXIT_INTERNAL)
        except GupsimError as err:
            _fail(str(err), EXIT_USAGE)
        except Exception as err:  # noqa: BLE001 - the last line of defence
            if os.environ.get("GUPSIM_DEBUG"):
                raise
            _fail(f"[gupsim internal bug] {type(err).__name__}: {err} "
                  f"(set GUPSIM_DEBUG=1 for the traceback)", EXIT_INTERNAL)
        code = rv if isinstance(rv, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


class Name(click.ParamType):
    """A name from a fixed list, with close-match suggestions."""

    def __init__(self, kind: str, names):
        self.name, self.names = kind, tuple(names)

    def convert(self, value, param, ctx):
        if value in self.names:
            return value
        raise UnknownName(self.name, value, self.names)


def _memory_models() -> tuple[str, ...]:
    from .check.memory import ALL_MODELS
    return tuple(ALL_MODELS)


def _default_strategy() -> str:
    return "dpor"


# -- scenarios and parameters ------------------------------------------------------------

def load_scenarios() -> dict:
    """Fill ``spec.SCENARIOS``: the kernel scenarios, the benchmarks, the litmus tests."""
    import importlib
    import pkgutil

    from .programs import catalog
    from .spec import SCENARIOS
    catalog.register()
    try:
        pkg = importlib.import_module("gupsim.scenarios")
    except ModuleNotFoundError as err:
        if err.name != "gupsim.scenarios":
            raise
        return SCENARIOS
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        importlib.import_module(f"gupsim.scenarios.{info.name}")
    return SCENARIOS


def _convert(name: str, text: str, default: Any) -> Any:
    if isinstance(default, bool):
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise UsageError(f"--param {name}={text!r}: expected true or false")
    if isinstance(default, int):
        try:
            return int(text, 0)
        except ValueError:
            raise UsageError(f"--param {name}={text!r}: expected a whole number "
                             f"(default {default})") from None
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise UsageError(f"--param {name}={text!r}: expected a number "
                             f"(default {default})") from None
    return text


def parse_params(scenario, raw: tuple[str, ...]) -> dict[str, Any]:
    """``("n=4", ...)`` -> ``{"n": 4}``, typed by each parameter's default."""
    known = {p.name: p for p in scenario.params}
    out: dict[str, Any] = {}
    for item in raw:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            names = ", ".join(f"{p}=..." for p in known) or "none"
            raise UsageError(f"--param {item!r}: expected KEY=VALUE; parameters of "
                             f"{scenario.name}: {names}")
        if key not in known:
            raise UnknownName(f"parameter of scenario {scenario.name}", key, known)
        out[key] = _convert(key, text.strip(), known[key].default)
    return out


def _run(factory, config, label: str, quiet: bool, scale: Mapping | None = None, job=None):
    from .check import check
    from .report.progress import LiveProgress
    with LiveProgress(label, enabled=not quiet) as progress:
        if not scale:
            return check(factory, config, progress)
        from .distributed import explore, parse_workers
        live = progress.status is not None
        return explore(factory, config, workers=parse_workers(scale.get("workers")),
                       ray=scale.get("ray"), checkpoint=scale.get("checkpoint"),
                       every=scale.get("checkpoint_every") or 10.0, job=job,
                       progress=progress if live else None,
                       estimate=live or config.max_seconds is not None
                       or config.max_executions is not None,
                       resume_from=scale.get("resume_from"))


def _workers_option(f):
    return click.option("--workers", metavar="N|auto",
                        help="Worker processes (default 1; auto: every core).")(f)


def _scale_options(f):
    """--workers, --ray, --checkpoint and --checkpoint-every (see gupsim.distributed)."""
    f = click.option("--checkpoint-every", type=click.FloatRange(min=0, min_open=True),
                     metavar="SECONDS", help="Checkpoint period (default 10).")(f)
    f = click.option("--checkpoint", metavar="FILE",
                     help="Write the frontier and totals to FILE now and then, and on "
                          "SIGINT/SIGTERM; continue with `gupsim resume FILE`.")(f)
    f = click.option("--ray", metavar="ADDRESS|auto",
                     help="Run the work items on a Ray cluster (pip install gupsim[ray]).")(f)
    return _workers_option(f)


# -- options shared by check and replay ---------------------------------------------------

def _param_option(f):
    return click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
                        help="Scenario parameter (repeatable), e.g. --param n=4.")(f)


def _model_option(f):
    return click.option("--memory-model", type=Name("memory model", _memory_models()),
                        help="sc, tso, lkmm, armv8, armv7 or power (see `gupsim list "
                             "memory-models`). Default: the arch's own model (x86: tso, "
                             "arm64: armv8, arm: armv7, powerpc: power).")(f)


def _kernel_options(f):
    """--arch, --design and --cpus: shorthands for the kernel scenarios' parameters."""
    f = click.option("--cpus", type=click.IntRange(min=1),
                     help="GUP-fast CPUs (the gup_cpus parameter).")(f)
    f = click.option("--design", help="GUP-fast design (see `gupsim list designs`).")(f)
    return click.option("--arch", help="Architecture (see `gupsim list arches`).")(f)


def scenario_values(sc, params, arch=None, design=None, cpus=None) -> dict[str, Any]:
    """--param values plus the --arch/--design/--cpus shorthands, validated."""
    values = parse_params(sc, params)
    known = {p.name for p in sc.params}
    for option, key, value in (("--arch", "arch", arch), ("--design", "design", design),
                               ("--cpus", "gup_cpus", cpus)):
        if value is None:
            continue
        if key not in known:
            raise UsageError(f"{option} {value}: scenario {sc.name} has no {key} parameter "
                             f"(its parameters: {', '.join(sorted(known)) or 'none'})")
        values[key] = value
    if "arch" in values:
        from .kernel import ARCHES
        if values["arch"] not in ARCHES:
            raise UnknownName("arch", values["arch"], ARCHES)
    if "design" in values:
        from .kernel import get_design
        get_design(values["design"])     # a name, or a derived one (NAME-without-P)
    return values


def resolve_model(sc, values: Mapping[str, Any], memory_model: str | None) -> str:
    """The memory model asked for, else the scenario's arch's own one if gupsim has
    it, else sc."""
    if memory_model:
        return memory_model
    arch = values.get("arch", next((p.default for p in sc.params if p.name == "arch"), None))
    if arch is None:
        return "sc"
    from .kernel import ARCHES
    model = getattr(ARCHES.get(arch), "memory_model", "sc")
    return model if model in _memory_models() else "sc"


def _json_option(f):
    return click.option("--json", "as_json", is_flag=True,
                        help="Print the result as JSON (schema 1).")(f)


def _emit(result, scenario: str, params: Mapping, as_json: bool) -> int:
    if as_json:
        data = result.to_json()
        data.update(scenario=scenario, params=dict(params))
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        from .report.text import render
        click.echo(render(result, scenario, params))
    return EXIT_FOUND if result.violation is not None else 0


def _out_path(ctx, param, value):
    """An output file's folder must exist: checked before anything runs."""
    if value is not None:
        folder = os.path.dirname(os.path.abspath(value))
        if not os.path.isdir(folder):
            raise UsageError(f"{param.opts[0]} {value}: folder {folder} does not exist; "
                             f"create it or give a path in an existing folder")
    return value


def _pages():
    from . import pages
    return pages


def _stderr(line: str) -> None:
    click.echo(line, err=True)


def _view_options(f):
    """--html PATH and --dot PATH: the trace viewer page and the execution graph."""
    f = click.option("--dot", "dot_path", metavar="PATH", callback=_out_path,
                     help="Write the execution graph in Graphviz DOT.")(f)
    return click.option("--html", "html_path", metavar="PATH", callback=_out_path,
                        help="Write a self-contained HTML trace viewer page.")(f)


@click.group(cls=GupsimGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gupsim")
def main():
    """gupsim: model-check lockless page-table walkers (and any threads written as
    generators) under SC and x86-TSO."""


@main.command("list")
@click.argument("kind", required=False, type=Name("kind", KINDS))
def list_(kind):
    """List scenarios, designs, protections, arches, strategies, memory models or
    benchmarks (default: all)."""
    from .report.text import table
    for k in ([kind] if kind else KINDS):
        if not kind:
            click.echo(f"{k}:")
        click.echo("\n".join(table(_listing(k), indent="" if kind else "  ")))


def _first_line(doc: str, width: int = 76) -> str:
    line = (doc.strip().splitlines() or [""])[0].strip()
    return line if len(line) <= width else line[:width - 3].rstrip() + "..."


def _listing(kind: str) -> list[tuple]:
    if kind == "scenarios":
        rows = []
        for name, sc in sorted(load_scenarios().items()):
            rows.append((name, _first_line(sc.doc)))
            if sc.params:
                rows.append(("", "  " + " ".join(f"{p.name}={p.default}" for p in sc.params)))
        return rows
    if kind == "designs":
        from .kernel import DESIGNS
        rows = []
        for name, d in DESIGNS.items():
            rows.append((name, _first_line(d.doc)))
            rows.append(("", "  protections: " + (", ".join(d.protections) or "none")))
        return rows
    if kind == "protections":
        from .kernel import DESIGNS, PROTECTIONS
        rows = []
        for name, doc in PROTECTIONS.items():
            users = [d.name for d in DESIGNS.values() if name in d.protections]
            rows.append((name, _first_line(doc, 90)))
            rows.append(("", "  in: " + (", ".join(users) or "no design (add it with with_)")))
        return rows
    if kind == "arches":
        from .kernel import ARCHES
        return [(name, f"{_first_line(a.doc, 90)}; memory model {a.memory_model}")
                for name, a in ARCHES.items()]
    if kind == "strategies":
        from .check.config import STRATEGIES
        return [(s, STRATEGY_DOCS.get(s, "")) for s in STRATEGIES]
    if kind == "memory-models":
        from .check.memory import DESCRIPTIONS
        return [(m, DESCRIPTIONS.get(m, "")) for m in _memory_models()]
    from .programs.dpor_bench import BENCHMARKS
    return [(b.name, "published: " + ", ".join(f"n={n}: {c:,}" for n, c in
                                               sorted(b.expected.items())))
            for b in BENCHMARKS.values()]


@main.command()
@click.argument("scenario")
@_param_option
@_kernel_options
@click.option("--strategy", type=Name("strategy", tuple(STRATEGY_DOCS)),
              help="Default: dpor (optimal and exhaustive).")
@_model_option
@click.option("--max-executions", type=click.IntRange(min=1), help="Stop after N executions.")
@click.option("--max-seconds", type=click.FloatRange(min=0, min_open=True),
              help="Stop after S seconds.")
@click.option("--preemption-bound", type=click.IntRange(min=0),
              help="Only schedules with at most K preemptions (dfs, dpor).")
@click.option("--seed", type=int, default=0, show_default=True, help="For random and pct.")
@click.option("--pct-depth", type=click.IntRange(min=1), default=2, show_default=True)
@_scale_options
@_json_option
@_view_options
def check(scenario, params, arch, design, cpus, strategy, memory_model, max_executions,
          max_seconds, preemption_bound, seed, pct_depth, workers, ray, checkpoint,
          checkpoint_every, as_json, html_path=None, dot_path=None):
    """Explore SCENARIO; exit 1 on the first violation, deadlock or livelock."""
    from .check import CheckConfig
    from .spec import get_scenario
    load_scenarios()
    sc = get_scenario(scenario)
    values = scenario_values(sc, params, arch, design, cpus)
    memory_model = resolve_model(sc, values, memory_model)
    strategy = strategy or _default_strategy()
    if strategy == "replay":
        raise UsageError("--strategy replay: use `gupsim replay SCENARIO --schedule STR`")
    config = CheckConfig(strategy=strategy, memory_model=memory_model,
                         max_executions=max_executions, max_seconds=max_seconds,
                         preemption_bound=preemption_bound, seed=seed, pct_depth=pct_depth)
    scale = dict(workers=workers, ray=ray, checkpoint=checkpoint,
                 checkpoint_every=checkpoint_every)
    result = _run(sc.factory(**values), config, scenario, quiet=as_json,
                  scale=scale if any(scale.values()) else None,
                  job={"scenario": scenario, "params": values})
    _pages().write_views(_pages().result_data(result, scenario, values), html_path, dot_path,
                          _stderr)
    return _emit(result, scenario, values, as_json)


@main.command()
@click.argument("path", metavar="FILE")
@_scale_options
@_json_option
def resume(path, workers, ray, checkpoint, checkpoint_every, as_json):
    """Continue the run checkpointed in FILE (`gupsim check ... --checkpoint FILE`):
    same totals and verdict as a run never interrupted."""
    from .check import CheckConfig
    from .distributed.checkpoint import load
    from .spec import get_scenario
    data = load(path)
    job = data.get("job") or {}
    if "scenario" not in job:
        raise UsageError(f"{path}: the checkpoint names no scenario; only checkpoints "
                         f"of `gupsim check` can be resumed")
    load_scenarios()
    sc = get_scenario(job["scenario"])
    values = job.get("params", {})
    try:
        config = CheckConfig(**data["config"])
    except TypeError as err:
        raise UsageError(f"{path}: bad config in the checkpoint ({err})") from None
    scale = dict(workers=workers, ray=ray, checkpoint=checkpoint or path,
                 checkpoint_every=checkpoint_every, resume_from=data)
    result = _run(sc.factory(**values), config, job["scenario"], quiet=as_json, scale=scale,
                  job=job)
    return _emit(result, job["scenario"], values, as_json)


@main.command()
@click.argument("scenario")
@click.option("--schedule", required=True, help="The string printed with a counterexample.")
@_param_option
@_kernel_options
@_model_option
@_json_option
@_view_options
def replay(scenario, schedule, params, arch, design, cpus, memory_model, as_json,
           html_path=None, dot_path=None):
    """Re-run one execution of SCENARIO and print its trace."""
    from . import replay as run_replay
    from .check.schedule import decode
    from .spec import get_scenario
    load_scenarios()
    sc = get_scenario(scenario)
    values = scenario_values(sc, params, arch, design, cpus)
    memory_model = resolve_model(sc, values, memory_model)
    if schedule.startswith("g1:"):     # a weak-memory execution graph
        from .check.strategies.weakresult import decode_graph_schedule
        decode_graph_schedule(schedule)
    else:
        decode(schedule)     # a malformed schedule is a usage error before anything runs
    try:
        result = run_replay(sc.factory(**values), schedule, memory_model)
    except NondeterminismError as err:
        raise NondeterminismError(f"{err} Replay with the --param and --memory-model "
                                  f"options the schedule was printed with.") from None
    _pages().write_views(_pages().result_data(result, scenario, values), html_path, dot_path,
                          _stderr)
    return _emit(result, scenario, values, as_json)


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@_view_options
def report(path, html_path=None, dot_path=None):
    """Render a result saved with `gupsim check ... --json > PATH`."""
    from .check.result import Result
    from .report.text import render
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        result = Result.from_json(data)
    except (ValueError, KeyError, TypeError) as err:
        raise UsageError(f"{path}: not a gupsim result ({type(err).__name__}: {err}); "
                         f"write one with `gupsim check SCENARIO --json > {path}`") from None
    _pages().write_views(data, html_path, dot_path, _stderr)
    click.echo(render(result, data.get("scenario"), data.get("params")))
    return EXIT_FOUND if result.violation is not None else 0


# -- bench and demo --------------------------------------------------------------------------

def _workers(value) -> int:
    from .distributed import parse_workers
    return parse_workers(value)


def bench_row(name: str, n: int, strategy: str, quiet: bool = False, workers: int = 1,
              **budget) -> dict:
    """Run one benchmark program and summarise it as one JSON-able row."""
    from .check import CheckConfig
    from .programs.dpor_bench import BENCHMARKS
    bench = BENCHMARKS[name]
    config = CheckConfig(strategy=strategy, memory_model="sc", **budget)
    result = _run(lambda: bench.build(n), config, f"{name}({n})", quiet,
                  scale={"workers": workers} if workers > 1 else None)
    st = result.stats
    expected = bench.expected.get(n)
    explored = st.executions + st.blocked
    return {"program": name, "n": n, "strategy": strategy, "executions": st.executions,
            "expected": expected, "blocked": st.blocked,
            "optimality": (round(expected / explored, 4)
                           if expected and explored and st.exhausted else None),
            "complete": st.exhausted, "seconds": round(st.seconds, 3),
            "per_second": round(st.per_second, 1)}


@main.command()
@click.argument("program", required=False)
@click.option("--n", type=click.IntRange(min=1), help="Problem size (needs PROGRAM).")
@click.option("--strategy", type=Name("strategy", ("dpor", "dfs")), default="dpor",
              show_default=True)
@click.option("--max-executions", type=click.IntRange(min=1))
@click.option("--max-seconds", type=click.FloatRange(min=0, min_open=True))
@_workers_option
@_json_option
@click.option("--plot", "plot_path", metavar="PATH", callback=_out_path,
              help="Write a PNG: executions/s per program, explored vs published counts.")
@click.option("--litmus", "litmus_paths", multiple=True, metavar="PATH",
              type=click.Path(exists=True),
              help="Instead: time a folder (or file) of C litmus tests, e.g. the kernel's "
                   "tools/memory-model/litmus-tests (repeatable).")
@click.option("--memory-models", "litmus_models", default="lkmm", show_default=True,
              metavar="M1,M2", help="With --litmus: the models to time the folder under.")
@click.option("--kernel", "kernel_cells", is_flag=True,
              help="Instead: explore every execution of a fixed set of kernel cells and "
                   "print executions, distinct classes, blocked, repeats, optimality and "
                   "time (--max-seconds per cell, default 300).")
def bench(program, n, strategy, max_executions, max_seconds, workers, as_json,
          plot_path=None, litmus_paths=(), litmus_models="lkmm", kernel_cells=False):
    """Run the classic DPOR benchmarks and compare with the published counts.

    With --litmus PATH: parse, compile and explore every C litmus test there
    under each memory model, and print executions/s of the whole folder.
    With --kernel: the kernel cells (the seed's designs, dirty-cow,
    gup-vs-fork, gup-vs-munmap with three GUP CPUs) under their arch's model."""
    if kernel_cells:
        if program is not None or litmus_paths:
            raise UsageError("--kernel runs a fixed set of cells: give no PROGRAM and "
                             "no --litmus with it")
        from .matrix import KERNEL_BENCH_SECONDS
        return _bench_kernel(KERNEL_BENCH_SECONDS if max_seconds is None else max_seconds,
                             as_json)
    if litmus_paths:
        return _bench_litmus(litmus_paths, litmus_models, as_json)
    from .programs.dpor_bench import BENCHMARKS
    if program is not None:
        program = program.removeprefix("bench/")
        if program not in BENCHMARKS:
            raise UnknownName("benchmark", program, BENCHMARKS)
    if n is not None and program is None:
        raise UsageError(f"--n {n}: needs a PROGRAM, e.g. `gupsim bench readers --n {n}`")
    from .report.text import bench_header, bench_line
    rows = []
    if not as_json:
        click.echo(bench_header())
    for name, size in _bench_runs(program, n):
        rows.append(bench_row(name, size, strategy, quiet=as_json, workers=_workers(workers),
                              max_executions=max_executions, max_seconds=max_seconds))
        if not as_json:
            click.echo(bench_line(rows[-1]))
    if plot_path:
        from .report.plots import bench_plot
        bench_plot(rows, plot_path)
        click.echo(f"wrote {plot_path}", err=True)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    elif not all(r["complete"] for r in rows):
        click.echo("+: stopped by --max-executions/--max-seconds before the end")


def _bench_kernel(max_seconds: float, as_json: bool) -> None:
    from .matrix import SPIN_REFERENCE, bench_kernel
    from .report.text import kernel_bench_header, kernel_bench_line
    if not as_json:
        click.echo(kernel_bench_header())
    rows = bench_kernel(max_seconds, progress=None if as_json
                        else lambda r: click.echo(kernel_bench_line(r)))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    total = sum(r["seconds"] for r in rows)
    click.echo(f"{len(rows)} cells in {total:.1f} s; optimal: distinct classes per graph "
               f"explored (1.000: each once, none blocked); +: stopped after "
               f"{max_seconds:g} s")
    click.echo(f"for comparison: {SPIN_REFERENCE}")


def _bench_litmus(paths, models: str, as_json: bool) -> None:
    from .litmus.run import bench_folder
    names = [m.strip() for m in models.split(",") if m.strip()]
    known = _memory_models()
    for m in names or [models]:
        if m not in known:
            raise UnknownName("memory model", m, known)
    rows = []
    if not as_json:
        click.echo(f"{'model':6} {'tests':>5} {'executions':>11} {'match':>6} {'seconds':>8} "
                   f"{'exec/s':>9}  slowest")
    for m in names:
        row = bench_folder(paths, m)
        rows.append(row)
        if not as_json:
            click.echo(f"{m:6} {row['tests']:5} {row['executions']:11,} {row['match']:6} "
                       f"{row['seconds']:8.2f} {row['per_second'] or 0:9,.0f}  "
                       f"{row['slowest']} ({row['slowest_seconds']:.2f} s)")
    if as_json:
        click.echo(json.dumps(rows, indent=2))


def _bench_runs(program: str | None, n: int | None) -> list[tuple[str, int]]:
    if program is None:
        return list(DEFAULT_BENCH)
    if n is not None:
        return [(program, n)]
    sizes = [s for p, s in DEFAULT_BENCH if p == program]
    if sizes:
        return [(program, s) for s in sizes]
    from .programs.catalog import register
    from .spec import SCENARIOS
    register()
    return [(program, SCENARIOS[f"bench/{program}"].params[0].default)]


DEMO_BENCH = {"dpor": (("readers", 8), ("casrot", 6), ("lastzero", 5)),
              "dfs": (("readers", 4), ("inc", 3), ("lastzero", 3))}


@main.command()
def demo():
    """A short tour: store buffering under SC and TSO, the litmus tests, a small benchmark."""
    from .check import CheckConfig, check as run_check
    from .programs.litmus import LITMUS, collect_outcomes
    from .report.text import render, table
    load_scenarios()
    click.echo("gupsim demo: the model checker on its own, on programs with no kernel model in them.\n\n"
               "1. Store buffering: P0 stores x then loads y, P1 stores y then loads x.\n"
               "   Can both loads read 0?\n")
    strategy = _default_strategy()
    for model in ("sc", "tso"):
        click.echo(f"$ gupsim check litmus/SB --memory-model {model}")
        result = run_check(_scenario_factory("litmus/SB"),
                           CheckConfig(strategy=strategy, memory_model=model))
        click.echo(render(result, "litmus/SB") + "\n")
    click.echo("2. Every litmus test, outcome sets by memory model "
               "(exists: the outcome the test asks about):\n")
    rows = []
    for test in LITMUS.values():
        row = [test.name, test.describe(test.exists)]
        for model in ("sc", "tso"):
            got = collect_outcomes(test, model)
            ok = "ok" if got == test.allowed[model] else "MISMATCH"
            row.append(f"{len(got)} outcomes, exists {'allowed' if test.exists in got else 'never'}"
                       f" ({ok})")
        rows.append(row)
    click.echo("\n".join(table(rows, ("test", "exists", "sc", "tso"), indent="  ")) + "\n")
    click.echo(f"3. Classic DPOR benchmarks, strategy {strategy} "
               f"(optimality 1.000 = one execution per class):\n")
    from .report.text import bench_header, bench_line
    click.echo(bench_header())
    for name, size in DEMO_BENCH[strategy]:
        click.echo(bench_line(bench_row(name, size, strategy, max_seconds=10.0)))


def _scenario_factory(name: str, **params):
    from .spec import get_scenario
    return get_scenario(name).factory(**params)


# -- the seed-thread matrix, ablation, counterexamples in kernel terms -----------------------

def _csv(option: str, value: str | None, known) -> list[str] | None:
    """``"a,b"`` -> ``["a", "b"]``, each checked against ``known``."""
    if value is None:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise UsageError(f"{option} {value!r}: expected a comma-separated list, e.g. "
                         f"{option} {','.join(list(known)[:2])}")
    for name in names:
        if name not in known:
            raise UnknownName(option.lstrip("-").rstrip("s").replace("-", " "), name, known)
    return names


@main.command()
@click.option("--designs", metavar="D1,D2", help="Designs (default: every design).")
@click.option("--arches", metavar="A1,A2", help="Architectures (default: every arch).")
@click.option("--scenarios", metavar="S1,S2",
              help="Hazards (default: the thread's four, gup-vs-thp-split, gup-vs-munmap, "
                   "gup-vs-reclaim, futex-thp-tail; any kernel scenario taking an arch "
                   "and a design, see `gupsim list scenarios`).")
@click.option("--memory-models", metavar="M1,M2",
              help="default (the arch's own: tso, armv8, armv7, power), sc, tso, lkmm, "
                   "armv8, armv7, power; several run each cell under each.")
@click.option("--max-seconds", type=click.FloatRange(min=0, min_open=True), default=60.0,
              show_default=True, help="Safety-net budget per cell (hit: incomplete).")
@_workers_option
@_json_option
@click.option("--html", "html_path", metavar="PATH", callback=_out_path,
              help="Write the matrix page, and each found cell's counterexample page beside it.")
@click.option("--plot", "plot_path", metavar="PATH", callback=_out_path,
              help="Write the matrix as a PNG heatmap.")
def matrix(designs, arches, scenarios, memory_models, max_seconds, workers, as_json,
           html_path=None, plot_path=None):
    """Designs x arches x hazards: one exhaustive dpor check per cell.

    Exit 1 when any cell is a violation or livelock, 0 otherwise."""
    from .check.memory import ALL_MODELS
    from .kernel import ARCHES, DESIGNS
    from .matrix import known_hazards, run_matrix
    from .report.matrix import matrix_table
    load_scenarios()
    cells = run_matrix(_csv("--designs", designs, DESIGNS), _csv("--arches", arches, ARCHES),
                       _csv("--scenarios", scenarios, known_hazards()),
                       _csv("--memory-models", memory_models, ("default",) + tuple(ALL_MODELS)),
                       budget=max_seconds, workers=_workers(workers))
    rows = [c.to_json() for c in cells]
    if plot_path:
        from .report.plots import matrix_heatmap
        matrix_heatmap(rows, plot_path)
        click.echo(f"wrote {plot_path}", err=True)
    if html_path:
        _pages().matrix_pages(rows, html_path, max_seconds, _stderr)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        click.echo(matrix_table(rows))
    return EXIT_FOUND if any(c.verdict in ("violation", "livelock") for c in cells) else 0


@main.command()
@click.argument("scenario")
@_param_option
@click.option("--design", required=True, help="The design whose protections to ablate.")
@click.option("--arch", help="Default: the scenario's default arch.")
@click.option("--memory-models", default="sc,tso", show_default=True, metavar="M1,M2")
@click.option("--max-seconds", type=click.FloatRange(min=0, min_open=True), default=60.0,
              show_default=True, help="Safety-net budget per check.")
@_workers_option
@_json_option
@click.option("--html", "html_path", metavar="PATH", callback=_out_path,
              help="Write the ablation page, and each counterexample's page beside it.")
@click.option("--plot", "plot_path", metavar="PATH", callback=_out_path,
              help="Write the ablation as a PNG.")
def ablate(scenario, params, design, arch, memory_models, max_seconds, workers, as_json,
           html_path=None, plot_path=None):
    """Take each protection of DESIGN away in turn: which ones are necessary?

    Exit 1 when the full design itself is not safe, 0 otherwise."""
    from .check.memory import ALL_MODELS
    from .kernel import ARCHES, get_design
    from .matrix import ablate as run_ablate
    from .report.matrix import ablation_table
    from .spec import get_scenario
    load_scenarios()
    get_design(design)
    if arch is not None and arch not in ARCHES:
        raise UnknownName("arch", arch, ARCHES)
    values = parse_params(get_scenario(scenario), params) if params else {}
    rows = run_ablate(scenario, design, arch, _csv("--memory-models", memory_models, ALL_MODELS),
                      budget=max_seconds, workers=_workers(workers), params=values)
    data = [r.to_json() for r in rows]
    if plot_path:
        from .report.plots import ablation_plot
        ablation_plot(data, plot_path)
        click.echo(f"wrote {plot_path}", err=True)
    if html_path:
        _pages().ablation_pages(data, html_path, max_seconds, _stderr)
    click.echo(json.dumps(data, indent=2) if as_json else ablation_table(data))
    full = [r for r in rows if r.protection == "(none)"]
    return EXIT_FOUND if any(r.verdict in ("violation", "livelock") for r in full) else 0


@main.command()
@click.argument("scenario")
@_param_option
@_kernel_options
@_model_option
@click.option("--max-preemptions", type=click.IntRange(min=0), default=3, show_default=True,
              help="Search for the fewest-preemption counterexample up to this bound.")
@_json_option
@_view_options
def explain(scenario, params, arch, design, cpus, memory_model, max_preemptions, as_json,
            html_path=None, dot_path=None):
    """The counterexample of SCENARIO with the fewest preemptions, in kernel terms.

    Exit 1 with the story when there is one, 0 when the scenario is safe."""
    from .matrix import counterexample, short_invariant
    from .spec import get_scenario
    load_scenarios()
    sc = get_scenario(scenario)
    values = scenario_values(sc, params, arch, design, cpus)
    memory_model = resolve_model(sc, values, memory_model)
    cx = counterexample(scenario, memory_model, max_preemptions, **values)
    if cx is None:
        msg = f"{scenario}: safe (exhaustive dpor, memory model {memory_model})"
        click.echo(json.dumps({"scenario": scenario, "params": values, "verdict": "safe"})
                   if as_json else msg)
        return 0
    res = cx.result
    _pages().write_views(_pages().cx_data(cx), html_path, dot_path, _stderr)
    if as_json:
        data = res.to_json()
        data.update(scenario=scenario, params=values, preemptions=cx.preemptions)
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return EXIT_FOUND
    click.echo(explain_text(cx, short_invariant(res.violation)))
    return EXIT_FOUND


def explain_text(cx, short_name: str | None) -> str:
    """The story of a ``matrix.Counterexample``, with a header and a replay line."""
    from .report.story import cycle_lines, story_lines, threads_line
    from .report.text import replay_command
    res = cx.result
    fewest = ("the fewest preemptions" if cx.preemptions >= 0 else "dpor's first find")
    head = (f"{cx.scenario} " + " ".join(f"{k}={v}" for k, v in sorted(cx.params.items()))
            + f" (memory model {cx.memory_model}): {res.violation.headline()}")
    if res.schedule and res.schedule.startswith("g1:"):
        how = (f"one execution graph {cx.memory_model} allows (dpor's first find; steps in "
               f"an order extending program order and reads-from)")
    else:
        how = (f"{cx.preemptions if cx.preemptions >= 0 else '?'} preemption"
               f"{'' if cx.preemptions == 1 else 's'} ({fewest})")
    lines = [head, f"  {threads_line(res.trace)}; {len(res.trace)} steps, {how}", ""]
    lines += story_lines(res.trace, res.violation, name=short_name)
    why = cycle_lines(res.trace, res.graph, cx.memory_model)
    if why:
        lines += [""] + why
    lines += ["", "replay: " + replay_command(cx.scenario, res.schedule, cx.memory_model,
                                              cx.params)]
    return "\n".join(lines)


# -- undeclared dependencies ---------------------------------------------------------------

@main.command()
@click.argument("scenario")
@_param_option
@_kernel_options
@click.option("--executions", type=click.IntRange(min=1), default=20, show_default=True,
              help="Sampled executions (under sc) whose reads are forced.")
@click.option("--strategy", type=Name("strategy", ("random", "pct", "dfs")), default="random",
              show_default=True, help="How the executions are sampled.")
@click.option("--seed", type=int, default=0, show_default=True, help="For random and pct.")
@click.option("--preemption-bound", type=click.IntRange(min=0), help="For dfs.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def deps(scenario, params, arch, design, cpus, executions, strategy, seed, preemption_bound,
         as_json):
    """Undeclared dependencies of SCENARIO: where a thread decides on a value it
    read (its path, a stored value, an address) without a Branch, data= or
    addr= saying so to the weak memory models.

    Each read of a few sampled executions is forced to another value the
    cell can hold; a later op that changes without a declared dependency is
    a finding. Exit 1 when there is one, 0 when there is none."""
    from .check import audit_dependencies
    from .spec import get_scenario
    load_scenarios()
    sc = get_scenario(scenario)
    values = scenario_values(sc, params, arch, design, cpus)
    report = audit_dependencies(sc.factory(**values), executions=executions, seed=seed,
                                strategy=strategy, preemption_bound=preemption_bound)
    if as_json:
        data = report.to_json()
        data.update(scenario=scenario, params=values)
        click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
    else:
        for f in report.findings:
            click.echo(f.describe())
        n = len(report.findings)
        click.echo(f"{scenario}: {n or 'no'} undeclared dependenc{'y' if n == 1 else 'ies'} "
                   f"({report.reads:,} reads forced in {report.runs:,} runs; "
                   f"{report.executions} executions, {report.seconds:.1f} s)")
    return EXIT_FOUND if report.findings else 0


# -- C litmus tests, judged like herd7 ---------------------------------------------------------

@main.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--model", default="lkmm", show_default=True,
              help="Memory model: lkmm, armv8, power (weak models), sc or tso "
                   "(see `gupsim list memory-models`).")
@click.option("--strategy", type=Name("strategy", ("dpor", "dfs", "enum")),
              help="Default: dpor under sc and tso, enum (every candidate execution, "
                   "as herd7) under the weak models.")
@click.option("--judge", is_flag=True,
              help="Compare each observation with the test's Result: line; exit 1 on "
                   "any mismatch.")
@_workers_option
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object per test (counts, states, observation).")
@click.option("--html", "html_path", metavar="PATH", callback=_out_path,
              help="Write the results as a page, and each test's witness execution "
                   "(its trace and graph) as a page beside it.")
def litmus(paths, model, strategy, judge, as_json, workers, html_path=None):
    """Run C litmus tests (tools/memory-model/litmus-tests format); print herd7's output.

    A PATH may be a folder: every *.litmus file below it, sorted. With
    --workers, tests run side by side in that many processes; the output is
    the same, in the same order."""
    from .check import CheckConfig
    from .distributed.local import map_ordered
    from .litmus import compile_test, parse_file
    from .litmus.format import format_result, judge_table
    from .litmus.run import collect, run as run_litmus
    CheckConfig(memory_model=model)          # an unknown model: one line, before anything
    files = collect(paths)
    tests = [compile_test(parse_file(p)) for p in files]   # every bad file: before any run
    n = _workers(workers)
    # (a worker compiles its test again from the file: compiled tests hold closures)
    args = [(str(f), model, strategy) for f in files] if n > 1 else \
        [(t, model, strategy) for t in tests]
    results = map_ordered(run_litmus, args, n, None if as_json else
                          lambda i, r: click.echo(format_result(r)))
    if html_path:
        _pages().litmus_pages(results, files, html_path, _stderr)
    if as_json:
        click.echo(json.dumps([r.to_json() for r in results], indent=2))
    elif judge:
        click.echo(judge_table(results))
    return EXIT_FOUND if judge and any(r.judged is False for r in results) else 0


@main.command("cat")
@click.argument("model", default="lkmm")
@click.option("--cat-dir", type=click.Path(file_okay=False),
              help="The kernel's tools/memory-model (default: $GUPSIM_LKMM_DIR, "
                   "./tools/memory-model, ../shared/litmus/lkmm/model, .cache/lkmm/model).")
def cat_(model, cat_dir):
    """Load a cat memory model (lkmm, a .cat/.cfg path, or a name in gupsim/models)
    and list its checks and flags; a bad model is one line, exit 2."""
    from .check.cat import load_model
    m = load_model(model, cat_dir=cat_dir)
    click.echo(m.title or model)
    click.echo(f"  files: {', '.join(m.prog.files)}")
    click.echo(f"  checks: {', '.join(m.checks)}")
    click.echo(f"  flags: {', '.join(m.flags) or '(none)'}")
    click.echo(f"  variants: {', '.join(sorted(m.variants)) or '(none)'}")
