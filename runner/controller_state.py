"""The controller's pure parts: names, timings and the `state` its steps hand each other.

runner.controller's steps call these; nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

MAX_POLLS_PER_EXECUTION = 1000  # about 10 history events per poll: far below 25,000
ANSWERED_POLL_SECONDS = 60  # once CloudFormation has its answer, poll less often
LEASE_GRACE_SECONDS = 900


def window_seconds(service_timeout: int) -> int:
    """The part of the custom-resource window the controller may use before it must answer."""
    margin = min(120, max(5, service_timeout // 20))
    return max(1, service_timeout - margin)


def execution_name(*parts: str) -> str:
    """A Step Functions execution name (<= 80 of [A-Za-z0-9-_]) unique to `parts`."""
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]
    readable = re.sub(r"[^A-Za-z0-9_-]", "-", parts[0])[:50]
    return f"{readable}-{digest}"


def stable_run_id(request_id: str) -> str:
    return hashlib.sha256(request_id.encode()).hexdigest()[:20]


def failure_reason(desc: Mapping[str, Any], segment_errors: list[str]) -> str:
    """Why an execution failed: the segments' own errors when they recorded any (a failed Map
    fails the execution with the Map's error, whose cause names no segment), else its cause."""
    if segment_errors:
        kept = segment_errors[:3]
        more = len(segment_errors) - len(kept)
        return "; ".join(kept + ([f"and {more} more segments failed"] if more > 0 else []))
    return lambda_message(desc.get("cause")) if desc.get("cause") else str(desc["status"])


def lambda_message(cause: str | None) -> str:
    """The errorMessage inside a Lambda error cause, or the cause itself."""
    try:
        detail = json.loads(cause or "")
        return f"{detail['errorType']}: {detail['errorMessage']}"
    except (ValueError, KeyError, TypeError):
        return cause or "no cause given"


def stack_time(moment: Any) -> str:
    """A stack time as DescribeStacks gives it (datetime, or ISO text), as sortable UTC text."""
    if isinstance(moment, datetime):
        return moment.astimezone(UTC).isoformat(timespec="microseconds")
    return str(moment)


def lease_until(state: dict[str, Any], now: int) -> int:
    """Lock lease: long enough to survive several polls, short enough to let a successor in."""
    return now + LEASE_GRACE_SECONDS + 10 * int(state["pollSeconds"])


def waiting(state: dict[str, Any], mode: str, now: float) -> dict[str, Any]:
    """Poll again after the interval, shortened so the deadline itself is polled."""
    answered = state.get("answeredPollSeconds", ANSWERED_POLL_SECONDS)  # older executions
    interval = answered if state["answered"] else state["pollSeconds"]
    if not state["answered"]:
        interval = min(interval, max(1, state["deadline"] - int(now)))
    phase = "handover" if state.get("polls", 0) >= state["maxPolls"] else "wait"
    return {**state, "mode": mode, "phase": phase, "waitSeconds": max(1, int(interval))}


def to_answer(
    state: dict[str, Any],
    status: str,
    reason: str,
    data: dict[str, Any],
    then: str = "done",
) -> dict[str, Any]:
    if state["answered"]:  # CloudFormation has its answer (OnTimeout: Continue): go on
        return {**state, "phase": then}
    answer = {"status": status, "reason": reason, "data": data, "then": then}
    return {**state, "phase": "answer", "answer": answer}


def answer_data(status: str, state: dict[str, Any], counters: dict[str, int]) -> dict[str, Any]:
    data: dict[str, Any] = {"Status": status, "RunId": state.get("runId", "")}
    if state.get("executionArn"):
        data["ExecutionArn"] = state["executionArn"]
    data.update({name.capitalize(): count for name, count in counters.items()})
    return data
