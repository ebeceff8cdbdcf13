"""One-thread kernel programs for the sequential tests: the operation runs
alone on cpu0 (one execution), with refcount-balanced checked at the end."""

from gupsim.check import CheckConfig, check
from gupsim.kernel import Kernel
from gupsim.kernel.invariants import refcount_balanced
from gupsim.spec import ThreadSpec


def run_alone(setup, body, arch="x86-64", design="modern", expect_safe=True, **kernel_args):
    """setup(k) -> ctx; body(k, ctx) -> generator. Returns (check result, kernel)."""
    kernels = []

    def factory():
        k = Kernel(arch, design, cpus=1, **kernel_args)
        kernels.append(k)
        ctx = setup(k)
        return k.program([ThreadSpec("t", body(k, ctx), cpu=0)], [refcount_balanced(k)])
    res = check(factory, CheckConfig(strategy="dfs"))
    assert res.stats.executions == 1
    if expect_safe:
        assert res.verdict == "safe", res.violation
    return res, kernels[-1]
