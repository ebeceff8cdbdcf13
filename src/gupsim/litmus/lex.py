"""Tokens of a C litmus test, with their line and column.

Comments are ``// ...`` and ``/* ... */`` anywhere, and herd7's ``(* ... *)``
outside braces (the header comment, remarks after the condition); inside a
function ``(*p)`` is C. A malformed input raises ``UsageError`` as
``FILE:LINE:COL: expected ..., found ...``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import UsageError

PUNCT = ("/\\", "\\/", "==", "!=", "<=", ">=", "&&", "||", "<<", ">>", "->",
         "(", ")", "{", "}", "[", "]", ";", ",", ":", "=", "*", "&", "|", "^", "~",
         "!", "+", "-", "/", "%", "<", ">", "?", ".")
_TOKEN = re.compile(r"(?P<ws>[ \t\r\f\v]+)|(?P<nl>\n)|(?P<num>0[xX][0-9a-fA-F]+|\d+)"
                    r"|(?P<id>[A-Za-z_][A-Za-z0-9_]*)|(?P<str>\"[^\"\n]*\")|(?P<punct>"
                    + "|".join(re.escape(p) for p in PUNCT) + ")")


@dataclass(frozen=True)
class Token:
    kind: str        # "num", "id", "str", "punct" or "eof"
    text: str
    line: int
    col: int

    def show(self) -> str:
        return "end of file" if self.kind == "eof" else repr(self.text)


def syntax_error(path: str, line: int, col: int, expected: str, found: str) -> UsageError:
    return UsageError(f"{path}:{line}:{col}: expected {expected}, found {found}")


def tokenize(text: str, path: str, line: int = 1, col: int = 1,
             start: int = 0) -> tuple[list[Token], list[tuple[int, str]]]:
    """Tokens from ``text[start:]`` (which begins at ``line``:``col``), and the
    ``(* *)`` comments met at brace depth 0 as (line, text)."""
    tokens: list[Token] = []
    comments: list[tuple[int, str]] = []
    i, depth = start, 0
    n = len(text)
    while i < n:
        ch2 = text[i:i + 2]
        if ch2 == "//":
            j = text.find("\n", i)
            j = n if j < 0 else j
            col += j - i
            i = j
            continue
        if ch2 == "/*" or (ch2 == "(*" and depth == 0):
            close = "*/" if ch2 == "/*" else "*)"
            j = text.find(close, i + 2)
            if j < 0:
                raise syntax_error(path, line, col, f"{close!r} closing this comment",
                                   "end of file")
            body = text[i:j + 2]
            if ch2 == "(*":
                comments.append((line, body))
            nls = body.count("\n")
            if nls:
                line += nls
                col = len(body) - body.rfind("\n")
            else:
                col += len(body)
            i = j + 2
            continue
        m = _TOKEN.match(text, i)
        if m is None:
            raise syntax_error(path, line, col, "a C token", repr(text[i]))
        kind = m.lastgroup
        word = m.group()
        if kind == "nl":
            line, col = line + 1, 1
        elif kind != "ws":
            tokens.append(Token(kind, word, line, col))
            if word == "{":
                depth += 1
            elif word == "}":
                depth = max(0, depth - 1)
            col += len(word)
        else:
            col += len(word)
        i = m.end()
    tokens.append(Token("eof", "", line, col))
    return tokens, comments


class Cursor:
    """A position in a token list, with the helpers a recursive-descent parser needs."""

    def __init__(self, tokens: list[Token], path: str):
        self.tokens, self.path, self.i = tokens, path, 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def at(self, *texts: str) -> bool:
        t = self.tok
        return t.kind in ("punct", "id") and t.text in texts

    def next(self) -> Token:
        t = self.tok
        if t.kind != "eof":
            self.i += 1
        return t

    def accept(self, text: str) -> bool:
        if self.at(text):
            self.i += 1
            return True
        return False

    def expect(self, text: str, what: str | None = None) -> Token:
        if not self.at(text):
            raise self.error(what or repr(text))
        return self.next()

    def ident(self, what: str = "a name") -> Token:
        if self.tok.kind != "id":
            raise self.error(what)
        return self.next()

    def error(self, expected: str, tok: Token | None = None) -> UsageError:
        t = tok or self.tok
        return syntax_error(self.path, t.line, t.col, expected, t.show())
