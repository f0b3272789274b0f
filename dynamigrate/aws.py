"""Clients for commands that talk to AWS (or to `local serve`, or any compatible endpoint).

boto3's standard configuration applies (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ...);
`--endpoint-url` and `--region` override it for one command.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ProfileNotFound,
)

START_LOCAL = "start `dynamigrate local serve` (port 4566) or pass --endpoint-url"

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
        try:
            session = boto3.Session(profile_name=self.profile) if self.profile else boto3.Session()
        except ProfileNotFound as exc:
            raise AwsError(f"--profile {self.profile}: no such profile in your AWS config") from exc
        region = self.region or session.region_name or "us-east-1"
        endpoint = self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
        local: dict[str, str] = {}
        if is_local(endpoint) and session.get_credentials() is None:
            # the emulator accepts any key: a local endpoint needs no AWS account
            local = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
        try:
            return session.client(
                service, endpoint_url=self.endpoint_url, region_name=region, **local
            )
        except ValueError as exc:
            raise AwsError(
                f"--endpoint-url {self.endpoint_url}: not a URL (e.g. http://127.0.0.1:4566)"
            ) from exc


def is_local(endpoint: str | None) -> bool:
    """Whether an endpoint is this machine's (`local serve`)."""
    host = urlparse(endpoint).hostname if endpoint else None
    return host in ("localhost", "127.0.0.1", "::1")


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


def explain(exc: Exception) -> str:
    """An error as the user should read it: what to do when nothing answers or signs."""
    if isinstance(exc, EndpointConnectionError):
        return f"cannot reach {exc.kwargs.get('endpoint_url')}: {START_LOCAL}"
    if isinstance(exc, NoCredentialsError):
        return (
            "no AWS credentials: configure them (aws configure, AWS_PROFILE), or pass "
            "--endpoint-url http://127.0.0.1:4566 for `dynamigrate local serve`"
        )
    return str(exc)


def call(what: str, function: Any, **kwargs: Any) -> Any:
    """An AWS call whose failure becomes one clear AwsError."""
    try:
        return function(**kwargs)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise AwsError(f"{what}: {error.get('Code')}: {error.get('Message')}") from exc
    except (EndpointConnectionError, NoCredentialsError) as exc:
        raise AwsError(f"{what}: {explain(exc)}") from exc
    except BotoCoreError as exc:
        raise AwsError(f"{what}: {exc}") from exc
