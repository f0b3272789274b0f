"""The verbs that work on templates and on a deployed application: new, render, plan, status,
history, lint. Each is declared once, with its arguments (`dynamigrate.cli.registry`).

Each raises UserError for a mistake of the user's (printed as one line, exit 1) and returns the
exit code otherwise.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from dynamigrate.aws import (
    AwsError,
    Connection,
    call,
    explain,
    is_local,
)
from dynamigrate.aws import history_table as find_history_table
from dynamigrate.cli.common import UserError, checked_template, directory, pairs
from dynamigrate.cli.registry import arg, verb
from dynamigrate.history_view import HEADER, as_dict, format_table, restore_point, rows
from dynamigrate.settings import render_settings
from dynamigrate.templates import table_logical_id
from macro.errors import InvalidTemplateError
from macro.expand import expand, inline_size_warning
from runner.ledger import MigrationLedger

clock = time.time  # the wall clock the history's timestamps are in (tests set their own)

JSON = arg("--json", dest="as_json", action="store_true", help="JSON instead of a table")


@verb(
    "render",
    arg("template", type=Path, help="a CloudFormation or SAM template (YAML or JSON)"),
    arg("-o", "--out", dest="out_dir", type=Path, default=Path("out"), help="output directory"),
    arg("--region", default="us-east-1", help="the region the ARNs name"),
    arg("--account-id", default="123456789012", help="the account the ARNs name"),
    arg("--bucket", default="dynamigrate-artifacts", help="the bucket the TemplateURLs name"),
    help="expand a template as the DynamoMigrations macro would",
)
def render(template: Path, out_dir: Path, region: str, account_id: str, bucket: str) -> int:
    """Expand TEMPLATE as the macro would; write template.json and nested/<LogicalId>.json."""
    for path in rendered(template, out_dir, region, account_id, bucket):
        print(path)
    return 0


def rendered(
    template: Path, out_dir: Path, region: str, account_id: str, bucket: str
) -> list[Path]:
    """The files `render` writes."""
    fragment = checked_template(template)
    from macro.handler import template_url  # noqa: PLC0415 - boto3 only when rendering

    bodies: dict[str, Any] = {}

    def upload(key: str, body: bytes) -> dict[str, str]:
        url = template_url(bucket, key)  # what the macro emits, for any partition
        bodies[json.dumps(url)] = json.loads(body)
        return url

    try:
        settings = replace(render_settings(region, account_id), artifacts_bucket=bucket)
        expanded = expand(fragment, settings, upload)
    except InvalidTemplateError as exc:
        raise UserError(f"{template}: {exc}") from exc
    warning = inline_size_warning(expanded)
    if warning:  # through S3 the template deploys: a warning, not a refusal
        print(f"dynamigrate: warning: {template}: {warning}", file=sys.stderr)
    directory(out_dir, "-o")
    written = [out_dir / "template.json"]
    written[0].write_text(json.dumps(expanded, indent=2) + "\n")
    for logical_id, resource in expanded.get("Resources", {}).items():
        url = json.dumps((resource.get("Properties") or {}).get("TemplateURL"))
        if resource.get("Type") == "AWS::CloudFormation::Stack" and url in bodies:
            path = out_dir / "nested" / f"{logical_id.removesuffix('Stack')}.json"
            path.write_text(json.dumps(bodies[url], indent=2) + "\n")
            written.append(path)
    return written


@verb(
    "new",
    arg("name", help="what it does, e.g. add-status"),
    arg("--table", required=True, help="logical id of the AWS::DynamoDB::Table"),
    arg(
        "--kind",
        default="update",
        choices=["update", "delete", "function"],
        help="an Update expression, a Delete, or a transform Function (scaffolded with its test)",
    ),
    arg(
        "--shape",
        default="item",
        choices=["item", "fanout", "collections"],
        help="a Function's shape: an item per item, a list of items per item (1:N), or whole "
        "item collections (ItemCollections: true)",
    ),
    arg(
        "--template",
        dest="template_path",
        type=Path,
        default=Path("template.yaml"),
        help="the template to add it to",
    ),
    help="add a migration to a template",
)
def new(template_path: Path, name: str, table: str, kind: str, shape: str = "item") -> int:
    """Add a migration (and for `function` its transform, test and function) to the template."""
    from dynamigrate.scaffold import ScaffoldError, new_migration  # noqa: PLC0415

    try:
        made = new_migration(template_path, name, table, kind, shape=shape)
    except ScaffoldError as exc:
        raise UserError(str(exc)) from exc
    print(f"added {made.logical_id} (MigrationId {made.migration_id}) to {template_path}")
    for path in made.created:
        print(f"created {path}")
    return 0


def _ledger(
    connection: Connection, table_name: str | None, app_stack: str | None
) -> MigrationLedger:
    try:
        name = find_history_table(connection, table_name, app_stack)
    except AwsError as exc:
        raise UserError(str(exc)) from exc
    return MigrationLedger(connection.client("dynamodb"), name)


def _records(ledger: MigrationLedger, table: str | None) -> list[Any]:
    try:
        return ledger.records(table)
    except Exception as exc:  # HistoryError or an endpoint that cannot be reached
        raise UserError(f"history table {ledger.table_name}: {explain(exc)}") from exc


@verb(
    "history",
    arg(
        "--table",
        help="only this table's migrations: its name (against `local serve`, also its logical id "
        "in the stack `local`)",
    ),
    JSON,
    help="the migration history table",
    aws=True,
)
def history(
    connection: Connection,
    table: str | None,
    as_json: bool,
    history_table: str | None,
    app_stack: str | None,
) -> int:
    """Every migration record (of one table), oldest migration id first."""
    ledger = _ledger(connection, history_table, app_stack)
    records = _records(ledger, table)
    if table and not records and is_local(connection.endpoint_url or os.environ.get(ENDPOINT)):
        physical = _local_table(connection, table)  # in local mode, a table's logical id works too
        records = _records(ledger, physical) if physical else []
    if as_json:
        print(json.dumps([as_dict(r) for r in records], indent=2, sort_keys=True))
    elif records:
        print(format_table(HEADER, rows(records)))
    else:
        print("no migrations recorded yet")
    return 0


ENDPOINT = "AWS_ENDPOINT_URL"


def _local_table(connection: Connection, logical_id: str) -> str | None:
    """The name `local serve` gave the table `logical_id` of the stack `local`, if any."""
    try:
        found = connection.client("cloudformation").describe_stack_resource(
            StackName="local", LogicalResourceId=logical_id
        )
    except Exception:  # no such stack or table: the caller shows no records
        return None
    return str(found["StackResourceDetail"]["PhysicalResourceId"])


@verb(
    "status",
    JSON,
    arg("--watch", action="store_true", help="refresh until nothing runs"),
    help="running migrations and their progress",
    aws=True,
)
def status(
    connection: Connection,
    as_json: bool,
    watch: bool,
    history_table: str | None,
    app_stack: str | None,
) -> int:
    """Running migrations with their progress; a count of the others."""
    from dynamigrate.progress import bar, counters, live, pace, pacing, run_estimate  # noqa: PLC0415

    ledger = _ledger(connection, history_table, app_stack)
    while True:
        records = _records(ledger, None)
        running = [live(ledger, r) or r for r in records if r.status in ("RUNNING", "ROLLING_BACK")]
        by_status: dict[str, int] = {}
        for record in records:
            by_status[record.status] = by_status.get(record.status, 0) + 1
        totals = {r.table: _item_count(connection, r.table) for r in running}
        if as_json:
            shown = {
                "running": [
                    {**as_dict(r), **_pace_json(run_estimate(r, totals[r.table], clock()))}
                    for r in running
                ],
                "counts": by_status,
            }
            print(json.dumps(shown, indent=2, sort_keys=True))
            return 0
        for record in running:
            found = counters(record)
            scanned, total = found.get("scanned", 0), totals[record.table]
            figures = pace(run_estimate(record, total, clock()), running=True)
            print(
                f"{record.table} {record.migration_id} {record.status} "
                f"{bar(scanned, total)} {scanned} scanned, "
                f"{sum(found.get(k, 0) for k in ('created', 'updated', 'deleted'))} changed"
                + (f", {figures}" if figures else "")
            )
            if pacing(record):
                print(f"  {pacing(record)}")
            shown = as_dict(record)
            if shown.get("restorePoints"):
                print(f"  restore point: {restore_point(shown['restorePoints'])}")
        summary = ", ".join(f"{n} {s}" for s, n in sorted(by_status.items())) or "no migrations"
        print(f"{len(running)} running; {summary}")
        if not watch or not running:
            return 0
        time.sleep(2)


def _duration(seconds: float) -> str:
    """`45 s`, `12 min`, `3.5 h`."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _pace_json(figures: Any) -> dict[str, Any]:
    """A running record's rate and time left for `status --json` (null until known)."""
    return {
        "itemsPerSecond": None if figures.rate is None else round(figures.rate, 1),
        "secondsLeft": None if figures.seconds_left is None else round(figures.seconds_left),
    }


def _item_count(connection: Connection, table: str) -> int:
    """The table's approximate item count (DynamoDB refreshes it about every six hours)."""
    try:
        found = connection.client("dynamodb").describe_table(TableName=table)
    except Exception:  # no access to the table: the bar shows counts only
        return 0
    return int(found["Table"].get("ItemCount", 0))


@verb(
    "plan",
    arg("template_path", metavar="template", type=Path, help="a CloudFormation or SAM template"),
    arg("--stack", help="the stack deployed from TEMPLATE (finds its tables)"),
    arg(
        "--table",
        dest="tables",
        action="append",
        metavar="LOGICAL_ID=NAME",
        help="a table's name (LOGICAL_ID: its logical id, or its construct id in a CDK template)",
    ),
    JSON,
    help="pending, applied and changed migrations, with costs",
    description="Exit 0, or 3 when an applied migration was changed (a deploy would fail).",
    aws=True,
)
def plan_template(
    connection: Connection,
    template_path: Path,
    tables: list[str] | None,
    stack: str | None,
    as_json: bool,
    history_table: str | None,
    app_stack: str | None,
) -> int:
    """Pending, applied and changed migrations of a template, with the pending work's cost."""
    from dynamigrate.plan import PlanError, plan  # noqa: PLC0415
    from dynamigrate.rollback_cost import ROLLBACKS  # noqa: PLC0415

    template = checked_template(template_path)
    ledger = _ledger(connection, history_table, app_stack)
    cloudformation = connection.client("cloudformation")

    def stack_resource(logical_id: str) -> str:
        found = call(
            f"--stack {stack}: finding {logical_id}",
            cloudformation.describe_stack_resource,
            StackName=stack,
            LogicalResourceId=logical_id,
        )
        return str(found["StackResourceDetail"]["PhysicalResourceId"])

    try:
        planned = plan(
            template,
            ledger,
            connection.client("dynamodb"),
            {table_logical_id(template, k): v for k, v in pairs(tables, "--table").items()},
            stack_resource if stack else None,
        )
    except (PlanError, AwsError) as exc:
        raise UserError(f"{template_path}: {exc}") from exc
    except Exception as exc:  # the history table or an endpoint that cannot be reached
        raise UserError(f"{template_path}: {explain(exc)}") from exc
    changed = [p.migration_id for p in planned if p.state == "changed"]
    if as_json:
        print(json.dumps([p.as_dict() for p in planned], indent=2))
        return 3 if changed else 0
    header = [
        "migration",
        "table",
        "state",
        "items",
        "reads",
        "writes",
        "transitions",
        "est. $",
        "duration",
        "restore point",
        "rollback",
    ]
    body = []
    for p in planned:
        e = p.estimate
        cost = (
            [
                str(e.items),
                f"{e.read_units:.0f}",
                f"{e.write_units:.0f}",
                str(e.transitions),
                f"{e.dollars:.4f}",
                _duration(e.duration_seconds),
                _restore_point(e.restore_point, e.backup_dollars_per_month),
            ]
            if e
            else [""] * 7
        )
        undo = ROLLBACKS[p.rollback] if p.rollback else ""
        body.append([p.migration_id, p.table, p.state, *cost, undo])
    print(format_table(header, body))
    for p in planned:
        if p.estimate and p.estimate.budget:
            print(f"{p.migration_id}: at {p.estimate.budget}")
        if p.estimate and p.estimate.note:
            print(f"{p.migration_id}: {p.estimate.note}")
        if p.estimate and p.estimate.verify_read_units:
            print(
                f"{p.migration_id}: a verification pass after Up reads the source again: "
                f"{p.estimate.verify_read_units:.0f} read units (in est. $)"
            )
        if p.estimate and p.estimate.before_image_requests:
            print(
                f"{p.migration_id}: before-images for a restore: up to "
                f"{p.estimate.before_image_requests} S3 requests (in est. $)"
            )
    total = sum(p.estimate.dollars for p in planned if p.estimate)
    pending = sum(1 for p in planned if p.estimate)
    print(f"\n{pending} to run, about ${total:.4f} at us-east-1 on-demand prices (upper bound)")
    backups = sum(p.estimate.backup_dollars_per_month for p in planned if p.estimate)
    if any(p.estimate and p.estimate.restore_point == "backup" for p in planned):
        print(f"on-demand backups before the runs: about ${backups:.4f} a month while kept")
    if changed:
        print(f"changed since applied (a deploy fails): {', '.join(changed)}")
        return 3
    return 0


def _restore_point(kind: str, per_month: float) -> str:
    if kind == "backup":
        return f"backup ${per_month:.4f}/month"
    return {"pitr": "PITR (no extra cost)"}.get(kind, "none")


@verb(
    "lint",
    arg("templates", type=Path, nargs="+", metavar="TEMPLATE", help="templates to lint"),
    arg(
        "--format",
        dest="fmt",
        choices=["parseable", "json", "sarif"],
        default="parseable",
        help="cfn-lint's output formats",
    ),
    arg(
        "--fail-on",
        choices=["error", "warning", "informational"],
        default="error",
        help="exit 1 when a finding of this level or worse is found",
    ),
    arg("--region", default="us-east-1", help="the region cfn-lint checks against"),
    help="cfn-lint over what the macro makes of templates, reported at your own lines",
    description="Expands each template with the real macro, reports what the macro refuses "
    "and what cfn-lint finds in the expanded template and every nested one, at the "
    "migration's line in your template. Exit 0 when nothing at or above --fail-on was found, "
    "1 otherwise.",
)
def lint(templates: list[Path], fmt: str, fail_on: str, region: str) -> int:
    """The macro's and cfn-lint's findings for each template, at the user's lines."""
    from dynamigrate import lint as linting  # noqa: PLC0415 (cfn-lint loads slowly)

    findings = []
    for path in templates:
        if not path.is_file():
            raise UserError(f"{path}: no such file")
        findings.extend(
            linting.lint_template(path, render_settings(region, "123456789012"), region)
        )
    text = linting.report(findings, fmt)
    if text:
        print(text)
    return linting.exit_code(findings, fail_on)
