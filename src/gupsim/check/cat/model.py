"""Loading cat models and judging execution graphs with them.

``load_model("lkmm")`` reads the Linux-kernel memory model from the kernel's
own files, found by ``find_lkmm()``; ``load_model(path)`` reads any cat file
(or a herd ``.cfg`` naming a bell and a cat file); a bare name is looked up
among the cat files shipped in ``gupsim/models/``. Parsed models are cached.

``CatModel.check(graph)`` gives a ``Judgement``: consistent or not, the first
failing check's name (``coherence``, ``happens-before``, ``propagation``,
...) and the flags raised (``data-race``, ...); ``relation(graph, name)``
reads any relation the model defines; ``explain(graph)`` gives the failing
check and one cycle in it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from gupsim.errors import UnknownName, UsageError

from ..execgraph import sequentially_consistent
from .base import predefined
from .explain import Explanation, explain_failure
from .program import Eval, Loader, Outcome, Program, run
from .values import Algebra

LKMM_FILES = ("linux-kernel.cat", "linux-kernel.bell", "lock.cat")
LKMM_NAMES = ("lkmm", "linux-kernel")
ENV_DIR = "GUPSIM_LKMM_DIR"
DEFAULT_VARIANTS = frozenset({"lkmmv2"})
# The tags of linux-kernel.def whose only meaning is ordering strength: marked
# accesses, the barriers, and lock events where the model takes them as RMWs.
ORDERING_TAGS = frozenset({"ONCE", "ACQUIRE", "RELEASE", "MB", "NORETURN", "rmb", "wmb",
                           "before-atomic", "after-atomic", "after-spinlock",
                           "after-unlock-lock", "barrier"})
LOCK_TAGS = frozenset({"LKR", "LKW", "UL", "LF", "RL", "RU"})
_REPO = Path(__file__).resolve().parents[4]
MODELS_DIR = Path(__file__).resolve().parents[2] / "models"


def find_lkmm(cat_dir: str | os.PathLike | None = None) -> Path:
    """The directory holding the kernel's linux-kernel.cat/.bell and lock.cat.

    In order: ``cat_dir`` (``--cat-dir``), ``$GUPSIM_LKMM_DIR``, a kernel
    tree's ``tools/memory-model/`` under the current directory,
    ``../shared/litmus/lkmm/model`` next to the repository root, then the
    copy ``make`` fetches from Debian's linux-source package into
    ``.cache/lkmm/model`` (``scripts/fetch_lkmm.py``).
    """
    tried = []
    explicit = cat_dir if cat_dir is not None else os.environ.get(ENV_DIR) or None
    if explicit is not None:
        d = Path(explicit).expanduser()
        if _has_lkmm(d):
            return d
        missing = [f for f in LKMM_FILES if not (d / f).is_file()]
        raise UsageError(f"LKMM directory {str(d)!r} has no {', '.join(missing)}: point "
                         f"--cat-dir or {ENV_DIR} at a kernel tree's tools/memory-model")
    for d in (Path.cwd() / "tools" / "memory-model",
              _REPO.parent / "shared" / "litmus" / "lkmm" / "model",
              _REPO / ".cache" / "lkmm" / "model"):
        tried.append(str(d))
        if _has_lkmm(d):
            return d
    raise UsageError(f"the Linux-kernel memory model files ({', '.join(LKMM_FILES)}) are "
                     f"not in {' or '.join(tried)}: pass --cat-dir or set {ENV_DIR} to a "
                     f"kernel tree's tools/memory-model (or run scripts/fetch_lkmm.py)")


def _has_lkmm(d: Path) -> bool:
    return all((d / f).is_file() for f in LKMM_FILES)


@dataclass(frozen=True)
class Judgement:
    consistent: bool
    failed: str | None = None          # the first failing check
    flags: tuple[str, ...] = ()        # of the passing choice (empty if inconsistent)

    def __str__(self) -> str:
        if self.consistent:
            return "consistent" + (f" (flags: {', '.join(self.flags)})" if self.flags else "")
        return f"inconsistent: {self.failed}"


class CatModel:
    """A parsed cat model, ready to judge execution graphs."""

    def __init__(self, prog: Program, variants=DEFAULT_VARIANTS, *, weaker_than_sc=False):
        self.prog = prog
        self.variants = frozenset(variants)
        self.title = prog.title
        self.checks = tuple(prog.checks)
        self.flags = tuple(prog.flags)
        self.weaker_than_sc = weaker_than_sc
        """The model allows every interleaving of ordering-only primitives (true
        of LKMM and the shipped hardware models; tested on every litmus
        candidate): ``consistent`` may then answer from the graph's shape."""
        self._sc_tags = ORDERING_TAGS | LOCK_TAGS
        self.latest_extends = weaker_than_sc
        """Adding an access with nothing after it keeps a consistent graph
        consistent when its tags only order (``extends_with_latest``): a read
        of its cell's coherence-latest write, or a write put last in its
        cell's coherence order and read by nobody (an RMW's write right after
        the write its read read), as the last event of its thread. It has no
        outgoing edge yet, so it lies on no cycle, an RMW stays atomic, and no
        check of LKMM or of the shipped hardware models relates it to
        anything else. Tested on every litmus candidate
        (tests/litmus/test_sc_shortcut.py); a cat file loaded by path is
        always judged in full."""

    def __repr__(self) -> str:
        return f"CatModel({self.title!r}, {len(self.prog.steps)} steps)"

    def _start(self, graph, observed) -> Eval:
        alg = Algebra(len(graph.events))
        base = predefined(graph, alg, lock_reads_hidden=self.prog.locks, observed=observed,
                          declared=self.prog.tags)
        return Eval(self.prog.nslots, base, alg, graph, self.variants)

    def run(self, graph, *, stop: bool = True, observed=None) -> Outcome:
        """The raw outcome (the evaluation and its failures)."""
        return run(self.prog, self._start(graph, observed), 0, stop)

    def check(self, graph, *, observed=None) -> Judgement:
        """Is ``graph`` an execution this model allows?

        ``observed``: the cells the test's final condition reads (herd's FW);
        default every cell no lock operation touches.
        """
        if observed is None and not self.flags and self.weaker_than_sc \
                and self.sc_allows(graph):
            return Judgement(True)       # (see consistent(); a model with flags runs)
        out = self.run(graph, observed=observed)
        if out.ok:
            return Judgement(True, None, tuple(dict.fromkeys(out.E.flags)))
        return Judgement(False, out.failures[0][0], ())

    def consistent(self, graph) -> bool:
        """``check(graph).consistent``, answered without running the model when
        the graph is an interleaving (``sequentially_consistent``) of accesses,
        fences and lock events whose tags only order (``ORDERING_TAGS``,
        ``LOCK_TAGS``: in an interleaving each lock read reads the unlock
        before it, which is what lock.cat derives): such a graph is allowed by
        every model weaker than SC. Other tags (grace periods, read-side
        critical sections) constrain more than an interleaving of their events
        says, so the model judges them."""
        if self.weaker_than_sc and self.sc_allows(graph):
            return True
        return self.run(graph).ok

    def extends_with_latest(self, tags) -> bool:
        """See ``latest_extends``: may such an access with ``tags`` be added
        to a consistent graph without judging it?"""
        return self.latest_extends and tags <= ORDERING_TAGS

    def sc_allows(self, graph) -> bool:
        """The graph is an interleaving of ordering-only primitives."""
        tags = self._sc_tags
        return all(ev.tags <= tags for ev in graph.events) and sequentially_consistent(graph)

    def relation(self, graph, name: str, *, observed=None):
        """The value of ``name`` (as the model ends defining it) on ``graph``:
        a set of event ids or a set of (event, event) pairs."""
        out = self.run(graph, stop=False, observed=observed)
        E = out.E
        slot = self.prog.slots.get(name)
        value = E.g[slot] if slot is not None else E.base.get(name)
        if value is None:
            raise UnknownName("relation", name, sorted(self.prog.slots))
        return _plain(E, value)

    def explain(self, graph, *, observed=None, depth: int = 1) -> Explanation | None:
        """For an inconsistent graph, the failing check and one cycle in it
        (edges named by the model's own relations; ``depth`` > 1 opens those
        further, down to base relations such as ``fre`` and ``rfe``); None if
        consistent."""
        out = self.run(graph, observed=observed)
        if out.ok:
            return None
        name, i = out.failures[0]
        return explain_failure(self.prog, out.E, name, i, depth)


def _plain(E, value):
    from .operators import elements
    from .values import Ev, Rel
    if type(value) is int:
        return frozenset(e.i for e in elements(E, value))
    if type(value) is Rel:
        return frozenset(value.pairs())
    if type(value) is Ev:
        return value.i
    return value


_CACHE: dict[tuple, tuple] = {}     # (files, variants) -> (files read, mtimes, model)


def load_model(path_or_name: str | os.PathLike, *, cat_dir=None, variants=None) -> CatModel:
    """A cat model by name (``lkmm``, or a file in gupsim/models/) or path."""
    files, search, cfg_variants = _resolve(path_or_name, cat_dir)
    chosen = frozenset(variants) if variants is not None else DEFAULT_VARIANTS | cfg_variants
    known = str(path_or_name) in LKMM_NAMES or str(path_or_name) in known_models()
    key = (tuple(str(f) for f in files), chosen, known)
    hit = _CACHE.get(key)
    if hit is not None and _stamps(hit[0]) == hit[1]:
        return hit[2]
    loader = Loader(search)
    model = CatModel(loader.load(files), chosen, weaker_than_sc=known)
    _CACHE[key] = (loader.seen, _stamps(loader.seen), model)
    return model


def _stamps(paths) -> tuple:
    """Modification times of every file a model read (includes too)."""
    out = []
    for p in paths:
        try:
            out.append(os.stat(p).st_mtime_ns)
        except OSError:
            out.append(None)
    return tuple(out)


def _resolve(path_or_name, cat_dir):
    """(files to load in order, include search path, variants from a .cfg)."""
    text = str(path_or_name)
    if text in LKMM_NAMES:
        return _from_cfg_dir(find_lkmm(cat_dir))
    p = Path(text).expanduser()
    if p.is_dir():
        if _has_lkmm(p):
            return _from_cfg_dir(p)
        raise UsageError(f"cat model directory {text!r} has no {', '.join(LKMM_FILES)}; "
                         f"give a .cat file or a herd .cfg")
    if p.is_file():
        if p.suffix == ".cfg":
            return _from_cfg(p)
        return [p], [p.parent, MODELS_DIR], frozenset()
    shipped = MODELS_DIR / f"{text}.cat"
    if os.sep not in text and "/" not in text and shipped.is_file():
        return [shipped], [MODELS_DIR], frozenset()
    if os.sep in text or "/" in text or text.endswith((".cat", ".cfg", ".bell")):
        raise UsageError(f"cat model file {text!r} does not exist: give the path of a "
                         f".cat file, a herd .cfg, or a model name ({', '.join(known_models())})")
    raise UnknownName("cat model", text, known_models())


def known_models() -> list[str]:
    shipped = sorted(p.stem for p in MODELS_DIR.glob("*.cat")) if MODELS_DIR.is_dir() else []
    return [LKMM_NAMES[0], *shipped]


def _from_cfg_dir(d: Path):
    cfg = d / "linux-kernel.cfg"
    if cfg.is_file():
        return _from_cfg(cfg)
    return [d / "linux-kernel.bell", d / "linux-kernel.cat"], [d], frozenset()


def _from_cfg(cfg: Path):
    """herd's .cfg: the ``bell``, ``model`` and ``variant`` lines."""
    bell = model = None
    found = set()
    for lineno, line in enumerate(cfg.read_text(encoding="utf-8").splitlines(), 1):
        words = line.split()
        if len(words) >= 2 and words[0] in ("bell", "model"):
            f = cfg.parent / words[1]
            if not f.is_file():
                raise UsageError(f"{cfg}:{lineno}: {words[0]} file {words[1]!r} does not "
                                 f"exist next to the .cfg")
            bell, model = (f, model) if words[0] == "bell" else (bell, f)
        elif len(words) >= 2 and words[0] == "variant":
            found.update(w for part in words[1:] for w in part.split(","))
    if model is None:
        raise UsageError(f"{cfg}: no 'model FILE.cat' line (a herd .cfg names its model)")
    return [f for f in (bell, model) if f], [cfg.parent, MODELS_DIR], frozenset(found)
