"""EventBridge events and run metrics, built purely from a migration's history record.

The controller calls a `RunNotifier` each time it writes a run's record: when the run starts
("started"), at each poll while it runs ("progress", metrics only) and when it ends ("ended").
Events go to the account's default event bus with source `dynamigrate` and the detail-types of
DETAIL_TYPES (schema in the README, "Observing migrations"). Sending never fails a migration. A
request whose entries fail does not raise: its answer counts them in `FailedEntryCount`, and each
unsuccessful entry carries `ErrorCode` and `ErrorMessage` instead of an id ("Sending events with
PutEvents", EventBridge User Guide; PutEventsResponse, EventBridge API Reference). So a refused
entry, like a failed call, is logged as a warning and the run goes on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from boto3.dynamodb.types import TypeDeserializer

from runner import observability
from runner.history import FAILED, ROLLED_BACK, ROLLING_BACK, RUNNING, SUCCEEDED
from runner.ledger import MigrationRecord
from runner.lifecycle import DRY_RUN_SUFFIX

SOURCE = "dynamigrate"
DETAIL_TYPES = {
    RUNNING: "Migration Started",
    ROLLING_BACK: "Migration Started",
    SUCCEEDED: "Migration Succeeded",
    FAILED: "Migration Failed",
    ROLLED_BACK: "Migration Rolled Back",
}
_deserializer = TypeDeserializer()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _attributes(record: MigrationRecord) -> dict[str, Any]:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in record.attributes.items()}


def detail(record: MigrationRecord) -> dict[str, Any]:
    """The event's detail: the record's essentials (no item value: counters and ids only)."""
    attrs = _attributes(record)
    started, ended = attrs.get("startedAt"), attrs.get("endedAt")
    duration = ended - started if isinstance(started, int) and isinstance(ended, int) else None
    return {
        "table": record.table,
        "migration": record.migration_id.removesuffix(DRY_RUN_SUFFIX),
        "status": record.status,
        "direction": attrs.get("direction"),
        "runId": record.run_id,
        "dryRun": bool(attrs.get("dryRun", False)),
        "stack": attrs.get("stackId"),
        "logicalId": attrs.get("logicalId"),
        "requestId": attrs.get("requestId"),
        "executionArn": record.execution_arn,
        "counters": attrs.get("counters") or {},
        "startedAt": started,
        "endedAt": ended,
        "durationSeconds": duration,
        "error": record.last_error,
    }


def event_entry(record: MigrationRecord) -> dict[str, Any] | None:
    """The PutEvents entry for the record's status, or None for a status without an event."""
    detail_type = DETAIL_TYPES.get(record.status)
    if detail_type is None:
        return None
    entry: dict[str, Any] = {
        "Source": SOURCE,
        "DetailType": detail_type,
        "Detail": json.dumps(detail(record), sort_keys=True),
    }
    if record.execution_arn:
        entry["Resources"] = [record.execution_arn]
    return entry


def run_metrics(record: MigrationRecord, change: str) -> observability.MetricSet:
    """A run's metrics at a change: started, in progress, or its outcome, duration and rate."""
    about = detail(record)
    out = observability.MetricSet(
        record.table,
        record.migration_id,  # a dry run's record id (`<id>#dry-run`): its counts stay apart
        metadata={"run_id": record.run_id, "direction": about["direction"]},
    )
    if change in ("started", "progress") and record.status in (RUNNING, ROLLING_BACK):
        out.add("RunsInProgress", MetricUnit.Count, 1)
    if change == "started":
        out.add("RunsStarted", MetricUnit.Count, 1)
    outcome = observability.RUN_OUTCOMES.get(record.status)
    if change == "ended" and outcome:
        out.application_wide = True
        out.add(outcome, MetricUnit.Count, 1)
        seconds = about["durationSeconds"]
        if seconds is not None:
            out.add("RunDuration", MetricUnit.Seconds, float(seconds))
            scanned = float(about["counters"].get("scanned", 0))
            out.add("RunItemsPerSecond", MetricUnit.CountPerSecond, scanned / max(1, seconds))
    return out


def send(client: Any, entry: dict[str, Any]) -> bool:
    """PutEvents one entry on the default bus; a failure is logged, never raised."""
    log = observability.logger()
    try:
        response = client.put_events(Entries=[entry])
    except Exception as exc:  # the migration's outcome does not depend on its event
        log.warning("could not send the %s event: %s", entry["DetailType"], exc)
        return False
    if response.get("FailedEntryCount"):
        failed = (response.get("Entries") or [{}])[0]
        log.warning(
            "EventBridge refused the %s event: %s %s",
            entry["DetailType"],
            failed.get("ErrorCode"),
            failed.get("ErrorMessage"),
        )
        return False
    log.info("sent the %s event", entry["DetailType"])
    return True


@dataclass
class RunNotifier:
    """What the controller calls with each record it writes: events and run metrics."""

    events: Any  # an EventBridge client, or None to send no event
    emit: Callable[[observability.MetricSet], None] = observability.emit

    def __call__(self, record: MigrationRecord, change: str) -> None:
        self.emit(run_metrics(record, change))
        if change == "progress" or self.events is None:
            return
        entry = event_entry(record)
        if entry is not None:
            send(self.events, entry)


def ignore(record: MigrationRecord, change: str) -> None:
    """The default notifier: nothing."""
