"""The same work items on a real Ray cluster: a head and two worker nodes on
loopback, started for this module and torn down after it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gupsim import CheckConfig, check

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'gupsim[ray]')")
pytestmark = pytest.mark.slow

RAY = str(Path(sys.executable).with_name("ray"))
ENV = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
# Ray's daemons must not inherit the test run's stdin (CI may have none) nor
# its process group (their teardown must not signal pytest or make).
DETACHED = {"stdin": subprocess.DEVNULL, "start_new_session": True}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """ADDRESS of a head (no CPUs of its own) and two 1-CPU worker nodes; each
    ``ray start --block`` takes its node down when terminated."""
    port = _free_port()
    address = f"127.0.0.1:{port}"
    common = ["--block", "--node-ip-address=127.0.0.1", "--disable-usage-stats"]
    log = tmp_path_factory.mktemp("ray")
    procs = [subprocess.Popen([RAY, "start", "--head", f"--port={port}", "--num-cpus=0",
                               "--include-dashboard=false",
                               f"--temp-dir={log / 'tmp'}"] + common,
                              env=ENV, stdout=open(log / "head.log", "w"),
                              stderr=subprocess.STDOUT, **DETACHED)]
    try:
        _wait_port(port)
        # One worker node at a time, each on ports of its own: two raylets
        # starting together on one machine can pick the same port and abort.
        for i in range(2):
            ports = [f"--{name}={_free_port()}" for name in
                     ("node-manager-port", "object-manager-port", "runtime-env-agent-port",
                      "dashboard-agent-grpc-port", "dashboard-agent-listen-port",
                      "metrics-export-port")]
            lo = 20000 + 1000 * i
            path = log / f"worker{i}.log"
            procs.append(subprocess.Popen([RAY, "start", f"--address={address}",
                                           "--num-cpus=1", f"--min-worker-port={lo}",
                                           f"--max-worker-port={lo + 999}"] + ports + common,
                                          env=ENV, stdout=open(path, "w"),
                                          stderr=subprocess.STDOUT, **DETACHED))
            _wait_started(procs[-1], path)
        yield address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def _wait_started(proc, path, limit=90.0):
    """Until ``ray start --block`` says its node is up; a node that died fails
    the fixture with the end of its log (never a hang)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        text = path.read_text(errors="replace")
        if "Ray runtime started" in text:
            return
        if proc.poll() is not None:
            raise AssertionError(f"a Ray worker node did not start:\n{text[-2000:]}")
        time.sleep(0.2)
    raise AssertionError(f"a Ray worker node did not start in {limit:.0f} s")


def _wait_port(port, limit=60.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError("the Ray head did not come up")


def _cli(*args):
    out = subprocess.run([sys.executable, "-m", "gupsim", *args, "--json"], env=ENV,
                         capture_output=True, text=True, timeout=int(os.environ.get("GUPSIM_RAY_TIMEOUT", "120")), check=False,
                         **DETACHED)
    assert out.stdout.strip(), f"gupsim {' '.join(args)} printed nothing:\n{out.stderr[-3000:]}"
    d = json.loads(out.stdout)
    return d["verdict"], d["stats"]["executions"], d["stats"]["events"], d["schedule"]


@pytest.mark.parametrize("args", [
    ("check", "bench/lastzero", "--param", "n=8"),
    ("check", "gup-vs-thp-split", "--design", "arm-rfc-2013", "--arch", "arm64",
     "--memory-model", "sc"),
])
def test_a_cluster_run_gives_the_local_verdict_totals_and_counterexample(cluster, args):
    assert _cli(*args, "--ray", cluster, "--workers", "2") == _cli(*args)


def test_a_weak_model_on_the_cluster_gives_the_local_result(cluster):
    """armv8 (arm64's own model), a load-buffering program as a closure: the
    verdict, the executions and the counterexample graph of one worker."""
    from ray import cloudpickle
    from gupsim.distributed import explore
    from test_weak_split import CASES
    import weak_programs          # (test_weak_split puts it on the path)
    config = CheckConfig(strategy="dpor", memory_model="armv8", stop_on_first=False)
    # (the program's module is on no path of the Ray workers: it travels by value)
    cloudpickle.register_pickle_by_value(weak_programs)
    try:
        for case in ("lb", "lb-violation"):
            one = check(CASES[case](), config)
            res = explore(CASES[case](), config, ray=cluster, workers=2)
            assert (res.verdict, res.stats.executions, res.schedule, res.graph) == \
                (one.verdict, one.stats.executions, one.schedule, one.graph)
    finally:
        cloudpickle.unregister_pickle_by_value(weak_programs)
    args = ("check", "gup-vs-thp-split", "--design", "arm-rfc-2013", "--arch", "arm64")
    (v, e, _, sched), (v1, e1, _, sched1) = _cli(*args, "--ray", cluster, "--workers", "2"), \
        _cli(*args)
    assert (v, e, sched) == (v1, e1, sched1)        # (events are not exact: see coordinator)


def test_a_closure_factory_travels_by_value(cluster):
    from gupsim.distributed import explore
    from test_parallel_equivalence import counters
    config = CheckConfig(strategy="dpor")
    one = check(counters(3, 2), config)
    res = explore(counters(3, 2), config, ray=cluster, workers=2)
    assert (res.verdict, res.stats.executions, res.schedule) == \
        (one.verdict, one.stats.executions, one.schedule)
