"""Clients for commands that talk to AWS (or to `local serve`, or any compatible endpoint).

boto3's standard configuration applies (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ...);
`--endpoint-url` and `--region` override it for one command.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

DEFAULT_HISTORY_TABLE = "dynamigrate-history"  # the local application's name
APPLICATION_STACK = "dynamigrate"  # samconfig.toml's default stack name


class AwsError(Exception):
    """An AWS call failed; the message says which and why."""


@dataclass(frozen=True)
class Connection:
    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None

    def client(self, service: str) -> Any:
        session = boto3.Session(profile_name=self.profile) if self.profile else boto3.Session()
        region = self.region or session.region_name or "us-east-1"
        return session.client(service, endpoint_url=self.endpoint_url, region_name=region)


def history_table(connection: Connection, explicit: str | None, stack: str | None) -> str:
    """--history-table, else $DYNAMIGRATE_HISTORY_TABLE, else the application stack's output."""
    if explicit:
        return explicit
    if os.environ.get("DYNAMIGRATE_HISTORY_TABLE"):
        return os.environ["DYNAMIGRATE_HISTORY_TABLE"]
    try:
        stacks = connection.client("cloudformation").describe_stacks(
            StackName=stack or APPLICATION_STACK
        )["Stacks"]
    except (ClientError, BotoCoreError):
        if stack:
            raise AwsError(f"--app-stack {stack}: cannot read its outputs") from None
        return DEFAULT_HISTORY_TABLE
    for output in stacks[0].get("Outputs", []):
        if output["OutputKey"] == "HistoryTableName":
            return str(output["OutputValue"])
    return DEFAULT_HISTORY_TABLE


def call(what: str, function: Any, **kwargs: Any) -> Any:
    """An AWS call whose failure becomes one clear AwsError."""
    try:
        return function(**kwargs)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise AwsError(f"{what}: {error.get('Code')}: {error.get('Message')}") from exc
    except BotoCoreError as exc:
        raise AwsError(f"{what}: {exc}") from exc
