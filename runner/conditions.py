"""Joining the user's conditions with the runner's own, as DynamoDB accepts them.

DynamoDB refuses a pair of parentheses that directly encloses another ("Invalid
ConditionExpression: The expression has redundant parentheses;", measured on DynamoDB in
architect/dynalite issue 99), so a condition the user already wrapped in parentheses is not
wrapped again. Expressions hold no string literals, so counting parentheses is exact.
"""

from __future__ import annotations

import re

_PLACEHOLDER = re.compile(r"[#:][A-Za-z0-9_]+")


def enclosed(expression: str) -> bool:
    """Whether one pair of parentheses encloses the whole expression."""
    text = expression.strip()
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    for at, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and at != len(text) - 1:
            return False
    return True


def grouped(expression: str) -> str:
    text = expression.strip()
    return text if enclosed(text) else f"({text})"


def conjunction(*conditions: str | None) -> str | None:
    """The AND of the given conditions (None when there is none)."""
    parts = [c.strip() for c in conditions if c and c.strip()]
    if len(parts) <= 1:
        return parts[0] if parts else None
    return " AND ".join(grouped(part) for part in parts)


def placeholders_of(expression: str) -> set[str]:
    """The #names and :values an expression uses (they are lexically unambiguous)."""
    return set(_PLACEHOLDER.findall(expression))
