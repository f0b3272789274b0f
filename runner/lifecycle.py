"""What the runner does with one custom-resource request: a pure decision, no I/O.

The controller gathers the request, the migration's history record and the stack's status, asks
`decide`, and carries the decision out (answer now, start or resume a run, join a running one,
or roll back with Down).

Physical ids say which request ran a migration: a request that starts a run answers with a new
id `<table>/<migration>/<token of the request>`, recorded in the history, so CloudFormation treats
it as a replacement. If the stack operation then fails, the rollback sends a Delete for exactly
that id, and only then does Down run; when the operation succeeds, the Delete of the previous id
comes during cleanup and touches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from runner.history import FAILED, ROLLED_BACK, RUNNING, SUCCEEDED, MigrationRecord

Action = Literal["answer", "start", "join", "down"]
ROLLING_BACK_STATUSES = frozenset({"UPDATE_ROLLBACK_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"})
DRY_RUN_SUFFIX = "#dry-run"


@dataclass(frozen=True)
class Decision:
    action: Action
    status: Literal["SUCCESS", "FAILED"] | None = None  # for "answer"
    reason: str = ""
    resume_run_id: str | None = None  # for "start": continue a failed run's checkpoints


def _flag(value: Any) -> bool:
    return str(value).lower() == "true"  # CloudFormation sends every property value as a string


@dataclass(frozen=True)
class Request:
    """The parts of a CloudFormation custom-resource event the runner needs."""

    request_type: str
    request_id: str
    stack_id: str
    logical_id: str
    migration_id: str
    table: str
    checksum: str
    has_down: bool
    dry_run: bool
    state_machine_arn: str = ""
    service_timeout: int = 3600
    on_timeout: str = "Fail"
    dispose: bool = False
    physical_id: str | None = None

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> Request:
        props = event.get("ResourceProperties", {})
        return cls(
            request_type=event["RequestType"],
            request_id=str(event.get("RequestId", "")),
            stack_id=event["StackId"],
            logical_id=str(event.get("LogicalResourceId", "")),
            migration_id=str(props["MigrationId"]),
            table=str(props["TableName"]),
            checksum=str(props["Checksum"]),
            has_down=_flag(props.get("HasDown", "false")),
            dry_run=_flag(props.get("DryRun", "false")),
            state_machine_arn=str(props.get("StateMachineArn", "")),
            service_timeout=int(props.get("ServiceTimeout", 3600)),
            on_timeout=str(props.get("OnTimeout", "Fail")),
            dispose=_flag(props.get("Dispose", "false")),
            physical_id=event.get("PhysicalResourceId"),
        )

    @property
    def record_id(self) -> str:
        """The history record's sort key: dry runs keep their own record."""
        return self.migration_id + (DRY_RUN_SUFFIX if self.dry_run else "")

    def run_physical_id(self, token: str) -> str:
        """The id of a resource whose request started a run (a fresh one per request)."""
        return f"{self.table}/{self.migration_id}/{token}"

    @property
    def plain_physical_id(self) -> str:
        return f"{self.table}/{self.migration_id}"


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
    if stack_status in ROLLING_BACK_STATUSES:
        # CloudFormation restores the previous properties: nothing may run forwards now.
        return Decision("answer", "SUCCESS", "The stack is rolling back; nothing was run")
    if req.dispose:
        return _decide_disposed(req, record)
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


def _decide_disposed(req: Request, record: MigrationRecord | None) -> Decision:
    if record is not None and record.status == SUCCEEDED and record.checksum == req.checksum:
        return Decision(
            "answer",
            "SUCCESS",
            f"Migration {req.migration_id} applied; its state machine is disposed",
        )
    if record is not None and record.status == SUCCEEDED:
        return Decision("answer", "FAILED", _changed_reason(req, record))
    return Decision(
        "answer",
        "FAILED",
        f"Migration {req.migration_id} on table {req.table} has Dispose: true but was never "
        "applied to this table; remove Dispose so that it runs, and dispose of it afterwards",
    )


def _decide_delete(
    req: Request, record: MigrationRecord | None, stack_status: str | None
) -> Decision:
    rolling_back = stack_status in ROLLING_BACK_STATUSES
    ran_in_failed_operation = (
        rolling_back
        and record is not None
        and record.status in (SUCCEEDED, FAILED, RUNNING)
        and req.physical_id is not None
        and record.attributes.get("physicalId", {}).get("S") == req.physical_id
        and record.attributes.get("stackId", {}).get("S") == req.stack_id
    )
    if ran_in_failed_operation and req.has_down and not req.dry_run:
        return Decision("down")
    if ran_in_failed_operation and not req.dry_run:
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
