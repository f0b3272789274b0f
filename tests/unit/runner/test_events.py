"""Run events (runner.events): built from the history record alone, never failing a run."""

from __future__ import annotations

import json

import pytest

from runner import observability
from runner.controller import Controller
from runner.events import RunNotifier, event_entry, run_metrics, send
from runner.ledger import MigrationRecord, _attribute
from tests.emf import check_emf

ARN = "arn:aws:states:us-east-1:123456789012:execution:dynamigrate-x:run-1"


def record(status: str, **extra) -> MigrationRecord:
    attributes = {
        "status": status,
        "runId": "r1",
        "direction": "up",
        "executionArn": ARN,
        "stackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1",
        "logicalId": "OrdersAddStatus",
        "requestId": "cfn-request-1",
        "startedAt": 1000,
        "counters": {"scanned": 50, "updated": 20},
        **extra,
    }
    item = {"pk": {"S": "orders"}, "sk": {"S": "m1"}}
    item.update({k: _attribute(v) for k, v in attributes.items()})
    return MigrationRecord.from_item(item)


@pytest.mark.parametrize(
    ("status", "detail_type"),
    [
        ("RUNNING", "Migration Started"),
        ("ROLLING_BACK", "Migration Started"),
        ("SUCCEEDED", "Migration Succeeded"),
        ("FAILED", "Migration Failed"),
        ("ROLLED_BACK", "Migration Rolled Back"),
    ],
)
def test_each_status_has_its_detail_type(status, detail_type):
    entry = event_entry(record(status, endedAt=1030))
    assert entry is not None
    assert (entry["Source"], entry["DetailType"], entry["Resources"]) == (
        "dynamigrate",
        detail_type,
        [ARN],
    )
    detail = json.loads(entry["Detail"])
    assert detail["table"] == "orders"
    assert detail["migration"] == "m1"
    assert detail["runId"] == "r1"
    assert detail["direction"] == "up"
    assert detail["counters"] == {"scanned": 50, "updated": 20}
    assert detail["durationSeconds"] == 30
    assert detail["executionArn"] == ARN
    assert detail["logicalId"] == "OrdersAddStatus"


def test_a_pending_record_has_no_event():
    assert event_entry(record("PENDING")) is None


def test_a_failed_runs_event_carries_its_error_and_a_dry_run_its_plain_id():
    item = record("FAILED", lastError="Migration m1 failed: boom", dryRun=True)
    entry = event_entry(item)
    assert entry is not None
    assert json.loads(entry["Detail"])["error"] == "Migration m1 failed: boom"
    assert json.loads(entry["Detail"])["dryRun"] is True


class Events:
    def __init__(self, answer=None, error=None):
        self.answer, self.error, self.sent = answer, error, []

    def put_events(self, Entries):
        self.sent.append(Entries)
        if self.error:
            raise self.error
        return self.answer


@pytest.fixture
def logs(monkeypatch):
    out: list[str] = []
    monkeypatch.setattr(observability.SINKS, "logs", out.append)
    monkeypatch.setattr(observability.SINKS, "metrics", lambda line: None)
    return out


def test_an_entry_eventbridge_refuses_is_logged_and_the_run_goes_on(logs):
    """PutEvents answers 200 with FailedEntryCount and a per-entry ErrorCode on failure."""
    refused = {
        "FailedEntryCount": 1,
        "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}],
    }
    entry = event_entry(record("SUCCEEDED"))
    assert entry is not None
    assert send(Events(answer=refused), entry) is False
    assert "InternalFailure" in json.loads(logs[-1])["message"]
    assert send(Events(answer={"FailedEntryCount": 0, "Entries": [{"EventId": "1"}]}), entry)


def test_a_call_that_fails_is_logged_and_the_run_goes_on(logs):
    notify = RunNotifier(Events(error=ConnectionError("no route")))
    notify(record("FAILED"), "ended")  # does not raise
    assert "no route" in json.loads(logs[-1])["message"]


def test_progress_sends_metrics_but_no_event():
    events, emitted = Events(answer={"FailedEntryCount": 0}), []
    RunNotifier(events, emit=emitted.append)(record("RUNNING"), "progress")
    assert events.sent == []
    assert [name for name, _, _ in emitted[0].values] == ["RunsInProgress"]


def test_a_notifier_that_raises_never_fails_a_controller_step():
    def broken(record, change):
        raise RuntimeError("metrics are down")

    controller = Controller(sfn=None, cloudformation=None, ledger=None, notify=broken)
    controller._notify(record("SUCCEEDED"), "ended")
    assert controller.messages == ["could not report the run's ended: metrics are down"]


def test_an_outcome_counts_per_migration_and_application_wide_with_duration_and_rate():
    doc = check_emf(json.dumps(run_metrics(record("FAILED", endedAt=1025), "ended").document()))
    assert doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [
        ["Table", "Migration"],
        ["service"],
    ]
    assert (doc["RunsFailed"], doc["RunDuration"], doc["RunItemsPerSecond"]) == (
        [1.0],
        [25.0],
        [2.0],
    )


def test_a_dry_runs_metrics_stay_apart_from_real_runs():
    dry = record("SUCCEEDED", endedAt=1010, dryRun=True)
    dry = MigrationRecord.from_item({**dry.attributes, "sk": {"S": "m1#dry-run"}})
    assert run_metrics(dry, "ended").document()["Migration"] == "m1#dry-run"
    assert run_metrics(record("SUCCEEDED", endedAt=1010), "ended").document()["Migration"] == "m1"
