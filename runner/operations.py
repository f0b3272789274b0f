"""Applying a migration's operation to one page of items: Update, Delete or Function.

Every write is conditional: updates require the item to still exist, function results are written
as a diff conditioned on the old values, and a conflict with a concurrent application write is
re-read and re-applied, never overwritten.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from runner.attrs import Item, expression_values, from_wire, to_wire
from runner.conditions import conjunction
from runner.errors import FunctionFailed, MigrationError
from runner.fanout import Fanout, fanout_sample, parse_list
from runner.function_replies import function_items
from runner.item_check import check_item
from runner.item_diff import diff_items, same_value, unchanged_condition
from runner.pacing import TokenBucket
from runner.retry import call_with_backoff
from runner.spec import MigrationSpec, Operation
from runner.update_eval import changes_nothing
from runner.update_expr import parse_update

Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]
Result = Item | None | list[Item]  # a function's result for one item: runner.fanout for a list
MAX_CONFLICT_RETRIES = 5
MAX_SAMPLE_BYTES = 4096
KEY_PLACEHOLDER = "#dynamigrate_key"


@dataclass(frozen=True)
class Outcome:
    """What happened to one item: its counter, conflicts retried on the way, a dry-run sample."""

    counter: str
    conflicts: int = 0
    sample: dict[str, Any] | None = None
    counts: Counter[str] | None = None  # a list result's counters (runner.fanout), for `counter`


@dataclass
class PageResult:
    counters: Counter[str] = field(default_factory=Counter)
    samples: list[dict[str, Any]] = field(default_factory=list)


def _conflict(exc: ClientError) -> bool:
    return bool(exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


class PageFailed(MigrationError):
    """An item of the page failed; `result` counts what the page's other items did meanwhile."""

    def __init__(self, message: str, result: PageResult) -> None:
        super().__init__(message)
        self.result = result


def _rejected(spec: MigrationSpec, what: str, exc: ClientError, key: Item) -> MigrationError:
    """DynamoDB's refusal of one item's write, naming the item's key (its message does not)."""
    message = exc.response.get("Error", {}).get("Message", str(exc))
    return MigrationError(
        f"Migration {spec.migration_id}: DynamoDB rejected the {what} of "
        f"{json.dumps(to_wire(key))} ({message})"
    )


def _sample(key: Item, before: Item, after: Item | None, note: str | None = None) -> dict[str, Any]:
    sample: dict[str, Any] = {"key": {"M": key}, "before": {"M": before}}
    sample["after"] = {"M": after} if after is not None else {"NULL": True}
    if note:
        sample["operation"] = {"S": note}
    if len(json.dumps(to_wire({"s": {"M": sample}}))) > MAX_SAMPLE_BYTES:
        sample = {"key": {"M": key}, "truncated": {"BOOL": True}}
    return {"M": sample}


# Lambda takes at most 6 MB per synchronous request and reply (Lambda quotas). A page of 1 MB of
# DynamoDB can be several times that as DynamoDB JSON (a list of small numbers grows about 12
# times), so items go to the function in requests of at most half of it: a reply may grow to
# twice its request and still fit.
MAX_FUNCTION_REQUEST_BYTES = 3 * 1024 * 1024


def request_batches(wired: list[Any], limit: int | None = None) -> list[tuple[int, list[Any]]]:
    """(start index, items) batches whose JSON stays under `limit`; a larger item goes alone."""
    limit = MAX_FUNCTION_REQUEST_BYTES if limit is None else limit
    batches: list[tuple[int, list[Any]]] = []
    batch: list[Any] = []
    start, size = 0, 1024  # room for the request's other fields
    for index, item in enumerate(wired):
        grows = len(json.dumps(item)) + 2
        if batch and size + grows > limit:
            batches.append((start, batch))
            start, batch, size = index, [], 1024
        batch.append(item)
        size += grows
    if batch:
        batches.append((start, batch))
    return batches


def _attempt(work: Callable[[Any], Outcome], item: Any) -> Outcome | Exception:
    try:
        return work(item)
    except Exception as exc:  # counted as the page's failure once every item was tried
        return exc


class PageApplier:
    """Applies one operation (one direction) of one migration, page by page."""

    def __init__(
        self,
        spec: MigrationSpec,
        operation: Operation,
        client: Any,
        invoke: Invoke,
        key_names: list[str],
        target_key_names: list[str] | None,
        bucket: TokenBucket,
        dry_run: bool,
        concurrency: int = 8,
    ) -> None:
        self.spec = spec
        self.op = operation
        self.client = client
        self.invoke = invoke
        self.key_names = key_names
        self.target_key_names = target_key_names
        self.bucket = bucket
        self.dry_run = dry_run
        self.concurrency = concurrency
        self.values = expression_values(operation.values, spec.migration_id)
        self.update = (
            parse_update(operation.expression, operation.names) if operation.expression else None
        )

    def key_of(self, item: Item) -> Item:
        return {k: item[k] for k in self.key_names}

    def apply(self, items: list[Item]) -> PageResult:
        result = PageResult()
        if not items:
            return result
        if self.op.kind == "Function":
            pairs = list(zip(items, self._transform(items), strict=True))
            work: Callable[[Any], Outcome] = self._function_item
            inputs: list[Any] = pairs
        else:
            work = self._update_item if self.op.kind == "Update" else self._delete_item
            inputs = items
        self._before_writes(inputs)
        if self.concurrency > 1 and len(inputs) > 1:
            with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                outcomes = list(pool.map(lambda i: _attempt(work, i), inputs))
        else:
            outcomes = [_attempt(work, i) for i in inputs]
        errors = [o for o in outcomes if isinstance(o, Exception)]
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                continue
            result.counters.update(outcome.counts or {outcome.counter: 1})
            if outcome.conflicts:
                result.counters["conflicts"] += outcome.conflicts
            if outcome.sample is not None:
                result.samples.append(outcome.sample)
        if errors:  # the first failed item (in page order) fails the page, after its other writes
            if isinstance(errors[0], MigrationError):
                raise PageFailed(str(errors[0]), result) from errors[0]
            raise errors[0]
        return result

    def _before_writes(self, inputs: list[Any]) -> None:
        """Called with the page's items (a function's: with their results) before any write."""

    # Update / Delete -------------------------------------------------------------------------

    def _guarded(self, condition: str | None) -> str:
        exists = f"attribute_exists({KEY_PLACEHOLDER})"
        return conjunction(exists, condition) or exists

    def _write_kwargs(self, item: Item) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "TableName": self.spec.table_name,
            "Key": self.key_of(item),
            "ConditionExpression": self._guarded(self.op.condition),
            "ExpressionAttributeNames": {**self.op.names, KEY_PLACEHOLDER: self.key_names[0]},
        }
        if self.values:
            kwargs["ExpressionAttributeValues"] = self.values
        return kwargs

    def _update_item(self, item: Item) -> Outcome:
        if changes_nothing(self.update, item, self.values):  # no write, no write unit
            return Outcome("unchanged")
        if self.dry_run:
            return Outcome(
                "updated", sample=_sample(self.key_of(item), item, None, self.op.expression)
            )
        self.bucket.take()
        try:
            call_with_backoff(
                lambda: self.client.update_item(
                    UpdateExpression=self.op.expression, **self._write_kwargs(item)
                )
            )
        except ClientError as exc:
            if _conflict(exc):
                return Outcome("unchanged")
            raise _rejected(self.spec, "Update", exc, self.key_of(item)) from exc
        return Outcome("updated")

    def _delete_item(self, item: Item) -> Outcome:
        if self.dry_run:
            return Outcome("deleted", sample=_sample(self.key_of(item), item, None))
        self.bucket.take()
        try:
            call_with_backoff(lambda: self.client.delete_item(**self._write_kwargs(item)))
        except ClientError as exc:
            if _conflict(exc):
                return Outcome("unchanged")
            raise _rejected(self.spec, "Delete", exc, self.key_of(item)) from exc
        return Outcome("deleted")

    # Function --------------------------------------------------------------------------------

    def _transform(self, items: list[Item]) -> list[Result]:
        """Call the user's function on the page, in requests that fit Lambda's payload quota."""
        wired = [to_wire(i) for i in items]
        out: list[Result] = []
        for start, batch in request_batches(wired):
            out.extend(self._transform_batch(items[start : start + len(batch)], batch))
        return out

    def _transform_batch(self, items: list[Item], wired: list[Any]) -> list[Result]:
        mid = self.spec.migration_id
        out = function_items(
            lambda: self.invoke(self.op.function or "", self._request(wired)),
            mid,
            lambda exc: self._named(wired, exc),
        )
        if len(out) != len(items):
            raise MigrationError(
                f"Migration {mid}: the function returned {len(out)} items for {len(items)}; "
                "it must return one result (an item, null or a list of items) per input item, "
                "in order"
            )
        results: list[Result] = []
        for old, new in zip(wired, out, strict=True):
            if isinstance(new, list):
                keys = self.target_key_names if self.spec.target else self.key_names
                old_key = {k: old[k] for k in self.key_names if k in old}
                results.append(parse_list(new, mid, keys or [], old_key))
                continue
            if new is not None:
                if not isinstance(new, dict):
                    raise MigrationError(
                        f"Migration {mid}: the function returned {type(new).__name__}, "
                        "expected an item in DynamoDB JSON or null"
                    )
                check_item(new, mid, {k: old[k] for k in self.key_names if k in old})
            results.append(None if new is None else from_wire(new, mid))
        return results

    def _request(self, wired: list[Any]) -> dict[str, Any]:
        return {
            "migrationId": self.spec.migration_id,
            "tableName": self.spec.table_name,
            "items": wired,
        }

    def _named(self, wired: list[Any], failed: FunctionFailed) -> MigrationError:
        """The function's failure, naming the item it failed on: the batch is halved until one
        item fails alone (a transform is pure, README: so calling it again writes nothing; about
        log2(n) calls more, only when it failed). If no single item fails, the batch's error."""
        lo, hi, alone = 0, len(wired), len(wired) == 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            try:
                self.invoke(self.op.function or "", self._request(wired[lo:mid]))
            except FunctionFailed as exc:
                hi, failed, alone = mid, exc, mid - lo == 1
                continue
            lo, alone = mid, False
        if not alone:
            try:
                self.invoke(self.op.function or "", self._request(wired[lo:hi]))
            except FunctionFailed as exc:
                failed, alone = exc, True
        where = ""
        if alone:
            key = {k: wired[lo][k] for k in self.key_names if k in wired[lo]}
            where = f" on {json.dumps(key)}"
        return MigrationError(
            f"Migration {self.spec.migration_id}: the transform function {failed.function} "
            f"failed{where}: {failed.error}"
        )

    def _function_item(self, pair: tuple[Item, Result]) -> Outcome:
        old, new = pair
        if isinstance(new, list):
            return self._fanout_item(old, new)
        conflicts = 0
        for _ in range(MAX_CONFLICT_RETRIES + 1):
            counter = self._write_result(old, new)
            if counter is not None:
                if self.dry_run and counter != "unchanged":
                    return Outcome(counter, sample=_sample(self.key_of(old), old, new))
                return Outcome(counter, conflicts)
            conflicts += 1
            fresh = self._reread(old)
            if fresh is None:
                return Outcome("unchanged", conflicts)
            old, fresh_new = fresh, self._transform([fresh])[0]
            if isinstance(fresh_new, list):
                return self._fanout_item(old, fresh_new, conflicts)
            new = fresh_new
        return Outcome("failed", conflicts)

    def _fanout_item(self, old: Item, new: list[Item], conflicts: int = 0) -> Outcome:
        """A list result (runner.fanout): creates, then the input's own rewrite or delete."""
        fanout, counts = Fanout(self), Counter[str]()
        for _ in range(MAX_CONFLICT_RETRIES + 1):
            attempt, done = fanout.write(old, new)
            counts.update(attempt)
            if done:
                sample = None
                if self.dry_run:
                    sample = fanout_sample(self.key_of(old), old, new)
                return Outcome("updated", conflicts, sample, +counts)
            conflicts += 1
            fresh = self._reread(old)
            if fresh is None:
                counts.update(fanout.write_gone(new))
                return Outcome("unchanged", conflicts, None, +counts)
            old, result = fresh, self._transform([fresh])[0]
            new = result if isinstance(result, list) else [] if result is None else [result]
        counts["failed"] += 1
        return Outcome("failed", conflicts, None, +counts)

    def _reread(self, item: Item) -> Item | None:
        resp = call_with_backoff(
            lambda: self.client.get_item(
                TableName=self.spec.table_name, Key=self.key_of(item), ConsistentRead=True
            )
        )
        found: Item | None = resp.get("Item")
        return found

    def _write_result(self, old: Item, new: Item | None) -> str | None:
        """Write one function result; None means a conflict (re-read and re-apply)."""
        if self.spec.target:
            return self._copy_to_target(new)
        if new is None:
            return self._conditional_delete(old)
        if any(k not in new or not same_value(new[k], old[k]) for k in self.key_names):
            raise MigrationError(
                f"Migration {self.spec.migration_id}: the function changed the key of "
                f"{json.dumps(to_wire(self.key_of(old)))}; use Target to re-key into another table"
            )
        write = diff_items(old, new, self.key_names)
        if write is None:
            return "unchanged"
        if self.dry_run:
            return "updated"
        self.bucket.take()
        try:
            call_with_backoff(
                lambda: self.client.update_item(
                    TableName=self.spec.table_name, Key=self.key_of(old), **write.as_kwargs()
                )
            )
        except ClientError as exc:
            if _conflict(exc):
                return None
            raise _rejected(self.spec, "write of a function result", exc, self.key_of(old)) from exc
        return "updated"

    def _conditional_delete(self, old: Item) -> str | None:
        if self.dry_run:
            return "deleted"
        condition, names, values = unchanged_condition(old, self.key_names)
        kwargs: dict[str, Any] = {
            "TableName": self.spec.table_name,
            "Key": self.key_of(old),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
        }
        if values:
            kwargs["ExpressionAttributeValues"] = values
        self.bucket.take()
        try:
            call_with_backoff(lambda: self.client.delete_item(**kwargs))
        except ClientError as exc:
            if _conflict(exc):
                return None
            raise _rejected(
                self.spec, "delete of a function result", exc, self.key_of(old)
            ) from exc
        return "deleted"

    def _copy_to_target(self, new: Item | None) -> str:
        """Put a result into the Target table unless an item with its key is already there."""
        if new is None:
            return "unchanged"
        keys = self.target_key_names or []
        missing = [k for k in keys if k not in new]
        if missing:
            raise MigrationError(
                f"Migration {self.spec.migration_id}: a function result lacks the Target key "
                f"attribute(s) {', '.join(missing)}"
            )
        if self.dry_run:
            return "updated"
        self.bucket.take()
        try:
            call_with_backoff(
                lambda: self.client.put_item(
                    TableName=self.spec.target,
                    Item=new,
                    ConditionExpression=f"attribute_not_exists({KEY_PLACEHOLDER})",
                    ExpressionAttributeNames={KEY_PLACEHOLDER: keys[0]},
                )
            )
        except ClientError as exc:
            if _conflict(exc):
                return "unchanged"
            key = {k: new[k] for k in keys}
            raise _rejected(self.spec, "write to the Target table", exc, key) from exc
        return "updated"
