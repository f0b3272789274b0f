"""DynamoDB attribute values: plain-JSON expression values and the wire form of items.

The worker uses the low-level client, so items stay in DynamoDB JSON end to end and numbers keep
all 38 digits. On the Lambda wire (JSON) binary values travel base64-encoded, as in DynamoDB's own
JSON protocol.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from runner.errors import MigrationError

Item = dict[str, dict[str, Any]]

_serializer = TypeSerializer()


def _exact(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exact(v) for v in value]
    return value


def expression_values(values: dict[str, Any], migration_id: str) -> dict[str, Any]:
    """Serialize the plain values of a spec (`{":p": "PENDING"}`) to attribute values."""
    try:
        return {name: _serializer.serialize(_exact(v)) for name, v in values.items()}
    except (TypeError, ValueError) as exc:
        raise MigrationError(f"Migration {migration_id}: bad expression value ({exc})") from exc


def _map_binary(value: dict[str, Any], conv: Any) -> dict[str, Any]:
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": conv(inner)}
    if kind == "BS":
        return {"BS": [conv(v) for v in inner]}
    if kind == "M":
        return {"M": {k: _map_binary(v, conv) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_map_binary(v, conv) for v in inner]}
    return value


def _encode(raw: bytes) -> str:
    return base64.b64encode(bytes(raw)).decode("ascii")


def _decode(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def to_wire(item: Item) -> Item:
    """An item as sent to a transform function: binary as base64 text."""
    return {k: _map_binary(v, _encode) for k, v in item.items()}


def from_wire(item: Any, migration_id: str) -> Item:
    """An item returned by a transform function, back to client form (binary as bytes)."""
    if not isinstance(item, dict):
        raise MigrationError(
            f"Migration {migration_id}: the function returned {type(item).__name__}, "
            "expected an item in DynamoDB JSON or null"
        )
    try:
        return {k: _map_binary(v, _decode) for k, v in item.items()}
    except (ValueError, AttributeError, TypeError) as exc:
        raise MigrationError(
            f"Migration {migration_id}: the function returned an item that is not DynamoDB JSON "
            f"({exc})"
        ) from exc
