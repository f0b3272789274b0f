"""History table access shared by the worker, the runner and the CLI: runs' progress.

Key schema: `pk` (S) and `sk` (S). Migration records and stacks' operations: runner.ledger.
- a run's segment progress: pk `run#<table>#<migration>#<direction>[-dry]#<run id>`,
  sk `segment#<000007>`; one item per segment so parallel segments never contend on one item;
- a run's plan: the same pk, sk `plan` (the segment count its first Plan step chose).

Every write is conditional (a run's plan: first writer wins); AWS errors are translated here
and chained.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from runner.attrs import Item
from runner.errors import ConcurrentRunError, HistoryError
from runner.rate import holding_line

if TYPE_CHECKING:  # the stubs are a dev dependency only, as in Powertools
    from mypy_boto3_dynamodb import DynamoDBClient

PENDING, RUNNING, SUCCEEDED, FAILED = "PENDING", "RUNNING", "SUCCEEDED", "FAILED"
ROLLING_BACK, ROLLED_BACK = "ROLLING_BACK", "ROLLED_BACK"

COUNTERS = (
    "scanned",
    "matched",
    "created",
    "updated",
    "deleted",
    "unchanged",
    "conflicts",
    "failed",
)
RESTORE_COUNTERS = ("restored", "kept")  # a Down run restoring before-images (runner.restore)
MAX_SAMPLES = 10


@dataclass(frozen=True)
class RunRef:
    """Identifies one run of one migration in one direction."""

    table: str
    migration_id: str
    direction: str
    run_id: str
    dry_run: bool = False

    @property
    def pk(self) -> str:
        mode = f"{self.direction}-dry" if self.dry_run else self.direction
        return f"run#{self.table}#{self.migration_id}#{mode}#{self.run_id}"


SEGMENT_PREFIX = "segment#"
PLAN_SK = "plan"


def segment_sk(segment: int) -> str:
    return f"{SEGMENT_PREFIX}{segment:06d}"


@dataclass
class SegmentProgress:
    checkpoint: Item | None = None
    done: bool = False
    pages: int = 0
    samples: int = 0


@dataclass
class RunTotals:
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    segments_done: int = 0
    segments_seen: int = 0
    pages: int = 0
    errors: list[str] = field(default_factory=list)
    samples: list[Any] = field(default_factory=list)
    pacing: dict[str, Any] = field(default_factory=dict)  # the run's pace (runner.pace_store)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # RUN_RECORDS items by sk


def _translate(exc: ClientError, what: str) -> HistoryError:
    code = exc.response.get("Error", {}).get("Code", "Unknown")
    return HistoryError(f"history table: {what} failed ({code}: {exc})")


class History:
    """One history table, through an injected low-level DynamoDB client."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self.client = client
        self.table_name = table_name

    def load_segment(self, run: RunRef, segment: int) -> SegmentProgress:
        try:
            resp = self.client.get_item(
                TableName=self.table_name,
                Key={"pk": {"S": run.pk}, "sk": {"S": segment_sk(segment)}},
                ConsistentRead=True,
            )
        except ClientError as exc:
            raise _translate(exc, "reading a segment checkpoint") from exc
        item = resp.get("Item")
        if not item:
            return SegmentProgress()
        checkpoint = item.get("checkpoint", {}).get("M")
        return SegmentProgress(
            checkpoint=dict(checkpoint) if checkpoint else None,
            done=item.get("done", {}).get("BOOL", False),
            pages=int(item.get("pages", {}).get("N", "0")),
            samples=len(item.get("samples", {}).get("L", [])),
        )

    def fix_segments(self, run: RunRef, proposed: int) -> int:
        """The run's segment count: `proposed` if this is its first plan, else the one recorded."""
        try:
            resp = self.client.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": run.pk}, "sk": {"S": PLAN_SK}},
                UpdateExpression="SET #n = if_not_exists(#n, :n), "
                "plannedAt = if_not_exists(plannedAt, :now)",
                ExpressionAttributeNames={"#n": "totalSegments"},
                ExpressionAttributeValues={
                    ":n": {"N": str(proposed)},
                    ":now": {"N": str(int(time.time()))},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            raise _translate(exc, "recording the run's plan") from exc
        return int(resp["Attributes"]["totalSegments"]["N"])

    def commit_page(
        self,
        run: RunRef,
        segment: int,
        progress: SegmentProgress,
        next_key: Item | None,
        counters: dict[str, int],
        samples: list[dict[str, Any]],
    ) -> SegmentProgress:
        """Record one processed page atomically: checkpoint, done flag and counter increments.

        Conditioned on the page count read at the start, so two workers on one segment cannot both
        commit the same page.
        """
        values: dict[str, Any] = {
            ":pages": {"N": str(progress.pages)},
            ":one": {"N": "1"},
            ":done": {"BOOL": next_key is None},
            ":now": {"N": str(int(time.time()))},
        }
        sets = ["done = :done", "updatedAt = :now"]
        if next_key is None:
            sets.append("checkpoint = :nullmap")
            values[":nullmap"] = {"M": {}}
        else:
            sets.append("checkpoint = :key")
            values[":key"] = {"M": next_key}
        kept = samples[: max(0, MAX_SAMPLES - progress.samples)]
        if kept:
            sets.append("samples = list_append(if_not_exists(samples, :empty), :samples)")
            values[":empty"] = {"L": []}
            values[":samples"] = {"L": kept}
        adds = ["pages :one"]
        for name in COUNTERS + RESTORE_COUNTERS:
            if counters.get(name):
                adds.append(f"{name} :{name}")
                values[f":{name}"] = {"N": str(counters[name])}
        condition = "attribute_not_exists(pages) OR pages = :pages"
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": run.pk}, "sk": {"S": segment_sk(segment)}},
                UpdateExpression="SET "
                + ", ".join(sets)
                + " ADD "
                + ", ".join(adds)
                + " REMOVE failedPage",
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise ConcurrentRunError(
                    f"segment {segment} of {run.migration_id} was advanced by another worker"
                ) from exc
            raise _translate(exc, "committing a page") from exc
        return SegmentProgress(
            checkpoint=next_key,
            done=next_key is None,
            pages=progress.pages + 1,
            samples=progress.samples + len(kept),
        )

    def note_failed_page(
        self, run: RunRef, segment: int, progress: SegmentProgress, counters: dict[str, int]
    ) -> None:
        """What a page that failed part-way wrote, counted in the run's totals until the page is
        processed again and committed (which replaces it); the checkpoint stays before it."""
        failed = {name: {"N": str(counters.get(name, 0))} for name in COUNTERS}
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": run.pk}, "sk": {"S": segment_sk(segment)}},
                UpdateExpression="SET failedPage = :failed, updatedAt = :now",
                ConditionExpression="attribute_not_exists(pages) OR pages = :pages",
                ExpressionAttributeValues={
                    ":failed": {"M": failed},
                    ":now": {"N": str(int(time.time()))},
                    ":pages": {"N": str(progress.pages)},
                },
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return  # another worker moved the segment on: its counts are the ones that hold
            raise _translate(exc, "recording a failed page") from exc

    def record_error(self, run: RunRef, segment: int, message: str) -> None:
        """Note why a segment stopped; a segment that finished meanwhile keeps no error."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": run.pk}, "sk": {"S": segment_sk(segment)}},
                UpdateExpression="SET lastError = :e, updatedAt = :now",
                ConditionExpression="attribute_not_exists(done) OR done = :false",
                ExpressionAttributeValues={
                    ":e": {"S": message[:2000]},
                    ":now": {"N": str(int(time.time()))},
                    ":false": {"BOOL": False},
                },
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return
            raise _translate(exc, "recording an error") from exc

    def _items(self, what: str, **request: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paginated Query (with a key condition) or Scan, strongly consistent."""
        call = self.client.query if "KeyConditionExpression" in request else self.client.scan
        kwargs: dict[str, Any] = {"TableName": self.table_name, "ConsistentRead": True, **request}
        while True:
            try:
                resp = call(**kwargs)
            except ClientError as exc:
                raise _translate(exc, what) from exc
            yield from resp.get("Items", [])
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def run_totals(self, run: RunRef) -> RunTotals:
        """Sum the counters of every segment of a run (strongly consistent), and its pace: the
        same Query reads the run's `pace` record, so showing it costs no request."""
        totals = RunTotals()
        for item in self._items(
            "summing run progress",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": run.pk}},
        ):
            sk = item.get("sk", {}).get("S", "")
            if sk.startswith(SEGMENT_PREFIX):
                _add_segment(totals, item)
            elif sk == PACE_SK:
                totals.pacing = _pacing(item)
            elif sk in RUN_RECORDS:
                totals.records[sk] = item
        return totals


PACE_SK = "pace"
# A run's written-once records that its history shows (runner.run_records reads them).
RUN_RECORDS = frozenset({"restore-point", "verification"})


def _pacing(item: dict[str, Any]) -> dict[str, Any]:
    """The pace record as users read it: the line that says the rate and why, and throttles."""

    def number(name: str) -> float:
        return float(item.get(name, {}).get("N", "0"))

    line = holding_line(number("write"), number("read"), item.get("reason", {}).get("S", ""))
    return {"pacing": line, "throttles": int(number("throttles")), "rate": number("write")}


def _add_segment(totals: RunTotals, item: dict[str, Any]) -> None:
    totals.segments_seen += 1
    failed_page = item.get("failedPage", {}).get("M", {})  # a page's writes before it failed
    for name in COUNTERS:
        totals.counters[name] += int(item.get(name, {}).get("N", "0"))
        totals.counters[name] += int(failed_page.get(name, {}).get("N", "0"))
    if any(name in item for name in RESTORE_COUNTERS):  # only a restoring Down has them
        for name in RESTORE_COUNTERS:
            totals.counters[name] = totals.counters.get(name, 0)
            totals.counters[name] += int(item.get(name, {}).get("N", "0"))
    totals.pages += int(item.get("pages", {}).get("N", "0"))
    if item.get("done", {}).get("BOOL"):
        totals.segments_done += 1
    if "lastError" in item and not item.get("done", {}).get("BOOL"):
        totals.errors.append(f"{item['sk']['S']}: {item['lastError']['S']}")
    for sample in item.get("samples", {}).get("L", []):
        if len(totals.samples) < MAX_SAMPLES:
            totals.samples.append(sample)
