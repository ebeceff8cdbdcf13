"""Under the axiomatic models (armv8, power) a split run gives one worker's
verdict, executions and counterexample: on workers, and through a checkpoint
and resume. Load buffering reaches some executions twice; the runs here
must meet such copies in different tasks, and count each execution once."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gupsim import CheckConfig, Invariant, Program, ThreadSpec, check
from gupsim.check.graph import PROMISE, access_signature
from gupsim.check.result import Stats
from gupsim.check.strategies.dpor import ROOT_ITEM, GraphRun
from gupsim.cli import main
from gupsim.distributed import InlineBackend, checkpoint as ckpt, explore
from gupsim.distributed.coordinator import Coordinator
from gupsim.distributed.local import ProcessPool

sys.path.insert(0, str(Path(__file__).parents[1] / "check"))
from weak_programs import factory_of, thread  # noqa: E402
from test_checkpoint_resume import stopped_after  # noqa: E402

# Three threads that load a cell and store another, and a store after: load
# buffering everywhere (90 executions, 104 copies met by one worker).
LB = [[("load_store", "x", 1), ("store", "x", "once", 2)],
      [("load_store", "y", 2), ("load", "x", "once")],
      [("load_store", "x", 2)]]


def lb_violation():
    """LB with an end invariant that the load-buffering outcomes break (many
    violations, the first one not the first execution)."""
    prog = [[("load_store", "x", 1)], [("load_store", "y", 1)], [("load_store", "x", 2)]]

    def cyclic(mem, results):
        if results["T0"] != (0,) and results["T1"] != (0,):
            return "both loads read a store that comes after the other load"
    return lambda: Program([ThreadSpec(f"T{i}", thread(ops, i)) for i, ops in enumerate(prog)],
                           {"x": 0, "y": 0}, interrupts=False,
                           invariants=[Invariant("no-lb", cyclic, "end")])


def kernel(scenario, design, arch):
    from gupsim.cli import load_scenarios
    from gupsim.spec import get_scenario
    load_scenarios()
    return get_scenario(scenario).factory(design=design, arch=arch)


CASES = {
    "lb": lambda: factory_of(LB),
    "lb-violation": lb_violation,
    "thp-split-arm-rfc": lambda: kernel("gup-vs-thp-split", "arm-rfc-2013", "arm64"),
    "munmap-modern": lambda: kernel("gup-vs-munmap", "modern", "powerpc"),
}


def _weak(res):
    """What a split run must give as one worker does."""
    d = res.to_json()
    return (d["verdict"], d["stats"]["executions"], d["schedule"], d["trace"],
            d["final_memory"], d.get("graph"), d["violation"])


@pytest.mark.parametrize("model", ["armv8", "power"])
@pytest.mark.parametrize(("case", "stop"), [("lb", True), ("lb-violation", True),
                                            ("lb-violation", False),
                                            ("thp-split-arm-rfc", True),
                                            ("munmap-modern", True)])
def test_two_workers_give_one_workers_verdict_executions_and_counterexample(case, stop, model):
    factory = CASES[case]()
    config = CheckConfig(strategy="dpor", memory_model=model, stop_on_first=stop)
    one = check(factory, config)
    two = explore(factory, config, workers=2)
    assert _weak(two) == _weak(one)
    assert two.bounds["workers"] == 2
    assert two.bounds["exact"] == ["verdict", "executions", "counterexample"]
    expected = {"lb": "safe", "lb-violation": "violation", "thp-split-arm-rfc": "violation",
                "munmap-modern": "safe"}[case]
    assert one.verdict == expected


@pytest.mark.parametrize("model", ["armv8", "power"])
@pytest.mark.parametrize("case", ["lb", "lb-violation"])
def test_copies_met_in_different_tasks_are_counted_once(case, model):
    """Slices of one item: nearly every item is a task of its own, so the
    digests of one execution come back from several tasks."""
    factory = CASES[case]()
    config = CheckConfig(strategy="dpor", memory_model=model, stop_on_first=False)
    one = check(factory, config)
    assert one.stats.duplicates > 0
    pool = ProcessPool(factory, config, 2)
    try:
        coord = Coordinator(factory, config, pool, slice_seconds=1e-4)
        two = coord.run()
    finally:
        pool.close()
    assert _weak(two) == _weak(one)
    per_task = coord._sums()[0]          # each task's own count, copies included
    assert per_task > two.stats.executions == one.stats.executions


@pytest.mark.parametrize(("case", "model", "stop"), [
    ("lb", "armv8", True), ("lb-violation", "power", False),
    ("thp-split-arm-rfc", "armv8", True),
])
def test_a_checkpoint_after_any_task_resumes_to_one_workers_result(tmp_path, case, model, stop):
    factory = CASES[case]()
    config = CheckConfig(strategy="dpor", memory_model=model, stop_on_first=stop)
    whole = _weak(check(factory, config))
    promises = found = 0
    for stop_after in (1, 4, 12, 40):
        coord = stopped_after(factory, config, stop_after)
        path = tmp_path / f"c{stop_after}.json"
        ckpt.save(path, coord.state())
        data = ckpt.load(path)
        assert data["version"] == 5
        promises += sum(len(rec) == 6 for _, item in data["frontier"]
                        for rec in ckpt.decode(item)[1])
        found += data["found"] is not None and data["frontier"] != []
        again = Coordinator(factory, config, InlineBackend(factory, config))
        again.restore(data)
        assert _weak(again.run()) == whole, stop_after
    if case.startswith("lb"):      # load-buffering reads went through the JSON
        assert promises > 0
    if not stop:                   # and a counterexample, with work still to do
        assert found > 0


def test_a_copied_graph_becomes_records_that_rebuild_it_load_buffering_included():
    """``checkpoint.as_records`` of every ``snap`` item with a read of a write
    added after it: through JSON, it rebuilds the same execution and leaves
    the same choices."""
    factory = factory_of(LB)
    cells = ckpt.program_cells(factory)
    stack, checked = [ROOT_ITEM], 0
    while stack:
        item = stack.pop()
        if item[0] == "snap" and any(e.flags & PROMISE for e in item[1][0].ev.values()):
            records = ckpt.as_records(item, cells)
            records = ckpt.decode(json.loads(json.dumps(ckpt.encode(records))))
            theirs, mine = [], []
            rebuilt = GraphRun(factory, records, theirs, Stats(), "armv8")
            rebuilt.extend()
            run = GraphRun(factory, item, mine, Stats(), "armv8")
            run.extend()
            assert rebuilt.outcome() == run.outcome()
            if run.outcome() != "blocked":
                assert access_signature(rebuilt.g) == access_signature(run.g)
            assert len(theirs) == len(mine)
            stack.extend(mine)
            checked += 1
            continue
        GraphRun(factory, item, stack, Stats(), "armv8").extend()
    assert checked > 20


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_an_older_checkpoint_is_refused_with_one_line(tmp_path, version):
    """Versions 1-4 hold graphs with other wait events (wait reads,
    cmpxchg-loop locks, parked locks, lock reads revisited by the release),
    which this exploration cannot rebuild."""
    from gupsim.errors import UsageError
    from gupsim.programs.dpor_bench import BENCHMARKS
    factory = lambda: BENCHMARKS["lastzero"].build(5)  # noqa: E731
    state = stopped_after(factory, CheckConfig(strategy="dpor"), 3).state()
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"format": ckpt.FORMAT, "version": version, **state}))
    with pytest.raises(UsageError, match=rf"version {version} was written by an older gupsim"):
        ckpt.load(path)
    result = CliRunner().invoke(main, ["resume", str(path)])
    assert result.exit_code == 2 and "run the check again with --checkpoint" in result.output
    assert "Traceback" not in result.output


def test_a_value_that_is_not_json_data_is_a_one_line_error(tmp_path):
    """A checkpoint of a weak run records the values read early; a program's
    value JSON cannot hold is refused with a usage error, not a traceback."""
    from gupsim import Load, Store
    from gupsim.errors import UsageError

    def t(mine, other):
        yield Load(mine)
        yield Store(other, complex(1, 2))
    def factory():
        return Program([ThreadSpec("a", t("x", "y")), ThreadSpec("b", t("y", "x"))],
                       {"x": 0, "y": 0}, interrupts=False)
    config = CheckConfig(strategy="dpor", memory_model="armv8")
    early = 0
    for tasks in range(1, 6):
        coord = stopped_after(factory, config, tasks)
        if any(len(rec) == 6 for _, _, item in coord.frontier for rec in item[1]):
            early += 1
            with pytest.raises(UsageError, match="not JSON data"):
                ckpt.save(tmp_path / "c.json", coord.state())
    assert early > 0
    assert list(tmp_path.iterdir()) == []
