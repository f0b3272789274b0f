"""Lambda handler of the controller state machine's steps (begin, poll, answer, handover, fail).

Imports beyond the standard library and the response module happen inside the handler, so that
even an import failure lets the `fail` step answer CloudFormation.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from runner import cfn_response

if TYPE_CHECKING:
    from runner.controller import Controller

logger: Any = logging.getLogger("runner.handlers.controller")


@cache
def _controller() -> Controller:
    import boto3
    from botocore.config import Config

    from runner.controller import Controller
    from runner.events import RunNotifier
    from runner.ledger import MigrationLedger

    config = Config(retries={"mode": "standard", "max_attempts": 5})
    return Controller(
        sfn=boto3.client("stepfunctions", config=config),
        cloudformation=boto3.client("cloudformation", config=config),
        ledger=MigrationLedger(
            boto3.client("dynamodb", config=config), os.environ["HISTORY_TABLE"]
        ),
        notify=RunNotifier(boto3.client("events", config=config)),
    )


@contextmanager
def _observed(event: dict[str, Any], context: Any) -> Iterator[Any]:
    """The step's Powertools Logger with the request's and run's keys on every line; the plain
    logger if the runner's modules cannot load (the `fail` step answers all the same)."""
    scope = ExitStack()
    try:
        from runner import observability

        state = event.get("state") or {}
        keys = {
            **observability.request_keys(event.get("event") or {}),
            "controller_execution": event.get("controllerExecution"),
            "run_id": state.get("runId"),
            "direction": state.get("direction"),
        }
        log = scope.enter_context(observability.invocation(context, **keys))
    except Exception:
        log = logger
    with scope:
        yield log


ANSWER_MARGIN_SECONDS = 5  # finish the answer's PUT this long before the invocation's Timeout


def handler(event: dict[str, Any], context: Any) -> dict[str, Any] | None:
    with _observed(event, context) as log:
        return _step(event, context, log)


def _step(event: dict[str, Any], context: Any, log: Any) -> dict[str, Any] | None:
    action = event["action"]
    request = event["event"]
    budget = context.get_remaining_time_in_millis() / 1000 - ANSWER_MARGIN_SECONDS
    if action == "fail":
        _fail(request, event.get("state") or {}, event.get("error") or {}, budget, log)
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
        log.info(message)
    controller.messages.clear()
    phase = json.dumps({k: state.get(k) for k in ("phase", "mode")})
    run = {"run_id": state.get("runId"), "direction": state.get("direction")}
    log.info("%s -> %s", action, phase, extra={k: v for k, v in run.items() if v})
    return state


def _fail(
    request: dict[str, Any],
    state: dict[str, Any],
    error: dict[str, Any],
    budget: float,
    log: Any,
) -> None:
    """The Catch of every step. Answers even when the runner's own modules cannot load."""
    try:
        controller = _controller()
        controller.fail(request, state, error, budget)
        for message in controller.messages:
            log.info(message)
        controller.messages.clear()
    except Exception as exc:
        log.exception("the fail step could not use the controller")
        if state.get("answered"):
            return
        reason = f"dynamigrate controller failed: {error.get('Error')}: {error.get('Cause')}"
        reason += f" (and then {type(exc).__name__}: {exc})"
        body = cfn_response.build_body(
            request, cfn_response.FAILED, reason, state.get("physicalId")
        )
        cfn_response.send(request, body, budget=budget)
