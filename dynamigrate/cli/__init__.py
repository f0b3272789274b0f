"""The `dynamigrate` command line: one module per family of verbs, each verb declared once.

- `registry`: `@verb` and the parser built from the registered verbs (alembic's CommandLine);
- `entry`: `main`, the entry point and the only error boundary;
- `common`: what the verbs share (UserError, the checked template, NAME=VALUE options);
- `commands`: new, render, plan, status, history, lint;
- `local_commands`: local run, serve, deploy, rollback, delete.
"""

from dynamigrate.cli.entry import main

__all__ = ["main"]
