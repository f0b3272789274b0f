"""A migration whose events cannot be sent still runs to the end (runner.events)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from runner.events import RunNotifier
from tests.functional.templates import run_over_items

pytestmark = pytest.mark.functional

TEMPLATE = """
Transform: DynamoMigrations
Resources:
  Items:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
  AddFlag:
    Type: Custom::DynamoMigration
    Properties:
      TableName: !Ref Items
      MigrationId: m1
      ServiceTimeout: 60  # a broken runner that never answers fails the run, not hangs the test
      Up: {Update: {Expression: "SET flag = :t", Values: {":t": true}}}
"""


class RefusingEvents:
    """EventBridge refusing every call (a role without events:PutEvents), or every entry."""

    def __init__(self, partial: bool) -> None:
        self.partial, self.calls = partial, 0

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls += 1
        if self.partial:
            return {
                "FailedEntryCount": len(Entries),
                "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "x"}] * len(Entries),
            }
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "PutEvents"
        )


@pytest.mark.parametrize("partial", [False, True], ids=["call-fails", "entries-refused"])
def test_a_run_whose_events_fail_still_succeeds(tmp_path: Path, monkeypatch, partial: bool) -> None:
    refusing = RefusingEvents(partial)
    # The controller's notifier is built once per process: every instance sends through this one.
    monkeypatch.setattr(
        RunNotifier,
        "events",
        property(lambda self: refusing, lambda self, value: None),
        raising=False,
    )
    result = run_over_items(tmp_path, TEMPLATE, items=5)
    assert [o.status for o in result.deployment.outcomes] == ["SUCCESS"]
    assert refusing.calls == 2  # started, succeeded
    assert result.events == []
    warnings = [
        json.loads(line)
        for line in (tmp_path / "out" / "logs.jsonl").read_text().splitlines()
        if '"level":"WARNING"' in line
    ]
    assert len(warnings) == 2
    assert all(w["migration"] == "m1" for w in warnings)
