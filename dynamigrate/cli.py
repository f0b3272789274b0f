"""The `dynamigrate` command line: argument parsing and one error boundary.

The commands themselves are typed functions in `dynamigrate.commands`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, NoReturn

from botocore.exceptions import EndpointConnectionError, NoCredentialsError

from dynamigrate import commands, local_commands
from dynamigrate.aws import AwsError, Connection, explain
from dynamigrate.commands import UserError
from dynamigrate.local_commands import DEFAULT_LOCAL_ENDPOINT as DEFAULT_ENDPOINT

USAGE_ERROR = 1  # `local run`/`local deploy` use 2 for "a migration failed"


class _Help(argparse.HelpFormatter):
    """Every option's help ends with its default, where it has one."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "default" not in text:
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 1 with the usage of the (sub)command that was mistyped."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)
        self.set_defaults(_parser=self)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}\n")


def _aws_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "AWS (boto3's AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL apply)"
    )
    group.add_argument("--endpoint-url", help="e.g. http://127.0.0.1:4566 for `local serve`")
    group.add_argument("--region", help="the AWS region (default: the profile's, else us-east-1)")
    group.add_argument("--profile", help="a profile of your AWS config")
    group.add_argument(
        "--history-table",
        help="history table name (default: $DYNAMIGRATE_HISTORY_TABLE, else the output of the "
        "dynamigrate stack, else dynamigrate-history)",
    )
    group.add_argument("--app-stack", help="the stack of the dynamigrate application")


def _lint_parser(sub: Any) -> None:
    cmd = sub.add_parser(
        "lint",
        help="cfn-lint over what the macro makes of templates, reported at your own lines",
        description="Expands each template with the real macro, reports what the macro refuses "
        "and what cfn-lint finds in the expanded template and every nested one, at the "
        "migration's line in your template. Exit 0 when nothing at or above --fail-on was found, "
        "1 otherwise.",
    )
    cmd.add_argument(
        "templates", type=Path, nargs="+", metavar="TEMPLATE", help="templates to lint"
    )
    cmd.add_argument(
        "--format",
        choices=["parseable", "json", "sarif"],
        default="parseable",
        help="cfn-lint's output formats",
    )
    cmd.add_argument(
        "--fail-on",
        choices=["error", "warning", "informational"],
        default="error",
        help="exit 1 when a finding of this level or worse is found",
    )
    cmd.add_argument("--region", default="us-east-1", help="the region cfn-lint checks against")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dynamigrate",
        description="DynamoDB data migrations as infrastructure. Exit codes: 0 success, 1 a "
        "mistake in the input or the command line, 2 a migration or deploy failed (local run, "
        "local deploy, local rollback, local delete), 3 an applied migration was changed (plan).",
    )
    parser.add_argument(
        "--version", action="version", version=f"dynamigrate {metadata.version('dynamigrate')}"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    cmd = sub.add_parser("new", help="add a migration to a template")
    cmd.add_argument("name", help="what it does, e.g. add-status")
    cmd.add_argument("--table", required=True, help="logical id of the AWS::DynamoDB::Table")
    cmd.add_argument(
        "--kind",
        default="update",
        choices=["update", "delete", "function"],
        help="an Update expression, a Delete, or a transform Function (scaffolded with its test)",
    )
    cmd.add_argument(
        "--template", type=Path, default=Path("template.yaml"), help="the template to add it to"
    )

    cmd = sub.add_parser("render", help="expand a template as the DynamoMigrations macro would")
    cmd.add_argument("template", type=Path, help="a CloudFormation or SAM template (YAML or JSON)")
    cmd.add_argument("-o", "--out", type=Path, default=Path("out"), help="output directory")
    cmd.add_argument("--region", default="us-east-1", help="the region the ARNs name")
    cmd.add_argument("--account-id", default="123456789012", help="the account the ARNs name")
    cmd.add_argument(
        "--bucket", default="dynamigrate-artifacts", help="the bucket the TemplateURLs name"
    )

    cmd = sub.add_parser(
        "plan",
        help="pending, applied and changed migrations, with costs",
        description="Exit 0, or 3 when an applied migration was changed (a deploy would fail).",
    )
    cmd.add_argument("template", type=Path, help="a CloudFormation or SAM template")
    cmd.add_argument("--stack", help="the stack deployed from TEMPLATE (finds its tables)")
    cmd.add_argument(
        "--table",
        action="append",
        metavar="LOGICAL_ID=NAME",
        help="a table's name (LOGICAL_ID: its logical id, or its construct id in a CDK template)",
    )
    cmd.add_argument("--json", action="store_true", help="JSON instead of a table")
    _aws_options(cmd)

    cmd = sub.add_parser("status", help="running migrations and their progress")
    cmd.add_argument("--json", action="store_true", help="JSON instead of a table")
    cmd.add_argument("--watch", action="store_true", help="refresh until nothing runs")
    _aws_options(cmd)

    cmd = sub.add_parser("history", help="the migration history table")
    cmd.add_argument(
        "--table",
        help="only this table's migrations: its name (against `local serve`, also its logical id "
        "in the stack `local`)",
    )
    cmd.add_argument("--json", action="store_true", help="JSON instead of a table")
    _aws_options(cmd)

    _lint_parser(sub)

    local = sub.add_parser("local", help="run migrations on the embedded emulator")
    local_sub = local.add_subparsers(dest="local_command", required=True)
    run = local_sub.add_parser(
        "run",
        help="deploy a template's migrations over sample data, in this process",
        description="Creates the template's tables, loads the data files, installs dynamigrate "
        "and drives every migration through the real runner, controller, state machine and "
        "worker. Exit 0 when all succeeded, 2 when one failed (its deploy rolled back), 1 on "
        "bad input.",
    )
    run.add_argument("template", type=Path, help="a CloudFormation or SAM template")
    run.add_argument(
        "--data",
        action="append",
        metavar="LOGICAL_ID=FILE",
        help="JSON lines to load into a table (DynamoDB export format or plain JSON); repeatable",
    )
    run.add_argument("--out", type=Path, default=Path("out"), help="where <LogicalId>.jsonl go")
    run.add_argument(
        "--param", action="append", metavar="NAME=VALUE", help="template parameter; repeatable"
    )
    run.add_argument("--dry-run", action="store_true", help="run every migration as a dry run")

    serve = local_sub.add_parser(
        "serve", help="the emulator as a server, with dynamigrate installed, until Ctrl-C"
    )
    serve.add_argument("--port", type=int, default=4566, help="the port to listen on")

    deploy = local_sub.add_parser(
        "deploy",
        help="deploy a template to `local serve`; a later deploy of the stack is an update",
        description="The server creates the template's tables and functions and drives each "
        "migration's Create, Update or Delete as CloudFormation would, rollback included. "
        "Exit 0 when all succeeded, 2 when the deploy failed and rolled back, 1 on bad input.",
    )
    deploy.add_argument("template", type=Path, help="a CloudFormation or SAM template")
    deploy.add_argument(
        "--data",
        action="append",
        metavar="LOGICAL_ID=FILE",
        help="JSON lines to load into a table when the stack creates it; repeatable",
    )
    deploy.add_argument(
        "--param", action="append", metavar="NAME=VALUE", help="template parameter; repeatable"
    )
    deploy.add_argument("--stack", default="local", help="stack name")
    deploy.add_argument("--dry-run", action="store_true", help="deploy every migration dry")
    deploy.add_argument(
        "--disable-rollback",
        action="store_true",
        help="on failure, leave the stack in CREATE_FAILED/UPDATE_FAILED: nothing is undone until "
        "a later deploy resumes the failed run or `local rollback` rolls it back",
    )
    deploy.add_argument(
        "--endpoint-url", help=f"the server (default: $AWS_ENDPOINT_URL, else {DEFAULT_ENDPOINT})"
    )
    for name, what in (
        ("rollback", "RollbackStack: roll back a deploy that failed with --disable-rollback"),
        ("delete", "DeleteStack: each migration gets its Delete; data and history stay"),
    ):
        cmd = local_sub.add_parser(
            name,
            help=what,
            description=f"{what}. Exit 0 when the stack operation completed, 2 when it did not, "
            "1 on bad input.",
        )
        cmd.add_argument("--stack", default="local", help="stack name")
        cmd.add_argument(
            "--endpoint-url",
            help=f"the server (default: $AWS_ENDPOINT_URL, else {DEFAULT_ENDPOINT})",
        )
    return parser


def _connection(args: argparse.Namespace) -> Connection:
    return Connection(endpoint_url=args.endpoint_url, region=args.region, profile=args.profile)


def _run(args: argparse.Namespace) -> int:
    where = {}
    if hasattr(args, "history_table"):  # commands with the AWS options
        where = {"table_name": args.history_table, "app_stack": args.app_stack}
    if args.command == "new":
        return commands.new(args.template, args.name, args.table, args.kind)
    if args.command == "render":
        for path in commands.render(
            args.template, args.out, args.region, args.account_id, args.bucket
        ):
            print(path)
        return 0
    if args.command == "lint":
        return commands.lint(args.templates, args.format, args.fail_on, args.region)
    if args.command == "plan":
        return commands.plan_template(
            _connection(args), args.template, args.table, args.stack, args.json, **where
        )
    if args.command == "status":
        return commands.status(_connection(args), args.json, args.watch, **where)
    if args.command == "history":
        return commands.history(_connection(args), args.table, args.json, **where)
    if args.local_command == "serve":
        return local_commands.local_serve(args.port)
    if args.local_command == "deploy":
        return local_commands.local_deploy(
            args.endpoint_url,
            args.template,
            args.data,
            args.param,
            args.stack,
            args.dry_run,
            args.disable_rollback,
        )
    if args.local_command in ("rollback", "delete"):
        return local_commands.local_stack_operation(
            args.endpoint_url, args.local_command, args.stack
        )
    return commands.local_run(args.template, args.data, args.out, args.param, args.dry_run)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # report it with the usage of the command it was meant for
        args._parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return _run(args)
    except (UserError, AwsError) as exc:
        return _fail(str(exc))
    except (EndpointConnectionError, NoCredentialsError) as exc:
        return _fail(explain(exc))
    except KeyboardInterrupt:
        return 130


def _fail(message: str) -> int:
    print(f"dynamigrate: error: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
