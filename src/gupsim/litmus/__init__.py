"""C litmus tests of the Linux-kernel memory model, run and judged like herd7.

``parse_file`` reads a test (``tools/memory-model/litmus-tests`` format) into
plain data, ``compile_test`` turns it into a ``Program`` factory, ``run``
explores it under a memory model and ``format_result`` prints herd7's output.
"""

from .ast import LitmusTest
from .compile import Compiled, compile_test
from .parse import parse_file, parse_text

__all__ = ["LitmusTest", "Compiled", "compile_test", "parse_file", "parse_text"]
