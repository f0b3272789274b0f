"""What the runner does with one custom-resource request: a pure decision, no I/O.

The handler gathers the request, the migration's history record and the stack's status, asks
`decide`, and carries the decision out (answer now, start or resume a run, join a running one,
or roll back with Down).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from runner.history import FAILED, ROLLED_BACK, RUNNING, SUCCEEDED, MigrationRecord

Action = Literal["answer", "start", "join", "down"]
ROLLING_BACK_STATUSES = frozenset({"UPDATE_ROLLBACK_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"})


@dataclass(frozen=True)
class Decision:
    action: Action
    status: Literal["SUCCESS", "FAILED"] | None = None  # for "answer"
    reason: str = ""
    resume_run_id: str | None = None  # for "start": continue a failed run's checkpoints


@dataclass(frozen=True)
class Request:
    """The parts of a CloudFormation custom-resource event the runner needs."""

    request_type: str
    stack_id: str
    migration_id: str
    table: str
    checksum: str
    has_down: bool
    dry_run: bool
    old_checksum: str | None = None

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> Request:
        props = event.get("ResourceProperties", {})
        old = event.get("OldResourceProperties") or {}
        return cls(
            request_type=event["RequestType"],
            stack_id=event["StackId"],
            migration_id=str(props["MigrationId"]),
            table=str(props["TableName"]),
            checksum=str(props["Checksum"]),
            has_down=str(props.get("HasDown", "false")).lower() == "true",
            dry_run=str(props.get("DryRun", "false")).lower() == "true",
            old_checksum=str(old["Checksum"]) if "Checksum" in old else None,
        )


def _changed_reason(req: Request, record: MigrationRecord) -> str:
    return (
        f"Migration {req.migration_id} on table {req.table} was already applied with checksum "
        f"{(record.checksum or '?')[:12]}; its definition has changed since (now "
        f"{req.checksum[:12]}). Applied migrations are immutable: revert this change and add a "
        "new migration with a new MigrationId instead."
    )


def decide(req: Request, record: MigrationRecord | None, stack_status: str | None) -> Decision:
    """The runner's action for one request, from the history and the stack's state."""
    if req.request_type == "Delete":
        return _decide_delete(req, record, stack_status)
    if req.dry_run:
        return Decision("start")  # a dry run writes nothing and never marks the migration applied
    if record is None:
        return Decision("start")
    if record.status == SUCCEEDED:
        if record.checksum == req.checksum:
            return Decision("answer", "SUCCESS", f"Migration {req.migration_id} already applied")
        return Decision("answer", "FAILED", _changed_reason(req, record))
    if record.status == RUNNING:
        if record.checksum == req.checksum:
            return Decision("join")
        return Decision(
            "answer",
            "FAILED",
            f"Migration {req.migration_id} on table {req.table} is running with a "
            "different definition; wait for it to finish, then add a new migration",
        )
    if record.status == FAILED and record.checksum == req.checksum and record.run_id:
        return Decision("start", resume_run_id=record.run_id)
    return Decision("start")


def _decide_delete(
    req: Request, record: MigrationRecord | None, stack_status: str | None
) -> Decision:
    rolling_back = stack_status in ROLLING_BACK_STATUSES
    ran_here = (
        record is not None
        and record.status == SUCCEEDED
        and record.attributes.get("stackId", {}).get("S") == req.stack_id
    )
    if rolling_back and ran_here and req.has_down:
        return Decision("down")
    if rolling_back and ran_here:
        return Decision(
            "answer",
            "SUCCESS",
            f"Migration {req.migration_id} has no Down; its changes stay in place",
        )
    if record is not None and record.status == ROLLED_BACK:
        return Decision("answer", "SUCCESS", f"Migration {req.migration_id} already rolled back")
    # Removed from the template, stack deleted, or the Delete after a failed Create: the data and
    # the history stay as they are.
    return Decision("answer", "SUCCESS", "Nothing to do: data and history are kept")
