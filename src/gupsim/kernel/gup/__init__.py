"""GUP: the designs registry, the lockless walker and the entry points.

See ``designs`` for the protection names and how to derive a design.
"""

from .designs import DESIGNS, PROTECTIONS, Design, get_design
from .entry import (Pages, __get_user_pages_fast, get_user_pages_fast, pin_user_pages_fast,
                    put_user_pages, unpin_user_pages)
from .fast import Walk, gup_fast
from .slow import get_user_pages

__all__ = ["DESIGNS", "PROTECTIONS", "Design", "get_design", "get_user_pages_fast",
           "__get_user_pages_fast", "pin_user_pages_fast", "put_user_pages",
           "unpin_user_pages", "Pages", "Walk", "gup_fast", "get_user_pages"]
