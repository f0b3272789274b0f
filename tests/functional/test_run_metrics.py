"""A run's metric lines carry the units DynamoDB reported and the throttles the worker saw."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dynamigrate.local import metering
from tests.functional.templates import run_over_items

pytestmark = pytest.mark.functional

ITEMS = 7
TEMPLATE = """
Transform: DynamoMigrations
Resources:
  Items:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: items
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
  AddFlag:
    Type: Custom::DynamoMigration
    Properties:
      TableName: !Ref Items
      MigrationId: m1
      ServiceTimeout: 60  # a broken runner fails the run within a minute, never hangs the test
      Up: {Update: {Expression: "SET flag = :t", Values: {":t": true}}}
"""


def _worker_metrics(out: Path) -> list[dict[str, float]]:
    """The worker invocations' metric values (the lines with ItemsScanned)."""
    found = []
    for line in (out / "metrics.jsonl").read_text().splitlines():
        doc = json.loads(line)
        names = [m["Name"] for m in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
        if "ItemsScanned" in names:
            values = {name: doc[name] for name in names}  # a value, or a list of them (EMF)
            found.append({k: sum(v) if isinstance(v, list) else v for k, v in values.items()})
    return found


def test_read_and_write_units_are_what_dynamodb_reported(tmp_path: Path, monkeypatch) -> None:
    reported: dict[str, float] = {"read": 0.0, "write": 0.0}
    original = metering.report

    def spy(body: dict[str, Any], action: str, consumed: list[Any], response: Any) -> bool:
        answered = original(body, action, consumed, response)
        if answered and body.get("TableName") == "items":
            kind = "write" if action in ("UpdateItem", "PutItem", "DeleteItem") else "read"
            reported[kind] += float(response["ConsumedCapacity"]["CapacityUnits"])
        return answered

    monkeypatch.setattr(metering, "report", spy)  # the emulator's answers, as the wire has them
    result = run_over_items(tmp_path, TEMPLATE, ITEMS)
    assert [o.status for o in result.deployment.outcomes] == ["SUCCESS"]
    metrics = _worker_metrics(tmp_path / "out")
    assert metrics
    assert sum(m["ItemsChanged"] for m in metrics) == ITEMS
    # each item is under 1 KB: one write unit per UpdateItem (DynamoDB's rule, modelled)
    assert reported["write"] == ITEMS
    assert sum(m["WriteUnits"] for m in metrics) == reported["write"]
    assert reported["read"] > 0
    assert sum(m["ReadUnits"] for m in metrics) == reported["read"]
    assert sum(m["Throttles"] for m in metrics) == 0  # on-demand, under its warm throughput
