"""`dynamigrate plan`: what a deploy of a template would run, and what the pending work costs.

Each migration is compared with the history table (applied, changed since applied, running,
failed, pending); each pending one gets an estimate from its table's size and item count:
DynamoDB read and write request units, state transitions and Lambda time, in US dollars at
published us-east-1 on-demand prices.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from dynamigrate.aws import call
from macro.contract import validate
from macro.expand import MIGRATION_TYPE
from macro.nested import checksum
from macro.state_machine import segments_of
from runner.attrs import to_wire
from runner.history import FAILED, RUNNING, SUCCEEDED
from runner.item_check import item_size
from runner.ledger import MigrationLedger
from runner.planning import auto_segments

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
    restore_point: str = "none"  # pitr | backup | none (runner.restore_point)
    backup_dollars_per_month: float = 0.0


@dataclass
class PlannedMigration:
    logical_id: str
    migration_id: str
    table: str
    state: str  # pending | applied | changed | running | failed (resumes) | dry-run
    estimate: Estimate | None

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
    props: dict[str, Any], items: int, size_bytes: int, restore_point: str = "none"
) -> Estimate:
    """Upper-bound cost of one run over a table of `items` items and `size_bytes` bytes, and
    the monthly storage of its on-demand backup when `restore_point` is "backup"."""
    average_kb = max(1, math.ceil(size_bytes / max(items, 1) / 1024))
    read_units = math.ceil(size_bytes / 4096) * 0.5  # eventually consistent reads
    # Every item written once at most (Update, Function and Delete are billed on the item size).
    write_units = 0.0 if props.get("DryRun") else float(items * average_kb)
    segments = segments_of(props) or auto_segments(items, size_bytes)
    per_segment = items / segments
    invocations = max(1, math.ceil(per_segment / ITEMS_PER_WORKER_SECOND / 600))
    # Plan, Map, Summarize; per segment its child execution's start (billed as a transition:
    # Step Functions Developer Guide, "Transitions") and Done, and Work + More per worker call.
    transitions = 3 + segments * (2 + 2 * invocations)
    if props.get("Backup", "Auto") != "None":
        transitions += 2  # RestorePoint and BackupSettles
    seconds = items / ITEMS_PER_WORKER_SECOND
    dollars = (
        write_units * WRITE_PER_MILLION / 1e6
        + read_units * READ_PER_MILLION / 1e6
        + transitions * TRANSITION_PER_THOUSAND / 1e3
        + seconds * WORKER_GB * LAMBDA_GB_SECOND
        + (segments * invocations + 1) * LAMBDA_PER_MILLION / 1e6
    )
    backup = size_bytes / 1024**3 * BACKUP_GB_MONTH if restore_point == "backup" else 0.0
    return Estimate(
        items,
        read_units,
        write_units,
        transitions,
        round(seconds, 1),
        dollars,
        restore_point,
        backup,
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
        record = ledger.get(table, mid)
        if props.get("DryRun"):
            state = "dry-run"
        elif record is None or record.status not in (SUCCEEDED, RUNNING, FAILED):
            state = "pending"
        elif record.status == SUCCEEDED:
            state = "applied" if record.checksum == checksum(props) else "changed"
        elif record.status == RUNNING:
            state = "running"
        else:
            state = "failed (resumes)" if record.checksum == checksum(props) else "pending"
        cost = None
        if state in ("pending", "failed (resumes)", "dry-run"):
            kind = restore_point_kind(dynamodb, table, props)
            cost = estimate(props, *table_size(dynamodb, table), restore_point=kind)
        planned.append(PlannedMigration(logical_id, mid, table, state, cost))
    return planned
