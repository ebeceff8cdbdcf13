"""README's tutorial runs as written: the script prints what README shows, and the
pytest example passes under pytest."""

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def block(tag: str, lang: str) -> str:
    text = README.read_text(encoding="utf-8")
    m = re.search(rf"<!-- tutorial:{tag} -->\n```{lang}\n(.*?)```", text, re.S)
    assert m, f"README.md has no <!-- tutorial:{tag} --> {lang} block"
    return m.group(1)


def test_the_script_prints_what_the_readme_shows():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block("script", "python"), "README.md:tutorial", "exec"), {})
    assert out.getvalue() == block("script-output", "text")


def test_the_pytest_example_passes(tmp_path):
    path = tmp_path / "test_my_variant.py"
    path.write_text(block("pytest", "python"), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(path)], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 passed" in proc.stdout


def _prints(tag):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block(tag, "python"), f"README.md:{tag}", "exec"), {})
    return out.getvalue()


def test_the_own_scenario_example_prints_what_the_readme_shows():
    assert _prints("compose") == block("compose-output", "text")


def test_the_override_example_prints_what_the_readme_shows():
    from gupsim.kernel import page
    before = page.get_page_unless_zero
    assert _prints("override") == block("override-output", "text")
    assert page.get_page_unless_zero is before        # restored after the block
