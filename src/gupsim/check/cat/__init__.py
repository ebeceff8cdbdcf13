"""Axiomatic memory models in herd7's cat language.

``load_model(path_or_name)`` parses a cat model (``"lkmm"``: the
Linux-kernel memory model, read from the kernel's own files found by
``find_lkmm()``); ``CatModel.check(graph)`` judges an ``ExecutionGraph``
(``check.execgraph``) and returns a ``Judgement``; ``CatModel.relation``
reads any relation the model defines; ``CatModel.explain`` names the check
an inconsistent graph fails and one cycle of it. The dialect is described in
``gupsim/models/README.md``.
"""

from .model import CatModel, Judgement, find_lkmm, known_models, load_model
from .explain import Explanation
from .parser import parse

__all__ = ["CatModel", "Judgement", "Explanation", "find_lkmm", "known_models",
           "load_model", "parse"]
