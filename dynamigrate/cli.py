"""The `dynamigrate` command line: typed command functions behind one error boundary."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dynamigrate.templates import TemplateError, load_template
from macro.errors import InvalidTemplateError
from macro.expand import Settings, expand


class UserError(Exception):
    """A mistake of the user's: printed as one clear message, exit code 1, no traceback."""


def local_settings(region: str, account_id: str) -> Settings:
    """What the installed application would tell the macro, for an offline render."""
    return Settings(
        runner_arn=f"arn:aws:lambda:{region}:{account_id}:function:dynamigrate-runner",
        worker_function_arn=f"arn:aws:lambda:{region}:{account_id}:function:dynamigrate-worker",
        worker_role_arn=f"arn:aws:iam::{account_id}:role/dynamigrate-worker",
        history_table="dynamigrate-history",
    )


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
        expanded = expand(fragment, local_settings(region, account_id), upload)
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "render":
            for path in render(args.template, args.out, args.region, args.account_id, args.bucket):
                print(path)
    except UserError as exc:
        print(f"dynamigrate: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
