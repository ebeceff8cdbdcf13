"""``gupsim cat``: load a cat model and list its checks; bad models exit 2."""

from __future__ import annotations

from click.testing import CliRunner

from gupsim.cli import main


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_lkmm_lists_its_checks():
    res = run("cat", "lkmm")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == "Linux-kernel memory consistency model"
    assert lines[1].startswith("  files: ") and lines[1].endswith("linux-kernel.cat")
    assert "happens-before, propagation, rcu" in lines[2]
    assert "data-race" in lines[3] and "lkmmv2" in lines[4]


def test_bad_model_file_is_one_line(tmp_path):
    bad = tmp_path / "bad.cat"
    bad.write_text("let x = [po\n")
    res = run("cat", str(bad))
    assert res.exit_code == 2
    (line,) = res.output.strip().splitlines()
    assert "bad.cat:2:1: expected ']'" in line


def test_bad_cat_dir_and_unknown_name(tmp_path):
    res = run("cat", "lkmm", "--cat-dir", str(tmp_path))
    assert res.exit_code == 2 and "has no linux-kernel.cat" in res.output
    res = run("cat", "armv9000")
    assert res.exit_code == 2 and "unknown cat model 'armv9000'" in res.output
