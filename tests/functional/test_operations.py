"""Each operation over Scan with 1, 4 and 16 segments and over a Query on a GSI, 2,000 items.

Every run reads all 2,000 items (or all of the GSI partition) over multi-page segments; the
4-segment runs write every item, the others filter to a fifth (`grp = 0`) to keep the suite fast
while still checking that every item, selected or not, ends exactly as expected.
"""

from __future__ import annotations

import pytest

from dynamigrate.local.emulator import deploy_function
from tests.functional import transforms
from tests.functional.conftest import create_table, load, scan_all

N = 1000
PAGE = 30  # several pages per segment even with 16 segments


def orders() -> list[dict]:
    items = []
    for i in range(N):
        item = {
            "pk": {"S": f"o{i:05d}"},
            "n": {"N": str(i)},
            "name": {"S": f"First{i} Last{i}"},
            "kind": {"S": "RETURN" if i % 7 == 0 else "ORDER"},
            "grp": {"N": str(i % 5)},
        }
        if i % 3 == 0:
            item["status"] = {"S": "SHIPPED"}
        items.append(item)
    return items


FILTER = {"Filter": "#g = :zero", "Names": {"#g": "grp"}, "Values": {":zero": 0}}


def source(segments: int | None) -> dict:
    if segments is None:
        query = {"IndexName": "kind-index", "KeyCondition": "kind = :k", "PageSize": PAGE}
        return {"Query": {**query, **FILTER, "Values": {":k": "ORDER", ":zero": 0}}}
    return {"Scan": {"Segments": segments, "PageSize": PAGE, **({} if segments == 4 else FILTER)}}


def selected(i: int, segments: int | None) -> bool:
    if segments == 4:
        return True
    return i % 5 == 0 and (segments is not None or i % 7 != 0)


def read(segments: int | None) -> int:
    """How many items the source reads (before its filter)."""
    return N if segments is not None else sum(1 for i in range(N) if i % 7)


SOURCES = [1, 4, 16, None]
IDS = ["scan1", "scan4", "scan16", "query-gsi"]


@pytest.fixture
def table(engine):
    create_table(engine.dynamodb, "Orders", gsi="kind")
    load(engine.dynamodb, "Orders", orders())
    return engine


@pytest.mark.parametrize("segments", SOURCES, ids=IDS)
def test_update(table, segments):
    spec = {
        "MigrationId": "add-status",
        "TableName": "Orders",
        "Source": source(segments),
        "Up": {
            "Update": {
                "Expression": "SET #s = :p",
                "Condition": "attribute_not_exists(#s)",
                "Names": {"#s": "status"},
                "Values": {":p": "PENDING"},
            }
        },
    }
    result = table.run(spec, budget_seconds=0 if segments == 4 else 600)
    assert result.status == "SUCCEEDED", result.cause
    items = scan_all(table.dynamodb, "Orders")
    assert len(items) == N
    for i in range(N):
        status = items[f"o{i:05d}"].get("status", {}).get("S")
        if i % 3 == 0:
            assert status == "SHIPPED"
        else:
            assert status == ("PENDING" if selected(i, segments) else None)
    touched = [i for i in range(N) if selected(i, segments)]
    c = result.output["counters"]
    assert c["scanned"] == read(segments)
    assert c["matched"] == len(touched)
    assert c["updated"] == sum(1 for i in touched if i % 3)
    assert c["unchanged"] == sum(1 for i in touched if i % 3 == 0)
    assert c["failed"] == c["conflicts"] == 0


@pytest.mark.parametrize("segments", SOURCES, ids=IDS)
def test_delete(table, segments):
    spec = {
        "MigrationId": "drop-shipped",
        "TableName": "Orders",
        "Source": source(segments),
        "Up": {
            "Delete": {
                "Condition": "#s = :s",
                "Names": {"#s": "status"},
                "Values": {":s": "SHIPPED"},
            }
        },
    }
    result = table.run(spec)
    assert result.status == "SUCCEEDED", result.cause
    items = scan_all(table.dynamodb, "Orders")
    gone = {i for i in range(N) if i % 3 == 0 and selected(i, segments)}
    assert set(items) == {f"o{i:05d}" for i in range(N) if i not in gone}
    assert result.output["counters"]["deleted"] == len(gone)
    assert result.output["counters"]["scanned"] == read(segments)


@pytest.mark.parametrize("segments", SOURCES, ids=IDS)
def test_function(table, segments):
    fn = deploy_function("split-name", transforms.split_name)
    spec = {
        "MigrationId": "split-name",
        "TableName": "Orders",
        "Source": source(segments),
        "Up": {"Function": fn},
    }
    result = table.run(spec)
    assert result.status == "SUCCEEDED", result.cause
    items = scan_all(table.dynamodb, "Orders")
    for i in range(N):
        key = f"o{i:05d}"
        if not selected(i, segments):
            assert items[key]["name"] == {"S": f"First{i} Last{i}"}
        elif i % 10 == 0:
            assert key not in items
        else:
            assert "name" not in items[key]
            assert items[key]["first"] == {"S": f"First{i}"}
            assert items[key]["last"] == {"S": f"Last{i}"}
    c = result.output["counters"]
    selected_count = sum(1 for i in range(N) if selected(i, segments))
    assert c["deleted"] + c["updated"] == selected_count
    assert c["scanned"] == read(segments)


@pytest.mark.parametrize("segments", SOURCES, ids=IDS)
def test_function_with_target(table, segments):
    create_table(table.dynamodb, "OrdersV2", key="id")
    fn = deploy_function("rekey", transforms.rekey)
    spec = {
        "MigrationId": "copy-v2",
        "TableName": "Orders",
        "Source": source(segments),
        "Up": {"Function": fn},
        "Target": "OrdersV2",
    }
    result = table.run(spec)
    assert result.status == "SUCCEEDED", result.cause
    expected = {i for i in range(N) if selected(i, segments) and i % 10}
    copied = scan_all(table.dynamodb, "OrdersV2", key="id")
    assert set(copied) == {f"ORDER#o{i:05d}" for i in expected}
    assert all("pk" not in item for item in copied.values())
    assert len(scan_all(table.dynamodb, "Orders")) == N  # the source is untouched
    # a second run is idempotent: nothing new is written
    again = table.run(spec)
    assert again.status == "SUCCEEDED", again.cause
    assert again.output["counters"]["updated"] == 0
