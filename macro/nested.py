"""One migration's nested stack: normalized spec, state machine and least-privilege roles."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from macro.item_collections import collection_actions
from macro.rollback import (
    ROLLBACK_KINDS,
    before_image_statements,
    keeps_journal,
    restore_table_actions,
    restore_target_actions,
)
from macro.state_machine import render_state_machine, template_environment

# The properties that define what a migration does; editing any of them changes its checksum.
# Operational knobs (Description, MaxWritesPerSecond, MaxConcurrency, MaxCapacityPercent, Backup,
# Verify, DryRun, OnTimeout, ServiceTimeout, and a Down of Restore or Keep) may change without
# making an applied migration "edited" (Verify checks an Up when it runs; an applied migration does
# not run again).
DEFINING = ("TableName", "Source", "Up", "Down", "Target")


def checksum(props: dict[str, Any]) -> str:
    """sha256 of the defining properties as written (intrinsics unresolved)."""
    defining = {k: props[k] for k in DEFINING if k in props}
    down = defining.get("Down")
    if isinstance(down, dict) and any(k in down for k in ROLLBACK_KINDS):
        del defining["Down"]  # what a rollback does is a knob: switching it edits no migration
    return hashlib.sha256(json.dumps(defining, sort_keys=True).encode()).hexdigest()


def normalized_spec(migration_id: str, props: dict[str, Any]) -> dict[str, Any]:
    """The spec the worker reads; names CloudFormation resolves become DefinitionSubstitutions."""
    spec: dict[str, Any] = {"MigrationId": migration_id, "TableName": "${TableName}"}
    if props.get("Source"):
        spec["Source"] = props["Source"]
    for direction in ("Up", "Down"):
        operation = props.get(direction)
        if not operation:
            continue
        if "Function" in operation:
            spec[direction] = {"Function": f"${{{direction}FunctionArn}}"}
        elif "Delete" in operation:
            spec[direction] = {"Delete": operation["Delete"] or {}}
        else:
            spec[direction] = operation
    if "Target" in props:
        spec["Target"] = "${TargetTableName}"
    for knob in ("MaxWritesPerSecond", "MaxConcurrency", "MaxCapacityPercent", "Backup", "Verify"):
        if knob in props:
            spec[knob] = props[knob]
    return spec


def table_actions(spec: dict[str, Any]) -> list[str]:
    """The DynamoDB actions the migration's data role needs on its own table."""
    source = spec.get("Source") or {}
    actions = {"dynamodb:DescribeTable", "dynamodb:Query" if "Query" in source else "dynamodb:Scan"}
    for direction in ("Up", "Down"):
        operation = spec.get(direction) or {}
        if "Update" in operation:
            actions.add("dynamodb:UpdateItem")
        elif "Delete" in operation:
            actions.add("dynamodb:DeleteItem")
        elif "Function" in operation and "Target" not in spec:
            actions.update({"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"})
    return sorted(
        actions | set(backup_actions(spec)) | collection_actions(spec) | restore_table_actions(spec)
    )


# The restore point (runner.restore_point): DescribeContinuousBackups, then CreateBackup, which
# "operate on a per-table basis" (DynamoDB Developer Guide, "Using IAM with DynamoDB backup and
# restore"), so they are granted on the migration's own table(s) only.
BACKUP_ACTIONS = ("dynamodb:CreateBackup", "dynamodb:DescribeContinuousBackups")


def backup_actions(spec: dict[str, Any]) -> list[str]:
    """The backup actions a migration's data role needs on each of its tables (none for None)."""
    return [] if spec.get("Backup", "Auto") == "None" else list(BACKUP_ACTIONS)


def target_actions(spec: dict[str, Any]) -> list[str]:
    """The actions on a `Target` table: put the results; for its restore point, tell whether it
    holds items (a Scan of one item) and back it up; for `Verify`, scan it (runner.verify)."""
    actions = {"dynamodb:DescribeTable", "dynamodb:PutItem", *restore_target_actions(spec)}
    if backup_actions(spec):
        actions.update({"dynamodb:Scan", *backup_actions(spec)})
    if "Verify" in spec:
        actions.add("dynamodb:Scan")
    return sorted(actions)


def nested_template(
    migration_id: str, spec: dict[str, Any], props: dict[str, Any], bucket: str = ""
) -> Any:
    definition = render_state_machine(
        spec,
        worker_function="${WorkerFunctionArn}",
        history_table="${HistoryTableName}",
        data_role_arn="${DataRoleArn}",
        lambda_invoke="${LambdaInvoke}",
    )
    functions = [f"{d}FunctionArn" for d in ("Up", "Down") if "Function" in (props.get(d) or {})]
    text = (
        template_environment()
        .get_template("nested_stack.json.j2")
        .render(
            migration_id=migration_id,
            definition=definition,
            target="Target" in props,
            functions=functions,
            table_actions=table_actions(spec),
            target_actions=target_actions(spec),
            before_images=before_image_statements(bucket, migration_id)
            if keeps_journal(props)
            else [],
        )
    )
    return json.loads(text)
