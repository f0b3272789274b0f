"""Safety: no lost concurrent write, no type loss, resume, dry run, bad input."""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from typing import Any

import boto3

from dynamigrate.local import emulator
from dynamigrate.local.emulator import deploy_function
from runner import operations
from runner.credentials import DataClient
from tests.functional.conftest import create_table, load, scan_all


def numbered(n: int, **extra: Any) -> list[dict[str, Any]]:
    return [
        {"pk": {"S": f"i{i:05d}"}, "n": {"N": str(i)}, "v": {"N": "0"}, **extra} for i in range(n)
    ]


def test_concurrent_application_writes_are_never_lost(engine):
    """While a Function rewrites `v` the application keeps incrementing it: no increment is lost."""
    n = 1500
    create_table(engine.dynamodb, "Live")
    load(engine.dynamodb, "Live", numbered(n))
    app = boto3.client("dynamodb")
    increments: Counter[str] = Counter()
    lock = threading.Lock()

    def app_write(pk: str) -> None:
        app.update_item(
            TableName="Live",
            Key={"pk": {"S": pk}},
            UpdateExpression="ADD v :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
        with lock:
            increments[pk] += 1

    def plus_thousand(event, context):
        out = []
        for item in event["items"]:
            if "migrated" in item:
                out.append(item)
                continue
            pk = item["pk"]["S"]
            if int(item["n"]["N"]) % 50 == 0 and pk not in forced:
                forced.add(pk)  # an application write lands between our read and our write
                app_write(pk)
            out.append(
                {**item, "v": {"N": str(int(item["v"]["N"]) + 1000)}, "migrated": {"BOOL": True}}
            )
        return {"items": out}

    forced: set[str] = set()
    stop = threading.Event()

    def background() -> None:
        rng = random.Random(7)
        while not stop.is_set():
            app_write(f"i{rng.randrange(n):05d}")

    writer = threading.Thread(target=background)
    fn = deploy_function("plus-thousand", plus_thousand)
    spec = {
        "MigrationId": "plus-thousand",
        "TableName": "Live",
        "Up": {"Function": fn},
        "Source": {"Scan": {"Segments": 4, "PageSize": 100}},
    }
    writer.start()
    try:
        result = engine.run(spec)
    finally:
        stop.set()
        writer.join()
    assert result.status == "SUCCEEDED", result.cause
    items = scan_all(engine.dynamodb, "Live")
    for i in range(n):
        pk = f"i{i:05d}"
        assert items[pk]["v"] == {"N": str(1000 + increments[pk])}, pk
    assert len(forced) == n // 50
    assert result.output["counters"]["conflicts"] >= len(forced)
    assert result.output["counters"]["updated"] == n
    assert sum(increments.values()) > len(forced)


EXOTIC = {
    "pk": {"S": "exotic"},
    "n": {"N": "1"},
    "big": {"N": "12345678901234567890123456789012345678"},
    "tiny": {"N": "-0.00000000000000000000000000000000000001"},
    "blob": {"B": b"\x00\x01\xfe\xff"},
    "strings": {"SS": ["a", "b", "ü"]},
    "numbers": {"NS": ["1", "99999999999999999999999999999999999999"]},
    "blobs": {"BS": [b"\x00", b"\xff"]},
    "nested": {
        "M": {
            "l": {"L": [{"M": {"deep": {"B": b"\x10"}}}, {"NULL": True}, {"BOOL": False}]},
            "empty": {"S": ""},
        }
    },
    "empty": {"S": ""},
}


def normalize_sets(item: dict[str, Any]) -> dict[str, Any]:
    """Sets come back in any order."""
    return {
        k: sorted(v[t]) if (t := next(iter(v))) in ("SS", "NS", "BS") else v
        for k, v in item.items()
    }


def test_types_survive_a_function_round_trip(engine):
    create_table(engine.dynamodb, "Types")
    load(engine.dynamodb, "Types", [EXOTIC, {"pk": {"S": "plain"}, "n": {"N": "2"}}])

    def tag(event, context):
        return {"items": [{**item, "tagged": {"BOOL": True}} for item in event["items"]]}

    fn = deploy_function("tag", tag)
    result = engine.run({"MigrationId": "tag", "TableName": "Types", "Up": {"Function": fn}})
    assert result.status == "SUCCEEDED", result.cause
    after = engine.dynamodb.get_item(TableName="Types", Key={"pk": {"S": "exotic"}})["Item"]
    assert after.pop("tagged") == {"BOOL": True}

    def normalize(item):
        return {
            k: (sorted(v[next(iter(v))]) if next(iter(v)) in ("SS", "NS", "BS") else v)
            for k, v in item.items()
        }

    assert normalize(after) == normalize(EXOTIC)
    assert result.output["counters"]["updated"] == 2


def test_a_page_larger_than_lambdas_payload_quota_reaches_the_function_in_parts(
    engine, monkeypatch
):
    """A page of small numbers grows about twelvefold as DynamoDB JSON: past Lambda's payload
    quota, the worker sends it in requests that fit (the emulator refuses larger ones, as Lambda
    does). The quota and the worker's share of it are scaled down together, 6 MB to 256 KB."""
    monkeypatch.setattr(emulator, "MAX_PAYLOAD_BYTES", 256 * 1024)
    monkeypatch.setattr(operations, "MAX_FUNCTION_REQUEST_BYTES", 128 * 1024)
    create_table(engine.dynamodb, "Big")
    numbers = {"L": [{"N": "7"}] * 2000}
    load(engine.dynamodb, "Big", [{"pk": {"S": f"k{i:02d}"}, "nums": numbers} for i in range(20)])
    sizes: list[int] = []

    def count(event, context):
        sizes.append(len(json.dumps(event)))
        items = event["items"]
        return {"items": [{**item, "count": {"N": str(len(item["nums"]["L"]))}} for item in items]}

    fn = deploy_function("count", count)
    result = engine.run({"MigrationId": "count", "TableName": "Big", "Up": {"Function": fn}})
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["counters"]["updated"] == 20
    assert len(sizes) > 2
    assert max(sizes) < emulator.MAX_PAYLOAD_BYTES
    items = scan_all(engine.dynamodb, "Big")
    assert {i["count"]["N"] for i in items.values()} == {"2000"}


def test_a_failed_run_resumes_from_each_segments_checkpoint(engine):
    n, page, segments = 2000, 100, 4
    create_table(engine.dynamodb, "Resume")
    load(engine.dynamodb, "Resume", numbered(n))
    seen: Counter[str] = Counter()
    calls = {"count": 0, "fail_at": 7}
    lock = threading.Lock()

    def flaky(event, context):
        with lock:
            calls["count"] += 1
            for item in event["items"]:  # the function sees the page, then fails
                seen[item["pk"]["S"]] += 1
            if calls["count"] == calls["fail_at"]:
                raise RuntimeError("boom in the middle of a segment")
        return {"items": [{**i, "done": {"BOOL": True}} for i in event["items"]]}

    fn = deploy_function("flaky", flaky)
    spec = {
        "MigrationId": "resume",
        "TableName": "Resume",
        "Up": {"Function": fn},
        "Source": {"Scan": {"Segments": segments, "PageSize": page}},
    }
    first = engine.run(spec, run_id="run-1", budget_seconds=0)
    assert first.status == "FAILED"
    assert first.error == "MigrationFailed"
    assert "RuntimeError: boom in the middle of a segment" in first.cause
    assert "Migration resume (up) failed" in first.cause
    calls["fail_at"] = -1
    second = engine.run(spec, run_id="run-1", budget_seconds=0)
    assert second.status == "SUCCEEDED", second.cause
    items = scan_all(engine.dynamodb, "Resume")
    assert all(item.get("done") == {"BOOL": True} for item in items.values())
    # Only the page in flight when the run failed was handed to the function again: by the
    # bisection that looks for the item the call failed on (its halves, once each), and by
    # the resume.
    twice = [pk for pk, times in seen.items() if times > 1]
    assert len(seen) == n
    assert len(twice) == page, len(twice)
    assert max(seen.values()) <= 3
    # Counters were committed once per page: both runs together count every item exactly once.
    assert second.output["counters"]["matched"] == n
    assert second.output["counters"]["updated"] == n


def test_dry_run_writes_nothing_and_counts_what_would_change(engine):
    create_table(engine.dynamodb, "Dry")
    items = numbered(600)
    for item in items[::3]:
        item["status"] = {"S": "DONE"}
    load(engine.dynamodb, "Dry", items)
    before = scan_all(engine.dynamodb, "Dry")
    update = {
        "MigrationId": "dry-update",
        "TableName": "Dry",
        "Source": {"Scan": {"Segments": 4, "PageSize": 50}},
        "Up": {
            "Update": {
                "Expression": "SET #s = :p",
                "Condition": "attribute_not_exists(#s)",
                "Names": {"#s": "status"},
                "Values": {":p": "PENDING"},
            }
        },
    }
    result = engine.run(update, dry_run=True)
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["dryRun"] is True
    assert result.output["counters"]["updated"] == 400
    assert len(result.output["samples"]) == 10
    sample = result.output["samples"][0]["M"]
    assert "attribute_not_exists" not in sample["operation"]["S"]
    assert "status" not in sample["before"]["M"]

    def halve(event, context):
        return {
            "items": [
                None if int(i["n"]["N"]) % 2 else {**i, "half": {"BOOL": True}}
                for i in event["items"]
            ]
        }

    fn = deploy_function("halve", halve)
    result = engine.run(
        {"MigrationId": "dry-fn", "TableName": "Dry", "Up": {"Function": fn}}, dry_run=True
    )
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["counters"] == {
        "scanned": 600,
        "matched": 600,
        "updated": 300,
        "deleted": 300,
        "created": 0,
        "unchanged": 0,
        "conflicts": 0,
        "failed": 0,
    }
    sample = result.output["samples"][0]["M"]
    assert set(sample) == {"key", "before", "after"}
    assert scan_all(engine.dynamodb, "Dry") == before


def test_an_expression_dynamodb_rejects_fails_the_run_with_its_reason(engine):
    create_table(engine.dynamodb, "Bad")
    load(engine.dynamodb, "Bad", numbered(50))
    spec = {
        "MigrationId": "bad-expression",
        "TableName": "Bad",
        "Up": {"Update": {"Expression": "SET #s = :undefined", "Names": {"#s": "status"}}},
    }
    result = engine.run(spec)
    assert result.status == "FAILED"
    assert result.error == "MigrationFailed"
    assert "Migration bad-expression: DynamoDB rejected the Update" in result.cause
    assert ":undefined" in result.cause


def test_a_failed_run_counts_what_it_wrote_and_names_the_item_dynamodb_refused(engine):
    """An Update that cannot apply to one item (arithmetic on an attribute it lacks) fails the
    run; the other items of the page were written, and the run's counters say so."""
    from runner.history import History, RunRef

    create_table(engine.dynamodb, "Partly")
    items = numbered(50)
    del items[40]["n"]  # the 41st item lacks the attribute the expression adds to
    load(engine.dynamodb, "Partly", items)
    spec = {
        "MigrationId": "partly",
        "TableName": "Partly",
        "Source": {"Scan": {"Segments": 1}},
        "Up": {"Update": {"Expression": "SET m = n + :one", "Values": {":one": 1}}},
    }
    result = engine.run(spec, run_id="partly-run")
    assert result.status == "FAILED"
    assert (
        'Migration partly: DynamoDB rejected the Update of {"pk": {"S": "i00040"}} (The '
        "provided expression refers to an attribute that does not exist in the item)"
    ) in str(result.message)
    written = [i for i in scan_all(engine.dynamodb, "Partly").values() if "m" in i]
    assert len(written) == 49
    totals = History(engine.dynamodb, "dynamigrate-history").run_totals(
        RunRef("Partly", "partly", "up", "partly-run")
    )
    assert totals.counters["updated"] == 49
    assert totals.counters["scanned"] == 50
    assert totals.segments_done == 0
    # fixed and resumed: the failed page runs again, and its partial count is replaced, not added;
    # the 49 items it wrote before failing are recognised as this run's writes (runner.journal):
    # no write now, and each counted once, as updated
    engine.dynamodb.put_item(TableName="Partly", Item={**items[40], "n": {"N": "40"}})
    assert engine.run(spec, run_id="partly-run").status == "SUCCEEDED"
    totals = History(engine.dynamodb, "dynamigrate-history").run_totals(
        RunRef("Partly", "partly", "up", "partly-run")
    )
    assert (totals.counters["updated"], totals.counters["unchanged"]) == (50, 0)
    assert totals.counters["scanned"] == 50


def test_a_function_that_raises_fails_the_run_naming_the_item_it_failed_on(engine):
    create_table(engine.dynamodb, "Raises")
    items = numbered(30)
    for item in items:
        item["qty"] = {"N": "2"}
    del items[17]["qty"]
    load(engine.dynamodb, "Raises", items)

    def double(event, context):
        return {"items": [{**i, "qty": {"N": str(2 * int(i["qty"]["N"]))}} for i in event["items"]]}

    fn = deploy_function("raises", double)
    spec = {"MigrationId": "raises", "TableName": "Raises", "Up": {"Function": fn}}
    result = engine.run({**spec, "Source": {"Scan": {"Segments": 1}}})
    assert result.status == "FAILED"
    assert (
        f'Migration raises: the transform function {fn} failed on {{"pk": {{"S": "i00017"}}}}: '
        "KeyError: 'qty'"
    ) in str(result.message)


def test_a_function_returning_the_wrong_length_fails_the_run(engine):
    create_table(engine.dynamodb, "Short")
    load(engine.dynamodb, "Short", numbered(30))
    fn = deploy_function("short", lambda event, context: {"items": event["items"][:-1]})
    result = engine.run(
        {
            "MigrationId": "short-fn",
            "TableName": "Short",
            "Up": {"Function": fn},
            "Source": {"Scan": {"Segments": 1}},
        }
    )
    assert result.status == "FAILED"
    assert result.message == (
        "Migration short-fn (up) failed: segment#000000: MigrationError: Migration short-fn: the "
        "function returned 29 items for 30; it must return one result (an item, null or a list "
        "of items) per input item, in order; 1 of 1 segments did not finish"
    )
    assert all("v" in i for i in scan_all(engine.dynamodb, "Short").values())


def test_a_crashing_function_fails_the_run_with_its_error(engine):
    create_table(engine.dynamodb, "Crash")
    load(engine.dynamodb, "Crash", numbered(5))

    def crash(event, context):
        raise KeyError("price")

    fn = deploy_function("crash", crash)
    result = engine.run({"MigrationId": "crash-fn", "TableName": "Crash", "Up": {"Function": fn}})
    assert result.status == "FAILED"
    assert f"Migration crash-fn: the transform function {fn} failed on " in result.cause
    assert "KeyError: 'price'" in result.cause


def test_the_worker_works_with_the_migrations_own_data_role(engine):
    """On AWS the worker assumes the nested stack's data role; here too, through STS."""
    from runner.handlers import worker as worker_handler

    create_table(engine.dynamodb, "Scoped")
    load(engine.dynamodb, "Scoped", numbered(40))
    role = boto3.client("iam").create_role(
        RoleName="scoped-data", Path="/dynamigrate/", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    worker_handler._sessions.clear()
    spec = {
        "MigrationId": "scoped",
        "TableName": "Scoped",
        "Up": {"Update": {"Expression": "SET v = :one", "Values": {":one": 1}}},
    }
    result = engine.run(spec, data_role_arn=role)
    assert result.status == "SUCCEEDED", result.message
    assert result.output["counters"]["updated"] == 40
    assert set(worker_handler._sessions) == {role}
    assert {"session", "dynamodb"} <= set(worker_handler._sessions[role][1])
    # Its clients take a refusal for a role not yet in force (runner.credentials).
    assert isinstance(worker_handler._sessions[role][1]["dynamodb"], DataClient)
    # The role's session parses no model of its own: it shares the worker's loader.
    loader = worker_handler._own_session()._session.get_component("data_loader")
    assert worker_handler._sessions[role][1]["session"]._session.get_component("data_loader") is (
        loader
    )
