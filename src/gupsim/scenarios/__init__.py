"""Named scenarios (registered in gupsim.spec.SCENARIOS on import)."""

from . import gup  # noqa: F401  (registers the GUP scenarios)
from . import huge  # noqa: F401  (registers the huge-page scenarios)
from . import cow  # noqa: F401  (registers the COW scenarios)
from . import memory  # noqa: F401  (frame reuse, TLBs, migration)

__all__ = ["gup", "huge", "cow", "memory"]
