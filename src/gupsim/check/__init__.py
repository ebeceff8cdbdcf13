"""gupsim.check: a stateless model checker for threads written as generators.

It knows nothing of the program it checks beyond the op vocabulary
(``gupsim.ops``) and the program description (``gupsim.spec``)::

    from gupsim.check import check, CheckConfig
    result = check(factory, CheckConfig(strategy="dpor", memory_model="sc"))
    if result.violation:
        print(result.violation.message, result.schedule)
"""

from .config import STRATEGIES, CheckConfig
from .deps import Audit, Finding
from .deps import audit as audit_dependencies
from .explorer import check, run_schedule
from .result import Result, Stats

__all__ = ["check", "run_schedule", "CheckConfig", "Result", "Stats", "STRATEGIES",
           "audit_dependencies", "Audit", "Finding"]
