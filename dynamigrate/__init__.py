"""dynamigrate: DynamoDB data migrations as infrastructure. This package is the tool around the
macro and the runner: the CLI (`cli/`), local mode (`local/`), the CDK construct (`cdk`), and what
they share (templates, data files, plan, lint, the history views)."""

__version__ = "0.1.0"
