"""Undoing an `Up` from its before-images (runner.before_images): the `Down: {Restore: {}}` run.

Each record is put back only while the item still holds what the run wrote: the restore's write
is conditioned on the record's fingerprint, so an item the application changed since stays as
the application wrote it, counted `kept` and sampled in the history. A deleted item is re-created
(PutItem conditioned on no item with its key), a changed one gets its prior values back (SET, or
REMOVE of what the run added), and an item the run put into a `Target` table is deleted
(conditioned on it being exactly what was put).

Records are restored newest first, so an item a re-run page wrote twice goes back through both.
When a condition fails, the item as it is (ReturnValuesOnConditionCheckFailure ALL_OLD; PutItem,
UpdateItem and DeleteItem, DynamoDB API Reference: no read capacity consumed) tells an item
already restored (a resumed restore) from one the application changed. Progress is committed per
object to the history table (runner.history), so an interrupted restore resumes after the last
object it finished.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from runner.attrs import Item, expression_values
from runner.before_images import (
    BeforeImage,
    BeforeImageStore,
    run_prefix,
    same_or_absent,
    segment_of,
)
from runner.errors import MigrationError
from runner.history import History, RunRef, SegmentProgress
from runner.item_diff import diff_items, same_value, unchanged_condition
from runner.journal import journal_prefix, keeps_journal
from runner.ledger import MigrationLedger
from runner.operations import KEY_PLACEHOLDER, MAX_SAMPLE_BYTES, _conflict
from runner.pacing import TokenBucket
from runner.retry import call_with_backoff
from runner.spec import Direction, MigrationSpec

BUCKET_VARIABLE = "ARTIFACTS_BUCKET"
KEPT_NOTE = "kept: the application changed it after the run"


def restore_request(
    image: BeforeImage, spec: MigrationSpec, key_names: list[str]
) -> tuple[str, dict[str, Any]]:
    """The conditional write that puts one record back: (client method, keyword arguments)."""
    if image.kind == "deleted":
        return "put_item", {
            "TableName": spec.table_name,
            "Item": image.before,
            "ConditionExpression": f"attribute_not_exists({KEY_PLACEHOLDER})",
            "ExpressionAttributeNames": {KEY_PLACEHOLDER: key_names[0]},
        }
    if image.kind == "put":
        condition, names, values = unchanged_condition(image.written, list(image.key))
        kwargs: dict[str, Any] = {
            "TableName": spec.target,
            "Key": image.key,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
        }
        if values:
            kwargs["ExpressionAttributeValues"] = values
        return "delete_item", kwargs
    written = {**image.key, **{k: v for k, v in image.written.items() if v is not None}}
    before = {**image.key, **{k: v for k, v in image.before.items() if v is not None}}
    write = diff_items(written, before, key_names)
    if write is None:
        raise MigrationError(f"Migration {spec.migration_id}: an empty before-image record")
    return "update_item", {"TableName": spec.table_name, "Key": image.key, **write.as_kwargs()}


def already_restored(image: BeforeImage, current: Item | None) -> bool:
    """Whether the item as it is already holds what the record restores."""
    if image.kind == "put":
        return current is None
    if current is None:
        return False
    if image.kind == "deleted":
        return set(current) == set(image.before) and all(
            same_value(v, image.before[k]) for k, v in current.items()
        )
    return all(same_or_absent(current.get(a), v) for a, v in image.before.items())


def _kept_sample(key: Item) -> dict[str, Any]:
    sample = {"key": {"M": key}, "operation": {"S": KEPT_NOTE}}
    if len(repr(sample)) > MAX_SAMPLE_BYTES:
        sample = {"truncated": {"BOOL": True}, "operation": {"S": KEPT_NOTE}}
    return {"M": sample}


@dataclass
class Restorer:
    """Puts records back with conditional writes, paced by `bucket`."""

    spec: MigrationSpec
    client: Any
    key_names: list[str]
    bucket: TokenBucket

    def restore(self, image: BeforeImage) -> tuple[str, dict[str, Any] | None]:
        """ "restored" or "kept" (with its sample)."""
        method, kwargs = restore_request(image, self.spec, self.key_names)
        if image.kind == "put" and self._changed_since(image):
            return "kept", _kept_sample(image.key)
        self.bucket.take()
        try:
            call_with_backoff(
                lambda: getattr(self.client, method)(
                    ReturnValuesOnConditionCheckFailure="ALL_OLD", **kwargs
                )
            )
        except ClientError as exc:
            if not _conflict(exc):
                message = exc.response.get("Error", {}).get("Message", str(exc))
                raise MigrationError(
                    f"Migration {self.spec.migration_id}: DynamoDB rejected restoring an item "
                    f"({message})"
                ) from exc
            if already_restored(image, exc.response.get("Item")):
                return "restored", None
            return "kept", _kept_sample(image.key)
        return "restored", None

    def _changed_since(self, image: BeforeImage) -> bool:
        """Whether the item the run put holds anything it did not write. The delete's condition
        compares what the run wrote, but a condition cannot say "no other attribute": an
        attribute the application added is seen by a strongly consistent read first (GetItem,
        ConsistentRead: "returns the most up-to-date data"). One added between this read and
        the conditional delete is the limit the README states."""
        self.bucket.take()
        found = call_with_backoff(
            lambda: self.client.get_item(
                TableName=self.spec.target, Key=image.key, ConsistentRead=True
            )
        ).get("Item")
        written = {**image.key, **{k: v for k, v in image.written.items() if v is not None}}
        return found is not None and set(found) != set(written)


@dataclass(frozen=True)
class ImageSource:
    """Where a run's before-images are: the store (None: the run keeps none) and, for a
    restore, the Up run they belong to."""

    store: BeforeImageStore | None
    up_run_id: str | None = None
    journal: BeforeImageStore | None = None  # the run's own page journal (runner.journal)


def image_source(
    spec: MigrationSpec,
    run: RunRef,
    s3: Callable[[], Any],
    up_run_id: Callable[[], str | None],
) -> ImageSource:
    """The before-images an Up writes, or a restoring Down reads (none for a dry run or when
    `Down` is hand-written or `Keep`), and the run's page journal where it keeps one."""
    if run.dry_run:
        return ImageSource(None)
    bucket = os.environ.get(BUCKET_VARIABLE)
    direction: Direction = "down" if run.direction == "down" else "up"
    op = spec.operation(direction)
    journal: BeforeImageStore | None = None
    values = expression_values(op.values, spec.migration_id)
    if keeps_journal(spec, op, direction, values):
        if not bucket:
            raise MigrationError(
                f"Migration {spec.migration_id}: the worker has no {BUCKET_VARIABLE} for the "
                "page journal that keeps its writes exactly once"
            )
        prefix = journal_prefix(spec.table_name, spec.migration_id, run.run_id)
        journal = BeforeImageStore(s3(), bucket, prefix)
    if not spec.restores:
        return ImageSource(None, journal=journal)
    if not bucket:
        raise MigrationError(
            f"Migration {spec.migration_id}: the worker has no {BUCKET_VARIABLE} for the "
            "before-images of a migration restored on rollback"
        )
    if run.direction == "up":
        prefix = run_prefix(spec.table_name, spec.migration_id, run.run_id)
        return ImageSource(BeforeImageStore(s3(), bucket, prefix), journal=journal)
    up = up_run_id()
    if not up:
        return ImageSource(None, None)  # no Up run recorded: nothing was written to restore
    return ImageSource(
        BeforeImageStore(s3(), bucket, run_prefix(spec.table_name, spec.migration_id, up)), up
    )


def up_run_of(record_attributes: dict[str, Any]) -> str | None:
    """The Up run a rollback's Down undoes, from the migration's history record (the
    controller keeps the Up's summary as `upRun` when the Down starts)."""
    up = record_attributes.get("upRun", {}).get("M", {})
    run_id = up.get("runId", {}).get("S")
    return str(run_id) if run_id else None


def recorded_up_run(history: History, run: RunRef) -> str | None:
    """The Up run of the migration's history record, read when a restoring Down starts."""
    record = MigrationLedger(history.client, history.table_name).get(run.table, run.migration_id)
    return None if record is None else up_run_of(record.attributes)


def restore_segment(
    *,
    spec: MigrationSpec,
    run: RunRef,
    segment: int,
    total_segments: int,
    client: Any,
    history: History,
    progress: SegmentProgress,
    source: ImageSource,
    key_names: list[str],
    bucket: TokenBucket,
    concurrency: int,
    out_of_time: Callable[[], bool],
) -> dict[str, Any]:
    """Restore the objects of the Up segments this Down segment owns, newest first."""
    counters: Counter[str] = Counter()
    store = source.store
    keys: list[str] = []
    if store is not None:
        keys = sorted(
            (
                k
                for k in store.object_keys()
                if segment_of(k, store.prefix) % total_segments == segment
            ),
            reverse=True,
        )
    after = (progress.checkpoint or {}).get("object", {}).get("S")
    if after is not None:
        keys = [k for k in keys if k < after]
    if not keys:
        history.commit_page(run, segment, progress, None, {}, [])
        return {"segment": segment, "done": True, "pages": 1, "counters": {}}
    restorer = Restorer(spec, client, key_names, bucket)
    count = 0
    for index, key in enumerate(keys):
        assert store is not None
        images = store.load(key, spec.migration_id)
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            outcomes = list(pool.map(restorer.restore, images))
        page = Counter(counter for counter, _ in outcomes)
        samples = [sample for _, sample in outcomes if sample is not None]
        last = index == len(keys) - 1
        progress = history.commit_page(
            run, segment, progress, None if last else {"object": {"S": key}}, dict(page), samples
        )
        counters.update(page)
        count += 1
        if not last and out_of_time():
            break
    return {"segment": segment, "done": progress.done, "pages": count, "counters": dict(counters)}
