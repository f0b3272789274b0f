"""history's rows and causes."""

from __future__ import annotations

from typing import Any

from dynamigrate.history_view import as_dict, format_table, rows
from tests.unit.dynamigrate.records import record


def test_history_rows_show_changed_of_scanned_and_times():
    counters = {"M": {"scanned": {"N": "10"}, "updated": {"N": "4"}, "deleted": {"N": "1"}}}
    found = record("SUCCEEDED", counters=counters, startedAt={"N": "0"}, lastError={"NULL": True})
    assert rows([found]) == [
        ["Orders", "m1", "up", "SUCCEEDED", "5/10", "-", "1970-01-01 00:00:00", "-", "-", "-", ""]
    ]
    assert as_dict(found)["counters"] == {"scanned": 10, "updated": 4, "deleted": 1}
    assert format_table(["a", "bb"], [["xxx", "y"]]) == "a    bb\nxxx  y"


def test_a_rolled_back_migration_shows_its_up_run_then_its_down():
    error = (
        "Migration m1 (up) failed: segment#000003: MigrationError: Migration m1: DynamoDB "
        "rejected the Update (The provided expression refers to an attribute that does not "
        "exist in the item); 1 of 4 segments did not finish"
    )
    up = {
        "M": {
            "status": {"S": "FAILED"},
            "lastError": {"S": error},
            "counters": {"M": {"scanned": {"N": "1793"}, "updated": {"N": "812"}}},
            "startedAt": {"N": "60"},
            "endedAt": {"N": "120"},
        }
    }
    down = {"M": {"scanned": {"N": "1793"}, "updated": {"N": "812"}}}
    found = record(
        "ROLLED_BACK",
        upRun=up,
        direction={"S": "down"},
        counters=down,
        startedAt={"N": "180"},
        lastError={"NULL": True},
    )
    assert rows([found]) == [
        [
            "Orders",
            "m1",
            "up",
            "FAILED",
            "812/1793",
            "-",
            "1970-01-01 00:01:00",
            "1970-01-01 00:02:00",
            "-",
            "-",
            "DynamoDB rejected the Update (The provided expression refers to an attribute that "
            "does not exist in the item)",
        ],
        [
            "Orders",
            "m1",
            "down",
            "ROLLED_BACK",
            "812/1793",
            "-",
            "1970-01-01 00:03:00",
            "-",
            "-",
            "-",
            "",
        ],
    ]


def test_a_long_cause_is_cut_at_a_word():
    from dynamigrate.history_view import cause

    text = "MigrationFailed: Migration m (up) failed: " + "word " * 40
    shown = cause(text, width=30)
    assert shown == "word word word word word…"


def test_history_rows_show_the_rate_a_run_held_and_its_throttles():
    found = record("SUCCEEDED", rate={"N": "180.0"}, throttles={"N": "2"}, startedAt={"N": "0"})
    assert rows([found])[0][5] == "180 WCU/s, 2 throttles"


def _points(*points: dict[str, Any]) -> dict[str, Any]:
    return {"L": [{"M": p} for p in points]}


def test_history_rows_show_each_runs_restore_point_pitr_time_or_backup_arn():
    arn = "arn:aws:dynamodb:us-east-1:1:table/Orders/backup/01"
    pitr = {"table": {"S": "Orders"}, "kind": {"S": "pitr"}, "restoreTime": {"N": "60"}}
    backup = {"table": {"S": "Orders"}, "kind": {"S": "backup"}, "backupArn": {"S": arn}}
    up = {"M": {"status": {"S": "FAILED"}, "restorePoints": _points(pitr), "startedAt": {"N": "0"}}}
    found = record("ROLLED_BACK", upRun=up, direction={"S": "down"}, restorePoints=_points(backup))
    shown = [row[8] for row in rows([found])]
    assert shown == ["PITR 1970-01-01 00:01:00", arn]
    assert as_dict(found)["restorePoints"] == [
        {"table": "Orders", "kind": "backup", "backupArn": arn}
    ]
    target = {"table": {"S": "OrdersV2"}, "kind": {"S": "none"}, "reason": {"S": "denied"}}
    both = record("SUCCEEDED", restorePoints=_points(pitr, target))
    assert rows([both])[0][8] == "Orders: PITR 1970-01-01 00:01:00, OrdersV2: none"


def test_history_rows_show_the_verification():
    result = {
        "checked": {"N": "1200"},
        "violations": {"N": "3"},
        "maxViolations": {"N": "0"},
        "passed": {"BOOL": False},
        "sampleKeys": {"L": [{"S": '{"pk": {"S": "k1"}}'}]},
    }
    found = record("FAILED", verification={"M": result})
    assert rows([found])[0][9] == "FAILED: 3 of 1,200 items violate (max 0)"
    assert as_dict(found)["verification"]["sampleKeys"] == ['{"pk": {"S": "k1"}}']
    passed = {**result, "violations": {"N": "0"}, "passed": {"BOOL": True}}
    assert rows([record("SUCCEEDED", verification={"M": passed})])[0][9] == (
        "passed (0 of 1,200 items violate)"
    )
