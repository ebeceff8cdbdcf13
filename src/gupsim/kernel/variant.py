"""Variants of kernel functions: run a check with one function of the model
replaced by your own version.

Designs (``gup/designs.py``) cover the protections the historical protocols
differ by; ``override`` covers everything else: any function of the model
(``gup_pte_range``, ``zap_pte_range``, ``pmdp_splitting_flush``,
``get_page_unless_zero``, ...) can be swapped for a variant written in a few
lines, and every caller in the model, whichever module it lives in, calls the
variant while the ``with`` block runs::

    from gupsim.check import CheckConfig, check
    from gupsim.kernel import override
    from gupsim.kernel import page
    from gupsim.spec import get_scenario
    import gupsim.scenarios                       # registers the kernel scenarios

    def no_speculation(k, pfn, refs=1):          # get_page_unless_zero, unconditional
        yield from page.get_page(k, pfn)
        return True

    with override(page.get_page_unless_zero, no_speculation):
        res = check(get_scenario("gup-vs-munmap").factory(arch="arm64",
                    design="generic-rcu-2014"), CheckConfig(strategy="dpor"))
    print(res.verdict)     # violation: get_page-on-free-page

The variant sees the arguments the kernel function gets and must return what it
returns (a generator function for a function that yields ops). Inside the
block the name refers to the variant everywhere; ``original("gup_get_pte")``
(or the value the ``with`` yields) is the kernel's own, for a variant that
wraps it.

MODEL: the replacement is process-wide for the duration of the block (module
attributes of ``gupsim.kernel`` and ``gupsim.scenarios`` are rebound and
restored on exit); checks that run in other processes do not see it.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator

from ..errors import UnknownName, UsageError

_PACKAGES = ("gupsim.kernel", "gupsim.scenarios")
_active: dict[Callable, Callable] = {}


def _modules():
    return [m for name, m in sorted(sys.modules.items())
            if m is not None and name.startswith(_PACKAGES)]


def _load_model() -> None:
    """Import every module of the kernel model, so any function can be named."""
    import importlib
    import pkgutil

    from .. import kernel
    for info in pkgutil.walk_packages(kernel.__path__, kernel.__name__ + "."):
        importlib.import_module(info.name)


def _resolve(target) -> Callable:
    """A function object, or a name such as ``"gup.fast.gup_pte_range"`` or
    ``"gup_pte_range"`` (searched in every module of the model)."""
    if callable(target):
        return target
    if not isinstance(target, str):
        raise UsageError(f"override target {target!r}: give a kernel function or its name")
    _load_model()
    mod_part, _, fn = target.rpartition(".")
    found = {}
    for m in _modules():
        if mod_part and not m.__name__.endswith("." + mod_part):
            continue
        f = getattr(m, fn, None)
        f = next((o for o, r in _active.items() if r is f), f)   # overridden: the original
        if callable(f) and getattr(f, "__module__", "").startswith(_PACKAGES):
            found.setdefault(f"{f.__module__}.{f.__name__}", f)
    if len(found) != 1:
        known = sorted({n for m in _modules() for n, f in vars(m).items()
                        if callable(f) and getattr(f, "__module__", None) == m.__name__})
        if not found:
            raise UnknownName("kernel function", target, known)
        raise UsageError(f"override target {target!r} is ambiguous: "
                         f"{', '.join(sorted(found))}; give the module too")
    return next(iter(found.values()))


def original(target) -> Callable:
    """The function a running ``override`` replaced (the target itself otherwise)."""
    f = _resolve(target)
    return next((o for o, r in _active.items() if f is r), f)


@contextmanager
def override(target, replacement: Callable) -> Iterator[Callable]:
    """Within the block, every module of the model that refers to ``target``
    calls ``replacement`` instead. Yields the original function."""
    if not callable(replacement):
        raise UsageError(f"override replacement {replacement!r} is not callable")
    orig = _resolve(target)
    rebound = []
    for m in _modules():
        for name, value in list(vars(m).items()):
            if value is orig:
                setattr(m, name, replacement)
                rebound.append((m, name))
    _active[orig] = replacement
    try:
        yield orig
    finally:
        for m, name in rebound:
            setattr(m, name, orig)
        _active.pop(orig, None)


__all__ = ["override", "original"]
