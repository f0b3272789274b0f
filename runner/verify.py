"""Verification after Up: a parallel pass that counts the items not meeting `Verify.Condition`.

DynamoDB evaluates the condition itself, so the pass judges exactly as DynamoDB would: each
segment reads with `FilterExpression: NOT (<Condition>)` and `ProjectionExpression` of the key
attributes, so the items it gets back are the violations (their keys are the samples), `Count`
is how many, and `ScannedCount` how many were checked. More than `MaxViolations` (default 0)
fails the run with `VerificationFailed`, naming sample keys: CloudFormation sees that error
and rolls the deploy back, which runs the migration's Down.

What is read (the migration's source, as Up read it, without its Filter):
- a Scan source: the same table or index, in the run's segments;
- a Query source: the same Query (its IndexName and KeyCondition, with the placeholders the
  KeyCondition uses);
- with a `Target`: a Scan of the whole Target table (what Up wrote).
The source's `Filter` is left out on purpose: it chose items by their state before Up, and Up
changed that state (a filter `attribute_not_exists(#s)` would hide every item Up reached and let
any result pass). Scope the check in the Condition instead (`NOT begins_with(pk, :o) OR ...`).

AWS behaviour relied on (DynamoDB Developer Guide, "Scanning tables in DynamoDB" and "Querying
tables"; API Reference, Scan):
- "A filter expression is applied after a Scan finishes but before the results are returned.
  Therefore, a Scan consumes the same amount of read capacity, regardless of whether a filter
  expression is present"; capacity is "based on item size, not on the amount of data that is
  returned", so a projection does not lower it either: the pass costs one full read of what it
  covers (bench/cost.py measures it).
- `Count` is "the number of items in the response" after the filter, `ScannedCount` "the number
  of items evaluated, before any ScanFilter is applied".
- Strongly consistent reads see every write acknowledged before the read; GSIs do not support
  them ("Read consistency"), so an index is read eventually consistent (as Up read it).
- A comparison with an attribute an item lacks is false, so `NOT (a = :v)` counts such an item
  as a violation: it does not meet the condition.

Each segment's progress is kept like the migration's (runner.history), under the run's own
`verify` records (pk `run#<table>#<migration>#verify#<run id>`), so a retried or redriven pass
resumes from its checkpoints; the result is one `verification` item in the Up run's history,
which the controller copies into the migration record (runner.run_records).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from runner.attrs import expression_values, to_wire
from runner.conditions import grouped, placeholders_of
from runner.errors import HistoryError, MigrationError, MigrationFailed
from runner.history import History, RunRef
from runner.metered import Metered
from runner.pace_store import PaceStore
from runner.pacer import Pacer, table_refresh
from runner.pacing import TokenBucket
from runner.run_records import VERIFICATION_SK
from runner.source import merge_placeholders, pages
from runner.spec import MigrationSpec, Source
from runner.worker import WorkRequest, key_names, spec_of

VERIFY_DIRECTION = "verify"
ACTIONS = ("verify", "verifySummarize")
KEY_NAMES = ("#dynamigrate_vkey0", "#dynamigrate_vkey1")  # the pass's own placeholders
SAFETY_MARGIN_SECONDS = 10.0


class VerificationFailed(MigrationFailed):
    """More items than `MaxViolations` do not meet `Verify.Condition` after Up."""


@dataclass(frozen=True)
class Verify:
    condition: str
    names: dict[str, str]
    values: dict[str, Any]
    max_violations: int = 0


def parse_verify(raw: dict[str, Any]) -> Verify | None:
    """The spec's `Verify`, if any (the macro validated it)."""
    body = raw.get("Verify")
    if not body:
        return None
    try:
        return Verify(
            condition=str(body["Condition"]),
            names=dict(body.get("Names") or {}),
            values=dict(body.get("Values") or {}),
            max_violations=int(body.get("MaxViolations", 0)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MigrationError(
            f"Migration {raw.get('MigrationId', '?')}: malformed Verify ({exc!r})"
        ) from exc


def verify_run(run: RunRef) -> RunRef:
    """The records of the pass that checks `run` (its segments, checkpoints and pace)."""
    return RunRef(run.table, run.migration_id, VERIFY_DIRECTION, run.run_id, run.dry_run)


def verified(spec: MigrationSpec) -> MigrationSpec:
    """The spec as the pass reads: the source without its Filter, or a Scan of the Target."""
    if spec.target:
        return dataclasses.replace(
            spec, table_name=spec.target, target=None, source=Source(kind="Scan")
        )
    used = placeholders_of(spec.source.key_condition or "")
    source = dataclasses.replace(
        spec.source,
        filter=None,
        names={k: v for k, v in spec.source.names.items() if k in used},
        values={k: v for k, v in spec.source.values.items() if k in used},
    )
    return dataclasses.replace(spec, source=source)


def verify_request(
    spec: MigrationSpec, verify: Verify, key_names: list[str], segment: int, total_segments: int
) -> dict[str, Any]:
    """The Scan/Query of one segment of the pass: the violations' keys only."""
    read = verified(spec)
    src = read.source
    kwargs: dict[str, Any] = {
        "TableName": read.table_name,
        "ConsistentRead": not src.index_name,
        "FilterExpression": f"NOT {grouped(verify.condition)}",
        "ProjectionExpression": ", ".join(KEY_NAMES[: len(key_names)]),
    }
    if src.index_name:
        kwargs["IndexName"] = src.index_name
    if src.kind == "Query":
        kwargs["KeyConditionExpression"] = src.key_condition
    elif total_segments > 1:
        kwargs["Segment"] = segment
        kwargs["TotalSegments"] = total_segments
    names, values = merge_placeholders(
        spec.migration_id,
        (src.names, expression_values(src.values, spec.migration_id)),
        (verify.names, expression_values(verify.values, spec.migration_id)),
        (dict(zip(KEY_NAMES, key_names, strict=False)), {}),
    )
    kwargs["ExpressionAttributeNames"] = names
    if values:
        kwargs["ExpressionAttributeValues"] = values
    return kwargs


def sample(key: dict[str, Any]) -> dict[str, Any]:
    """One violating item's key as the history keeps it: DynamoDB JSON text."""
    return {"S": json.dumps(to_wire(key), sort_keys=True)}


def run_segment(
    req: WorkRequest,
    verify: Verify,
    client: Any,
    history: History,
    remaining_seconds: Callable[[], float],
    clock: Callable[[], float] = time.monotonic,
    cloudwatch: Any = None,
    metric_period: int = 60,
) -> dict[str, Any]:
    """Check pages of one segment until it is done or the time budget is spent, paced in read
    units like the migration's reads (runner.pacer), each page committed with its checkpoint."""
    run = verify_run(req.run)
    progress = history.load_segment(run, req.segment)
    if progress.done:
        return {"segment": req.segment, "done": True, "pages": 0}
    read = verified(req.spec)
    writes, reads = TokenBucket(None), TokenBucket(None)
    pacer = Pacer(
        PaceStore(history.client, history.table_name),
        run,
        req.running,
        table_refresh(client, cloudwatch, read, "up", req.capacity_percent, metric_period),
        writes,
        reads,
        period=metric_period,
        segment=req.segment,
    )
    metered = Metered(client, writes, reads, period=metric_period)
    pacer.observe(metered)
    budget = min(req.budget_seconds, remaining_seconds() - SAFETY_MARGIN_SECONDS)
    deadline = clock() + max(0.0, budget)
    try:
        pacer.sync(force=True)
        keys = key_names(client, read.table_name)
        request = verify_request(req.spec, verify, keys, req.segment, req.total_segments)
        request = pacer.paced_reads(request, metered, read)
        done, count, slowest = False, 0, 0.0
        for page in pages(metered, request, progress.checkpoint, req.spec.migration_id):
            started = clock()
            counters = {"scanned": page.scanned, "matched": len(page.items)}
            samples = [sample(item) for item in page.items]
            progress = history.commit_page(
                run, req.segment, progress, page.next_key, counters, samples
            )
            count += 1
            pacer.sync()
            done = page.next_key is None
            now = clock()
            slowest = max(slowest, now - started)
            if not done and now + slowest > deadline:
                break
    except Exception as exc:
        history.record_error(run, req.segment, f"{type(exc).__name__}: {exc}")
        raise
    if done:
        pacer.leave()
    return {"segment": req.segment, "done": done, "pages": count}


def summarize(history: History, run: RunRef, verify: Verify, total_segments: int) -> dict[str, Any]:
    """The pass's result, kept in the run's history; VerificationFailed past MaxViolations."""
    totals = history.run_totals(verify_run(run))
    unfinished = total_segments - totals.segments_done
    if unfinished > 0 or totals.errors:
        detail = "; ".join([*totals.errors[:3], f"{unfinished} of {total_segments} unfinished"])
        raise MigrationFailed(
            f"Migration {run.migration_id}: verification did not finish: {detail}"
        )
    violations, checked = totals.counters["matched"], totals.counters["scanned"]
    keys = [str(s["S"]) for s in totals.samples]
    passed = violations <= verify.max_violations
    _record(history, run, verify, checked, violations, passed, totals.samples)
    if not passed:
        shown = ", ".join(keys) or "none kept"
        raise VerificationFailed(
            f"Migration {run.migration_id}: verification failed: {violations} of {checked} "
            f"items do not meet Verify.Condition {verify.condition!r} (MaxViolations "
            f"{verify.max_violations}); sample keys: {shown}"
        )
    return {"checked": checked, "violations": violations, "passed": True, "sampleKeys": keys}


def _record(
    history: History,
    run: RunRef,
    verify: Verify,
    checked: int,
    violations: int,
    passed: bool,
    samples: list[Any],
) -> None:
    """The `verification` item of the run (a retried summary writes the same values)."""
    try:
        history.client.put_item(
            TableName=history.table_name,
            Item={
                "pk": {"S": run.pk},
                "sk": {"S": VERIFICATION_SK},
                "checked": {"N": str(checked)},
                "violations": {"N": str(violations)},
                "maxViolations": {"N": str(verify.max_violations)},
                "passed": {"BOOL": passed},
                "condition": {"S": verify.condition},
                "sampleKeys": {"L": list(samples)},
                "checkedAt": {"N": str(int(time.time()))},
            },
        )
    except ClientError as exc:
        raise HistoryError(f"history table: recording the verification failed ({exc})") from exc


def step(
    event: dict[str, Any],
    req: WorkRequest,
    history: History,
    client: Callable[[], Any],
    context: Any,
    cloudwatch: Callable[[], Any],
    metric_period: int = 60,
) -> dict[str, Any]:
    """The worker's `verify` and `verifySummarize` actions (runner.handlers.worker)."""
    verify = parse_verify(spec_of(event))
    if verify is None:
        raise MigrationError(f"Migration {req.run.migration_id}: the spec has no Verify")
    if event.get("action") == "verifySummarize":
        return summarize(history, req.run, verify, req.total_segments)
    return run_segment(
        req,
        verify,
        client(),
        history,
        remaining_seconds=lambda: context.get_remaining_time_in_millis() / 1000,
        cloudwatch=cloudwatch(),
        metric_period=metric_period,
    )
