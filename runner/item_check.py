"""What a transform function returns, checked as DynamoDB would check the write.

From the Amazon DynamoDB Developer Guide, "Supported data types and naming rules" and "Item
sizes": an attribute value has exactly one type descriptor; a number has at most 38 significant
digits and a magnitude from 1E-130 to 9.9999999999999999999999999999999999999E+125 (or is zero);
a set is non-empty and its elements are unique; binary travels base64-encoded (in DynamoDB's
JSON, as on the function's wire); an item is at most 400 KB, names and values counted. A bad
value fails the run at once, naming the item's key and the attribute, instead of a write error
later (or, on the emulator, a write that DynamoDB would have refused).

Where the guide is silent (a leading '+', exponent notation) the value is passed on: DynamoDB
decides, and the write's own error names the migration.
"""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from runner.errors import MigrationError

MAX_ITEM_BYTES = 400 * 1024
MAX_DIGITS = 38
MIN_EXPONENT, MAX_EXPONENT = -130, 125
SCALARS = ("S", "N", "B", "BOOL", "NULL")
TYPES = (*SCALARS, "SS", "NS", "BS", "M", "L")


class BadValue(Exception):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(reason)
        self.path, self.reason = path, reason


def _number(text: Any, path: str) -> Decimal:
    if not isinstance(text, str):
        raise BadValue(path, f"a number is written as a string, got {json.dumps(text)}")
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise BadValue(path, f"{text!r} is not a number") from exc
    if not value.is_finite():
        raise BadValue(path, f"{text!r} is not a finite number")
    if value.is_zero():
        return value
    digits = _significant(value)
    if len(digits) > MAX_DIGITS:
        raise BadValue(path, f"{text!r} has {len(digits)} significant digits; DynamoDB keeps 38")
    if not MIN_EXPONENT <= value.adjusted() <= MAX_EXPONENT:
        raise BadValue(path, f"{text!r} is outside DynamoDB's range (1E-130 to 9.99...E+125)")
    return value


def _significant(value: Decimal) -> tuple[int, ...]:
    """The digits from the first to the last non-zero one (no context rounding)."""
    digits = value.as_tuple().digits
    first = next(i for i, d in enumerate(digits) if d)
    last = max(i for i, d in enumerate(digits) if d)
    return tuple(digits[first : last + 1])


def _canonical(value: Decimal) -> tuple[int, tuple[int, ...], int]:
    """One key per numeric value ("1" and "1.0" are the same member of a number set)."""
    if value.is_zero():
        return (0, (), 0)
    return (value.as_tuple().sign, _significant(value), value.adjusted())


def _binary(text: Any, path: str) -> bytes:
    if not isinstance(text, str):
        raise BadValue(path, "binary is written as base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadValue(path, f"{text[:20]!r} is not base64") from exc


def _set(kind: str, members: Any, path: str) -> int:
    if not isinstance(members, list) or not members:
        raise BadValue(path, f"a {kind} set must be a non-empty list")
    seen: set[Any] = set()
    size = 0
    for member in members:
        if kind == "SS":
            if not isinstance(member, str):
                raise BadValue(path, f"a string set holds strings, got {json.dumps(member)}")
            unique: Any = member
            size += len(member.encode())
        elif kind == "NS":
            unique = _canonical(_number(member, path))
            size += len(member) // 2 + 1
        else:
            unique = _binary(member, path)
            size += len(unique)
        if unique in seen:
            raise BadValue(path, f"the set holds {json.dumps(member)} twice")
        seen.add(unique)
    return size


def value_size(value: Any, path: str) -> int:
    """The value's size as DynamoDB counts it (approximately, for numbers); BadValue if invalid."""
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in TYPES:
        raise BadValue(
            path,
            f"expected one of {', '.join(TYPES)} as the only key, got {json.dumps(value)}"[:200],
        )
    ((kind, inner),) = value.items()
    if kind == "S":
        if not isinstance(inner, str):
            raise BadValue(path, f"S holds a string, got {json.dumps(inner)}")
        return len(inner.encode())
    if kind == "N":
        _number(inner, path)
        return len(inner) // 2 + 1
    if kind == "B":
        return len(_binary(inner, path))
    if kind == "BOOL":
        if not isinstance(inner, bool):
            raise BadValue(path, f"BOOL holds true or false, got {json.dumps(inner)}")
        return 1
    if kind == "NULL":
        if inner is not True:
            raise BadValue(path, "NULL must be true")
        return 1
    if kind in ("SS", "NS", "BS"):
        return _set(kind, inner, path)
    if kind == "M":
        if not isinstance(inner, dict):
            raise BadValue(path, "M holds a map")
        return 3 + sum(len(k.encode()) + 1 + value_size(v, f"{path}.{k}") for k, v in inner.items())
    if not isinstance(inner, list):
        raise BadValue(path, "L holds a list")
    return 3 + sum(1 + value_size(v, f"{path}[{n}]") for n, v in enumerate(inner))


def item_size(item: dict[str, Any]) -> int:
    """An item's size (names and values) as DynamoDB counts it; BadValue if a value is invalid."""
    return sum(len(name.encode()) + value_size(value, name or "''") for name, value in item.items())


def check_item(item: dict[str, Any], migration_id: str, key: dict[str, Any]) -> None:
    """MigrationError naming the key and the attribute if DynamoDB would refuse the item."""
    where = f"Migration {migration_id}: the function's result for {json.dumps(key)}"
    try:
        size = item_size(item)
    except BadValue as exc:
        raise MigrationError(f"{where}, attribute {exc.path}: {exc.reason}") from exc
    if size > MAX_ITEM_BYTES:
        raise MigrationError(
            f"{where} is about {size // 1024} KB; DynamoDB items are at most 400 KB"
        )
