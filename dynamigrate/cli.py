"""The `dynamigrate` command line: typed command functions behind one error boundary."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dynamigrate.settings import render_settings
from dynamigrate.templates import TemplateError, load_template
from macro.errors import InvalidTemplateError
from macro.expand import expand


class UserError(Exception):
    """A mistake of the user's: printed as one clear message, exit code 1, no traceback."""


def render(template: Path, out_dir: Path, region: str, account_id: str, bucket: str) -> list[Path]:
    """Expand TEMPLATE as the macro would; write template.json and nested/<LogicalId>.json."""
    try:
        fragment = load_template(template)
    except TemplateError as exc:
        raise UserError(str(exc)) from exc
    bodies: dict[str, Any] = {}

    def upload(key: str, body: bytes) -> str:
        url = f"https://{bucket}.s3.{region}.amazonaws.com/{key}"
        bodies[url] = json.loads(body)
        return url

    try:
        expanded = expand(fragment, render_settings(region, account_id), upload)
    except InvalidTemplateError as exc:
        raise UserError(f"{template}: {exc}") from exc
    (out_dir / "nested").mkdir(parents=True, exist_ok=True)
    written = [out_dir / "template.json"]
    written[0].write_text(json.dumps(expanded, indent=2) + "\n")
    for logical_id, resource in expanded.get("Resources", {}).items():
        url = (resource.get("Properties") or {}).get("TemplateURL")
        if resource.get("Type") == "AWS::CloudFormation::Stack" and url in bodies:
            path = out_dir / "nested" / f"{logical_id.removesuffix('Stack')}.json"
            path.write_text(json.dumps(bodies[url], indent=2) + "\n")
            written.append(path)
    return written


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
    from dynamigrate.local_deploy import DeployError  # noqa: PLC0415
    from dynamigrate.local_run import report, run_local  # noqa: PLC0415
    from dynamigrate.progress import ProgressPrinter  # noqa: PLC0415

    try:
        template = load_template(template_path)
    except TemplateError as exc:
        raise UserError(str(exc)) from exc
    files = {k: Path(v) for k, v in _pairs(data, "--data").items()}
    for logical_id, path in files.items():
        if not path.is_file():
            raise UserError(f"--data {logical_id}={path}: no such file")
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dynamigrate", description="DynamoDB data migrations as infrastructure."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    cmd = commands.add_parser(
        "render", help="expand a template as the DynamoMigrations macro would"
    )
    cmd.add_argument("template", type=Path, help="a CloudFormation or SAM template (YAML or JSON)")
    cmd.add_argument("-o", "--out", type=Path, default=Path("out"), help="output directory")
    cmd.add_argument("--region", default="us-east-1")
    cmd.add_argument("--account-id", default="123456789012")
    cmd.add_argument("--bucket", default="dynamigrate-artifacts", help="artifacts bucket name")

    local = commands.add_parser("local", help="run migrations on the embedded emulator")
    local_commands = local.add_subparsers(dest="local_command", required=True)
    run = local_commands.add_parser(
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
    run.add_argument("--param", action="append", metavar="NAME=VALUE", help="template parameter")
    run.add_argument("--dry-run", action="store_true", help="run every migration as a dry run")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "render":
            for path in render(args.template, args.out, args.region, args.account_id, args.bucket):
                print(path)
        elif args.command == "local" and args.local_command == "run":
            return local_run(args.template, args.data, args.out, args.param, args.dry_run)
    except UserError as exc:
        print(f"dynamigrate: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
