"""Migration records in the history table: status, checksum, a leased lock, and stacks' operations.

Key schema (shared with runner.history's run progress):
- a migration's record: pk `<table>`, sk `<migration id>` (status, checksum, lock, outcome);
- a stack's latest operation: pk `stack#<stack id>`, sk `operation` (runner.lifecycle says why).

Every write is conditional; AWS errors are translated here and chained.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from runner.errors import ConcurrentRunError
from runner.history import PENDING, RUNNING, SUCCEEDED, History, _translate

_deserializer = TypeDeserializer()


@dataclass(frozen=True)
class MigrationRecord:
    """What the history table knows about one migration of one table."""

    table: str
    migration_id: str
    status: str = PENDING
    checksum: str | None = None
    run_id: str | None = None
    execution_arn: str | None = None
    lock_owner: str | None = None
    lease_expires: int = 0
    last_error: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> MigrationRecord:
        def text(name: str) -> str | None:
            value = item.get(name, {}).get("S")
            return str(value) if value is not None else None

        return cls(
            table=item["pk"]["S"],
            migration_id=item["sk"]["S"],
            status=text("status") or PENDING,
            checksum=text("checksum"),
            run_id=text("runId"),
            execution_arn=text("executionArn"),
            lock_owner=text("lockOwner"),
            lease_expires=int(item.get("leaseExpires", {}).get("N", "0")),
            last_error=text("lastError"),
            attributes=item,
        )


RUN_FIELDS = (
    "status",
    "direction",
    "runId",
    "counters",
    "startedAt",
    "endedAt",
    "lastError",
    "executionArn",
    "restorePoints",
    "verification",
)
MAX_RUNS = 200  # earlier runs a record keeps (about 400 bytes each; an item holds 400 KB)


def run_summary(record: MigrationRecord) -> dict[str, Any]:
    """How the record's current run ended, to keep when a Down run replaces it.

    A rollback's Down overwrites the record's status, counters and error; the Up's are kept
    under `upRun` so `history` shows why the deploy failed and how far the Up got.
    """
    summary = {
        name: _deserializer.deserialize(value)
        for name, value in record.attributes.items()
        if name in RUN_FIELDS
    }
    if summary.get("status") == RUNNING:
        summary["status"] = "STOPPED"  # the rollback stops a run that was still going
    return summary


def runs_with_current(record: MigrationRecord, starting_arn: str) -> list[dict[str, Any]] | None:
    """The record's earlier runs (`runs`, oldest first) and the run it holds now, as a new run
    replaces it; None when it holds no run yet, or the one starting (a retried start)."""
    if record.run_id is None or record.execution_arn in (None, starting_arn):
        return None
    earlier = _deserializer.deserialize(record.attributes.get("runs", {"L": []}))
    return [*earlier, run_summary(record)][-MAX_RUNS:]


@dataclass(frozen=True)
class LockResult:
    acquired: bool
    record: MigrationRecord


def _key(table: str, migration_id: str) -> dict[str, Any]:
    return {"pk": {"S": table}, "sk": {"S": migration_id}}


def _stack_key(stack_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"stack#{stack_id}"}, "sk": {"S": "operation"}}


class MigrationLedger(History):
    """Migration records: status, checksum and a leased lock, every write conditional."""

    def get(self, table: str, migration_id: str) -> MigrationRecord | None:
        try:
            resp = self.client.get_item(
                TableName=self.table_name, Key=_key(table, migration_id), ConsistentRead=True
            )
        except ClientError as exc:
            raise _translate(exc, "reading a migration record") from exc
        return MigrationRecord.from_item(resp["Item"]) if "Item" in resp else None

    def running_before(self, table: str, migration_id: str) -> list[MigrationRecord]:
        """Earlier migrations of `table` (by MigrationId) still RUNNING; dry runs do not count."""
        items = self._items(
            "listing running migrations",
            KeyConditionExpression="pk = :table AND sk < :mid",
            FilterExpression="#status = :running",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":table": {"S": table},
                ":mid": {"S": migration_id},
                ":running": {"S": RUNNING},
            },
        )
        return [
            MigrationRecord.from_item(item)
            for item in items
            if not item["sk"]["S"].endswith("#dry-run")
        ]

    def records(self, table: str | None = None) -> list[MigrationRecord]:
        """Every migration record (of one table, or all), skipping run progress items."""
        request: dict[str, Any] = {}
        if table is not None:
            request["KeyConditionExpression"] = "pk = :table"
            request["ExpressionAttributeValues"] = {":table": {"S": table}}
        found = [
            MigrationRecord.from_item(item)
            for item in self._items("listing migration records", **request)
            if not item["pk"]["S"].startswith(("run#", "stack#"))
        ]
        return sorted(found, key=lambda r: (r.table, r.migration_id))

    def note_operation(self, stack_id: str, began: str) -> str:
        """Record that `stack_id` is in the operation that began at `began`; the latest wins."""
        try:
            resp = self.client.update_item(
                TableName=self.table_name,
                Key=_stack_key(stack_id),
                UpdateExpression="SET began = :began",
                ConditionExpression="attribute_not_exists(began) OR began <= :began",
                ExpressionAttributeValues={":began": {"S": began}},
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise _translate(exc, "recording the stack's operation") from exc
            return self.operation(stack_id) or began  # a later operation was recorded meanwhile
        return str(resp["Attributes"]["began"]["S"])

    def operation(self, stack_id: str) -> str | None:
        """The latest operation recorded for `stack_id`, if any."""
        try:
            resp = self.client.get_item(
                TableName=self.table_name, Key=_stack_key(stack_id), ConsistentRead=True
            )
        except ClientError as exc:
            raise _translate(exc, "reading the stack's operation") from exc
        value = resp.get("Item", {}).get("began", {}).get("S")
        return str(value) if value is not None else None

    def acquire(
        self,
        table: str,
        migration_id: str,
        owner: str,
        checksum: str,
        lease_seconds: int,
        now: int | None = None,
        allow_succeeded: bool = False,
    ) -> LockResult:
        """Take the migration's lock unless a live lease is held by someone else.

        A SUCCEEDED migration is locked again only to roll it back (`allow_succeeded`); otherwise
        the caller answers from its record.
        """
        now = int(time.time()) if now is None else now
        not_done = (
            ""
            if allow_succeeded
            else "(attribute_not_exists(#status) OR #status <> :succeeded) AND "
        )
        try:
            resp = self.client.update_item(
                TableName=self.table_name,
                Key=_key(table, migration_id),
                UpdateExpression=(
                    "SET lockOwner = :owner, leaseExpires = :lease, checksum = :checksum, "
                    "#status = if_not_exists(#status, :pending), lockedAt = :now"
                ),
                ConditionExpression=not_done
                + "(attribute_not_exists(lockOwner) OR lockOwner = :owner OR leaseExpires < :now)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":owner": {"S": owner},
                    ":lease": {"N": str(now + lease_seconds)},
                    ":checksum": {"S": checksum},
                    ":pending": {"S": PENDING},
                    ":now": {"N": str(now)},
                    **({} if allow_succeeded else {":succeeded": {"S": SUCCEEDED}}),
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise _translate(exc, "taking a migration lock") from exc
            current = self.get(table, migration_id)
            if current is None:  # deleted in between: try once more from scratch
                return self.acquire(
                    table, migration_id, owner, checksum, lease_seconds, now, allow_succeeded
                )
            return LockResult(acquired=False, record=current)
        return LockResult(acquired=True, record=MigrationRecord.from_item(resp["Attributes"]))

    def release(self, table: str, migration_id: str, owner: str) -> None:
        """Give up the lock if `owner` holds it (a request that waited and never ran)."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=_key(table, migration_id),
                UpdateExpression="REMOVE lockOwner, leaseExpires",
                ConditionExpression="lockOwner = :owner",
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise _translate(exc, "releasing a migration lock") from exc

    def update_owned(
        self,
        table: str,
        migration_id: str,
        owner: str,
        changes: dict[str, Any],
        release: bool = False,
    ) -> MigrationRecord:
        """Set attributes (plain values) while holding the lock; optionally release it."""
        names = {f"#a{i}": name for i, name in enumerate(changes)}
        values: dict[str, Any] = {f":v{i}": _attribute(v) for i, v in enumerate(changes.values())}
        values[":owner"] = {"S": owner}
        expression = "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(changes)))
        if release:
            expression += " REMOVE lockOwner, leaseExpires"
        try:
            resp = self.client.update_item(
                TableName=self.table_name,
                Key=_key(table, migration_id),
                UpdateExpression=expression,
                ConditionExpression="lockOwner = :owner",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise ConcurrentRunError(
                    f"{table}/{migration_id}: the lock is no longer held by {owner}"
                ) from exc
            raise _translate(exc, "updating a migration record") from exc
        return MigrationRecord.from_item(resp["Attributes"])


def _attribute(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float | Decimal):
        return {"N": str(value)}
    if value is None:
        return {"NULL": True}
    if isinstance(value, dict):
        return {"M": {str(k): _attribute(v) for k, v in value.items()}}
    if isinstance(value, list):
        return {"L": [_attribute(v) for v in value]}
    return {"S": str(value)}
