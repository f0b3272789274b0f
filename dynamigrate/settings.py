"""What the installed application tells the macro, for commands that expand templates offline."""

from __future__ import annotations

from macro.expand import Settings


def partition(region: str) -> str:
    """The partition a region belongs to (AWS General Reference, "Amazon Resource Names":
    aws-cn for the China regions, aws-us-gov for AWS GovCloud (US), aws elsewhere)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def render_settings(region: str = "us-east-1", account_id: str = "123456789012") -> Settings:
    """Settings naming the application's default function and table names in one account."""
    arn = f"arn:{partition(region)}"
    return Settings(
        # template.yaml names the runner <MacroName>-runner (its ARN must outlive upgrades)
        runner_arn=f"{arn}:lambda:{region}:{account_id}:function:DynamoMigrations-runner",
        worker_function_arn=f"{arn}:lambda:{region}:{account_id}:function:dynamigrate-worker",
        worker_role_arn=f"{arn}:iam::{account_id}:role/dynamigrate-worker",
        history_table="dynamigrate-history",
    )
