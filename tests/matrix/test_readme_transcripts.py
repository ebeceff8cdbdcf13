"""Every ``$ gupsim ...`` transcript in README.md is what the command prints
now (timings aside; a line ``  ...`` stands for lines left out), so the
walkthrough cannot drift from the tool."""

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from gupsim.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"
TRANSCRIPT = re.compile(r"```text\n\$ (gupsim [^\n]*)\n(.*?)```", re.S)
TIMING = re.compile(r"\d[\d,]* executions, [\d.]+ s")


def transcripts():
    return TRANSCRIPT.findall(README.read_text(encoding="utf-8"))


def _steady(text: str) -> str:
    return TIMING.sub("N executions, T s", text)


def _pattern(shown: str) -> re.Pattern:
    """The transcript as a pattern: each ``  ...`` line matches any lines."""
    parts = [r"(?:[^\n]*\n)*?" if line == "  ..." else re.escape(line) + r"\n"
             for line in _steady(shown).splitlines()]
    return re.compile("".join(parts))


def test_the_readme_has_transcripts():
    assert len(transcripts()) >= 8


@pytest.mark.parametrize("command,shown", transcripts(), ids=[c for c, _ in transcripts()])
def test_transcript_matches_the_command(command, shown):
    r = CliRunner().invoke(main, shlex.split(command)[1:], terminal_width=200)
    assert r.exit_code in (0, 1), r.output
    assert _pattern(shown).fullmatch(_steady(r.stdout)), r.stdout
