"""The pages in a real browser: Debian's chromium driven by Playwright.

For the seed race's page, a weak-model counterexample's page and the matrix
page: no console error, no network request, the violating step selected and
in view, the arrow key moving one step and the state panel changing, a
matrix cell's link opening its trace.
A 2,000-step trace's time to interactive and stepping time are printed
(never asserted). Screenshots go to a temp folder (printed)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from urllib.parse import unquote

import pytest
from conftest import SEED, WEAK, cli, long_result

from gupsim.report.html import trace_page

pytestmark = pytest.mark.browser


def _need(what: str, hint: str):
    if os.environ.get("CI") or os.environ.get("GUPSIM_REQUIRE_BROWSER"):
        pytest.fail(f"{what} missing: {hint}")
    pytest.skip(f"{what} missing: {hint} (make test installs it)")


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ModuleNotFoundError:
        _need("playwright", "pip install -e '.[test]'")
    exe = shutil.which("chromium")
    if exe is None:
        _need("chromium", "apt-get install -y chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("screenshots")
    print(f"\nscreenshots: {folder}")
    return folder


class Watched:
    """A page with its console errors, page errors and every request recorded."""

    def __init__(self, browser):
        self.page = browser.new_page(viewport={"width": 1500, "height": 950})
        self.errors, self.requests = [], []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def open(self, path):
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")
        return self

    def problems(self, path) -> list[str]:
        out = [f"console: {e}" for e in self.errors]
        out += [f"request: {u}" for u in self.requests if u != path.as_uri()]
        viewer = self.page.evaluate("!!document.getElementById('gupsim-data')")
        if viewer and self.page.evaluate("document.body.dataset.ready") != "1":
            out.append("the viewer script did not finish")
        return out


def selected(page) -> int:
    return int(page.evaluate("document.querySelector('tr.row.selected').dataset.i"))


def in_view(page, selector) -> bool:
    return page.evaluate("""s => { const r = document.querySelector(s).getBoundingClientRect();
        return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight; }""", selector)


@pytest.fixture(scope="session")
def seed_page(tmp_path_factory):
    path = tmp_path_factory.mktemp("seed") / "seed-race.html"
    assert cli("explain", *SEED, "--html", str(path)).exit_code == 1
    return path


@pytest.fixture(scope="session")
def matrix_pages(tmp_path_factory):
    path = tmp_path_factory.mktemp("matrix") / "matrix.html"
    out = cli("matrix", "--designs", "arm-rfc-2013,modern", "--arches", "arm64,x86-64",
              "--html", str(path))
    assert out.exit_code == 1, out.output
    return path


def test_seed_race_page(browser, seed_page, shots, seed_result):
    w = Watched(browser).open(seed_page)
    page = w.page
    assert w.problems(seed_page) == []
    n = len(seed_result["trace"])
    assert selected(page) == n - 1
    assert "violating" in page.get_attribute("tr.row.selected", "class")
    assert in_view(page, "tr.row.selected .card")
    assert page.is_visible("#state-violation")
    assert "get_page-on-free-page" in page.inner_text("#state-violation")
    page.screenshot(path=str(shots / "seed-race.png"))
    # a step after which the kernel state changed: select the one before, press →
    i = next(k for k in range(1, n) if "state" in seed_result["trace"][k]) - 1
    page.click(f"#r{i} .card")
    assert selected(page) == i
    before = page.inner_text("#state-body")
    page.keyboard.press("ArrowRight")
    assert selected(page) == i + 1
    assert page.inner_text("#state-body") != before
    assert page.locator("#state-body .changed").count() >= 1
    assert page.input_value("#slider") == str(i + 1)
    page.screenshot(path=str(shots / "seed-race-stepped.png"))
    page.keyboard.press("Home")
    assert selected(page) == 0 and page.inner_text("#pos").startswith("step 0 /")
    page.keyboard.press("End")
    assert selected(page) == n - 1
    page.keyboard.press("ArrowRight")                  # stays on the last step
    assert selected(page) == n - 1
    assert w.problems(seed_page) == []


def test_weak_counterexample_page_shows_the_state_each_step_observed(browser, tmp_path, shots,
                                                                    weak_result):
    """Under armv8 the panel draws the kernel state (page tables, struct
    pages) each step's CPU has observed, says so, and changes with →."""
    path = tmp_path / "weak.html"
    out = cli("check", *WEAK, "--html", str(path))
    assert out.exit_code == 1, out.output
    w = Watched(browser).open(path)
    page = w.page
    assert w.problems(path) == []
    text = page.inner_text("#state-body")
    assert "is a graph" not in text and "no state snapshots" not in text
    assert "as this step's CPU has observed it" in text
    heads = [h.lower() for h in page.locator("#state-body h3").all_inner_texts()]
    assert heads[:2] == ["page tables", "struct page"]
    assert "memory at the end of the execution" in heads
    big = [v for v in weak_result["final_memory"].values() if isinstance(v, int) and v > 2 ** 53]
    assert big and all(str(v) in text for v in big)          # not rounded to a double
    assert page.locator("#state-body .tree .entry").count() >= 4
    assert page.inner_text("#state-title").startswith("state observed at step ")
    page.screenshot(path=str(shots / "weak.png"))
    # the first step of the second CPU: its own view, not the first CPU's
    threads = [ev["thread"] for ev in weak_result["trace"]]      # (the same run: determinism)
    assert page.locator("tr.row").count() == len(threads)
    i = next(k for k in range(1, len(threads)) if threads[k] != threads[0]) - 1
    page.click(f"#r{i} .card")
    before = page.inner_text("#state-body")
    page.keyboard.press("ArrowRight")
    assert selected(page) == i + 1
    assert page.inner_text("#state-body") != before
    # highlights compare with this CPU's previous step, and it has none
    assert page.locator("#state-body .changed").count() == 0
    page.screenshot(path=str(shots / "weak-stepped.png"))
    # ... and on its later steps they show what its own view gained
    marked = []
    for k in range(i + 2, len(threads)):
        page.keyboard.press("ArrowRight")
        if threads[k] == threads[i + 1] and page.locator("#state-body .changed").count():
            marked.append(k)
            break
    assert marked
    assert w.problems(path) == []


def test_matrix_page_links_to_its_trace(browser, matrix_pages, shots):
    w = Watched(browser).open(matrix_pages)
    page = w.page
    assert w.problems(matrix_pages) == []
    assert page.locator("td.cell").count() >= 8
    assert page.locator("td.c-violation a").count() >= 1
    page.screenshot(path=str(shots / "matrix.png"), full_page=True)
    link = page.locator("td.c-violation a").first
    target = matrix_pages.parent / link.get_attribute("href")
    link.click()
    page.wait_for_load_state("load")
    assert page.url == target.as_uri()
    assert page.evaluate("document.body.dataset.ready") == "1"
    assert "violating" in page.get_attribute("tr.row.selected", "class")
    assert w.errors == []
    assert [u for u in w.requests if u not in (matrix_pages.as_uri(), target.as_uri())] == []


MP_LITMUS = Path(__file__).resolve().parents[1] / "litmus" / "classic" / "MP+poonceonces.litmus"


def test_litmus_page_links_to_its_witness(browser, tmp_path, shots):
    """`gupsim litmus --html`: the table's witness link opens the trace page
    of an execution that reaches the condition, with its graph, selected on
    the last step and saying "reached" (not "violated")."""
    path = tmp_path / "litmus.html"
    out = cli("litmus", str(MP_LITMUS), "--model", "armv8", "--html", str(path))
    assert out.exit_code == 0, out.output
    w = Watched(browser).open(path)
    page = w.page
    assert w.problems(path) == []
    link = page.locator("#litmus a").first
    target = path.parent / link.get_attribute("href")
    link.click()
    page.wait_for_load_state("load")
    assert unquote(page.url) == unquote(target.as_uri())
    assert page.evaluate("document.body.dataset.ready") == "1"
    assert page.inner_text("#property").startswith("reached: exists (1:r0=1 /\\ 1:r1=0)")
    assert "violating" in page.get_attribute("tr.row.selected", "class")
    assert page.locator("svg .edge, svg line, svg path").count() >= 3      # the graph
    page.screenshot(path=str(shots / "litmus-witness.png"), full_page=True)
    assert w.errors == []
    assert [u for u in map(unquote, w.requests)
            if u not in (unquote(path.as_uri()), unquote(target.as_uri()))] == []


def test_a_2000_step_trace_opens_and_steps(browser, tmp_path, shots, ipi_result):
    data = long_result(ipi_result, 2000)
    path = tmp_path / "long.html"
    path.write_text(trace_page(data), encoding="utf-8")
    w = Watched(browser)
    t0 = time.perf_counter()
    w.open(path)
    wall = time.perf_counter() - t0
    page = w.page
    assert w.problems(path) == []
    assert selected(page) == 1999
    ready = page.evaluate("performance.now()")          # since navigation start
    script = page.evaluate("window.gupsimReadyMs")
    page.keyboard.press("Home")
    t1 = time.perf_counter()
    for _ in range(100):
        page.keyboard.press("ArrowRight")
    per_step = (time.perf_counter() - t1) / 100
    assert selected(page) == 100
    in_page = page.evaluate("""() => { const t = performance.now();
        for (let k = 0; k < 100; k++) {
          document.dispatchEvent(new KeyboardEvent("keydown", {key: "ArrowRight"}));
          document.body.offsetHeight; }
        return (performance.now() - t) / 100; }""")
    assert selected(page) == 200
    page.screenshot(path=str(shots / "long.png"))
    size = os.path.getsize(path)
    print(f"\n2,000-step trace ({size / 1e6:.1f} MB): load to interactive {wall * 1000:.0f} ms "
          f"wall ({ready:.0f} ms by the page's clock, viewer script {script:.0f} ms); "
          f"one step {in_page:.1f} ms in the page (with layout), {per_step * 1000:.1f} ms "
          f"by Playwright key presses (round trip included)")


def test_the_checks_catch_a_broken_page(browser, seed_page, tmp_path):
    """The same checks fail on a page whose data block is broken or that fetches."""
    broken = tmp_path / "broken.html"
    text = seed_page.read_text(encoding="utf-8")
    broken.write_text(text.replace('id="gupsim-data">{', 'id="gupsim-data">{oops', 1),
                      encoding="utf-8")
    w = Watched(browser).open(broken)
    problems = w.problems(broken)
    assert any(p.startswith("console: ") for p in problems)
    assert "the viewer script did not finish" in problems
    fetching = tmp_path / "fetching.html"
    fetching.write_text(text.replace("</body>", '<img src="https://example.invalid/x.png"></body>'),
                        encoding="utf-8")
    w = Watched(browser).open(fetching)
    assert any(p.startswith("request: https://example.invalid") for p in w.problems(fetching))


def test_a_program_without_snapshots(browser, tmp_path):
    """A litmus test's page: lanes and stepping, the final memory instead of kernel state."""
    path = tmp_path / "sb.html"
    assert cli("check", "litmus/SB", "--memory-model", "tso", "--html", str(path)).exit_code == 1
    w = Watched(browser).open(path)
    page = w.page
    assert w.problems(path) == []
    assert "no state snapshots" in page.inner_text("#state-body")
    assert page.locator("#state-body table.kv tr").count() >= 3      # header, x, y
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    assert selected(page) == 1
