"""Writing the viewer's files for the commands: trace pages, DOT, and the
matrix and ablation pages with a counterexample page for every found cell.

``report`` renders what it is given and never runs a check; the matrix and
ablation pages need each found cell's counterexample, so this module (used
by ``cli``) searches for it with ``matrix.counterexample`` and hands the
result's JSON to ``report.html``. ``echo`` receives one line per file
written (the CLI prints them on stderr, keeping stdout for the report).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping

from .errors import UsageError

Echo = Callable[[str], None]

PAGE_SEARCH_SECONDS = 3.0
"""Budget of each search for a linked page's fewest-preemption counterexample (past
it, dpor's own counterexample is shown; a cell whose search finds nothing gets no link)."""

FOUND = ("violation", "livelock", "deadlock")


def result_data(result, scenario: str, params: Mapping) -> dict:
    """A Result's JSON with the scenario and parameters (what ``--json`` prints)."""
    data = result.to_json()
    data.update(scenario=scenario, params=dict(params))
    return data


def cx_data(cx) -> dict:
    """A ``matrix.Counterexample``'s JSON, with its number of preemptions."""
    data = result_data(cx.result, cx.scenario, cx.params)
    data["preemptions"] = cx.preemptions
    return data


def write_views(data: Mapping, html_path: str | None, dot_path: str | None,
                echo: Echo) -> None:
    """The trace page and the DOT file of a result's JSON, as asked."""
    from .report.html import trace_page, write
    if html_path:
        write(html_path, trace_page(data))
        echo(f"wrote {html_path}")
    if dot_path:
        from .report.dot import graph_of, to_dot
        graph = graph_of(data)
        if graph is None:
            raise UsageError(f"--dot {dot_path}: this result has no trace or execution graph "
                             "to draw (nothing was found, and it was not a replay)")
        write(dot_path, to_dot(graph, str(data.get("scenario") or "execution")))
        echo(f"wrote {dot_path}")


def linked_pages(path: str, items: Iterable[tuple], budget: float) -> dict[int, str]:
    """Counterexample pages beside ``path`` for ``(index, scenario, memory model,
    params, file name)`` items; returns index -> the file name to link to."""
    from .matrix import counterexample
    from .report.html import trace_page, write
    folder = os.path.dirname(os.path.abspath(path))
    budget = min(budget, PAGE_SEARCH_SECONDS)
    links = {}
    for i, scenario, model, params, name in items:
        cx = counterexample(scenario, model, budget=budget, **params)
        if cx is not None:
            write(os.path.join(folder, name), trace_page(cx_data(cx)))
            links[i] = name
    return links


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def matrix_pages(rows: list[dict], path: str, budget: float, echo: Echo) -> None:
    """The matrix page at ``path`` and, beside it, each found cell's trace page."""
    from .report.html import cell_file, matrix_page, write
    found = [(i, c["scenario"], c["memory_model"], {"arch": c["arch"], "design": c["design"]},
              cell_file(_stem(path), c)) for i, c in enumerate(rows) if c["verdict"] in FOUND]
    links = linked_pages(path, found, budget)
    write(path, matrix_page(rows, links))
    echo(f"wrote {path} and {len(links)} counterexample pages beside it")


def ablation_pages(rows: list[dict], path: str, budget: float, echo: Echo) -> None:
    """The ablation page at ``path`` and the trace page of each counterexample
    found without a protection (``NAME-without-P``, see kernel.get_design)."""
    from .report.html import ablation_page, cell_file, write
    found = []
    for i, r in enumerate(rows):
        if r["verdict"] not in FOUND:
            continue
        design = r["design"] if r["protection"] == "(none)" else \
            f"{r['design']}-without-{r['protection']}"
        found.append((i, r["scenario"], r["memory_model"],
                      {**r.get("params", {}), "arch": r["arch"], "design": design},
                      cell_file(_stem(path), dict(r, design=design))))
    links = linked_pages(path, found, budget)
    write(path, ablation_page(rows, links))
    echo(f"wrote {path} and {len(links)} counterexample pages beside it")


def litmus_pages(results: list, files: list, path: str, echo: Echo) -> None:
    """The litmus results' page at ``path`` and, beside it, each test's
    witness page (``litmus.run.witness``), ``STEM-TEST-MODEL.html``."""
    import re

    from .litmus.run import witness
    from .report.html import litmus_page, trace_page, write
    folder = os.path.dirname(os.path.abspath(path))
    rows = [r.to_json() for r in results]
    links = {}
    for i, (r, f) in enumerate(zip(results, files)):
        data = witness(f, r.model)
        if data is None:
            continue
        name = re.sub(r"[^A-Za-z0-9_.+-]", "_", f"{_stem(path)}-{r.name}-{r.model}.html")
        write(os.path.join(folder, name), trace_page(data, title=f"{r.name} ({r.model})"))
        links[i] = name
    write(path, litmus_page(rows, links))
    echo(f"wrote {path} and {len(links)} witness pages beside it")


__all__ = ["result_data", "cx_data", "write_views", "linked_pages", "matrix_pages",
           "ablation_pages", "litmus_pages", "PAGE_SEARCH_SECONDS"]
