"""The history table as users read it: plain records for `--json`, rows for the terminal."""

from __future__ import annotations

import datetime
import re
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
    if isinstance(out.get("samples"), list):
        out["samples"] = [_sample(s) for s in out["samples"]]
    return out


def _sample(stored: Any) -> Any:
    """A dry run's sample as the data files show items: {"key", "before", "after"} in DynamoDB
    JSON (the record stores the worker's typed map, `{"M": {"key": {"M": ...}, ...}}`)."""
    inner = stored.get("M") if isinstance(stored, dict) else None
    if not isinstance(inner, dict):
        return stored
    out: dict[str, Any] = {}
    for name, value in inner.items():
        ((kind, content),) = value.items() if isinstance(value, dict) and value else (("", None),)
        out[name] = content if kind in ("M", "S") else None
    return out


def when(epoch: Any) -> str:
    if not isinstance(epoch, int):
        return "-"
    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


HEADER = [
    "table",
    "migration",
    "run",
    "status",
    "changed/scanned",
    "pace",
    "started",
    "ended",
    "error",
]
_PREFIXES = re.compile(
    r"^(Migration \S+ (\(\w+\) )?(on table \S+ )?failed: |segment#\d+: |\w+(Error|Failed): |"
    r"Migration \S+: )"
)


def cause(error: Any, width: int = 140) -> str:
    """The cause of a run's error, without the wrappers every layer adds, cut at a word."""
    text = str(error or "").strip()
    while (found := _PREFIXES.match(text)) is not None:
        text = text[found.end() :]
    text = re.sub(r"; \d+ of \d+ segments did not finish$", "", text)
    if len(text) <= width:
        return text
    return text[: width - 1].rsplit(" ", 1)[0] + "…"


def _row(table: str, migration: str, run: str, data: dict[str, Any]) -> list[str]:
    counters = data.get("counters") or {}
    changed = int(counters.get("updated", 0)) + int(counters.get("deleted", 0))
    return [
        table,
        migration,
        run,
        str(data.get("status", "")),
        f"{changed}/{counters.get('scanned', 0)}",
        _pace(data),
        when(data.get("startedAt")),
        when(data.get("endedAt")),
        cause(data.get("lastError")),
    ]


def _pace(data: dict[str, Any]) -> str:
    """`180 WCU/s, 2 throttles`: the rate the run held last, and the throttles it saw."""
    if "rate" not in data:
        return "-"
    throttles = int(data.get("throttles", 0))
    return f"{float(data['rate']):,.0f} WCU/s, {throttles} throttle{'s' if throttles != 1 else ''}"


def runs(record: MigrationRecord) -> list[dict[str, Any]]:
    """Every run of one migration, oldest first: its earlier runs (`runs`; a record an older
    runner wrote has only `upRun`, the Up a Down replaced) and the run it holds now."""
    data = as_dict(record)
    earlier = data.get("runs")
    if not isinstance(earlier, list):
        up = data.get("upRun")
        earlier = [{**up, "direction": "up"}] if isinstance(up, dict) else []
    return [*(r for r in earlier if isinstance(r, dict)), data]


def rows(records: list[MigrationRecord]) -> list[list[str]]:
    """One row per run of every migration, in the order they started (a rolled-back migration
    shows its Up, how far it got and why it failed, then its Down)."""
    found = []
    for record in records:
        for sequence, run in enumerate(runs(record)):
            started = run.get("startedAt")
            order = (started if isinstance(started, int) else 0, record.table, record.migration_id)
            found.append((order, sequence, record, run))
    found.sort(key=lambda entry: (entry[0], entry[1]))
    return [
        _row(record.table, record.migration_id, str(run.get("direction") or "up"), run)
        for _, _, record, run in found
    ]


def format_table(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *body, strict=False)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)).rstrip()
        for row in [header, *body]
    ]
    return "\n".join(lines)
