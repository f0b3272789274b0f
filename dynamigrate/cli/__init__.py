"""The `dynamigrate` command line: one module per family of verbs, each verb declared once.

- `registry`: `@verb` and the parser built from the registered verbs (alembic's CommandLine);
- `entry`: `main`, the entry point and the only error boundary;
- `common`: what the verbs share (UserError, the checked template, NAME=VALUE options);
- `commands`: new, render, plan, status, history, lint;
- `local_commands`: local run, serve, deploy, rollback, delete.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

INTERRUPTED_EXIT = 130


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: `entry.main`, imported here so that a Ctrl-C while the command's
    modules load is one line and exit 130 as well."""
    try:
        from dynamigrate.cli.entry import main as run  # noqa: PLC0415

        return run(argv)
    except KeyboardInterrupt:
        print("dynamigrate: interrupted", file=sys.stderr)
        return INTERRUPTED_EXIT


__all__ = ["main"]
