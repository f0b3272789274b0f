"""What the runner does with one custom-resource request: a pure decision, no I/O.

The controller gathers the request, the migration's history record and the stack (its status and
the operation it is in), asks `decide`, and carries the decision out (answer now, start or resume
a run, join a running one, or undo a run with Down).

Which runs a rollback undoes (README, "Lifecycle"): a request undoes the run recorded in the
history when the stack that started the run is rolling back (`ROLLBACK_STATUSES`), the request is
for the same logical id, the run was started in the operation now rolling back, and the request
either names the physical id the runner answered for that run, or is a Delete naming an id the
runner never issued (CloudFormation generates one for a Create it cancelled), or is an Update back
to the old properties (for an Update it cancelled, it names the id held before). Each request that
starts a run answers a fresh id `<table>/<migration>/<token>`: CloudFormation treats a new id on an
Update as a replacement and deletes exactly that id when the operation rolls back, whatever the
phase (sources in notes/aws-facts.md and tests/conformance/sequences.py).

The operation is the stack's `CreationTime` while it is CREATE_IN_PROGRESS and its
`LastUpdatedTime` while it is UPDATE_IN_PROGRESS (DescribeStacks). What `LastUpdatedTime` shows
during a rollback is not documented, so it is never read then: the controller records the latest
operation it saw for each stack in the history table, and a rollback belongs to that operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from runner.history import FAILED, ROLLED_BACK, ROLLING_BACK, RUNNING, SUCCEEDED
from runner.ledger import MigrationRecord

Action = Literal["answer", "start", "join", "down"]
# CloudFormation's stack status codes (AWS CloudFormation User Guide, "Stack status codes").
FORWARD_STATUSES = frozenset({"CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS"})
ROLLBACK_STATUSES = frozenset(
    {
        "ROLLBACK_IN_PROGRESS",  # a failed create: Delete of what it created, cancelled included
        "UPDATE_ROLLBACK_IN_PROGRESS",  # a failed update: Update back to the old properties
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",  # then Delete of what it created
    }
)
# The statuses in which the stack's operation time can be read and recorded (see above).
OPERATION_STATUSES = FORWARD_STATUSES | {"UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"}
DRY_RUN_SUFFIX = "#dry-run"
UNDOABLE = frozenset({SUCCEEDED, FAILED, RUNNING, ROLLING_BACK})


@dataclass(frozen=True)
class Decision:
    action: Action
    status: Literal["SUCCESS", "FAILED"] | None = None  # for "answer"
    reason: str = ""
    resume_run_id: str | None = None  # for "start": continue a failed run's checkpoints


@dataclass(frozen=True)
class Stack:
    """What the runner knows of the stack that sent the request."""

    status: str | None  # None: DescribeStacks does not know the stack
    operation: str | None = None  # the latest operation the runner recorded for the stack


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
    def from_event(cls, event: dict[str, Any], old: bool = False) -> Request:
        """The request; with `old`, as if it carried an Update's OldResourceProperties."""
        props = event.get("OldResourceProperties" if old else "ResourceProperties", {})
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
            service_timeout=int(
                props.get("ServiceTimeoutSeconds", props.get("ServiceTimeout", 3600))
            ),
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

    @property
    def names_an_id_of_ours(self) -> bool:
        """Whether the request's physical id is one the runner answered (else CloudFormation's)."""
        return bool(self.physical_id) and str(self.physical_id).startswith(self.plain_physical_id)


def restores_old_properties(event: dict[str, Any], stack_status: str | None) -> bool:
    """Whether this event is an Update that restores the old properties during a rollback.

    The run such an Update may undo was started with the properties of the failed update, which
    it carries as OldResourceProperties (aws/aws-cdk pull request 29581: "UPDATE custom resource
    (new -> old)"), so the runner reads the migration from those.
    """
    return (
        event["RequestType"] == "Update"
        and stack_status in ROLLBACK_STATUSES
        and "OldResourceProperties" in event
    )


def _changed_reason(req: Request, record: MigrationRecord) -> str:
    return (
        f"Migration {req.migration_id} on table {req.table} was already applied with checksum "
        f"{(record.checksum or '?')[:12]}; its definition has changed since (now "
        f"{req.checksum[:12]}). Applied migrations are immutable: revert this change and add a "
        "new migration with a new MigrationId instead."
    )


def undoes(req: Request, record: MigrationRecord | None, stack: Stack) -> bool:
    """Whether this request undoes the run in `record` (the rule in the module docstring)."""
    if record is None or stack.status not in ROLLBACK_STATUSES or record.status not in UNDOABLE:
        return False
    attrs = record.attributes

    def text(name: str) -> str | None:
        value = attrs.get(name, {}).get("S")
        return str(value) if value is not None else None

    if text("direction") not in ("up", "down"):
        return False
    same_resource = text("stackId") == req.stack_id and text("logicalId") == req.logical_id
    this_operation = stack.operation is not None and text("operation") == stack.operation
    if not (same_resource and this_operation):
        return False
    if req.request_type == "Update":
        # Back to the old properties: it undoes the run this operation started for the resource,
        # whichever id it names (the one held before, when CloudFormation cancelled the Update).
        return True
    named = req.physical_id is not None and req.physical_id == text("physicalId")
    cancelled = not req.names_an_id_of_ours  # CloudFormation's own id for a cancelled Create
    return named or cancelled


def decide(req: Request, record: MigrationRecord | None, stack: Stack) -> Decision:
    """The runner's action for one request, from the history and the stack's state."""
    if stack.status in ROLLBACK_STATUSES or req.request_type == "Delete":
        return _decide_undo(req, record, stack)
    if stack.status not in FORWARD_STATUSES:
        # A request delivered late, after its operation ended: CloudFormation no longer waits.
        return Decision(
            "answer",
            "FAILED",
            f"Not run: the stack is {stack.status or 'gone'}, not creating or updating; "
            "the operation that sent this request has ended",
        )
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
    if record.status in (RUNNING, ROLLING_BACK):
        if record.checksum == req.checksum:
            return Decision("join")
        return Decision(
            "answer",
            "FAILED",
            f"Migration {req.migration_id} on table {req.table} is running with a "
            "different definition; wait for it to finish, then add a new migration",
        )
    resumable = record.status == FAILED and record.checksum == req.checksum and record.run_id
    if resumable and record.attributes.get("direction", {}).get("S") == "up":
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


def _decide_undo(req: Request, record: MigrationRecord | None, stack: Stack) -> Decision:
    """A Delete, or an Update while the stack rolls back: Down, or nothing."""
    if undoes(req, record, stack):
        if req.dry_run:
            return Decision("answer", "SUCCESS", "A dry run wrote nothing; nothing to undo")
        if not req.has_down:
            return Decision(
                "answer",
                "SUCCESS",
                f"Migration {req.migration_id} has Down: Keep (or no Down); its changes stay "
                "in place",
            )
        return Decision("down")
    if record is not None and record.status == ROLLED_BACK and stack.status in ROLLBACK_STATUSES:
        return Decision("answer", "SUCCESS", f"Migration {req.migration_id} already rolled back")
    if req.request_type != "Delete":
        return Decision("answer", "SUCCESS", "The stack is rolling back; nothing was run")
    # Removed from the template, stack deleted, an update's cleanup, or the Delete after a failed
    # Create or a rollback that ran nothing: the data and the history stay as they are.
    return Decision("answer", "SUCCESS", "Nothing to do: data and history are kept")
