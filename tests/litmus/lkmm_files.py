"""Where the kernel's C litmus tests are: ``GUPSIM_LKMM_LITMUS``, the shared
copy next to the worktree (``../shared/litmus/lkmm``), or the copy ``make``
fetches from Debian's linux-source package (``.cache/lkmm``, laid out the same
way by ``scripts/fetch_lkmm.py``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def lkmm_dir() -> Path:
    env = os.environ.get("GUPSIM_LKMM_LITMUS")
    if env:
        return Path(env)
    shared = ROOT.parent / "shared" / "litmus" / "lkmm"
    return shared if shared.is_dir() else ROOT / ".cache" / "lkmm"


def expected_count() -> int:
    """47 tests in a kernel tree since 2020 (35 under tools/memory-model, 12
    under Documentation); the shared copy adds 8 under their early-2018 names
    in ``removed-upstream/``."""
    return 47 + (8 if any(lkmm_dir().rglob("removed-upstream")) else 0)


def lkmm_files() -> list[Path]:
    where = lkmm_dir()
    return sorted(where.rglob("*.litmus")) if where.is_dir() else []


def lkmm_test(name: str) -> Path:
    """The file of one test by its name (SB+poonceonces), or skip when the
    folder is not there."""
    for path in lkmm_files():
        if path.stem == name:
            return path
    pytest.skip(f"{name}.litmus not found under {lkmm_dir()} (set GUPSIM_LKMM_LITMUS)")
