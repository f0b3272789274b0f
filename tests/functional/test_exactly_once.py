"""Exactly once per item: a worker killed in the middle of a page, whose page is then processed
again, leaves every item changed once (runner.journal), and a rollback still restores it all.

The kill is modelled as a runtime that dies: after some of the page's writes have landed, no
further write, before-image, failed-page note or checkpoint of that invocation lands; the state
machine sees the task time out and retries it.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

import runner.worker
from dynamigrate.local.emulator import deploy_function
from dynamigrate.local.engine import ARTIFACTS_BUCKET
from runner.history import History
from runner.recording import RecordingApplier
from tests.functional.conftest import create_table, load, scan_all, up_noted

N = 40
SOURCE = {"Scan": {"Segments": 2, "PageSize": 7}}
INCREMENT = {"Update": {"Expression": "SET n = n + :one", "Values": {":one": 1}}}


def items() -> list[dict[str, Any]]:
    return [
        {"pk": {"S": f"k{i:03d}"}, "n": {"N": str(i)}, "log": {"L": [{"S": "a"}]}} for i in range(N)
    ]


def killed() -> Exception:
    """What the state machine sees of a worker whose runtime was killed (it retries it)."""
    return type("Sandbox.Timedout", (Exception,), {})("Task timed out")


class Kill:
    """Kills each segment's worker once, after `after` writes of its second page have landed."""

    def __init__(self, after: int = 3) -> None:
        self.after, self.lock = after, threading.Lock()
        self.writes: dict[int, int] = {}
        self.dead: set[int] = set()  # segments whose worker died (and stayed dead)
        self.done: set[int] = set()  # segments killed once already

    def segment(self, applier: Any) -> int | None:
        journal = getattr(applier, "journal", None)
        if journal is None or journal.page != 1 or journal.attempt != 0:
            return None
        return int(journal.segment)

    def write(self, applier: Any, write: Any, *args: Any) -> Any:
        seg = self.segment(applier)
        if seg is None or (seg in self.done and seg not in self.dead):
            return write(applier, *args)
        if seg in self.dead:
            raise killed()
        out = write(applier, *args)
        with self.lock:
            self.writes[seg] = self.writes.get(seg, 0) + 1
            if self.writes[seg] >= self.after:
                self.dead.add(seg)
                self.done.add(seg)
        return out

    def revive(self, segment: int) -> None:
        self.dead.discard(segment)


@pytest.fixture
def kill(monkeypatch: pytest.MonkeyPatch) -> Kill:
    """Install the kill on item writes, and make the dead worker's later effects not land."""
    kill = Kill()
    for method in ("_update_item", "_delete_item", "_function_item"):
        original = getattr(RecordingApplier, method)
        monkeypatch.setattr(
            RecordingApplier,
            method,
            lambda self, arg, _o=original: kill.write(self, _o, arg),
        )
    keep, note, commit = runner.worker._keep_images, History.note_failed_page, History.commit_page

    def dead_or(original: Any, segment_at: int) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            segment = args[segment_at]
            if segment in kill.dead:
                kill.revive(segment)  # the runtime is gone; the retried task starts a new one
                raise killed()
            return original(*args, **kwargs)

        return call

    # (store, applier, segment, ...) and (history, run, segment, ...)
    monkeypatch.setattr(runner.worker, "_keep_images", dead_or(keep, 2))
    monkeypatch.setattr(History, "note_failed_page", dead_or(note, 2))
    monkeypatch.setattr(History, "commit_page", dead_or(commit, 2))
    return kill


def table(engine: Any) -> dict[str, dict[str, Any]]:
    create_table(engine.dynamodb, "Counted")
    load(engine.dynamodb, "Counted", items())
    return scan_all(engine.dynamodb, "Counted")


def journals(engine: Any, migration_id: str) -> list[str]:
    prefix = f"dynamigrate/before-images/Counted/{migration_id}/"
    listed = engine.s3.list_objects_v2(Bucket=ARTIFACTS_BUCKET, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", []) if ".journal/" in o["Key"]]


def test_a_worker_killed_mid_page_of_an_increment_increments_every_item_once(engine, kill):
    table(engine)
    spec = {
        "MigrationId": "inc",
        "TableName": "Counted",
        "Source": SOURCE,
        "Up": INCREMENT,
        "Down": {"Keep": {}},
    }
    result = engine.run(spec)
    assert result.status == "SUCCEEDED", result.message
    assert kill.done == {0, 1}  # each segment's worker died in the middle of its second page
    after = scan_all(engine.dynamodb, "Counted")
    assert {k: i["n"] for k, i in after.items()} == {
        f"k{i:03d}": {"N": str(i + 1)} for i in range(N)
    }
    counters = result.output["counters"]
    assert (counters["updated"], counters["unchanged"], counters.get("kept", 0)) == (N, 0, 0)
    assert journals(engine, "inc")  # Down: Keep still journals a write that is not repeatable


def test_a_killed_function_migration_transforms_every_item_once(engine, kill):
    table(engine)

    def bump(event: dict[str, Any], context: Any) -> dict[str, Any]:
        out = []
        for item in event["items"]:
            n = {"N": str(int(item["n"]["N"]) + 1)}
            out.append({**item, "n": n, "log": {"L": [*item["log"]["L"], {"S": "b"}]}})
        return {"items": out}

    fn = deploy_function("bump", bump)
    spec = {"MigrationId": "bump", "TableName": "Counted", "Source": SOURCE, "Up": {"Function": fn}}
    result = engine.run(spec)
    assert result.status == "SUCCEEDED", result.message
    assert kill.done == {0, 1}
    after = scan_all(engine.dynamodb, "Counted")
    for i in range(N):
        item = after[f"k{i:03d}"]
        assert item["n"] == {"N": str(i + 1)}
        assert item["log"] == {"L": [{"S": "a"}, {"S": "b"}]}
    assert result.output["counters"]["updated"] == N


def up_then_restore(engine: Any, spec: dict[str, Any]) -> Any:
    up = up_noted(engine, spec)
    down = engine.run(spec, run_id="down-1", direction="down")
    assert down.status == "SUCCEEDED", down.message
    return up


@pytest.mark.parametrize(
    "up",
    [INCREMENT, {"Update": {"Expression": "SET v = :one", "Values": {":one": 1}}}, {"Delete": {}}],
    ids=["increment", "repeatable-set", "delete"],
)
def test_the_writes_of_a_killed_attempt_are_restored_on_rollback(engine, kill, up):
    """Their before-images were never written: the page journal holds them (the write-ahead)."""
    before = table(engine)
    spec = {"MigrationId": "m1", "TableName": "Counted", "Source": SOURCE, "Up": up}
    result = up_then_restore(engine, spec)
    assert kill.done == {0, 1}
    counted = result.output["counters"]
    assert counted["deleted" if "Delete" in up else "updated"] == N
    assert scan_all(engine.dynamodb, "Counted") == before


def test_an_item_the_application_wrote_in_the_crash_window_is_kept_counted_and_sampled(
    engine, kill, monkeypatch
):
    """Whether the killed attempt's increment landed before the application's write cannot be
    known: the item keeps the application's value, is not incremented again, and is listed."""
    table(engine)
    revive = kill.revive

    def application_writes_then_revive(segment: int) -> None:
        if segment in kill.dead:  # between the kill and the retry, the application sets n
            for i in range(N):
                engine.dynamodb.update_item(
                    TableName="Counted",
                    Key={"pk": {"S": f"k{i:03d}"}},
                    UpdateExpression="SET n = :big",
                    ExpressionAttributeValues={":big": {"N": "1000"}},
                )
        revive(segment)

    monkeypatch.setattr(kill, "revive", application_writes_then_revive)
    spec = {"MigrationId": "inc", "TableName": "Counted", "Source": SOURCE, "Up": INCREMENT}
    spec["Down"] = {"Keep": {}}
    result = engine.run(spec)
    assert result.status == "SUCCEEDED", result.message
    assert kill.done == {0, 1}
    values = [i["n"]["N"] for i in scan_all(engine.dynamodb, "Counted").values()]
    assert set(values) <= {"1000", "1001"}  # nothing the application wrote is lost or doubled
    counters = result.output["counters"]
    page = SOURCE["Scan"]["PageSize"]
    assert counters["kept"] == 2 * page  # the killed page of each segment
    assert counters["updated"] + counters["kept"] == N
    assert values.count("1001") == N - 4 * page  # the pages after the kill: once each
    (note,) = {s["M"]["operation"]["S"] for s in result.output["samples"]}
    assert note.startswith("kept: the application wrote it while an interrupted attempt")


def test_a_killed_item_collection_migration_writes_each_collection_once(engine, monkeypatch):
    """Each collection's transaction lands whole or not at all; the retried page recognises the
    ones that landed (every item as planned) and writes only the others."""
    from runner.collections import CollectionWriter
    from tests.functional.test_single_table import create_orders

    create_orders(engine.dynamodb, "Coll")
    items = [
        {"pk": {"S": f"c{c:02d}"}, "sk": {"S": f"i{i}"}, "n": {"N": str(c)}}
        for c in range(24)
        for i in range(3)
    ]
    load(engine.dynamodb, "Coll", items)
    kill = Kill(after=2)
    send = CollectionWriter._send
    monkeypatch.setattr(
        CollectionWriter,
        "_send",
        lambda self, actions: kill.write(self.applier, lambda _a, *r: send(self, *r), actions),
    )
    keep, commit = runner.worker._keep_images, History.commit_page

    def dead_or(original: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            if args[2] in kill.dead:
                kill.revive(args[2])
                raise killed()
            return original(*args, **kwargs)

        return call

    monkeypatch.setattr(runner.worker, "_keep_images", dead_or(keep))
    monkeypatch.setattr(History, "commit_page", dead_or(commit))

    def bump(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {
            "items": [
                [{**i, "n": {"N": str(int(i["n"]["N"]) + 100)}} for i in collection]
                for collection in event["items"]
            ]
        }

    fn = deploy_function("bump-collections", bump)
    spec = {
        "MigrationId": "bump-c",
        "TableName": "Coll",
        "Source": {"Scan": {"ItemCollections": True, "Segments": 2, "PageSize": 12}},
        "Up": {"Function": fn},
        "Down": {"Keep": {}},
    }
    result = engine.run(spec)
    assert result.status == "SUCCEEDED", result.message
    assert kill.done == {0, 1}  # each worker died in the middle of a page of collections
    after = engine.dynamodb.scan(TableName="Coll")["Items"]
    assert sorted(int(i["n"]["N"]) for i in after) == sorted(int(i["n"]["N"]) + 100 for i in items)
    assert result.output["counters"]["updated"] == len(items)
