"""The work items on a Ray cluster (``pip install gupsim[ray]``).

``--ray auto`` joins the cluster this machine belongs to (``ray start
--head`` first); ``--ray ADDRESS`` joins the one at ADDRESS; ``--ray local``
starts a private one-machine Ray for this run. Every Ray worker needs gupsim
installed (the same version). The program reaches the workers once, through
the object store: by its scenario name and parameters when the run has them
(each worker rebuilds it), else the factory itself, pickled by value. A
worker process keeps the rebuilt program for the next task.
"""

from __future__ import annotations

from ..errors import UsageError

INSTALL_HINT = "Ray is not installed: pip install 'gupsim[ray]' (or pip install ray)"

_CACHE: dict = {}


def _import_ray():
    try:
        import ray
    except ImportError:
        raise UsageError(f"--ray: {INSTALL_HINT}") from None
    return ray


def _program(blob):
    """The worker of ``blob`` (kept per Ray worker process)."""
    from .tasks import Worker
    key = blob[0]
    if key not in _CACHE:
        kind, payload, config = blob[1], blob[2], blob[3]
        if kind == "job":
            from ..cli import load_scenarios
            from ..spec import get_scenario
            load_scenarios()
            factory = get_scenario(payload["scenario"]).factory(**payload["params"])
        else:
            from ray import cloudpickle
            factory = cloudpickle.loads(payload)
        _CACHE.clear()
        _CACHE[key] = Worker(factory, config)
    return _CACHE[key]


def _run_task(blob, task):
    return _program(blob).run(task)


class RayBackend:
    """Ray tasks, ``workers`` of them at a time (default: the cluster's CPUs)."""

    def __init__(self, factory, config, address: str, workers: int | None = None, job=None):
        ray = self.ray = _import_ray()
        if not ray.is_initialized():
            try:
                if address == "local":
                    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
                else:
                    ray.init(address=address, include_dashboard=False, log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as err:
                raise UsageError(f"--ray {address}: cannot join a Ray cluster ({err}); start "
                                 f"one with `ray start --head` and use --ray auto") from None
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.workers = workers or max(1, cpus)
        from ray import cloudpickle
        import uuid
        if job is not None and "scenario" in job:
            blob = (uuid.uuid4().hex, "job", job, config)
        else:
            blob = (uuid.uuid4().hex, "factory", cloudpickle.dumps(factory), config)
        self.blob = ray.put(blob)
        self.remote = ray.remote(num_cpus=1)(_run_task)

    def submit(self, task):
        return self.remote.remote(self.blob, task)

    def wait(self, handles, timeout):
        done, _ = self.ray.wait(handles, num_returns=1, timeout=timeout)
        if done:       # collect whatever else is ready too
            more, _ = self.ray.wait([h for h in handles if h not in done],
                                    num_returns=len(handles) - len(done), timeout=0)
            done += more
        return [(h, self.ray.get(h)) for h in done]

    def close(self):
        pass
