"""No write that changes nothing: an Update whose effect an item already holds is not sent.

The worker evaluates the Update against the item it read (runner.update_eval): such an item is
counted `unchanged` and costs no UpdateItem (so no write unit); every other item is written as
before, including one the evaluator cannot judge (DynamoDB then judges, and refuses).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dynamigrate.local import emulator
from tests.functional.conftest import create_table, load, scan_all

N = 40


@pytest.fixture
def requests() -> Iterator[dict[str, int]]:
    emulator.DYNAMODB_REQUESTS.clear()
    emulator.COUNT_REQUESTS["on"] = True
    try:
        yield emulator.DYNAMODB_REQUESTS  # type: ignore[misc]
    finally:
        emulator.COUNT_REQUESTS["on"] = False


def _items() -> list[dict]:
    """Half already migrated (`status` PENDING, no `legacy`), half not."""
    items = []
    for i in range(N):
        item = {"pk": {"S": f"i{i:03d}"}, "n": {"N": str(i)}}
        if i % 2:
            item["status"] = {"S": "PENDING"}
        else:
            item["legacy"] = {"S": "x"}
        items.append(item)
    return items


def test_items_that_hold_the_change_are_not_written(engine, requests):
    create_table(engine.dynamodb, "Half")
    load(engine.dynamodb, "Half", _items())
    spec = {
        "MigrationId": "half",
        "TableName": "Half",
        "Source": {"Scan": {"Segments": 1, "PageSize": 7}},
        "Up": {
            "Update": {
                "Expression": "SET #s = :p REMOVE legacy",
                "Names": {"#s": "status"},
                "Values": {":p": "PENDING"},
            }
        },
    }
    result = engine.run(spec)
    assert result.status == "SUCCEEDED", result.cause
    counters = result.output["counters"]
    assert (counters["updated"], counters["unchanged"]) == (N // 2, N // 2)
    assert requests["UpdateItem:Half"] == N // 2
    items = scan_all(engine.dynamodb, "Half")
    assert all(i["status"] == {"S": "PENDING"} and "legacy" not in i for i in items.values())


def test_a_down_that_removes_what_no_item_has_writes_nothing(engine, requests):
    create_table(engine.dynamodb, "NoX")
    load(engine.dynamodb, "NoX", [{"pk": {"S": f"i{i}"}} for i in range(N)])
    result = engine.run(
        {"MigrationId": "no-x", "TableName": "NoX", "Up": {"Update": {"Expression": "REMOVE x"}}}
    )
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["counters"]["unchanged"] == N
    assert result.output["counters"].get("updated", 0) == 0
    assert requests["UpdateItem:NoX"] == 0


def test_a_dry_run_counts_what_would_not_change(engine):
    create_table(engine.dynamodb, "DryHalf")
    load(engine.dynamodb, "DryHalf", _items())
    spec = {
        "MigrationId": "dry-half",
        "TableName": "DryHalf",
        "Up": {
            "Update": {
                "Expression": "SET #s = :p",
                "Names": {"#s": "status"},
                "Values": {":p": "PENDING"},
            }
        },
    }
    result = engine.run(spec, dry_run=True)
    assert result.status == "SUCCEEDED", result.cause
    counters = result.output["counters"]
    assert (counters["updated"], counters["unchanged"]) == (N // 2, N // 2)
    assert all(
        s["M"]["key"]["M"]["pk"]["S"] in {f"i{i:03d}" for i in range(0, N, 2)}
        for s in result.output["samples"]
    )


def test_what_the_evaluator_cannot_judge_is_written_and_refused_as_before(engine, requests):
    create_table(engine.dynamodb, "Refused")
    load(engine.dynamodb, "Refused", [{"pk": {"S": "a"}, "n": {"S": "not a number"}}])
    result = engine.run(
        {
            "MigrationId": "refused",
            "TableName": "Refused",
            "Up": {"Update": {"Expression": "SET n = n + :zero", "Values": {":zero": 0}}},
        }
    )
    assert result.status == "FAILED"
    assert "DynamoDB rejected the Update of" in result.cause
    assert requests["UpdateItem:Refused"] >= 1
