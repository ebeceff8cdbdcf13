"""Presentation of check results: it renders what the checker recorded, it never re-runs.

``text`` renders a ``Result`` for a terminal; ``progress`` draws live progress
while a long check runs. Imports only ``check.result``/``check.schedule`` and
the leaf modules (enforced by tests/test_layering.py).
"""

from .text import render

__all__ = ["render"]
