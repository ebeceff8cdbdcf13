"""Live progress for long runs: executions, executions/s, elapsed time.

Shown only when stderr is a terminal, on one transient status line, so piped
output and ``--json`` stay clean. Pass the object as ``check()``'s
``progress`` callback::

    with LiveProgress("bench/readers n=13") as progress:
        result = check(factory, config, progress)
"""

from __future__ import annotations

from ..check.result import Stats


class LiveProgress:
    """A ``progress(stats)`` callback drawing a rich status line on a terminal."""

    def __init__(self, label: str, enabled: bool = True, console=None):
        self.label = label
        self.enabled = enabled
        self.console = console
        self.status = None
        self.calls = 0

    def __enter__(self) -> "LiveProgress":
        if not self.enabled:
            return self
        if self.console is None:
            from rich.console import Console
            self.console = Console(stderr=True)
        if self.console.is_terminal:
            self.status = self.console.status(f"{self.label}: starting")
            self.status.start()
        return self

    def __call__(self, stats: Stats, estimate: float | None = None) -> None:
        self.calls += 1
        if self.status is not None:
            self.status.update(self.line(stats, estimate))

    def line(self, stats: Stats, estimate: float | None = None) -> str:
        """The status text; with ``estimate`` (items in the whole tree, e.g. from
        Knuth's probes) also the estimated total and time left."""
        text = (f"{self.label}: {stats.executions:,} executions, "
                f"{stats.per_second:,.0f}/s, {stats.seconds:.1f} s")
        if estimate:
            done = stats.executions + stats.blocked
            rate = done / stats.seconds if stats.seconds > 0 else 0.0
            left = max(0.0, estimate - done)
            eta = f", ETA {left / rate:,.0f} s" if rate > 0 else ""
            text += f", ~{estimate:,.0f} in all{eta}"
        return text

    def __exit__(self, *exc) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None
