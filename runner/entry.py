"""The custom resource's entry: hand each CloudFormation request to a controller execution.

The execution is named after the request, so a duplicate delivery (Lambda retries asynchronous
invocations) finds the execution already there and starts nothing.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from botocore.exceptions import ClientError

from runner.controller_state import execution_name, window_seconds

if TYPE_CHECKING:  # the stubs are a dev dependency only, as in Powertools
    from mypy_boto3_stepfunctions import SFNClient


def service_timeout(props: dict[str, Any]) -> int:
    """The custom resource's window in seconds, from the macro's own `ServiceTimeoutSeconds`.

    CloudFormation documents `ServiceTimeout` as a property it reads, not that it forwards it to
    the handler in ResourceProperties; the macro passes the value under its own name too.
    Resources expanded before that name existed still carry `ServiceTimeout`.
    """
    return int(props.get("ServiceTimeoutSeconds", props.get("ServiceTimeout", 3600)))


def sent_at(event: dict[str, Any]) -> float | None:
    """When CloudFormation signed the request's ResponseURL (its SigV4 `X-Amz-Date`), if known."""
    query = parse_qs(urlsplit(str(event.get("ResponseURL", ""))).query)
    try:
        signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ")
    except (KeyError, IndexError, ValueError):
        return None
    return signed.replace(tzinfo=UTC).timestamp()


def deadline(event: dict[str, Any], now: float, max_event_age: int = 0) -> int:
    """When the controller must answer: the window counted from when CloudFormation sent the
    request. An asynchronous invocation can wait in Lambda's queue first (at most the function's
    MaximumEventAgeInSeconds): the request's age counts when the ResponseURL's signing time
    shows it, the whole bound otherwise."""
    window = window_seconds(service_timeout(event.get("ResourceProperties", {})))
    signed = sent_at(event)
    if signed is not None and now - 3600 <= signed <= now + 300:  # else not a signing time
        start = min(signed, now)
    else:
        start = now - max_event_age
    return max(int(now) + 1, int(start) + window)


def controller_input(
    event: dict[str, Any],
    poll_seconds: int,
    max_polls: int,
    now: float,
    answered_poll_seconds: int | None = None,
    max_event_age: int = 0,
) -> str:
    """The controller's input: the request and the deadline of the custom-resource window."""
    config = {
        "pollSeconds": poll_seconds,
        "maxPolls": max_polls,
        "deadline": deadline(event, now, max_event_age),
    }
    if answered_poll_seconds is not None:  # unset on AWS: the controller's 60 s
        config["answeredPollSeconds"] = answered_poll_seconds
    return json.dumps({"event": event, "config": config})


def start_controller(
    event: dict[str, Any],
    sfn: SFNClient,
    controller_arn: str,
    poll_seconds: int = 15,
    max_polls: int = 1000,
    now: float | None = None,
    answered_poll_seconds: int | None = None,
    max_event_age: int = 0,
) -> str | None:
    """Start the controller for this request; None when a duplicate delivery finds it started."""
    name = execution_name(str(event.get("LogicalResourceId", "request")), event["RequestId"])
    clock = time.time() if now is None else now
    payload = controller_input(
        event, poll_seconds, max_polls, clock, answered_poll_seconds, max_event_age
    )
    try:
        response = sfn.start_execution(stateMachineArn=controller_arn, name=name, input=payload)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
            return None
        raise
    return str(response["executionArn"])
