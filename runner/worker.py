"""The page worker: processes as many pages of one segment as fit in a time budget.

Each page is read, applied, then committed to the history table (checkpoint + counters in one
conditional write), so a re-run resumes every segment after its last committed page.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from runner.collections import CollectionSource
from runner.conditions import placeholders_of
from runner.errors import FunctionFailed, MigrationError, MigrationFailed
from runner.history import History, RunRef, SegmentProgress
from runner.journal import PageJournal
from runner.metered import Metered
from runner.operations import Invoke, PageApplier, PageFailed
from runner.pace_store import PaceStore
from runner.pacer import Pacer, table_refresh
from runner.pacing import TokenBucket
from runner.planning import auto_segments, paced_concurrency, running_segments, writes_share
from runner.recording import RecordingApplier
from runner.restore import ImageSource, restore_segment
from runner.source import pages, read_request
from runner.spec import Direction, MigrationSpec, parse_spec

logger = logging.getLogger(__name__)

SAFETY_MARGIN_SECONDS = 10.0


@dataclass(frozen=True)
class WorkRequest:
    spec: MigrationSpec
    direction: Direction
    run: RunRef
    segment: int
    total_segments: int
    dry_run: bool = False
    writes_per_second: float | None = None
    budget_seconds: float = 600.0
    concurrency: int = 8
    capacity_percent: float = 50.0
    running: int = 1

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> WorkRequest:
        raw = spec_of(event)
        spec = parse_spec(raw)
        direction: Direction = "down" if event.get("direction") == "down" else "up"
        dry_run = bool(event.get("dryRun", False))
        total_segments = int(event.get("totalSegments", 1))
        return cls(
            spec=spec,
            direction=direction,
            run=RunRef(spec.table_name, spec.migration_id, direction, str(event["runId"]), dry_run),
            segment=int(event.get("segment", 0)),
            total_segments=total_segments,
            dry_run=dry_run,
            writes_per_second=writes_share(
                raw.get("MaxWritesPerSecond"), total_segments, raw.get("MaxConcurrency")
            ),
            budget_seconds=float(event.get("budgetSeconds", 600)),
            concurrency=int(event.get("concurrency", 8)),
            capacity_percent=float(raw.get("MaxCapacityPercent", 50)),
            running=running_segments(total_segments, raw.get("MaxConcurrency")),
        )


def spec_of(event: dict[str, Any]) -> dict[str, Any]:
    """The migration's spec: one JSON string in the Task's Parameters (so no key of a user's
    value ending in `.$` is read by Step Functions as a path), or an object (state machines
    rendered before the string form)."""
    raw = event["spec"]
    if not isinstance(raw, str):
        return dict(raw)
    try:
        spec: dict[str, Any] = json.loads(raw)
    except ValueError as exc:
        raise MigrationError(f"malformed spec in the worker's input: {exc}") from exc
    return spec


def key_names(client: Any, table: str) -> list[str]:
    """The key attribute names of a table, partition key first."""
    schema = client.describe_table(TableName=table)["Table"]["KeySchema"]
    return [k["AttributeName"] for k in sorted(schema, key=lambda k: k["KeyType"] != "HASH")]


def plan_run(req: WorkRequest, client: Any, history: History) -> dict[str, Any]:
    """The run's segments: chosen from the table's size by its first Plan, kept by every resume."""
    try:
        table = client.describe_table(TableName=req.spec.table_name)["Table"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        raise MigrationError(
            f"Migration {req.spec.migration_id}: cannot size the run from table "
            f"{req.spec.table_name} ({code}): {exc}"
        ) from exc
    proposed = auto_segments(int(table.get("ItemCount", 0)), int(table.get("TableSizeBytes", 0)))
    total = history.fix_segments(req.run, proposed)
    logger.info("run %s: %s segments (proposed %s)", req.run.run_id, total, proposed)
    return {"segments": list(range(total)), "totalSegments": total}


def run_segment(
    req: WorkRequest,
    client: Any,
    history: History,
    invoke: Invoke,
    remaining_seconds: Callable[[], float],
    clock: Callable[[], float] = time.monotonic,
    cloudwatch: Any = None,
    metric_period: int = 60,
    images: ImageSource | None = None,
) -> dict[str, Any]:
    """Process pages of one segment until it is done or the time budget is spent.

    With `images` (runner.restore), an Up keeps each page's before-images before committing it,
    and a restoring Down puts them back instead of reading the table.

    Reads and writes are paced in capacity units at the segment's share of the run's shared rate
    (runner.pacer); `cloudwatch` (None: not read) tells what the application consumes.
    """
    progress = history.load_segment(req.run, req.segment)
    if progress.done:
        return {"segment": req.segment, "done": True, "pages": 0, "counters": {}}
    writes, reads = TokenBucket(None), TokenBucket(None)
    pacer = Pacer(
        PaceStore(history.client, history.table_name),
        req.run,
        req.running,
        table_refresh(
            client, cloudwatch, req.spec, req.direction, req.capacity_percent, metric_period
        ),
        writes,
        reads,
        period=metric_period,
        segment=req.segment,
    )
    metered = Metered(client, writes, reads, period=metric_period)
    pacer.observe(metered)
    try:
        pacer.sync(force=True)
        source = images or ImageSource(None)
        out = _process(
            req, metered, history, invoke, remaining_seconds, clock, progress, pacer, source
        )
    except Exception as exc:
        shown = exc.__cause__ if isinstance(exc, PageFailed) and exc.__cause__ else exc
        history.record_error(req.run, req.segment, f"{type(shown).__name__}: {exc}")
        raise
    out["counters"].update(metered.totals())  # units and throttles: metrics only
    return out


def _log_page_keys(items: list[dict[str, Any]], key_names: Any, page_number: int) -> None:
    """Keys only, and only at DEBUG: no item value is ever logged (runner.observability)."""
    if items and logger.isEnabledFor(logging.DEBUG):
        first, last = ({k: items[i][k] for k in key_names if k in items[i]} for i in (0, -1))
        logger.debug(
            "page %s: %s items, keys %s to %s",
            page_number,
            len(items),
            json.dumps(first, sort_keys=True),
            json.dumps(last, sort_keys=True),
        )


def _process(
    req: WorkRequest,
    client: Any,
    history: History,
    invoke: Invoke,
    remaining_seconds: Callable[[], float],
    clock: Callable[[], float],
    progress: SegmentProgress,
    pacer: Pacer,
    images: ImageSource,
) -> dict[str, Any]:
    spec, op = req.spec, req.spec.operation(req.direction)
    deadline = clock() + _budget(req, remaining_seconds)
    if op.kind == "Restore":
        return restore_segment(
            spec=spec,
            run=req.run,
            segment=req.segment,
            total_segments=req.total_segments,
            client=client,
            history=history,
            progress=progress,
            source=images,
            key_names=key_names(client, spec.table_name),
            bucket=TokenBucket(req.writes_per_second),
            concurrency=req.concurrency,
            out_of_time=lambda: clock() > deadline,
        )
    store, journal, attempt = _stores(req, images, progress)
    applier = _applier(req, client, invoke, pacer, journal, recording=bool(store or journal))
    extra_filter: str | None = None
    extra: tuple[dict[str, str], dict[str, Any]] = ({}, {})
    if req.dry_run and op.kind != "Function" and op.condition:
        # A dry run writes nothing: the write's condition joins the read filter instead, so the
        # items counted are exactly those the write would change. Only the placeholders the
        # condition uses go along: DynamoDB refuses a request with an unused one.
        used = placeholders_of(op.condition)
        extra_filter = op.condition
        extra = (
            {k: v for k, v in op.names.items() if k in used},
            {k: v for k, v in applier.values.items() if k in used},
        )
    request = read_request(spec, req.segment, req.total_segments, extra_filter, extra)
    request = pacer.paced_reads(request, client, spec)
    done, count, slowest = False, 0, 0.0
    invocation: Counter[str] = Counter()
    source = pages(client, request, progress.checkpoint, spec.migration_id)
    collections = (
        CollectionSource(applier, client, request) if spec.source.item_collections else None
    )
    if collections:  # whole item collections (runner.collections)
        source = collections.pages(progress.checkpoint)
    for page in source:
        page_started = clock()
        if journal is not None:  # runner.journal: exactly once across a re-processed page
            journal.begin(progress.pages, attempt, store, spec.migration_id, applier.key_names)
        try:
            result = collections.apply(page) if collections else applier.apply(page.items)
        except PageFailed as exc:  # what the page's other items wrote counts; the page re-runs
            _keep_images(store, applier, req.segment, progress.pages, attempt)
            history.note_failed_page(req.run, req.segment, progress, _page_counters(exc, page))
            raise
        except Exception:
            _keep_images(store, applier, req.segment, progress.pages, attempt)
            raise
        # Before the checkpoint moves past the page: what it replaced (runner.before_images).
        _keep_images(store, applier, req.segment, progress.pages, attempt)
        attempt = 0  # a page after the first of an invocation was never tried before
        result.counters["scanned"] += page.scanned
        result.counters["matched"] += len(page.items)
        invocation.update(result.counters)
        progress = history.commit_page(
            req.run, req.segment, progress, page.next_key, dict(result.counters), result.samples
        )
        count += 1
        pacer.sync()
        applier.concurrency = paced_concurrency(
            req.concurrency, pacer.item_share(req.writes_per_second)
        )
        done = page.next_key is None
        _log_page_keys(page.items, applier.key_names, progress.pages)
        now = clock()
        slowest = max(slowest, now - page_started)
        if not done and now + slowest > deadline:
            break
    if done:
        pacer.leave()
    logger.info("segment %s: %s pages, done=%s", req.segment, count, done)
    # The next start key stays in the history table (the checkpoint), never in the payload.
    return {"segment": req.segment, "done": done, "pages": count, "counters": dict(invocation)}


def _budget(req: WorkRequest, remaining_seconds: Callable[[], float]) -> float:
    """Seconds this invocation may spend on pages: its budget, within the Lambda's time left."""
    return max(0.0, min(req.budget_seconds, remaining_seconds() - SAFETY_MARGIN_SECONDS))


def _stores(
    req: WorkRequest, images: ImageSource, progress: SegmentProgress
) -> tuple[Any, PageJournal | None, int]:
    """The Up's before-image store, the run's page journal, and the attempt at the first page
    (how many attempts at it left objects in either)."""
    store = images.store if req.direction == "up" and not req.dry_run else None
    journal = PageJournal(images.journal, req.segment) if images.journal else None
    attempt = max(
        (s.next_attempt(req.segment, progress.pages) for s in (store, images.journal) if s),
        default=0,
    )
    return store, journal, attempt


def _applier(
    req: WorkRequest,
    client: Any,
    invoke: Invoke,
    pacer: Pacer,
    journal: PageJournal | None,
    recording: bool,
) -> PageApplier:
    spec = req.spec
    applier = (RecordingApplier if recording else PageApplier)(
        spec=spec,
        operation=spec.operation(req.direction),
        client=client,
        invoke=invoke,
        key_names=key_names(client, spec.table_name),
        target_key_names=key_names(client, spec.target) if spec.target else None,
        bucket=TokenBucket(req.writes_per_second),
        dry_run=req.dry_run,
        concurrency=paced_concurrency(req.concurrency, pacer.item_share(req.writes_per_second)),
    )
    if journal is not None and isinstance(applier, RecordingApplier):
        applier.journal = journal
    return applier


def _keep_images(store: Any, applier: PageApplier, segment: int, page: int, attempt: int) -> None:
    if isinstance(applier, RecordingApplier):
        images = applier.take_images()  # a journal-only run keeps none (runner.journal)
        if store is not None:
            store.put_page(segment, page, attempt, images)


def _page_counters(failed: PageFailed, page: Any) -> dict[str, int]:
    return {**failed.result.counters, "scanned": page.scanned, "matched": len(page.items)}


def summarize(history: History, run: RunRef, total_segments: int) -> dict[str, Any]:
    """Sum a finished run's counters; fail the run if any segment or item did not make it."""
    totals = history.run_totals(run)
    problems = _first_errors(totals.errors)
    unfinished = total_segments - totals.segments_done
    if unfinished > 0:
        problems.append(f"{unfinished} of {total_segments} segments did not finish")
    if totals.counters["failed"]:
        problems.append(
            f"{totals.counters['failed']} items still conflicted with concurrent writes after "
            "retries; run the migration again to finish them"
        )
    if problems:
        raise MigrationFailed(
            f"Migration {run.migration_id} ({run.direction}) failed: " + "; ".join(problems)
        )
    out: dict[str, Any] = {
        "migrationId": run.migration_id,
        "direction": run.direction,
        "dryRun": run.dry_run,
        "counters": totals.counters,
        "pages": totals.pages,
        "segments": total_segments,
    }
    if run.dry_run or totals.counters.get("kept"):  # a restore samples the items it kept
        out["samples"] = totals.samples
    return out


def _first_errors(errors: list[str], keep: int = 3) -> list[str]:
    """The first few segment errors, so a failure of every segment still reads in one line."""
    kept = errors[:keep]
    if len(errors) > keep:
        kept.append(f"and {len(errors) - keep} more segments failed")
    return kept


def check_reply(function: str, response: dict[str, Any], payload: Any) -> dict[str, Any]:
    """Turn a Lambda invoke response into the function's reply, or a MigrationError."""
    if response.get("FunctionError"):
        detail = payload if isinstance(payload, dict) else {"errorMessage": str(payload)}
        raise FunctionFailed(
            function, f"{detail.get('errorType', 'Error')}: {detail.get('errorMessage', '')}"
        )
    if not isinstance(payload, dict):
        raise MigrationError(f"the transform function {function} returned {type(payload).__name__}")
    return payload
