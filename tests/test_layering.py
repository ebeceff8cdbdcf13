"""The import rules of DESIGN.md, checked by walking the AST of every module.

An arrow the wrong way (the checker importing the kernel model, the kernel
importing the checker, the report re-running checks) fails here with the file,
line and import that broke the rule.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

import gupsim

ROOT = Path(gupsim.__file__).parent
LEAF = {"gupsim.errors", "gupsim.ops", "gupsim.spec"}
LEAF_ORDER = ["gupsim.errors", "gupsim.ops", "gupsim.spec"]
REPORT_MAY_USE = {"gupsim.check.result", "gupsim.check.schedule", "gupsim.check.trace"}
FORBIDDEN_WORDS = re.compile(r"^(pages?|ptes?|tlbs?|rcu)$", re.IGNORECASE)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    base = ROOT.parent / rel
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in the file, nested ones included."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            subs = [f"{target}.{a.name}" for a in node.names if is_module(f"{target}.{a.name}")]
            out += [(node.lineno, m) for m in (subs or [target])]
    return out


def files(package: str) -> list[Path]:
    where = ROOT.joinpath(*package.split(".")[1:])
    return sorted(where.rglob("*.py")) if where.is_dir() else [where.with_suffix(".py")]


def gupsim_imports(package: str):
    for path in files(package):
        for line, target in imports(path):
            if target == "gupsim" or target.startswith("gupsim."):
                yield f"{path.relative_to(ROOT)}:{line}", module_name(path), target


def within(target: str, prefix: str) -> bool:
    return target == prefix or target.startswith(prefix + ".")


def test_imports_are_resolved():
    """The walker itself: a relative import in check/ resolves to gupsim.*."""
    found = {t for _, _, t in gupsim_imports("gupsim.check")}
    assert "gupsim.ops" in found and "gupsim.spec" in found


@pytest.mark.parametrize("leaf", LEAF_ORDER)
def test_leaf_imports_only_stdlib_and_earlier_leaves(leaf):
    allowed = set(LEAF_ORDER[:LEAF_ORDER.index(leaf)])
    bad = []
    for line, target in imports(files(leaf)[0]):
        top = target.split(".")[0]
        if target.startswith("gupsim"):
            if target not in allowed:
                bad.append((line, target))
        elif top not in sys.stdlib_module_names and top != "__future__":
            bad.append((line, target))
    assert not bad, f"{leaf} may import only the stdlib and {sorted(allowed)}: {bad}"


def test_check_imports_only_the_leaf():
    bad = [(where, t) for where, _, t in gupsim_imports("gupsim.check")
           if not (t in LEAF or within(t, "gupsim.check"))]
    assert not bad, f"check/ may import only errors/ops/spec and itself: {bad}"


def words(source: str):
    """Every word of the source, identifiers split at underscores and camel humps."""
    for token in re.findall(r"[A-Za-z0-9_]+", source):
        for part in token.split("_"):
            yield from re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", part)


def test_words_splitter_catches_identifiers():
    assert {"pte", "free", "TLB", "Flush"} <= set(words("pte_free(TLBFlush)"))


def test_check_never_speaks_of_the_kernel_model():
    bad = []
    for path in files("gupsim.check"):
        for lineno, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            hits = [w for w in words(text) if FORBIDDEN_WORDS.match(w)]
            if hits:
                bad.append(f"{path.relative_to(ROOT)}:{lineno}: {hits}")
    assert not bad, "check/ must not mention page, pte, tlb or rcu:\n" + "\n".join(bad)


def test_kernel_imports_only_the_leaf():
    bad = [(where, t) for where, _, t in gupsim_imports("gupsim.kernel")
           if not (t in LEAF or within(t, "gupsim.kernel"))]
    assert not bad, f"kernel/ may import only errors/ops/spec and itself: {bad}"


def test_scenarios_import_kernel_and_leaf():
    bad = [(where, t) for where, _, t in gupsim_imports("gupsim.scenarios")
           if not (t in LEAF or within(t, "gupsim.kernel") or within(t, "gupsim.scenarios"))]
    assert not bad, f"scenarios/ may import only kernel/ and the leaf: {bad}"


def test_report_reads_results_only():
    bad = [(where, t) for where, _, t in gupsim_imports("gupsim.report")
           if not (t in LEAF or t in REPORT_MAY_USE or within(t, "gupsim.report"))]
    assert not bad, f"report/ may import only {sorted(REPORT_MAY_USE)} and the leaf: {bad}"
