"""The `dynamigrate` commands as typed functions; `dynamigrate.cli` parses and calls them.

Each raises UserError for a mistake of the user's (printed as one line, exit 1) and returns the
exit code otherwise.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from dynamigrate.aws import (
    AwsError,
    Connection,
    call,
    explain,
    history_table,
    is_local,
)
from dynamigrate.history_view import HEADER, as_dict, format_table, rows
from dynamigrate.settings import render_settings
from dynamigrate.templates import TemplateError, load_template, table_logical_id
from macro.errors import InvalidTemplateError
from macro.expand import expand
from runner.ledger import MigrationLedger


class UserError(Exception):
    """A mistake of the user's: printed as one clear message, exit code 1, no traceback."""


def _checked_template(path: Path) -> dict[str, Any]:
    """The template, or UserError with every problem found before deploy, one per line.

    The Transform list, references to nothing (cfn-lint's rules), and everything the macro
    refuses (the contract and the expression checks), as the macro would report them.
    """
    from dynamigrate.template_checks import reference_problems, transform_problems  # noqa: PLC0415

    try:
        fragment = load_template(path)
    except TemplateError as exc:
        raise UserError(str(exc)) from exc
    problems = transform_problems(fragment) + reference_problems(path.read_text())
    try:
        expand(fragment, render_settings("us-east-1", "123456789012"), lambda key, body: key)
    except InvalidTemplateError as exc:
        problems.extend(exc.problems)
    if problems:
        raise UserError(f"{path}: {InvalidTemplateError(problems)}")
    return fragment


def render(template: Path, out_dir: Path, region: str, account_id: str, bucket: str) -> list[Path]:
    """Expand TEMPLATE as the macro would; write template.json and nested/<LogicalId>.json."""
    fragment = _checked_template(template)
    bodies: dict[str, Any] = {}

    def upload(key: str, body: bytes) -> str:
        url = f"https://{bucket}.s3.{region}.amazonaws.com/{key}"
        bodies[url] = json.loads(body)
        return url

    try:
        expanded = expand(fragment, render_settings(region, account_id), upload)
    except InvalidTemplateError as exc:
        raise UserError(f"{template}: {exc}") from exc
    _directory(out_dir, "-o")
    written = [out_dir / "template.json"]
    written[0].write_text(json.dumps(expanded, indent=2) + "\n")
    for logical_id, resource in expanded.get("Resources", {}).items():
        url = (resource.get("Properties") or {}).get("TemplateURL")
        if resource.get("Type") == "AWS::CloudFormation::Stack" and url in bodies:
            path = out_dir / "nested" / f"{logical_id.removesuffix('Stack')}.json"
            path.write_text(json.dumps(bodies[url], indent=2) + "\n")
            written.append(path)
    return written


def _directory(path: Path, option: str) -> None:
    """Make the output directory PATH (and PATH/nested), or say why it cannot be."""
    try:
        (path / "nested").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{option} {path}: cannot write there ({exc.strerror})") from exc


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values or []:
        name, sep, rest = value.partition("=")
        if not sep or not name or not rest:
            raise UserError(f"{option} {value!r}: expected NAME=VALUE")
        pairs[name] = rest
    return pairs


def local_run(
    template_path: Path,
    data: list[str] | None,
    out_dir: Path,
    parameters: list[str] | None,
    dry_run: bool,
) -> int:
    """Run the template's migrations over sample data on the embedded emulator."""
    from dynamigrate.data_files import DataFileError  # noqa: PLC0415 - the emulator is heavy
    from dynamigrate.local_resources import DeployError  # noqa: PLC0415
    from dynamigrate.local_run import report, run_local  # noqa: PLC0415
    from dynamigrate.progress import ProgressPrinter  # noqa: PLC0415

    template = _checked_template(template_path)
    files = {table_logical_id(template, k): Path(v) for k, v in _pairs(data, "--data").items()}
    for logical_id, path in files.items():
        if not path.is_file():
            raise UserError(f"--data {logical_id}={path}: no such file")
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--out {out_dir}: not a directory")
    try:
        result = run_local(
            template,
            template_path.parent,
            files,
            out_dir,
            _pairs(parameters, "--param"),
            dry_run,
            progress=ProgressPrinter(sys.stderr),
        )
    except DataFileError as exc:
        raise UserError(str(exc)) from exc
    except DeployError as exc:
        raise UserError(f"{template_path}: {exc}") from exc
    except InvalidTemplateError as exc:
        raise UserError(f"{template_path}: {exc}") from exc
    report(result, out_dir, sys.stdout)
    return 0 if result.deployment.succeeded else 2


def new(template_path: Path, name: str, table: str, kind: str) -> int:
    """Add a migration (and for `function` its transform, test and function) to the template."""
    from dynamigrate.scaffold import ScaffoldError, new_migration  # noqa: PLC0415

    try:
        made = new_migration(template_path, name, table, kind)
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
        name = history_table(connection, table_name, app_stack)
    except AwsError as exc:
        raise UserError(str(exc)) from exc
    return MigrationLedger(connection.client("dynamodb"), name)


def _records(ledger: MigrationLedger, table: str | None) -> list[Any]:
    try:
        return ledger.records(table)
    except Exception as exc:  # HistoryError or an endpoint that cannot be reached
        raise UserError(f"history table {ledger.table_name}: {explain(exc)}") from exc


def history(connection: Connection, table: str | None, as_json: bool, **where: Any) -> int:
    """Every migration record (of one table), oldest migration id first."""
    ledger = _ledger(connection, **where)
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


def status(connection: Connection, as_json: bool, watch: bool = False, **where: Any) -> int:
    """Running migrations with their progress; a count of the others."""
    from dynamigrate.progress import bar, counters, live  # noqa: PLC0415

    ledger = _ledger(connection, **where)
    while True:
        records = _records(ledger, None)
        running = [live(ledger, r) or r for r in records if r.status in ("RUNNING", "ROLLING_BACK")]
        by_status: dict[str, int] = {}
        for record in records:
            by_status[record.status] = by_status.get(record.status, 0) + 1
        if as_json:
            shown = {"running": [as_dict(r) for r in running], "counts": by_status}
            print(json.dumps(shown, indent=2, sort_keys=True))
            return 0
        for record in running:
            found = counters(record)
            scanned = found.get("scanned", 0)
            print(
                f"{record.table} {record.migration_id} {record.status} "
                f"{bar(scanned, _item_count(connection, record.table))} {scanned} scanned, "
                f"{found.get('updated', 0) + found.get('deleted', 0)} changed"
            )
        summary = ", ".join(f"{n} {s}" for s, n in sorted(by_status.items())) or "no migrations"
        print(f"{len(running)} running; {summary}")
        if not watch or not running:
            return 0
        time.sleep(2)


def _item_count(connection: Connection, table: str) -> int:
    """The table's approximate item count (DynamoDB refreshes it about every six hours)."""
    try:
        found = connection.client("dynamodb").describe_table(TableName=table)
    except Exception:  # no access to the table: the bar shows counts only
        return 0
    return int(found["Table"].get("ItemCount", 0))


def plan_template(
    connection: Connection,
    template_path: Path,
    tables: list[str] | None,
    stack: str | None,
    as_json: bool,
    **where: Any,
) -> int:
    """Pending, applied and changed migrations of a template, with the pending work's cost."""
    from dynamigrate.plan import PlanError, plan  # noqa: PLC0415

    template = _checked_template(template_path)
    ledger = _ledger(connection, **where)
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
            {table_logical_id(template, k): v for k, v in _pairs(tables, "--table").items()},
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
    header = ["migration", "table", "state", "items", "reads", "writes", "transitions", "est. $"]
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
            ]
            if e
            else ["", "", "", "", ""]
        )
        body.append([p.migration_id, p.table, p.state, *cost])
    print(format_table(header, body))
    total = sum(p.estimate.dollars for p in planned if p.estimate)
    pending = sum(1 for p in planned if p.estimate)
    print(f"\n{pending} to run, about ${total:.4f} at us-east-1 on-demand prices (upper bound)")
    if changed:
        print(f"changed since applied (a deploy fails): {', '.join(changed)}")
        return 3
    return 0


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
