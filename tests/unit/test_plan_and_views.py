"""Cost estimates of `plan`, progress bars and history rows (pure)."""

from __future__ import annotations

import pytest

from dynamigrate.history_view import as_dict, format_table, rows
from dynamigrate.plan import estimate
from dynamigrate.progress import ProgressPrinter, bar
from runner.ledger import MigrationRecord

UPDATE = {"Up": {"Update": {"Expression": "SET a = :b"}}}


def test_an_estimate_counts_one_write_per_kilobyte_of_each_item():
    found = estimate(UPDATE, items=1_000_000, size_bytes=1_500 * 1_000_000)
    assert found.write_units == 2_000_000  # 1.5 KB items: 2 WRU each
    assert found.read_units == pytest.approx(1_500 * 1_000_000 / 4096 * 0.5, rel=1e-3)
    # Segments unset: 20 (one per 50,000 items), each 50,000 / 200 per s / 600 s = 1 invocation;
    # a segment is its child execution's start (billed as a transition), Done, Work and More
    assert found.transitions == 3 + 20 * (2 + 2 * 1)
    writes = 2_000_000 * 0.625 / 1e6
    assert writes < found.dollars < writes * 1.2


def test_a_dry_run_writes_nothing_and_a_query_is_one_segment():
    query = {**UPDATE, "DryRun": True, "Source": {"Query": {"KeyCondition": "pk = :p"}}}
    found = estimate(query, items=100, size_bytes=10_000)
    assert (found.write_units, found.transitions) == (0.0, 7)


def test_bars():
    assert bar(0, 10) == "[..............................]   0%"
    assert bar(5, 10).startswith("[###############...............]")
    assert bar(3, 0) == "[" + "?" * 30 + "]"


def record(status: str, **attrs):
    item = {"pk": {"S": "Orders"}, "sk": {"S": "m1"}, "status": {"S": status}, **attrs}
    return MigrationRecord.from_item(item)


def test_history_rows_show_changed_of_scanned_and_times():
    counters = {"M": {"scanned": {"N": "10"}, "updated": {"N": "4"}, "deleted": {"N": "1"}}}
    found = record("SUCCEEDED", counters=counters, startedAt={"N": "0"}, lastError={"NULL": True})
    assert rows([found]) == [
        ["Orders", "m1", "up", "SUCCEEDED", "5/10", "1970-01-01 00:00:00", "-", ""]
    ]
    assert as_dict(found)["counters"] == {"scanned": 10, "updated": 4, "deleted": 1}
    assert format_table(["a", "bb"], [["xxx", "y"]]) == "a    bb\nxxx  y"


class Stream:
    def __init__(self, tty):
        self.text, self.tty = "", tty

    def write(self, text):
        self.text += text

    def flush(self):
        pass

    def isatty(self):
        return self.tty


def test_progress_prints_a_line_per_change_off_a_terminal():
    stream = Stream(tty=False)
    printer = ProgressPrinter(stream)
    printer("M", record("RUNNING"), 10)
    printer("M", record("RUNNING", counters={"M": {"scanned": {"N": "5"}}}), 10)
    printer("M", record("SUCCEEDED", counters={"M": {"scanned": {"N": "10"}}}), 10)
    lines = stream.text.splitlines()
    assert len(lines) == 2  # the first sight and the end; a terminal redraws in place
    assert lines[-1].endswith("100%       10 scanned        0 changed  SUCCEEDED")


class _Table:
    """DescribeTable and one Scan page, as DynamoDB answers them."""

    def __init__(self, count: int, size: int, items: int, more: bool) -> None:
        self.info = {"ItemCount": count, "TableSizeBytes": size}
        self.items = [{"pk": {"S": f"k{i:03d}"}, "v": {"N": "12"}} for i in range(items)]
        self.more = more

    def describe_table(self, TableName: str) -> dict:
        return {"Table": self.info}

    def scan(self, TableName: str, Limit: int) -> dict:
        page = {"Items": self.items[:Limit]}
        return {**page, "LastEvaluatedKey": {"pk": {"S": "x"}}} if self.more else page


def test_table_size_uses_describe_table_when_it_knows():
    from dynamigrate.plan import table_size

    assert table_size(_Table(10, 5000, 0, False), "t") == (10, 5000)


def test_table_size_measures_a_table_describe_table_reports_empty():
    from dynamigrate.plan import table_size

    # "pk" + "k000" + "v" + 12 (2 digits: 2 bytes) = 2 + 4 + 1 + 2 = 9 bytes an item
    assert table_size(_Table(0, 0, 30, False), "t") == (30, 270)
    assert table_size(_Table(5000, 0, 1000, True), "t") == (5000, 45000)
    assert table_size(_Table(0, 0, 0, False), "t") == (0, 0)


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
            "1970-01-01 00:01:00",
            "1970-01-01 00:02:00",
            "DynamoDB rejected the Update (The provided expression refers to an attribute that "
            "does not exist in the item)",
        ],
        ["Orders", "m1", "down", "ROLLED_BACK", "812/1793", "1970-01-01 00:03:00", "-", ""],
    ]


def test_a_long_cause_is_cut_at_a_word():
    from dynamigrate.history_view import cause

    text = "MigrationFailed: Migration m (up) failed: " + "word " * 40
    shown = cause(text, width=30)
    assert shown == "word word word word word…"


def test_progress_moves_off_a_terminal_a_line_per_interval():
    stream, now = Stream(tty=False), [0.0]
    printer = ProgressPrinter(stream, interval=10, clock=lambda: now[0])
    for second in range(0, 35):
        now[0] = float(second)
        scanned = {"M": {"scanned": {"N": str(second * 100)}}}
        printer("M", record("RUNNING", counters=scanned), 6000)
    lines = stream.text.splitlines()
    assert [line.split()[2] for line in lines] == ["0%", "17%", "33%", "50%"]  # 0, 10, 20, 30 s


class _Runs:
    """The run's segment items as runner.history totals them."""

    def __init__(self, scanned: int) -> None:
        self.scanned, self.asked = scanned, []

    def run_totals(self, run):
        from runner.history import RunTotals

        self.asked.append(run)
        totals = RunTotals()
        totals.counters["scanned"] = self.scanned
        return totals


def test_live_progress_reads_the_pages_committed_so_far():
    from dynamigrate.progress import counters, live

    running = record(
        "RUNNING",
        runId={"S": "r1"},
        direction={"S": "up"},
        counters={"M": {"scanned": {"N": "0"}}},
    )
    runs = _Runs(scanned=2400)
    assert counters(live(runs, running))["scanned"] == 2400
    assert runs.asked[0].pk == "run#Orders#m1#up#r1"
    done = record("SUCCEEDED", runId={"S": "r1"}, counters={"M": {"scanned": {"N": "6000"}}})
    assert counters(live(runs, done))["scanned"] == 6000  # a finished run's record is final
    assert len(runs.asked) == 1
