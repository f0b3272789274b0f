"""`dynamigrate`'s entry point: the command line built from the registered verbs, and the only
error boundary (a user's mistake is one line on stderr and exit 1, never a traceback)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib import metadata

from botocore.exceptions import EndpointConnectionError, NoCredentialsError

from dynamigrate.aws import AwsError, explain
from dynamigrate.cli import commands, local_commands  # noqa: F401 - they register the verbs
from dynamigrate.cli.common import UserError
from dynamigrate.cli.registry import CommandLine

DESCRIPTION = (
    "DynamoDB data migrations as infrastructure. Exit codes: 0 success, 1 a mistake in the input "
    "or the command line, 2 a migration or deploy failed (local run, local deploy, local "
    "rollback, local delete), 3 an applied migration was changed (plan), 130 interrupted (Ctrl-C)."
)


def main(argv: Sequence[str] | None = None) -> int:
    line = CommandLine("dynamigrate", DESCRIPTION, metadata.version("dynamigrate"))
    args = line.parse(argv)
    try:
        return line.call(args)
    except (UserError, AwsError) as exc:
        return _fail(str(exc))
    except (EndpointConnectionError, NoCredentialsError) as exc:
        return _fail(explain(exc))
    except KeyboardInterrupt:
        print("dynamigrate: interrupted", file=sys.stderr)
        return 130


def _fail(message: str) -> int:
    print(f"dynamigrate: error: {message}", file=sys.stderr)
    return 1
