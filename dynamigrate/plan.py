"""`dynamigrate plan`: what a deploy of a template would run, and what the pending work costs.

Each migration is compared with the history table (applied, changed since applied, running,
failed, pending); each pending one gets an estimate from its table's size and item count:
DynamoDB read and write request units, state transitions and Lambda time, in US dollars at
published us-east-1 on-demand prices, and its duration at the capacity budget the run will take
(runner.capacity: `MaxCapacityPercent` of the table's and its indexes' capacity; the run also
leaves what the application uses, which a plan cannot know, so it is a lower bound).
Each migration a deploy runs also says what a rollback of its run does, and its estimate counts
the before-images a restore needs and the verification pass `Verify` adds
(dynamigrate.rollback_cost).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from dynamigrate.aws import call
from dynamigrate.collection_cost import collection_factors
from dynamigrate.rollback_cost import (
    before_image_requests,
    rollback,
    verify_read_units,
    verify_transitions,
)
from macro.contract import validate
from macro.expand import MIGRATION_TYPE
from macro.nested import checksum
from macro.rollback import has_down
from macro.state_machine import segments_of
from runner.attrs import to_wire
from runner.capacity import DEFAULT_PERCENT, budget, indexes_reached, resources
from runner.history import SUCCEEDED
from runner.item_check import item_size
from runner.ledger import MigrationLedger, MigrationRecord
from runner.lifecycle import Request, Stack, decide
from runner.planning import auto_segments, running_segments
from runner.spec import parse_spec

# us-east-1, on demand (November 2026)
WRITE_PER_MILLION = 0.625
READ_PER_MILLION = 0.125
TRANSITION_PER_THOUSAND = 0.025
LAMBDA_GB_SECOND = 0.0000133334  # arm64
LAMBDA_PER_MILLION = 0.20
# On-demand backup storage, per GB-month; billed for the rest of the month it is taken in, then
# monthly while it is kept, prorated when deleted (Developer Guide, "Understanding Amazon
# DynamoDB billing for backups"). A PITR restore point costs nothing beyond PITR itself.
BACKUP_GB_MONTH = 0.10
# S3 Standard, "PUT, COPY, POST, LIST requests", per 1,000 (https://aws.amazon.com/s3/pricing/):
# the before-images a restorable run keeps (dynamigrate.rollback_cost).
S3_REQUEST_PER_THOUSAND = 0.005
WORKER_GB = 1.0
ITEMS_PER_WORKER_SECOND = 200.0  # a conservative rate for one segment's worker


class PlanError(Exception):
    """The plan cannot be made (a table that cannot be found, a bad template)."""


@dataclass
class Estimate:
    items: int
    read_units: float
    write_units: float
    transitions: int
    lambda_seconds: float
    dollars: float
    duration_seconds: float = 0.0
    budget: str = ""  # the rate the duration assumes, and why
    restore_point: str = "none"  # pitr | backup | none (runner.restore_point)
    backup_dollars_per_month: float = 0.0
    note: str = ""  # what else shapes the figures (dynamigrate.collection_cost)
    verify_read_units: float = 0.0  # the verification pass after Up (in `dollars`, not in reads)
    before_image_requests: int = 0  # S3 PUTs and LISTs of the before-images (in `dollars`)


@dataclass
class PlannedMigration:
    logical_id: str
    migration_id: str
    table: str
    state: str  # pending | applied | changed | running | failed (resumes) | dry-run | unchanged
    # (a dry run deployed with these properties) | refused (the runner would answer FAILED)
    estimate: Estimate | None
    # What a rollback of its run does, for the migrations a deploy runs (dynamigrate.rollback_cost):
    # down | restore | keep | none (a dry run)
    rollback: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """camelCase, as every `--json` of the CLI (and the history table's own attributes)."""
        camel: dict[str, Any] = _camel(asdict(self))
        return camel


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            name.split("_")[0] + "".join(w.capitalize() for w in name.split("_")[1:]): _camel(v)
            for name, v in value.items()
        }
    return value


SAMPLE_ITEMS = 1000


def table_size(dynamodb: Any, table: str) -> tuple[int, int]:
    """(items, bytes) of a table: DescribeTable's figures, else measured from a sample page.

    DescribeTable's ItemCount and TableSizeBytes are "updated approximately every six hours"
    (API Reference, TableDescription), so a table loaded since reads as empty; the emulator's
    TableSizeBytes is always 0. Then one page of at most SAMPLE_ITEMS items is read: the whole
    table when it fits, else the average item size times the item count.
    """
    info = call(f"DescribeTable {table}", dynamodb.describe_table, TableName=table)["Table"]
    items, size = int(info.get("ItemCount", 0)), int(info.get("TableSizeBytes", 0))
    if size > 0:
        return items, size
    page = call(f"Scan {table}", dynamodb.scan, TableName=table, Limit=SAMPLE_ITEMS)
    sizes = [item_size(to_wire(i)) for i in page.get("Items", [])]
    if not sizes:
        return 0, 0
    if "LastEvaluatedKey" not in page:
        return len(sizes), sum(sizes)
    count = max(items, len(sizes))
    return count, count * sum(sizes) // len(sizes)


def duration(
    props: dict[str, Any],
    read_units: float,
    write_units: float,
    items: int,
    written: dict[str, Any] | None,
    source: dict[str, Any] | None,
) -> tuple[float, str]:
    """Seconds one run takes at its budget (and at most at MaxWritesPerSecond), and the budget.

    `written` and `source` are DescribeTable's tables (None: unknown, only the workers' pace).
    The Up's work only: a `Verify` pass reads after it (its units are in the estimate's dollars).
    """
    segments = segments_of(props) or 1
    running = running_segments(segments, props.get("MaxConcurrency"))
    seconds = [items / (ITEMS_PER_WORKER_SECOND * running)]
    why = f"{running} segments at {ITEMS_PER_WORKER_SECOND:.0f} items/s"
    if written is not None and source is not None:
        operation = parse_spec({"MigrationId": "plan", "TableName": "plan", **props}).up
        percent = float(props.get("MaxCapacityPercent", DEFAULT_PERCENT))
        writes_to = resources(written, indexes_reached(written, operation))
        reads_from = resources(source, [])[0]
        chosen = budget(writes_to, reads_from, percent)
        seconds += [write_units / chosen.write, read_units / chosen.read]
        why = f"{chosen.write:,.0f} WCU/s, {chosen.read:,.0f} RCU/s: {chosen.reason}"
    if props.get("MaxWritesPerSecond") and not props.get("DryRun"):
        seconds.append(items / float(props["MaxWritesPerSecond"]))
        why += f"; MaxWritesPerSecond {props['MaxWritesPerSecond']}"
    return max(seconds), why


def restore_point_kind(dynamodb: Any, table: str, props: dict[str, Any]) -> str:
    """The restore point a run would take (runner.restore_point): none for `Backup: None` or a
    dry run, else PITR when DescribeContinuousBackups says it is enabled, else a backup."""
    if props.get("Backup", "Auto") == "None" or props.get("DryRun"):
        return "none"
    described = call(
        f"DescribeContinuousBackups {table}", dynamodb.describe_continuous_backups, TableName=table
    )["ContinuousBackupsDescription"]
    status = described.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus")
    return "pitr" if status == "ENABLED" else "backup"


def estimate(
    props: dict[str, Any],
    items: int,
    size_bytes: int,
    written: dict[str, Any] | None = None,
    source: dict[str, Any] | None = None,
    restore_point: str = "none",
) -> Estimate:
    """Upper-bound cost of one run over a table of `items` items and `size_bytes` bytes, its
    duration at the capacity budget, and the monthly storage of its on-demand backup when
    `restore_point` is "backup"."""
    average_kb = max(1, math.ceil(size_bytes / max(items, 1) / 1024))
    read_units = math.ceil(size_bytes / 4096) * 0.5  # eventually consistent reads
    # Every item written once at most (Update, Function and Delete are billed on the item size).
    write_units = 0.0 if props.get("DryRun") else float(items * average_kb)
    read_factor, write_factor, note = collection_factors(props)
    read_units, write_units = read_units * read_factor, write_units * write_factor
    segments = segments_of(props) or auto_segments(items, size_bytes)
    per_segment = items / segments
    invocations = max(1, math.ceil(per_segment / ITEMS_PER_WORKER_SECOND / 600))
    # Plan, Map, Summarize; per segment its child execution's start (billed as a transition:
    # Step Functions Developer Guide, "Transitions") and Done, and Work + More per worker call.
    transitions = 3 + segments * (2 + 2 * invocations)
    if props.get("Backup", "Auto") != "None":
        transitions += 2  # RestorePoint and BackupSettles
    verify_reads = verify_read_units(props, size_bytes)
    verify_states = verify_transitions(props, segments, invocations)
    transitions += verify_states
    # The verification pass's workers and its VerifySummarize, as many calls as the Up's.
    calls = (segments * invocations + 1) * (2 if verify_states else 1)
    images = before_image_requests(props, items, size_bytes, segments, invocations)
    seconds = items / ITEMS_PER_WORKER_SECOND
    dollars = (
        write_units * WRITE_PER_MILLION / 1e6
        + (read_units + verify_reads) * READ_PER_MILLION / 1e6
        + transitions * TRANSITION_PER_THOUSAND / 1e3
        + seconds * WORKER_GB * LAMBDA_GB_SECOND
        + calls * LAMBDA_PER_MILLION / 1e6
        + images * S3_REQUEST_PER_THOUSAND / 1e3
    )
    took, why = duration(props, read_units, write_units, items, written, source)
    backup = size_bytes / 1024**3 * BACKUP_GB_MONTH if restore_point == "backup" else 0.0
    return Estimate(
        items,
        read_units,
        write_units,
        transitions,
        round(seconds, 1),
        dollars,
        round(took),
        why,
        restore_point,
        backup,
        note,
        verify_reads,
        images,
    )


def _physical_table(
    value: Any, logical_id: str, template: dict[str, Any], tables: dict[str, str], stack: Any
) -> str:
    if isinstance(value, str):
        return value
    ref = value.get("Ref") if isinstance(value, dict) else None
    if not isinstance(ref, str):
        raise PlanError(f"Resource [{logical_id}] property TableName: pass --table NAME=TABLE")
    if ref in tables:
        return tables[ref]
    literal = ((template.get("Resources") or {}).get(ref) or {}).get("Properties", {})
    if isinstance(literal.get("TableName"), str):
        return str(literal["TableName"])
    if stack is not None:
        return str(stack(ref))
    raise PlanError(
        f"Resource [{logical_id}] property TableName: cannot tell the physical name of {ref}; "
        f"pass --stack STACK or --table {ref}=NAME"
    )


def _described(dynamodb: Any, table: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = dynamodb.describe_table(TableName=table)["Table"]
    except Exception:  # the estimate then assumes only the workers' own pace
        return None
    return found


def plan(
    template: dict[str, Any],
    ledger: MigrationLedger,
    dynamodb: Any,
    tables: dict[str, str],
    stack_resource: Any = None,
) -> list[PlannedMigration]:
    """Every migration of the template with its state and, when pending, its estimate."""
    resources = template.get("Resources") or {}
    migrations = [k for k, v in resources.items() if (v or {}).get("Type") == MIGRATION_TYPE]
    if not migrations:
        raise PlanError("the template declares no Custom::DynamoMigration resource")
    problems = [
        p for m in migrations for p in validate(m, resources[m].get("Properties"), resources)
    ]
    if problems:
        raise PlanError("\n".join(str(p) for p in problems))
    planned = []
    for logical_id in sorted(
        migrations, key=lambda m: str(resources[m]["Properties"].get("MigrationId", m))
    ):
        props = resources[logical_id]["Properties"]
        mid = str(props.get("MigrationId", logical_id))
        table = _physical_table(props["TableName"], logical_id, template, tables, stack_resource)
        request = _request(logical_id, mid, table, props)
        state = state_of(request, ledger.get(table, request.record_id))
        cost = None
        if state in RUNS:
            described = _described(dynamodb, table)
            target = props.get("Target")
            written = _described(dynamodb, target) if isinstance(target, str) else described
            kind = restore_point_kind(dynamodb, table, props)
            size = table_size(dynamodb, table)
            cost = estimate(props, *size, written, described, restore_point=kind)
        undo = rollback(props) if state in RUNS else None
        planned.append(PlannedMigration(logical_id, mid, table, state, cost, undo))
    return planned


RUNS = frozenset({"pending", "failed (resumes)", "dry-run"})  # the states a deploy runs


def _request(logical_id: str, mid: str, table: str, props: dict[str, Any]) -> Request:
    """The request the runner would get for this migration (the parts its decision reads)."""
    return Request(
        request_type="Create",
        request_id="plan",
        stack_id="plan",
        logical_id=logical_id,
        migration_id=mid,
        table=table,
        checksum=checksum(props),
        has_down=has_down(props),
        dry_run=_flag(props.get("DryRun", False)),
        dispose=_flag(props.get("Dispose", False)),
    )


def state_of(request: Request, record: MigrationRecord | None) -> str:
    """What a deploy does with the migration: the runner's own decision (runner.lifecycle) for a
    request of a stack being deployed, given the record the request reads (a dry run's own).

    A dry run is started on every request it gets; a deploy sends it none while its properties
    are unchanged (CloudFormation sends a custom resource an Update when "the template developer
    makes changes to the properties of a custom resource", AWS CloudFormation User Guide, "Update
    request for CloudFormation custom resources"), which its record's checksum shows: then it is
    `unchanged`, as the deploy reports it.
    """
    if request.dry_run:
        if record is not None and record.status == SUCCEEDED:
            return "unchanged" if record.checksum == request.checksum else "dry-run"
        return "dry-run"
    decision = decide(request, record, Stack(status="UPDATE_IN_PROGRESS"))
    if decision.action == "join":
        return "running"
    if decision.action == "start":
        return "failed (resumes)" if decision.resume_run_id else "pending"
    if decision.status == "SUCCESS":
        return "applied"
    return "changed" if record is not None and record.status == SUCCEEDED else "refused"


def _flag(value: Any) -> bool:
    return str(value).lower() == "true"
