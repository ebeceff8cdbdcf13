"""The tokens of herd7's cat language.

Names may contain ``-`` and ``.`` (``po-loc``, ``A-cumul``,
``membar.cta``), tags are ``'name``, ``0`` is the empty relation, ``^-1`` is
one token. Comments ``(* ... *)`` nest; ``//`` runs to the end of the line.
"""

from __future__ import annotations

import re

from gupsim.errors import UsageError

from . import syntax as S

KEYWORDS = {
    "let", "rec", "and", "in", "as", "acyclic", "irreflexive", "empty", "flag",
    "requires", "show", "unshow", "include", "fun", "try", "with", "if", "then",
    "else", "match", "end", "enum", "instructions", "default", "procedure", "call",
    "forall", "do", "from", "subset", "debug", "begin", "when",
}
# Words herd accepts after a model's title (model options); ignored here.
OPTIONS = {"withco", "withoutco", "withinit", "withoutinit", "withsc", "withoutsc",
           "catdep"}

_TOKEN = re.compile(r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<line>//[^\n]*)
  | (?P<str>"[^"\n]*")
  | (?P<tag>'[A-Za-z_][A-Za-z0-9_.\-]*)
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*(?:-(?!>)[A-Za-z0-9_.]*)*)
  | (?P<zero>0)
  | (?P<op>\^-1|\|\||\+\+|->|[()\[\]{}|;\\&*+?~,=^])
""", re.VERBOSE)

OPERAND_START = {"name", "tag", "zero", "(", "[", "{", "_", "~", "begin"}
ARG_START = {"name", "tag", "zero", "(", "[", "{", "_", "begin"}
BINARY = {"|": (1, "right"), "++": (2, "right"), ";": (3, "right"),
          "\\": (4, "left"), "&": (5, "right"), "*": (6, "left")}


class Token:
    __slots__ = ("kind", "value", "pos", "start", "end")

    def __init__(self, kind, value, pos, start, end):
        self.kind, self.value, self.pos, self.start, self.end = kind, value, pos, start, end

    def show(self) -> str:
        return "end of file" if self.kind == "eof" else repr(self.value)


def tokenize(text: str, file: str) -> list[Token]:
    """The tokens of ``text``; comments and white space dropped."""
    out: list[Token] = []
    i = 0
    n = len(text)

    def pos_at(k: int) -> S.Pos:
        return S.Pos(file, text.count("\n", 0, k) + 1, k - (text.rfind("\n", 0, k) + 1) + 1)

    while i < n:
        if text.startswith("(*", i):
            depth, j = 1, i + 2
            while depth and j < n:
                if text.startswith("(*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*)", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            if depth:
                raise UsageError(f"{pos_at(i)}: comment '(*' is never closed by '*)'")
            i = j
            continue
        m = _TOKEN.match(text, i)
        if m is None:
            raise UsageError(f"{pos_at(i)}: unexpected character {text[i]!r} "
                             f"(expected a name, an operator or a comment)")
        kind = m.lastgroup
        value = m.group()
        if kind not in ("ws", "line"):
            if kind == "name":
                kind = value if value in KEYWORDS else ("_" if value == "_" else "name")
            elif kind == "op":
                kind = value
            elif kind == "str":
                value = value[1:-1]
            elif kind == "tag":
                value = value[1:]
            out.append(Token(kind, value, pos_at(i), i, m.end()))
        i = m.end()
    out.append(Token("eof", "", pos_at(n), n, n))
    return out
