"""--html, --dot and --plot on the commands: files written, exit codes kept,
bad paths one line with exit 2."""

from __future__ import annotations

import json
import re

import pytest
from conftest import SEED, cli

PNG = b"\x89PNG\r\n\x1a\n"


def one_line(result, *fragments):
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gupsim: "), result.stderr
    for f in fragments:
        assert f in lines[0]


def test_check_writes_page_and_dot(tmp_path):
    page, dot = tmp_path / "race.html", tmp_path / "race.dot"
    out = cli("check", *SEED, "--html", str(page), "--dot", str(dot))
    assert out.exit_code == 1
    assert "get_page-on-free-page" in out.stdout          # the text report is still printed
    assert f"wrote {page}" in out.stderr
    assert 'class="row violating"' in page.read_text()
    text = dot.read_text()
    assert text.startswith('digraph "gup-vs-munmap" {') and '[label="rf"' in text


def test_replay_and_report_write_the_same_trace(tmp_path):
    saved = tmp_path / "r.json"
    out = cli("check", *SEED, "--json")
    saved.write_text(out.stdout)
    data = json.loads(out.stdout)
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    assert cli("report", str(saved), "--html", str(first)).exit_code == 1
    replay = cli("replay", "gup-vs-munmap", "--param", "arch=arm64", "--param",
                 "design=arm-rfc-2013", "--memory-model", "sc", "--schedule", data["schedule"],
                 "--html", str(second))
    assert replay.exit_code == 1
    assert first.read_text() == second.read_text()


def test_explain_page_has_the_story(tmp_path):
    page = tmp_path / "x.html"
    assert cli("explain", *SEED, "--html", str(page)).exit_code == 1
    text = page.read_text()      # explain records call stacks: callers, not accessors
    assert '<span class="fn">unmap_region</span>' in text
    assert '<span class="fn">free_pgtable_page</span>' in text
    assert '<span class="fn">read_entry</span>' not in text


def test_safe_check_page_and_no_dot(tmp_path):
    page = tmp_path / "safe.html"
    out = cli("check", "litmus/SB", "--html", str(page))
    assert out.exit_code == 0 and "safe" in page.read_text()
    one_line(cli("check", "litmus/SB", "--dot", str(tmp_path / "g.dot")), "--dot",
             "no trace or execution graph")


def test_matrix_html_links_counterexample_pages(tmp_path):
    page = tmp_path / "m.html"
    out = cli("matrix", "--designs", "arm-rfc-2013,modern", "--arches", "arm64",
              "--scenarios", "gup-vs-munmap", "--html", str(page), "--plot",
              str(tmp_path / "m.png"))
    assert out.exit_code == 1
    linked = tmp_path / "m-arm-rfc-2013-arm64-gup-vs-munmap-armv8.html"
    assert linked.exists() and 'class="row violating"' in linked.read_text()
    text = page.read_text()
    assert f'href="{linked.name}"' in text and text.count("<a href=") == 1
    assert (tmp_path / "m.png").read_bytes().startswith(PNG)


@pytest.mark.slow
def test_ablate_html_and_plot(tmp_path):
    page, png = tmp_path / "a.html", tmp_path / "a.png"
    out = cli("ablate", "gup-vs-thp-split", "--design", "readers-counter-2013", "--arch",
              "arm64", "--memory-models", "sc", "--html", str(page), "--plot", str(png))
    assert out.exit_code == 0
    text = page.read_text()
    assert "reader:readers-count" in text and 'class="necessary"' in text
    links = re.findall(r'<a href="([^"]+)"', text)
    assert links and all(":" not in h and (tmp_path / h).exists() for h in links)
    assert png.read_bytes().startswith(PNG)


def test_bench_plot(tmp_path):
    png = tmp_path / "b.png"
    out = cli("bench", "readers", "--n", "3", "--plot", str(png))
    assert out.exit_code == 0 and png.read_bytes().startswith(PNG)


@pytest.mark.parametrize("option", ["--html", "--dot"])
def test_missing_folder_is_one_line(tmp_path, option):
    where = tmp_path / "nope" / "x.out"
    one_line(cli("check", *SEED, option, str(where)), option, "does not exist")


def test_missing_folder_for_a_plot_is_one_line(tmp_path):
    one_line(cli("bench", "readers", "--n", "3", "--plot", str(tmp_path / "no" / "b.png")),
             "--plot", "does not exist")
