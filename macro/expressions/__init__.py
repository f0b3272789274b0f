"""DynamoDB expressions checked before deploy: syntax, placeholders, reserved words, key shapes.

Pure Python with no dependency, so the macro's Lambda runs it on every transform.
"""

from macro.expressions.checks import KeySchema, check_expressions
from macro.expressions.errors import ExpressionError
from macro.expressions.parser import parse_condition, parse_key_condition, parse_update

__all__ = [
    "ExpressionError",
    "KeySchema",
    "check_expressions",
    "parse_condition",
    "parse_key_condition",
    "parse_update",
]
