"""Items in and out of local runs: JSON lines in DynamoDB's export format, or plain JSON.

Input lines are either `{"Item": {"pk": {"S": "a"}}}` (the format of DynamoDB's S3 export, binary
base64) or a plain object `{"pk": "a", "total": 12.50}` whose numbers are read as exact decimals.
Output is always the export format, one item per line, sorted by key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from runner.attrs import Item, from_wire, to_wire
from runner.errors import MigrationError

TYPES = frozenset({"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"})
_serializer = TypeSerializer()


class DataFileError(Exception):
    """A data file that cannot be read, with the file and line."""


def _typed(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in TYPES


def parse_line(line: str) -> Item:
    """One item from one line of either format."""
    try:
        data = json.loads(line, parse_float=Decimal, parse_int=Decimal)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(data, dict) or not data:
        raise ValueError("expected a JSON object (an item)")
    if set(data) == {"Item"} and isinstance(data["Item"], dict):
        typed = json.loads(line)["Item"]  # numbers stay the strings DynamoDB JSON has
        if all(_typed(v) for v in typed.values()):
            try:
                return from_wire(typed, "data")
            except MigrationError as exc:
                raise ValueError(str(exc).removeprefix("Migration data: ")) from exc
    try:
        return {k: _serializer.serialize(v) for k, v in data.items()}
    except (TypeError, ValueError, InvalidOperation) as exc:
        raise ValueError(f"cannot store this value in DynamoDB ({exc})") from exc


def read_items(path: Path) -> Iterator[Item]:
    """Every item of a data file; a bad line is reported with its number."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read ({exc.strerror})") from exc
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield parse_line(line)
            except ValueError as exc:
                raise DataFileError(f"{path}:{number}: {exc}") from exc


def _sort_value(value: dict[str, Any]) -> tuple[int, Any]:
    ((kind, inner),) = value.items()
    if kind == "N":
        return (0, Decimal(inner))
    if kind == "B":
        return (2, bytes(inner))
    return (1, str(inner))


def write_items(path: Path, items: list[Item], key_names: list[str]) -> None:
    """Items as export-format JSON lines, sorted by key."""

    def key(item: Item) -> tuple[Any, ...]:
        return tuple(_sort_value(item[name]) for name in key_names if name in item)

    with path.open("w", encoding="utf-8") as out:
        for item in sorted(items, key=key):
            out.write(json.dumps({"Item": to_wire(item)}, sort_keys=True) + "\n")
