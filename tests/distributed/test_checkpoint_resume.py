"""Checkpoints: a run stopped anywhere and resumed ends as if never stopped.

The subprocess tests run the real command line: kill -9 at random moments
(then resume, several times over), and SIGINT (a last checkpoint, the
partial result, exit 0)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from gupsim import CheckConfig, check
from gupsim.distributed import InlineBackend, checkpoint as ckpt
from gupsim.distributed.coordinator import Coordinator
from gupsim.errors import UsageError
from gupsim.programs.dpor_bench import BENCHMARKS
from test_parallel_equivalence import counters

GUPSIM = [sys.executable, "-m", "gupsim"]


def _totals(res):
    return (res.verdict, res.stats.executions, res.stats.blocked, res.stats.events,
            res.schedule)


def stopped_after(factory, config, tasks):
    """A one-worker run in slices of about one item, stopped (as by a signal)
    after ``tasks`` tasks."""
    coord = Coordinator(factory, config, InlineBackend(factory, config), slice_seconds=1e-4)
    merged = [0]
    orig = coord._merge

    def merge(handle, res):
        orig(handle, res)
        merged[0] += 1
        if merged[0] == tasks:
            coord.stop_reason = "test"
    coord._merge = merge
    coord.run()
    return coord


@pytest.mark.parametrize(("make", "model"), [
    (lambda: (lambda: BENCHMARKS["lastzero"].build(6)), "sc"),
    (lambda: (lambda: BENCHMARKS["lastzero"].build(6)), "tso"),
    (lambda: counters(3, 2), "sc"),
])
def test_a_checkpoint_taken_after_any_task_resumes_to_the_same_totals(tmp_path, make, model):
    factory = make()
    config = CheckConfig(strategy="dpor", memory_model=model)
    whole = _totals(check(factory, config))
    for stop_after in (1, 3, 7, 20):
        coord = stopped_after(factory, config, stop_after)
        path = tmp_path / f"c{stop_after}.json"
        ckpt.save(path, coord.state())
        again = Coordinator(factory, config, InlineBackend(factory, config))
        again.restore(ckpt.load(path))
        assert _totals(again.run()) == whole, stop_after


def test_encode_round_trips_tuples_and_keys():
    value = {("x", 1): [(1, 2, "R", -1, 0)], "y": (0, 3), 4: {b"\x01"}}
    assert ckpt.decode(json.loads(json.dumps(ckpt.encode(value)))) == value


@pytest.mark.parametrize("text", ["", "{", "[]", '{"format": "other"}',
                                  '{"format": "gupsim-checkpoint", "version": 99}'])
def test_bad_checkpoints_are_usage_errors(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(UsageError, match="bad.json"):
        ckpt.load(path)


def _cmd(*args):
    return GUPSIM + list(args)


def _result(out: str) -> tuple:
    d = json.loads(out)
    st = d["stats"]
    return d["verdict"], st["executions"], st["blocked"], st["events"], d["schedule"]


def _wait_for(path, limit=60.0):
    """Until the run has started (its first checkpoint is written)."""
    t0 = time.monotonic()
    while not os.path.exists(path):
        assert time.monotonic() - t0 < limit, "no checkpoint written"
        time.sleep(0.05)


CHECK = ["check", "bench/lastzero", "--param", "n=10", "--json"]
KILLED = ["check", "bench/lastzero", "--param", "n=12", "--json"]    # ~3 s on 2 workers


def _stamp(path):
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def _wait_for_new_checkpoint(path, before, proc, limit=120.0):
    """Until the running process has written a checkpoint since `before`
    (so each kill lands after real progress was saved); False if it ended."""
    t0 = time.monotonic()
    while _stamp(path) == before:
        if proc.poll() is not None:
            return False
        assert time.monotonic() - t0 < limit, "no checkpoint written"
        time.sleep(0.02)
    return True


# armv8 (arm64's own model), ~6 s on one worker; a weak model's totals are
# the verdict, the executions and the counterexample (see coordinator)
KILLED_WEAK = ["check", "gup-vs-thp-split", "--design", "modern", "--arch", "arm64", "--json"]


def _weak_result(out: str) -> tuple:
    d = json.loads(out)
    return d["verdict"], d["stats"]["executions"], d["schedule"], d.get("graph")


@pytest.mark.slow
@pytest.mark.parametrize(("args", "totals"), [(KILLED, _result), (KILLED_WEAK, _weak_result)],
                         ids=["sc", "armv8"])
def test_kill_9_at_random_moments_then_resume_gives_identical_totals(tmp_path, args, totals):
    whole = totals(subprocess.run(_cmd(*args), capture_output=True, text=True,
                                  check=False, stdin=subprocess.DEVNULL).stdout)
    path = str(tmp_path / "run.json")
    rng = random.Random(7)
    proc = subprocess.Popen(_cmd(*args, "--workers", "2", "--checkpoint", path,
                                 "--checkpoint-every", "0.1"),
                            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    kills = 0
    for _ in range(3):
        if not _wait_for_new_checkpoint(path, _stamp(path), proc):
            break
        time.sleep(rng.uniform(0.05, 0.4))     # a random moment after a save
        if proc.poll() is not None:
            break
        proc.kill()                    # SIGKILL: no handler runs
        proc.wait()
        kills += 1
        assert os.path.exists(path)
        proc = subprocess.Popen(_cmd("resume", path, "--workers", "2", "--json",
                                     "--checkpoint-every", "0.1"),
                                stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    out, _ = proc.communicate(timeout=300)
    assert kills >= 2, "the run ended before it could be killed twice"
    assert totals(out.decode()) == whole


@pytest.mark.slow
def test_sigint_writes_a_checkpoint_and_exits_cleanly_with_the_partial_result(tmp_path):
    big = [w.replace("n=10", "n=12") for w in CHECK]        # ~5 s: still running at ^C
    whole = _result(subprocess.run(_cmd(*big), capture_output=True, text=True,
                                   check=False).stdout)
    path = str(tmp_path / "run.json")
    proc = subprocess.Popen(_cmd(*big, "--workers", "2", "--checkpoint", path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for(path)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    part = json.loads(out)
    assert part["verdict"] == "incomplete"
    assert part["bounds"]["stopped_by"] == "interrupted by SIGINT"
    assert 0 < part["stats"]["executions"] < whole[1]
    done = subprocess.run(_cmd("resume", path, "--json"), capture_output=True, text=True,
                          check=False)
    assert _result(done.stdout) == whole
