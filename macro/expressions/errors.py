"""The one error an expression's parser raises: what is wrong, and where."""

from __future__ import annotations


class ExpressionError(Exception):
    """A syntax error at a 1-based character position of the expression."""

    def __init__(self, message: str, position: int) -> None:
        self.message = message
        self.position = position
        super().__init__(f"{message} (at character {position})")
