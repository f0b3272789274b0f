"""Rollback without a hand-written Down: the Up's before-images put every item back exactly.

A migration whose `Down` is absent (or `{Restore: {}}`) keeps what each page replaced in the
emulator's S3 (runner.before_images); the rollback restores it (runner.restore) only where the
item still holds what the run wrote. Crashes on either side still end with every item exact.
"""

from __future__ import annotations

from typing import Any

from dynamigrate.history_view import as_dict
from dynamigrate.local.cloudformation.protocol import StackDriver
from dynamigrate.local.emulator import deploy_function
from dynamigrate.local.engine import ARTIFACTS_BUCKET
from runner.history import ROLLED_BACK, History
from runner.restore import Restorer
from tests.functional import transforms
from tests.functional.conftest import (
    create_table,
    custom_resource_properties,
    load,
    scan_all,
    up_noted,
)
from tests.functional.lifecycle_world import ledger

N = 40
PAGE = {"Scan": {"Segments": 2, "PageSize": 7}}  # several pages, and objects, per segment


def rich(i: int) -> dict[str, Any]:
    """An item of every kind of value that must survive the round trip exactly."""
    return {
        "pk": {"S": f"r{i:03d}"},
        "n": {"N": str(i)},
        "big": {"N": "9" * 37 + str(i % 10)},  # 38 digits
        "name": {"S": f"First{i} Last{i}"},
        "tags": {"SS": ["a", f"t{i}"]},
        "nums": {"NS": ["1", "0.000000000000000000000000000000000001"]},
        "raw": {"B": bytes([0, 255, i])},
        "blobs": {"BS": [b"\x00", bytes([i, 1])]},
        "doc": {
            "M": {"list": {"L": [{"N": "1"}, {"S": "x"}, {"NULL": True}]}, "ok": {"BOOL": True}}
        },
    }


def rich_table(app: Any, name: str = "Rich") -> dict[str, dict[str, Any]]:
    create_table(app.dynamodb, name)
    load(app.dynamodb, name, [rich(i) for i in range(N)])
    return scan_all(app.dynamodb, name)


def props(app: Any, mid: str, up: dict[str, Any], **extra: Any) -> dict[str, Any]:
    written = {"MigrationId": mid, "TableName": "Rich", "Up": up, "Source": PAGE, **extra}
    return custom_resource_properties(app, app.runner_arn, mid, written)


FAILS = {"Update": {"Expression": "SET x = absent + :one", "Values": {":one": 1}}}


def deploy_then_fail(app: Any, receiver: Any, applied: dict[str, Any]) -> StackDriver:
    """Create the migration, then one that fails: the stack rolls back, newest first."""
    stack = StackDriver("app", app.runner_arn, receiver)
    ok = stack.send("Create", "Applied", applied)
    assert ok["Status"] == "SUCCESS", ok["Reason"]
    broken = stack.send("Create", "Broken", props(app, "m2", FAILS, Down={"Keep": {}}))
    assert broken["Status"] == "FAILED"
    stack.status("ROLLBACK_IN_PROGRESS")
    assert stack.send("Delete", "Broken")["Status"] == "SUCCESS"
    return stack


def roll_back(stack: StackDriver) -> dict[str, Any]:
    undone = stack.send("Delete", "Applied")
    assert (undone["Status"], undone["Data"]["Status"]) == ("SUCCESS", ROLLED_BACK), undone
    return undone


def test_a_delete_without_down_is_restored_exactly_on_rollback(world):
    app, receiver = world
    before = rich_table(app)
    delete = {"Delete": {"Condition": "n < :half", "Values": {":half": N // 2}}}
    stack = deploy_then_fail(app, receiver, props(app, "m1", delete))
    assert len(scan_all(app.dynamodb, "Rich")) == N - N // 2
    undone = roll_back(stack)
    assert scan_all(app.dynamodb, "Rich") == before  # every deleted item back, byte for byte
    assert (undone["Data"]["Restored"], undone["Data"]["Kept"]) == (N // 2, 0)


def test_a_function_without_down_is_restored_exactly_on_rollback(world):
    app, receiver = world
    before = rich_table(app)
    arn = deploy_function("split-name", transforms.split_name)
    stack = deploy_then_fail(app, receiver, props(app, "m1", {"Function": arn}))
    after = scan_all(app.dynamodb, "Rich")
    assert len(after) == N - N // 10
    assert all("first" in i for i in after.values())
    roll_back(stack)
    assert scan_all(app.dynamodb, "Rich") == before  # split names joined, deleted items back


def test_an_item_the_application_changed_since_is_kept_counted_and_sampled(world):
    app, receiver = world
    before = rich_table(app)
    up = {"Update": {"Expression": "SET v = :one REMOVE tags", "Values": {":one": 1}}}
    stack = deploy_then_fail(app, receiver, props(app, "m1", up, Down={"Restore": {}}))
    app.dynamodb.update_item(  # the application writes after the run, before the rollback
        TableName="Rich",
        Key={"pk": {"S": "r007"}},
        UpdateExpression="SET v = :two",
        ExpressionAttributeValues={":two": {"N": "2"}},
    )
    undone = roll_back(stack)
    after = scan_all(app.dynamodb, "Rich")
    assert after["r007"]["v"] == {"N": "2"}
    assert "tags" not in after["r007"]
    assert {k: v for k, v in after.items() if k != "r007"} == {
        k: v for k, v in before.items() if k != "r007"
    }
    assert (undone["Data"]["Restored"], undone["Data"]["Kept"]) == (N - 1, 1)
    record = ledger(app).get("Rich", "m1").attributes
    assert record["counters"]["M"]["kept"] == {"N": "1"}
    (sample,) = as_dict(ledger(app).get("Rich", "m1"))["keptSamples"]  # as `history --json`
    assert sample["key"] == {"pk": {"S": "r007"}}
    assert sample["operation"] == "kept: the application changed it after the run"


def test_a_target_copy_is_undone_by_deleting_what_it_put_unless_changed(world):
    app, receiver = world
    before = rich_table(app)
    create_table(app.dynamodb, "RichV2", key="id")
    arn = deploy_function("rekey", transforms.rekey)
    written = props(app, "m1", {"Function": arn}, Target="RichV2")
    stack = deploy_then_fail(app, receiver, written)
    copied = scan_all(app.dynamodb, "RichV2", key="id")
    assert len(copied) == N - N // 10
    app.dynamodb.update_item(
        TableName="RichV2",
        Key={"id": {"S": "ORDER#r003"}},
        UpdateExpression="SET edited = :t",
        ExpressionAttributeValues={":t": {"BOOL": True}},
    )
    undone = roll_back(stack)
    assert list(scan_all(app.dynamodb, "RichV2", key="id")) == ["ORDER#r003"]
    assert scan_all(app.dynamodb, "Rich") == before  # the source was never written
    assert undone["Data"]["Kept"] == 1


def test_down_keep_keeps_the_changes_and_writes_no_before_images(world):
    app, receiver = world
    rich_table(app)
    up = {"Update": {"Expression": "SET v = :one", "Values": {":one": 1}}}
    stack = deploy_then_fail(app, receiver, props(app, "m1", up, Down={"Keep": {}}))
    kept = stack.send("Delete", "Applied")
    assert kept["Status"] == "SUCCESS"
    assert "its changes stay in place" in kept["Reason"]
    assert all(i["v"] == {"N": "1"} for i in scan_all(app.dynamodb, "Rich").values())
    assert app.s3.list_objects_v2(Bucket=ARTIFACTS_BUCKET).get("KeyCount", 0) == 0


# ---- crashes -------------------------------------------------------------------------------


def killed() -> Exception:
    """What the state machine sees of a worker whose runtime was killed (it retries it)."""
    return type("Sandbox.Timedout", (Exception,), {})("Task timed out")


COUNT_UP = {"Update": {"Expression": "ADD c :one SET v = :one", "Values": {":one": 1}}}


def test_a_worker_killed_after_its_before_images_and_before_its_checkpoint_restores_exactly(
    engine, monkeypatch
):
    before = rich_table(engine)
    commit = History.commit_page
    crashes: list[int] = []

    def crashing(self: History, run: Any, segment: int, progress: Any, *args: Any) -> Any:
        if run.direction == "up" and progress.pages == 1 and segment not in crashes:
            crashes.append(segment)  # the second page of each segment: written, not committed
            raise killed()
        return commit(self, run, segment, progress, *args)

    monkeypatch.setattr(History, "commit_page", crashing)
    spec = {"MigrationId": "m1", "TableName": "Rich", "Source": PAGE, "Up": COUNT_UP}
    up_noted(engine, spec)
    assert sorted(crashes) == [0, 1]
    # The pages re-run after the crash recognise their own writes (runner.journal): ADD once.
    assert all(i["c"] == {"N": "1"} for i in scan_all(engine.dynamodb, "Rich").values())
    down = engine.run(spec, run_id="down-1", direction="down")
    assert down.status == "SUCCEEDED", down.message
    assert scan_all(engine.dynamodb, "Rich") == before


def test_a_restore_interrupted_in_the_middle_resumes_and_ends_exact(engine, monkeypatch):
    before = rich_table(engine)
    spec = {"MigrationId": "m1", "TableName": "Rich", "Source": PAGE, "Up": {"Delete": {}}}
    up_noted(engine, spec)
    assert scan_all(engine.dynamodb, "Rich") == {}
    restore = Restorer.restore
    calls: list[int] = []

    def interrupted(self: Restorer, image: Any) -> Any:
        calls.append(1)
        if len(calls) == 10:  # in the middle of the second object of a segment
            raise killed()
        return restore(self, image)

    monkeypatch.setattr(Restorer, "restore", interrupted)
    down = engine.run(spec, run_id="down-1", direction="down")
    assert down.status == "SUCCEEDED", down.message
    assert len(calls) > N  # some items were restored twice: once before, once after the crash
    assert scan_all(engine.dynamodb, "Rich") == before
    assert down.output["counters"]["restored"] == N
    assert down.output["counters"]["kept"] == 0
