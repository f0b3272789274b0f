"""The history table as users read it: plain records for `--json`, rows for the terminal."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from runner.ledger import MigrationRecord

_deserializer = TypeDeserializer()
HIDDEN = frozenset({"pk", "sk", "lockedAt"})


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return value.hex()
    return value


def as_dict(record: MigrationRecord) -> dict[str, Any]:
    """A migration record as plain JSON-ready values."""
    out: dict[str, Any] = {"table": record.table, "migrationId": record.migration_id}
    for name, value in sorted(record.attributes.items()):
        if name not in HIDDEN:
            out[name] = _plain(_deserializer.deserialize(value))
    out.setdefault("status", record.status)
    return out


def when(epoch: Any) -> str:
    if not isinstance(epoch, int):
        return "-"
    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def rows(records: list[MigrationRecord]) -> list[list[str]]:
    """Table, migration, status, changed/scanned, started, ended, last error."""
    out = []
    for record in records:
        data = as_dict(record)
        counters = data.get("counters") or {}
        changed = int(counters.get("updated", 0)) + int(counters.get("deleted", 0))
        out.append(
            [
                record.table,
                record.migration_id,
                data["status"],
                f"{changed}/{counters.get('scanned', 0)}",
                when(data.get("startedAt")),
                when(data.get("endedAt")),
                str(data.get("lastError") or "")[:80],
            ]
        )
    return out


def format_table(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *body, strict=False)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)).rstrip()
        for row in [header, *body]
    ]
    return "\n".join(lines)
