"""The top-level attributes an update expression writes (SET, REMOVE, ADD, DELETE targets).

The worker conditions an Update on their values as read, so the before-image it keeps of an item
is exactly what the write replaced (runner.recording). The expression was checked by the macro;
this reads only where each action's path starts: after a clause keyword or a comma outside
parentheses (a function call such as `list_append(a, b)` holds commas of its own).
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\s*(#[A-Za-z0-9_]+|:[A-Za-z0-9_]+|[A-Za-z_][A-Za-z0-9_]*|\S)")
_CLAUSES = frozenset({"SET", "REMOVE", "ADD", "DELETE"})


def updated_names(expression: str, names: dict[str, str]) -> set[str]:
    """The attribute names at the root of every path the update expression writes."""
    found: set[str] = set()
    depth, expecting = 0, False
    for match in _TOKEN.finditer(expression):
        token = match.group(1)
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif depth == 0 and (token.upper() in _CLAUSES or token == ","):
            expecting = True
        elif expecting:
            expecting = False
            found.add(names.get(token, token) if token.startswith("#") else token)
    return found
