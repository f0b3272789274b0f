"""A migration without `Segments`: its Plan step sizes the run from DescribeTable, once per run."""

from __future__ import annotations

import pytest

from dynamigrate.local.engine import HISTORY_TABLE
from runner import planning
from tests.functional.conftest import create_table, load, scan_all

SPEC = {
    "MigrationId": "add-status",
    "TableName": "Orders",
    "Source": {"Scan": {"PageSize": 40}},
    "Up": {"Update": {"Expression": "SET #s = :p", "Names": {"#s": "status"}, "Values": {":p": 1}}},
}


def orders(start: int, stop: int) -> list[dict]:
    return [{"pk": {"S": f"o{i:05d}"}} for i in range(start, stop)]


def run_items(engine, run_id: str) -> dict[str, dict]:
    pk = f"run#Orders#add-status#up#{run_id}"
    resp = engine.dynamodb.query(
        TableName=HISTORY_TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
        ConsistentRead=True,
    )
    return {item["sk"]["S"]: item for item in resp["Items"]}


@pytest.fixture
def table(engine, monkeypatch):
    monkeypatch.setattr(planning, "ITEMS_PER_SEGMENT", 100)
    create_table(engine.dynamodb, "Orders")
    load(engine.dynamodb, "Orders", orders(0, 400))
    return engine


def test_a_small_table_is_one_segment(engine):
    create_table(engine.dynamodb, "Orders")
    load(engine.dynamodb, "Orders", orders(0, 150))
    result = engine.run(SPEC, run_id="r1")
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["segments"] == 1
    assert result.output["counters"]["updated"] == 150
    worked = [k for k in run_items(engine, "r1") if k == "plan" or k.startswith("segment#")]
    assert sorted(worked) == ["plan", "segment#000000"]  # beside the run's pace and restore point


def test_segments_follow_the_item_count(table):
    result = table.run(SPEC, run_id="r1")
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["segments"] == 4  # 400 items, 100 per segment
    assert result.output["counters"]["updated"] == 400
    assert all(i["status"]["N"] == "1" for i in scan_all(table.dynamodb, "Orders").values())
    items = run_items(table, "r1")
    assert items["plan"]["totalSegments"]["N"] == "4"
    segment_items = sorted(k for k in items if k.startswith("segment#"))
    assert segment_items == [f"segment#{s:06d}" for s in range(4)]


def test_a_resumed_run_keeps_the_segments_it_planned(table):
    assert table.run(SPEC, run_id="r1").output["segments"] == 4
    load(table.dynamodb, "Orders", orders(400, 800))  # the table doubles meanwhile
    again = table.run(SPEC, run_id="r1")  # the same run again: every segment is done
    assert again.status == "SUCCEEDED", again.cause
    assert again.output["segments"] == 4
    assert again.output["counters"]["updated"] == 400  # totals of the run, not a new one
    fresh = table.run(SPEC, run_id="r2")  # a new run sizes itself again
    assert fresh.output["segments"] == 8
    assert fresh.output["counters"]["scanned"] == 800
