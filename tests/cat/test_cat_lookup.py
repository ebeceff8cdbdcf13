"""Where the LKMM files come from (find_lkmm) and loading models by name or
path: an explicit directory, $GUPSIM_LKMM_DIR, a kernel tree under the
current directory, the shared copy next to the repository; one-line errors."""

from __future__ import annotations

import importlib
import shutil

import pytest

from gupsim.check.cat import find_lkmm, load_model
from gupsim.check.cat.model import LKMM_FILES
from gupsim.errors import UnknownName, UsageError


@pytest.fixture
def kernel_tree(tmp_path):
    """A scratch kernel tree with tools/memory-model/ holding the model files."""
    src = find_lkmm()
    mm = tmp_path / "linux" / "tools" / "memory-model"
    mm.mkdir(parents=True)
    for name in (*LKMM_FILES, "linux-kernel.cfg", "linux-kernel.def"):
        shutil.copy(src / name, mm / name)
    return tmp_path / "linux"


def test_default_is_the_shared_copy(monkeypatch, tmp_path):
    monkeypatch.delenv("GUPSIM_LKMM_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    d = find_lkmm()
    assert d.name == "model" and d.parent.name == "lkmm"
    assert all((d / f).is_file() for f in LKMM_FILES)


def test_kernel_tree_under_the_current_directory(monkeypatch, kernel_tree):
    monkeypatch.delenv("GUPSIM_LKMM_DIR", raising=False)
    monkeypatch.chdir(kernel_tree)
    assert find_lkmm() == kernel_tree / "tools" / "memory-model"
    assert load_model("lkmm").prog.files[-1].startswith(str(kernel_tree))


def test_environment_and_explicit_directory(monkeypatch, kernel_tree, tmp_path):
    mm = kernel_tree / "tools" / "memory-model"
    monkeypatch.setenv("GUPSIM_LKMM_DIR", str(mm))
    assert find_lkmm() == mm
    monkeypatch.setenv("GUPSIM_LKMM_DIR", str(tmp_path))
    assert find_lkmm(mm) == mm                      # --cat-dir wins over the environment
    with pytest.raises(UsageError, match="has no linux-kernel.cat"):
        find_lkmm()


def test_nothing_found_says_where_it_looked(monkeypatch, tmp_path):
    monkeypatch.delenv("GUPSIM_LKMM_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(importlib.import_module("gupsim.check.cat.model"), "_REPO",
                        tmp_path / "repo")
    with pytest.raises(UsageError) as err:
        find_lkmm()
    msg = str(err.value)
    assert "\n" not in msg and "tools/memory-model" in msg and "GUPSIM_LKMM_DIR" in msg
    assert str(tmp_path / "shared" / "litmus" / "lkmm" / "model") in msg


def test_models_by_path_and_cfg(kernel_tree):
    mm = kernel_tree / "tools" / "memory-model"
    by_cfg = load_model(mm / "linux-kernel.cfg")
    assert by_cfg.title == "Linux-kernel memory consistency model"
    assert "lkmmv2" in by_cfg.variants
    assert load_model(mm).checks == by_cfg.checks
    assert load_model(mm / "linux-kernel.cfg") is by_cfg          # cached


def test_bad_names_and_paths(tmp_path):
    with pytest.raises(UnknownName, match="unknown cat model 'lkm'.*Did you mean lkmm"):
        load_model("lkm")
    with pytest.raises(UsageError, match="does not exist"):
        load_model(tmp_path / "missing.cat")
    cfg = tmp_path / "x.cfg"
    cfg.write_text("bell nowhere.bell\n")
    with pytest.raises(UsageError, match="x.cfg:1: bell file 'nowhere.bell' does not exist"):
        load_model(cfg)
    bad = tmp_path / "bad.cat"
    bad.write_text('"t"\nlet x = po |\n')
    with pytest.raises(UsageError, match=r"bad.cat:3:1: expected an expression"):
        load_model(bad)
