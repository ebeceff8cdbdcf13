"""kernel.override: a variant of any kernel function, for the length of a block."""

import pytest

import gupsim.scenarios  # noqa: F401  (registers the scenarios)

from gupsim.check import CheckConfig, check
from gupsim.errors import UnknownName, UsageError
from gupsim.kernel import get_arch, original, override, page
from gupsim.kernel.gup import fast
from gupsim.spec import get_scenario


def munmap_check(design="generic-rcu-2014", arch="arm64"):
    factory = get_scenario("gup-vs-munmap").factory(arch=arch, design=design)
    return check(factory, CheckConfig(strategy="dpor", memory_model=get_arch(arch).memory_model))


def no_speculation(k, pfn, refs=1):
    """get_page_unless_zero() turned into an unconditional get_page()."""
    yield from page.get_page(k, pfn)
    return True


def test_a_variant_changes_the_verdict_only_inside_the_block():
    assert munmap_check().verdict == "safe"
    with override(page.get_page_unless_zero, no_speculation) as orig:
        assert orig.__name__ == "get_page_unless_zero"
        # every module that calls it sees the variant (page.py's own callers too)
        assert page.get_page_unless_zero is no_speculation
        res = munmap_check()
    assert res.verdict == "violation" and res.violation.name == "get_page-on-free-page"
    assert page.get_page_unless_zero is not no_speculation
    assert munmap_check().verdict == "safe"


def test_a_variant_can_wrap_the_original_by_name():
    calls = []

    def counting(k, table, i):
        calls.append(i)
        return (yield from original("gup_get_pte")(k, table, i))

    with override("gup.fast.gup_get_pte", counting):
        assert fast.gup_get_pte is counting
        assert munmap_check().verdict == "safe"
    assert calls and fast.gup_get_pte is not counting


def test_bad_targets_are_usage_errors():
    with pytest.raises(UnknownName, match="gup_pte_rang"):
        with override("gup_pte_rang", no_speculation):
            pass
    with pytest.raises(UsageError, match="not callable"):
        with override(page.get_page, 3):
            pass
