"""Tokens of DynamoDB's expression language, each with its 1-based character position.

Placeholders follow "Expression attribute names" and "Expression attribute values" in the
Amazon DynamoDB Developer Guide: a `#` or `:` followed by one or more alphanumeric characters or
underscores. A bare attribute name is letters, digits and underscores starting with a letter
(a name that "begins with a number, contains a space or a special character" needs a #name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from macro.expressions.errors import ExpressionError

Kind = Literal["name", "value", "word", "number", "op", "end"]

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<name>\#[A-Za-z0-9_]+)
  | (?P<value>:[A-Za-z0-9_]+)
  | (?P<word>[A-Za-z][A-Za-z0-9_]*)
  | (?P<number>[0-9]+)
  | (?P<op><>|<=|>=|[=<>(),.\[\]+\-])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: Kind
    text: str
    position: int  # 1-based character position in the expression

    def is_keyword(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words

    def shown(self) -> str:
        return "the end of the expression" if self.kind == "end" else repr(self.text)


def tokenize(text: str) -> list[Token]:
    """The tokens of `text`, ending with an `end` token; ExpressionError at a stray character."""
    tokens: list[Token] = []
    at = 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None:
            char = text[at]
            if char in "#:":
                hint = f"{char} must be followed by letters, digits or '_'"
            elif char == "_":
                # The guide does not say whether a bare name may begin with '_': a placeholder
                # is right under either reading.
                hint = "an attribute name beginning with '_' needs a #name placeholder"
            else:
                hint = "an attribute name with this character needs a #name placeholder"
            raise ExpressionError(f"unexpected character {char!r} ({hint})", at + 1)
        kind = match.lastgroup
        if kind != "space":
            tokens.append(Token(kind, match.group(), at + 1))  # type: ignore[arg-type]
        at = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens
