"""The worker's page loop, budget and checkpoints, against an in-memory fake client (no I/O)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from runner.errors import MigrationError, MigrationFailed
from runner.history import History, RunRef
from runner.planning import ITEMS_PER_SEGMENT
from runner.worker import WorkRequest, plan_run, run_segment, summarize

SPEC = {
    "MigrationId": "m1",
    "TableName": "Orders",
    "Source": {"Scan": {"Segments": 2, "PageSize": 2}},
    "Up": {"Update": {"Expression": "SET #s = :p", "Names": {"#s": "status"}, "Values": {":p": 1}}},
}


class FakeClient:
    """Pages of a table, a history table as a dict, and a log of writes."""

    def __init__(self, items: int) -> None:
        self.items = [{"pk": {"S": f"k{i}"}} for i in range(items)]
        self.history: dict[tuple[str, str], dict[str, Any]] = {}
        self.updates: list[dict[str, Any]] = []
        self.scans: list[dict[str, Any]] = []

    def describe_table(self, TableName: str) -> dict[str, Any]:
        return {
            "Table": {
                "TableName": TableName,
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
                "WarmThroughput": {"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000},
            }
        }

    def scan(self, **kw: Any) -> dict[str, Any]:
        self.scans.append(kw)
        start = int(kw.get("ExclusiveStartKey", {"pk": {"S": "k-1"}})["pk"]["S"][1:]) + 1
        page = self.items[start : start + kw["Limit"]]
        resp: dict[str, Any] = {"Items": page, "ScannedCount": len(page)}
        if kw.get("ReturnConsumedCapacity") == "TOTAL":  # an eventually consistent page: half
            resp["ConsumedCapacity"] = {"TableName": kw["TableName"], "CapacityUnits": 0.5}
        if start + kw["Limit"] < len(self.items):
            resp["LastEvaluatedKey"] = page[-1]
        return resp

    def get_item(self, TableName: str, Key: dict[str, Any], **kw: Any) -> dict[str, Any]:
        item = self.history.get((Key["pk"]["S"], Key["sk"]["S"]))
        return {"Item": item} if item else {}

    def update_item(self, TableName: str, Key: dict[str, Any], **kw: Any) -> dict[str, Any]:
        if TableName == "History" and Key["sk"]["S"] == "pace":
            return {"Attributes": self._pace(Key, kw)}
        if TableName == "History":
            item = self.history.setdefault((Key["pk"]["S"], Key["sk"]["S"]), dict(Key))
            values = kw["ExpressionAttributeValues"]
            if ":key" in values:
                item["checkpoint"] = values[":key"]
            if ":done" in values:
                item["done"] = values[":done"]
                item["pages"] = {"N": str(int(item.get("pages", {"N": "0"})["N"]) + 1)}
                item["scanned"] = {
                    "N": str(
                        int(item.get("scanned", {"N": "0"})["N"])
                        + int(values.get(":scanned", {"N": "0"})["N"])
                    )
                }
            if ":e" in values:
                item["lastError"] = values[":e"]
        else:
            self.updates.append(Key)
            if kw.get("ReturnConsumedCapacity") == "TOTAL":
                return {"ConsumedCapacity": {"TableName": TableName, "CapacityUnits": 1.0}}
        return {}

    def _pace(self, key: dict[str, Any], kw: dict[str, Any]) -> dict[str, Any]:
        """The run's pace record: SET `#name = :value` pairs (runner.pace_store)."""
        item = self.history.setdefault((key["pk"]["S"], key["sk"]["S"]), dict(key))
        names, values = kw["ExpressionAttributeNames"], kw["ExpressionAttributeValues"]
        sets = kw["UpdateExpression"].split(" ADD ")[0].split(" REMOVE ")[0][4:]
        for part in sets.split(", "):
            name, value = part.split(" = ")
            item[names.get(name, name)] = values[value]
        return item

    def query(self, **kw: Any) -> dict[str, Any]:
        pk = kw["ExpressionAttributeValues"][":pk"]["S"]
        return {"Items": [v for (p, _), v in sorted(self.history.items()) if p == pk]}


class Clock:
    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def request(**kw: Any) -> WorkRequest:
    return WorkRequest.from_event(
        {"spec": SPEC, "runId": "r1", "segment": 0, "totalSegments": 2, "concurrency": 1, **kw}
    )


def run(client: FakeClient, req: WorkRequest, clock: Clock) -> dict[str, Any]:
    return run_segment(
        req,
        client,
        History(client, "History"),
        invoke=lambda f, r: r,
        remaining_seconds=lambda: 900.0,
        clock=clock,
    )


def test_pages_stop_when_the_next_would_not_fit_the_budget():
    client = FakeClient(10)
    out = run(client, request(budgetSeconds=5), Clock(step=1.0))
    # each clock read advances 1 s: pages end at t=3, 5, 7; a 4th (1 s) would end past t=1+5
    assert out == {
        "segment": 0,
        "done": False,
        "pages": 3,
        # what DynamoDB reported: 3 pages at 0.5 read units, 6 updates at 1 write unit
        "counters": {
            **{"scanned": 6, "matched": 6, "updated": 6},
            **{"readUnits": 1.5, "writeUnits": 6.0, "throttles": 0.0},
        },
    }
    assert len(client.updates) == 6
    assert (client.scans[0]["Segment"], client.scans[0]["TotalSegments"]) == (0, 2)


def test_a_rerun_resumes_after_the_last_committed_page():
    client = FakeClient(10)
    run(client, request(budgetSeconds=5), Clock(step=1.0))
    out = run(client, request(budgetSeconds=600), Clock(step=1.0))
    assert out == {
        "segment": 0,
        "done": True,
        "pages": 2,
        "counters": {
            **{"scanned": 4, "matched": 4, "updated": 4},
            **{"readUnits": 1.0, "writeUnits": 4.0, "throttles": 0.0},
        },
    }
    assert client.scans[3]["ExclusiveStartKey"] == {"pk": {"S": "k5"}}
    assert [k["pk"]["S"] for k in client.updates] == [f"k{i}" for i in range(10)]
    assert run(client, request(), Clock(step=1.0)) == {
        "segment": 0,
        "done": True,
        "pages": 0,
        "counters": {},
    }


def test_the_remaining_lambda_time_caps_the_budget():
    client = FakeClient(10)
    out = run_segment(
        request(budgetSeconds=600),
        client,
        History(client, "History"),
        invoke=lambda f, r: r,
        remaining_seconds=lambda: 12.0,
        clock=Clock(1.0),
    )
    assert out["pages"] == 1  # 12 s left minus the 10 s margin: one page, then stop


def test_an_error_is_recorded_on_the_segment_and_raised():
    client = FakeClient(4)
    bad = {**SPEC, "Up": {"Update": {"Expression": "SET a = :v", "Values": {":v": object()}}}}
    req = WorkRequest.from_event({"spec": bad, "runId": "r1", "segment": 1, "totalSegments": 2})
    with pytest.raises(MigrationError, match="Migration m1: bad expression value"):
        run(client, req, Clock(1.0))
    run_ref = RunRef("Orders", "m1", "up", "r1")
    error = client.history[(run_ref.pk, "segment#000001")]["lastError"]["S"]
    assert error.startswith("MigrationError: Migration m1: bad expression value")


def test_summarize_fails_while_a_segment_is_unfinished():
    client = FakeClient(10)
    run(client, request(budgetSeconds=600), Clock(1.0))
    run_ref = RunRef("Orders", "m1", "up", "r1")
    with pytest.raises(MigrationFailed, match=r"1 of 2 segments did not finish"):
        summarize(History(client, "History"), run_ref, total_segments=2)
    run(client, request(segment=1), Clock(1.0))
    assert summarize(History(client, "History"), run_ref, 2)["counters"]["scanned"] == 20


@pytest.mark.parametrize(
    ("knobs", "total", "share"),
    [
        ({}, 4, None),
        ({"MaxWritesPerSecond": 100}, 4, 25),
        ({"MaxWritesPerSecond": 100, "MaxConcurrency": 2}, 8, 50),
    ],
)
def test_each_worker_takes_its_share_of_the_write_limit(knobs, total, share):
    event = {"spec": {**SPEC, **knobs}, "runId": "r1", "segment": 0, "totalSegments": total}
    assert WorkRequest.from_event(event).writes_per_second == share


class PlanHistory:
    """fix_segments as the history table does it: the first proposal wins."""

    def __init__(self) -> None:
        self.fixed: int | None = None

    def fix_segments(self, run: RunRef, proposed: int) -> int:
        self.fixed = proposed if self.fixed is None else self.fixed
        return self.fixed


class SizedTable:
    def __init__(self, items: int = 0, error: str | None = None) -> None:
        self.items, self.error = items, error

    def describe_table(self, TableName: str) -> dict[str, Any]:
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "no"}}, "DescribeTable")
        return {"Table": {"ItemCount": self.items, "TableSizeBytes": self.items * 100}}


def test_a_plan_sizes_the_run_once_and_keeps_it():
    history = PlanHistory()
    first = plan_run(request(), SizedTable(2 * ITEMS_PER_SEGMENT + 1), history)  # type: ignore[arg-type]
    assert first == {"segments": [0, 1, 2], "totalSegments": 3}
    again = plan_run(request(), SizedTable(10), history)  # type: ignore[arg-type]
    assert again == first


def test_a_plan_names_the_table_it_cannot_describe():
    with pytest.raises(MigrationError, match="m1: cannot size the run from table Orders"):
        plan_run(request(), SizedTable(error="ResourceNotFoundException"), PlanHistory())  # type: ignore[arg-type]


def test_function_requests_stay_within_lambdas_payload_quota():
    """A 1 MB page can be about 12 MB as DynamoDB JSON; each request holds at most 3 MB of it,
    so a reply twice as large as its request still fits Lambda's 6 MB."""
    from runner.operations import MAX_FUNCTION_REQUEST_BYTES, request_batches

    item = {"pk": {"S": "k"}, "nums": {"L": [{"N": "7"}] * 30000}}  # about 360 KB of JSON
    wired = [{**item, "pk": {"S": f"k{i}"}} for i in range(33)]
    batches = request_batches(wired)
    assert MAX_FUNCTION_REQUEST_BYTES * 2 <= 6 * 1024 * 1024
    assert all(len(json.dumps(b)) < MAX_FUNCTION_REQUEST_BYTES for _, b in batches)
    assert [i for _, b in batches for i in b] == wired  # every item, once, in order
    assert [start for start, _ in batches] == [
        sum(len(b) for _, b in batches[:n]) for n in range(len(batches))
    ]
    huge = {"pk": {"S": "alone"}, "blob": {"S": "x" * 4_000_000}}
    assert [len(b) for _, b in request_batches([wired[0], huge, wired[1]])] == [1, 1, 1]
