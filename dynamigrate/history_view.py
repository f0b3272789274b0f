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
    for name in ("samples", "keptSamples"):  # a dry run's samples, a restore's kept items
        if isinstance(out.get(name), list):
            out[name] = [_sample(s) for s in out[name]]
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
    "restore point",
    "verify",
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
    changed = sum(int(counters.get(k, 0)) for k in ("created", "updated", "deleted"))
    return [
        table,
        migration,
        run,
        str(data.get("status", "")),
        f"{changed}/{counters.get('scanned', 0)}",
        _pace(data),
        when(data.get("startedAt")),
        when(data.get("endedAt")),
        restore_point(data.get("restorePoints")),
        verification(data.get("verification")),
        cause(data.get("lastError")),
    ]


def restore_point(points: Any) -> str:
    """`PITR 2026-12-03 06:10:00`, a backup's ARN, or `none`; each table named when several."""
    if not isinstance(points, list) or not points:
        return "-"
    shown = []
    for point in points:
        kind = point.get("kind") if isinstance(point, dict) else None
        if kind == "pitr":
            text = f"PITR {when(point.get('restoreTime'))}"
        elif kind == "backup":
            text = str(point.get("backupArn"))
        else:
            text = "none"
        shown.append(text if len(points) == 1 else f"{point.get('table')}: {text}")
    return ", ".join(shown)


def verification(result: Any) -> str:
    """`passed (0 of 1,200 items)` or `FAILED: 3 of 1,200 items (max 0)`."""
    if not isinstance(result, dict):
        return "-"
    violations, checked = int(result.get("violations", 0)), int(result.get("checked", 0))
    if result.get("passed"):
        return f"passed ({violations:,} of {checked:,} items violate)"
    limit = int(result.get("maxViolations", 0))
    return f"FAILED: {violations:,} of {checked:,} items violate (max {limit:,})"


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
