"""What a local run leaves for an operator: the runner's log lines, its EMF metric lines and the
EventBridge events it sent, as on AWS.

- Events: the controller calls PutEvents on the emulator's default bus exactly as on AWS. An
  EventBridge rule matching `{"source": ["dynamigrate"]}` (the README's example rule) delivers
  them to the CloudWatch Logs group EVENTS_LOG_GROUP, where `local run` and `local deploy` read
  them back (`events`): the events are those EventBridge delivered, not a copy the runner kept.
- Logs and metrics: on AWS both are lines on the functions' stdout. Locally every function runs in
  this process, so runner.observability's sinks are pointed at a `Recorder` instead of stdout
  (which is the CLI's own output); `local run` writes what it recorded to files.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from pathlib import Path
from typing import Any

from runner import observability
from runner.events import SOURCE

EVENTS_LOG_GROUP = "/aws/events/dynamigrate"
EVENTS_RULE = "dynamigrate-events"
KEPT_LINES = 100_000  # per kind: a long `local serve` keeps the latest lines only


class Recorder:
    """Log and EMF lines of the runner's functions, in the order they were written."""

    def __init__(self, keep: int = KEPT_LINES) -> None:
        self.logs: deque[str] = deque(maxlen=keep)
        self.metrics: deque[str] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def _log(self, line: str) -> None:
        with self._lock:
            self.logs.append(line.rstrip("\n"))

    def _metric(self, line: str) -> None:
        with self._lock:
            self.metrics.append(line.rstrip("\n"))

    def install(self) -> Recorder:
        observability.SINKS.logs = self._log
        observability.SINKS.metrics = self._metric
        return self

    def clear(self) -> None:
        with self._lock:
            self.logs.clear()
            self.metrics.clear()


RECORDER = Recorder()


def route_events(events: Any, logs: Any) -> None:
    """The rule that delivers dynamigrate's events to EVENTS_LOG_GROUP (idempotent)."""
    existing = logs.describe_log_groups(logGroupNamePrefix=EVENTS_LOG_GROUP)["logGroups"]
    if not any(g["logGroupName"] == EVENTS_LOG_GROUP for g in existing):
        logs.create_log_group(logGroupName=EVENTS_LOG_GROUP)
    arn = next(  # a target names the group without DescribeLogGroups' ":*" suffix
        str(g["arn"]).removesuffix(":*")
        for g in logs.describe_log_groups(logGroupNamePrefix=EVENTS_LOG_GROUP)["logGroups"]
        if g["logGroupName"] == EVENTS_LOG_GROUP
    )
    events.put_rule(Name=EVENTS_RULE, EventPattern=json.dumps({"source": [SOURCE]}))
    events.put_targets(Rule=EVENTS_RULE, Targets=[{"Id": "log-group", "Arn": arn}])


def events(logs: Any, since: int = 0) -> list[dict[str, Any]]:
    """The events EventBridge delivered to EVENTS_LOG_GROUP (after `since`, epoch ms), in order."""
    found: list[tuple[int, int, dict[str, Any]]] = []
    kwargs: dict[str, Any] = {"logGroupName": EVENTS_LOG_GROUP, "startTime": since}
    while True:
        page = logs.filter_log_events(**kwargs)
        for n, event in enumerate(page.get("events", [])):
            found.append((int(event["timestamp"]), n, json.loads(event["message"])))
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    found.sort(key=lambda e: (e[0], e[1]))
    return [event for _, _, event in found]


def describe(event: dict[str, Any]) -> str:
    """One line for an event, as `local deploy` prints it."""
    detail = event.get("detail") or {}
    line = f"event: {event.get('detail-type')} {detail.get('table')}/{detail.get('migration')}"
    line += f" ({detail.get('direction')}, run {detail.get('runId')})"
    if detail.get("error"):
        line += f": {detail['error']}"
    return line


def write_jsonl(path: Path, lines: list[str]) -> None:
    path.write_text("".join(f"{line}\n" for line in lines))
