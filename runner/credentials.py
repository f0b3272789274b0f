"""The migration's data role, assumed with patience for IAM's propagation delay.

A role and its policies are eventually consistent: a role created moments ago can be refused by
sts:AssumeRole, and its first calls by the services (IAM User Guide, "Troubleshoot IAM": "Changes
that I make are not always immediately visible"). The nested stack creates the data role seconds
before its first run, so AccessDenied on AssumeRole is retried for about a minute, and a data call
refused with AccessDeniedException raises RoleNotReadyError, which the state machine's Retry
retries three times over about a minute more; a refusal that persists fails the run with its cause.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from runner.errors import RoleNotReadyError

if TYPE_CHECKING:  # the stubs are a dev dependency only, as in Powertools
    from mypy_boto3_sts import STSClient

PATIENCE_SECONDS = 60.0


def assume_role(
    sts: STSClient,
    role_arn: str,
    session_seconds: int,
    patience: float = PATIENCE_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """The role's temporary credentials, retrying AccessDenied for up to `patience` seconds."""
    give_up = clock() + patience
    delay = 1.0
    while True:
        try:
            response = sts.assume_role(
                RoleArn=role_arn,
                RoleSessionName="dynamigrate-worker",
                DurationSeconds=session_seconds,
            )
            return dict(response["Credentials"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "AccessDenied":
                raise
            if clock() + delay > give_up:
                raise RoleNotReadyError(
                    f"could not assume the migration's data role {role_arn} for {patience:.0f} s "
                    f"({exc}); a role created moments ago may not have reached every IAM endpoint "
                    "yet, so the state machine retries. If this persists, check that the role "
                    "trusts the worker's role."
                ) from exc
            sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, 15.0)


REFUSED = frozenset({"AccessDeniedException", "AccessDenied"})


class DataClient:
    """A client with the data role's credentials whose refusals mean "not ready yet"."""

    def __init__(self, client: Any, role_arn: str) -> None:
        self._client = client
        self._role_arn = role_arn

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name.startswith("_") or not callable(attribute) or name == "get_paginator":
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return attribute(*args, **kwargs)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in REFUSED:
                    raise
                raise RoleNotReadyError(
                    f"the migration's data role {self._role_arn} was refused {name} ({exc}); a "
                    "role created moments ago may not be in force everywhere yet, so the state "
                    "machine retries. If this persists, the role's policy lacks this action on "
                    "this resource."
                ) from exc

        return call
