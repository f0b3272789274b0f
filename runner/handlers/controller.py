"""Lambda handler of the controller state machine's steps (begin, poll, answer, handover, fail).

Imports beyond the standard library and the response module happen inside the handler, so that
even an import failure lets the `fail` step answer CloudFormation.
"""

from __future__ import annotations

import json
import logging
import os
from functools import cache
from typing import TYPE_CHECKING, Any

from runner import cfn_response

if TYPE_CHECKING:
    from runner.controller import Controller

logger = logging.getLogger()
logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))


@cache
def _controller() -> Controller:
    import boto3
    from botocore.config import Config

    from runner.controller import Controller
    from runner.ledger import MigrationLedger

    config = Config(retries={"mode": "standard", "max_attempts": 5})
    return Controller(
        sfn=boto3.client("stepfunctions", config=config),
        cloudformation=boto3.client("cloudformation", config=config),
        ledger=MigrationLedger(
            boto3.client("dynamodb", config=config), os.environ["HISTORY_TABLE"]
        ),
    )


ANSWER_MARGIN_SECONDS = 5  # finish the answer's PUT this long before the invocation's Timeout


def handler(event: dict[str, Any], context: Any) -> dict[str, Any] | None:
    action = event["action"]
    request = event["event"]
    budget = context.get_remaining_time_in_millis() / 1000 - ANSWER_MARGIN_SECONDS
    if action == "fail":
        _fail(request, event.get("state") or {}, event.get("error") or {}, budget)
        return None
    controller = _controller()
    if action == "begin":
        state: dict[str, Any] = controller.begin(request, event.get("config") or {})
    elif action == "poll":
        state = controller.poll(request, event["state"])
    elif action == "answer":
        state = controller.answer(request, event["state"], budget)
    elif action == "handover":
        state = controller.handover(request, event["state"], event["controller"])
    else:
        raise ValueError(f"unknown controller action {action!r}")
    for message in controller.messages:
        logger.info(message)
    controller.messages.clear()
    logger.info("%s -> %s", action, json.dumps({k: state.get(k) for k in ("phase", "mode")}))
    return state


def _fail(
    request: dict[str, Any], state: dict[str, Any], error: dict[str, Any], budget: float
) -> None:
    """The Catch of every step. Answers even when the runner's own modules cannot load."""
    try:
        _controller().fail(request, state, error, budget)
    except Exception as exc:
        logger.exception("the fail step could not use the controller")
        if state.get("answered"):
            return
        reason = f"dynamigrate controller failed: {error.get('Error')}: {error.get('Cause')}"
        reason += f" (and then {type(exc).__name__}: {exc})"
        body = cfn_response.build_body(
            request, cfn_response.FAILED, reason, state.get("physicalId")
        )
        cfn_response.send(request, body, budget=budget)
