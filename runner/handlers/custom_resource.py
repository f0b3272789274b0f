"""Lambda handler CloudFormation calls for every Custom::DynamoMigration request.

Only the standard library and the response module are imported at module level: any other
failure, an import error included, still reaches CloudFormation as a FAILED answer with its cause.
"""

from __future__ import annotations

import logging
import os
from contextlib import ExitStack
from typing import Any

from runner import cfn_response

logger: Any = logging.getLogger("runner.handlers.custom_resource")


def handler(event: dict[str, Any], context: Any) -> None:
    with ExitStack() as scope:
        log = logger
        try:
            from runner import observability

            keys = observability.request_keys(event)
            log = scope.enter_context(observability.invocation(context, **keys))
        except Exception:  # the answer does not depend on the logs
            log.exception("structured logging is unavailable")
        _start(event, log)


def _start(event: dict[str, Any], log: Any) -> None:
    try:
        import boto3

        from runner.entry import start_controller

        arn = start_controller(
            event,
            boto3.client("stepfunctions"),
            os.environ["CONTROLLER_ARN"],
            poll_seconds=int(os.environ.get("POLL_SECONDS", "15")),
            max_polls=int(os.environ.get("MAX_POLLS", "1000")),
            answered_poll_seconds=_optional_int(os.environ.get("ANSWERED_POLL_SECONDS")),
            max_event_age=int(os.environ.get("MAX_EVENT_AGE_SECONDS", "0")),
        )
        log.info("request %s: controller %s", event.get("RequestId"), arn or "already started")
    except Exception as exc:
        log.exception("could not start the controller")
        reason = f"dynamigrate runner could not start: {type(exc).__name__}: {exc}"
        cfn_response.send(event, cfn_response.build_body(event, cfn_response.FAILED, reason))


def _optional_int(value: str | None) -> int | None:
    return int(value) if value else None
