"""The custom resource's entry: hand each CloudFormation request to a controller execution.

The execution is named after the request, so a duplicate delivery (Lambda retries asynchronous
invocations) finds the execution already there and starts nothing.
"""

from __future__ import annotations

import json
import time
from typing import Any

from botocore.exceptions import ClientError

from runner.controller import execution_name, window_seconds


def controller_input(
    event: dict[str, Any],
    poll_seconds: int,
    max_polls: int,
    now: float,
    answered_poll_seconds: int | None = None,
) -> str:
    """The controller's input: the request and the deadline of the custom-resource window."""
    timeout = int(event.get("ResourceProperties", {}).get("ServiceTimeout", 3600))
    config = {
        "pollSeconds": poll_seconds,
        "maxPolls": max_polls,
        "deadline": int(now) + window_seconds(timeout),
    }
    if answered_poll_seconds is not None:  # unset on AWS: the controller's 60 s
        config["answeredPollSeconds"] = answered_poll_seconds
    return json.dumps({"event": event, "config": config})


def start_controller(
    event: dict[str, Any],
    sfn: Any,
    controller_arn: str,
    poll_seconds: int = 15,
    max_polls: int = 1000,
    now: float | None = None,
    answered_poll_seconds: int | None = None,
) -> str | None:
    """Start the controller for this request; None when a duplicate delivery finds it started."""
    name = execution_name(str(event.get("LogicalResourceId", "request")), event["RequestId"])
    clock = time.time() if now is None else now
    payload = controller_input(event, poll_seconds, max_polls, clock, answered_poll_seconds)
    try:
        response = sfn.start_execution(stateMachineArn=controller_arn, name=name, input=payload)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
            return None
        raise
    return str(response["executionArn"])
