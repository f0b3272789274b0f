"""history's rows and causes."""

from __future__ import annotations

from dynamigrate.history_view import as_dict, format_table, rows
from tests.unit.dynamigrate.records import record


def test_history_rows_show_changed_of_scanned_and_times():
    counters = {"M": {"scanned": {"N": "10"}, "updated": {"N": "4"}, "deleted": {"N": "1"}}}
    found = record("SUCCEEDED", counters=counters, startedAt={"N": "0"}, lastError={"NULL": True})
    assert rows([found]) == [
        ["Orders", "m1", "up", "SUCCEEDED", "5/10", "-", "1970-01-01 00:00:00", "-", ""]
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
            "DynamoDB rejected the Update (The provided expression refers to an attribute that "
            "does not exist in the item)",
        ],
        ["Orders", "m1", "down", "ROLLED_BACK", "812/1793", "-", "1970-01-01 00:03:00", "-", ""],
    ]


def test_a_long_cause_is_cut_at_a_word():
    from dynamigrate.history_view import cause

    text = "MigrationFailed: Migration m (up) failed: " + "word " * 40
    shown = cause(text, width=30)
    assert shown == "word word word word word…"


def test_history_rows_show_the_rate_a_run_held_and_its_throttles():
    found = record("SUCCEEDED", rate={"N": "180.0"}, throttles={"N": "2"}, startedAt={"N": "0"})
    assert rows([found])[0][5] == "180 WCU/s, 2 throttles"
