"""A restore point before a run's first write: point-in-time recovery, else an on-demand backup.

`Backup: Auto` (the default) takes the best restore point the table allows and carries on
without one when neither is possible (saying why); `Required` fails the run before it writes;
`None` skips. A `Target` table is covered the same way when it already holds items.

AWS behaviour relied on (DynamoDB API Reference):
- DescribeContinuousBackups: with `PointInTimeRecoveryStatus` ENABLED a table can be restored
  "to any point in time within EarliestRestorableDateTime and LatestRestorableDateTime", the
  latter "typically 5 minutes before the current time"; so the restore point of such a run is its
  start time (whole seconds, rounded down, so no write of the run is after it).
- CreateBackup: "a time marker of the request is cataloged"; a request at 14:25:00 "is
  guaranteed to contain all data committed to the table up to 14:24:00, and data committed after
  14:26:00 will not be". The run therefore waits `BACKUP_SETTLE_SECONDS` after the request
  before it writes, so none of its writes can be in the backup. It consumes no capacity.
- Both restores make a new table (RestoreTableToPointInTime, RestoreTableFromBackup).

The restore point is recorded once per run in its history (first writer wins), so a retried
step neither takes a second backup after the first was recorded nor loses the first.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import ClientError

from runner.errors import HistoryError, MigrationError
from runner.history import RunRef

BACKUP_MODES = ("Auto", "Required", "None")
BACKUP_SETTLE_SECONDS = 60  # CreateBackup: data committed within a minute of the request is fuzzy
RESTORE_POINT_SK = "restore-point"
_BACKUP_NAME = re.compile(r"[^A-Za-z0-9_.-]")  # CreateBackup BackupName: [a-zA-Z0-9_.-]+, 3-255

Kind = Literal["pitr", "backup", "none"]


@dataclass(frozen=True)
class RestorePoint:
    """How one table can be put back as it was before the run wrote."""

    table: str
    kind: Kind
    restore_time: int | None = None  # PITR: epoch seconds to pass RestoreTableToPointInTime
    backup_arn: str | None = None  # on-demand: the backup to pass RestoreTableFromBackup
    reason: str | None = None  # kind "none": why there is none

    def as_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {"table": {"S": self.table}, "kind": {"S": self.kind}}
        if self.restore_time is not None:
            item["restoreTime"] = {"N": str(self.restore_time)}
        if self.backup_arn:
            item["backupArn"] = {"S": self.backup_arn}
        if self.reason:
            item["reason"] = {"S": self.reason[:1000]}
        return {"M": item}

    @classmethod
    def from_item(cls, value: dict[str, Any]) -> RestorePoint:
        m = value["M"]
        kind: Kind = m["kind"]["S"]
        return cls(
            table=m["table"]["S"],
            kind=kind,
            restore_time=int(m["restoreTime"]["N"]) if "restoreTime" in m else None,
            backup_arn=m.get("backupArn", {}).get("S"),
            reason=m.get("reason", {}).get("S"),
        )

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"table": self.table, "kind": self.kind}
        for name, value in (
            ("restoreTime", self.restore_time),
            ("backupArn", self.backup_arn),
            ("reason", self.reason),
        ):
            if value is not None:
                out[name] = value
        return out


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


def backup_name(migration_id: str, run_id: str) -> str:
    """A valid, recognizable BackupName for one run."""
    name = _BACKUP_NAME.sub("-", f"dynamigrate-{migration_id}-{run_id}")
    return name[:250]  # room for the table's suffix


def take(
    client: Any, table: str, mode: str, name: str, now: Callable[[], float] = time.time
) -> RestorePoint:
    """The restore point of `table` before the run writes, by `mode` (Auto | Required | None)."""
    if mode == "None":
        return RestorePoint(table, "none", reason="Backup: None")
    refusals = []
    try:
        described = client.describe_continuous_backups(TableName=table)
        pitr = described["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
        if pitr.get("PointInTimeRecoveryStatus") == "ENABLED":
            return RestorePoint(table, "pitr", restore_time=math.floor(now()))
        refusals.append("point-in-time recovery is not enabled")
    except ClientError as exc:
        refusals.append(f"DescribeContinuousBackups was refused ({_code(exc)}: {exc})")
    try:
        created = client.create_backup(TableName=table, BackupName=name)
        return RestorePoint(table, "backup", backup_arn=created["BackupDetails"]["BackupArn"])
    except ClientError as exc:
        refusals.append(f"CreateBackup was refused ({_code(exc)}: {exc})")
    reason = f"table {table}: " + "; ".join(refusals)
    if mode == "Required":
        raise MigrationError(f"Backup is Required but no restore point can be taken: {reason}")
    return RestorePoint(table, "none", reason=reason)


def holds_items(client: Any, table: str) -> bool:
    """Whether a table holds at least one item (one Scan of Limit 1; DescribeTable's
    ItemCount is "updated approximately every six hours", API Reference TableDescription)."""
    try:
        resp = client.scan(TableName=table, Limit=1, Select="COUNT")
    except ClientError as exc:
        raise MigrationError(f"cannot read table {table} ({_code(exc)}): {exc}") from exc
    return bool(resp.get("Count")) or "LastEvaluatedKey" in resp


class RestorePointRecord:
    """The restore points of one run, one item in the run's history: pk of the run, sk
    `restore-point`, written once (conditional put)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table_name = table_name

    def _key(self, run: RunRef) -> dict[str, Any]:
        return {"pk": {"S": run.pk}, "sk": {"S": RESTORE_POINT_SK}}

    def load(self, run: RunRef) -> tuple[list[RestorePoint], int] | None:
        """The recorded restore points and when they were taken (epoch seconds), if any."""
        try:
            resp = self.client.get_item(
                TableName=self.table_name, Key=self._key(run), ConsistentRead=True
            )
        except ClientError as exc:
            raise HistoryError(f"history table: reading the restore point failed ({exc})") from exc
        item = resp.get("Item")
        if not item:
            return None
        points = [RestorePoint.from_item(p) for p in item["points"]["L"]]
        return points, int(item["takenAt"]["N"])

    def save(
        self, run: RunRef, points: list[RestorePoint], taken_at: int
    ) -> tuple[list[RestorePoint], int]:
        """Record `points` unless the run already has restore points; return the recorded."""
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={
                    **self._key(run),
                    "points": {"L": [p.as_item() for p in points]},
                    "takenAt": {"N": str(taken_at)},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                return self.load(run) or (points, taken_at)
            raise HistoryError(f"history table: recording the restore point failed: {exc}") from exc
        return points, taken_at


def ensure(
    client: Any,
    record: RestorePointRecord,
    run: RunRef,
    spec: dict[str, Any],
    settle_seconds: int = BACKUP_SETTLE_SECONDS,
    now: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """The run's restore points, taken once before its first write, and how long the state
    machine waits before writing (`settleSeconds`: what is left of `settle_seconds` after an
    on-demand backup's request). A dry run takes none: it writes nothing. A Down takes its
    own, by the same `Backup` mode: it writes too (it puts back or removes what the Up did,
    over whatever the application wrote since), and the Up's restore point predates both the
    Up and those application writes, so only a point taken before the Down gets back to the
    moment the rollback began. `Required` therefore fails a Down before it writes, as it
    fails an Up: the rollback then stops (UPDATE_ROLLBACK_FAILED: "CloudFormation can't roll
    back all changes after a failed stack update") until the cause is fixed and the rollback is
    continued (ContinueUpdateRollback, CloudFormation API Reference)."""
    mode = str(spec.get("Backup", "Auto"))
    if mode not in BACKUP_MODES:
        raise MigrationError(f"Migration {run.migration_id}: Backup must be one of {BACKUP_MODES}")
    if run.dry_run or mode == "None":
        return {"restorePoints": [], "settleSeconds": 0}
    recorded = record.load(run)
    if recorded is None:
        started = math.floor(now())
        name = backup_name(run.migration_id, run.run_id)
        tables = [str(spec["TableName"])]
        target = spec.get("Target")
        if target and holds_items(client, str(target)):
            tables.append(str(target))
        try:
            points = [take(client, t, mode, f"{name}-{i}", now) for i, t in enumerate(tables)]
        except MigrationError as exc:
            raise MigrationError(f"Migration {run.migration_id}: {exc}") from exc
        recorded = record.save(run, points, started)
    points, taken_at = recorded
    settle = 0
    if any(p.kind == "backup" for p in points):
        settle = max(0, min(settle_seconds, taken_at + settle_seconds - math.floor(now())))
    return {"restorePoints": [p.as_json() for p in points], "settleSeconds": settle}
