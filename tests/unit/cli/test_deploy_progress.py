"""`local deploy`'s progress follows the history table: every migration the deploy runs gets its
lines, even one that starts and ends between two polls; one it leaves alone gets none."""

from __future__ import annotations

import json
import threading
from typing import Any

from dynamigrate.cli.local_commands import _EventPrinter, _follow, _runs
from runner.ledger import MigrationRecord


def _record(mid: str, status: str, run_id: str | None, logical_id: str) -> MigrationRecord:
    item = {
        "pk": {"S": "Items"},
        "sk": {"S": mid},
        "status": {"S": status},
        "logicalId": {"S": logical_id},
        "counters": {"M": {"Scanned": {"N": "30"}, "Updated": {"N": "30"}}},
    }
    if run_id:
        item["runId"] = {"S": run_id}
    return MigrationRecord.from_item(item)


class _Ledger:
    """The history table as the server leaves it: the second read sees the deploy's results."""

    def __init__(self, *reads: list[MigrationRecord]) -> None:
        self.reads = list(reads)

    def records(self) -> list[MigrationRecord]:
        return self.reads.pop(0) if len(self.reads) > 1 else self.reads[0]


class _Done(threading.Thread):
    """A deploy that has already answered: the follower polls once."""

    def __init__(self) -> None:
        super().__init__()
        self.polled = False

    def is_alive(self) -> bool:
        alive, self.polled = not self.polled, True
        return alive

    def join(self, timeout: float | None = None) -> None:
        return None


def test_a_migration_run_between_two_polls_still_gets_its_line(capsys: Any) -> None:
    applied = _record("m0-old", "SUCCEEDED", "r0", "Old")
    ledger = _Ledger(
        [applied],  # before the deploy
        [applied, _record("m1-add-a", "SUCCEEDED", "r1", "AddA")],  # its first poll: done
    )
    before = _runs(ledger)  # type: ignore[arg-type]
    _follow(ledger, before, _Done())  # type: ignore[arg-type]
    lines = capsys.readouterr().err.splitlines()
    assert [line.split()[0] for line in lines] == ["AddA"]
    assert lines[0].endswith("SUCCEEDED")


def test_a_rerun_of_a_failed_migration_is_followed(capsys: Any) -> None:
    ledger = _Ledger(
        [_record("m1-add-a", "FAILED", "r1", "AddA")],
        [_record("m1-add-a", "FAILED", "r2", "AddA")],  # failed again, in a new run
    )
    _follow(ledger, _runs(ledger), _Done())  # type: ignore[arg-type]
    assert capsys.readouterr().err.startswith("AddA ")


class _Logs:
    """The events log group as EventBridge fills it: a later read sees one event more."""

    def __init__(self) -> None:
        started = {"id": "e1", "detail-type": "Migration Started", "detail": _detail(None)}
        failed = {"id": "e2", "detail-type": "Migration Failed", "detail": _detail("boom")}
        self.reads = [[started], [started, failed]]
        self.since: list[int] = []

    def filter_log_events(self, **request: Any) -> dict[str, Any]:
        self.since.append(request["startTime"])
        found = self.reads.pop(0) if len(self.reads) > 1 else self.reads[0]
        events = [{"timestamp": 1 + n, "message": json.dumps(e)} for n, e in enumerate(found)]
        return {"events": events}


def _detail(error: str | None) -> dict[str, Any]:
    return {"table": "items", "migration": "m1", "direction": "up", "runId": "r1", "error": error}


def test_each_event_is_printed_once_as_it_comes(capsys: Any) -> None:
    logs = _Logs()
    printer = _EventPrinter(logs, since=1234)
    printer()
    printer()
    printer()
    assert capsys.readouterr().out.splitlines() == [
        "event: Migration Started items/m1 (up, run r1)",
        "event: Migration Failed items/m1 (up, run r1): boom",
    ]
    assert set(logs.since) == {1234}  # only events from the deploy's start
