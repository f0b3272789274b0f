"""Item collections: `ItemCollections: true` hands the function every item of one partition key.

Reading (runner.collection_reads): the Scan says which partition keys a page holds and
each collection is read whole by a Query.

Writing. The function's answer for a collection is the list of items it becomes: an input key
in it is rewritten (a conditional diff, runner.item_diff), one absent is deleted (conditioned on
being unchanged), a new key is created (`attribute_not_exists`). The writes of one collection go
in one TransactWriteItems, all or nothing (a single write goes alone: a transaction costs twice
the units); a cancelled transaction (a condition failed: the application wrote meanwhile) re-reads
the collection, asks the function again and retries. An item created outside the collection's
partition key that is already there is ours from an earlier run when it is equal (`unchanged`),
else the application's, kept (`conflicts`).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from runner.attrs import Item, to_wire
from runner.collection_reads import CollectionPage, CollectionReader
from runner.errors import FunctionFailed, MigrationError
from runner.fanout import (
    KEY_PLACEHOLDER,
    Applier,
    create_kwargs,
    key_id,
    parse_list,
    settle_existing,
)
from runner.function_replies import function_items
from runner.item_diff import diff_items, unchanged_condition
from runner.journal import KEPT_NOTE, collection_records, collection_verdict
from runner.operations import (
    MAX_FUNCTION_REQUEST_BYTES,
    PageFailed,
    PageResult,
    request_batches,
)
from runner.retry import call_with_backoff
from runner.source import Page

# "TransactWriteItems is a synchronous and idempotent write operation that groups up to 100
# write actions ... The aggregate size of the items in the transaction cannot exceed 4 MB"
# (Developer Guide, "Amazon DynamoDB Transactions: How it works").
MAX_TRANSACTION_ACTIONS = 100
MAX_CONFLICT_RETRIES = 5


@dataclass
class Planned:
    """The writes that turn one collection into its result, and what each counts."""

    actions: list[dict[str, Any]] = field(default_factory=list)  # TransactItems entries
    creates: list[Item | None] = field(default_factory=list)  # per action: the created item
    counts: Counter[str] = field(default_factory=Counter)


def plan_writes(
    table: str, key_names: list[str], old: list[Item], new: list[Item], settled: set[str]
) -> Planned:
    """Rewrite what stays, delete what went, create what is new (keys in `settled` are done)."""
    planned = Planned()
    before = {key_id(i, key_names): i for i in old}
    after = {key_id(i, key_names): i for i in new}
    for identity, item in before.items():
        key = {k: item[k] for k in key_names}
        if identity in after:
            write = diff_items(item, after[identity], key_names)
            if write is None:
                planned.counts["unchanged"] += 1
                continue
            planned.actions.append(
                {"Update": {"TableName": table, "Key": key, **write.as_kwargs()}}
            )
            planned.creates.append(None)
            planned.counts["updated"] += 1
        else:
            condition, names, values = unchanged_condition(item, key_names)
            delete: dict[str, Any] = {
                "TableName": table,
                "Key": key,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
            }
            if values:
                delete["ExpressionAttributeValues"] = values
            planned.actions.append({"Delete": delete})
            planned.creates.append(None)
            planned.counts["deleted"] += 1
    for identity, item in after.items():
        if identity in before or identity in settled:
            continue
        create = create_kwargs(table, item, key_names)
        # In a transaction a Put creates it (an Update must carry an UpdateExpression, which a
        # key-only item has none of); the condition still refuses an existing item.
        planned.actions.append(
            {
                "Put": {
                    "TableName": table,
                    "Item": item,
                    "ConditionExpression": create["ConditionExpression"],
                    "ExpressionAttributeNames": {KEY_PLACEHOLDER: key_names[0]},
                }
            }
        )
        planned.creates.append(item)
        planned.counts["created"] += 1
    return planned


def _token(actions: list[dict[str, Any]]) -> str:
    """The transaction's ClientRequestToken: the same writes retried after a lost answer are
    applied once ("Idempotency", Developer Guide, transactions; valid for 10 minutes)."""
    return hashlib.sha256(json.dumps(actions, sort_keys=True, default=repr).encode()).hexdigest()[
        :36
    ]


def _single(applier: Applier, action: dict[str, Any]) -> None:
    ((kind, body),) = action.items()
    if kind == "Put":
        item = body["Item"]
        call_with_backoff(
            lambda: applier.client.update_item(
                **create_kwargs(body["TableName"], item, applier.key_names)
            )
        )
    elif kind == "Update":
        call_with_backoff(lambda: applier.client.update_item(**body))
    else:
        call_with_backoff(lambda: applier.client.delete_item(**body))


def _conflicting(exc: ClientError) -> list[int] | None:
    """The indexes of the actions whose condition failed, or None if it was no conflict."""
    error = exc.response.get("Error", {})
    code = error.get("Code")
    if code == "ConditionalCheckFailedException":
        return [0]
    if code != "TransactionCanceledException":
        return None
    reasons = exc.response.get("CancellationReasons") or []
    codes = [r.get("Code") for r in reasons]
    if not any(c in ("ConditionalCheckFailed", "TransactionConflict") for c in codes):
        return None
    return [i for i, c in enumerate(codes) if c == "ConditionalCheckFailed"]


class CollectionWriter:
    """Applies the function to collections and writes each result all or nothing."""

    def __init__(self, applier: Any, reader: CollectionReader) -> None:
        self.applier = applier
        self.reader = reader

    def transform(self, collections: list[list[Item]]) -> list[list[Item]]:
        a = self.applier
        mid = a.spec.migration_id
        wired = [[to_wire(i) for i in c] for c in collections]
        out: list[list[Item]] = []
        for start, batch in request_batches(wired):
            out.extend(self._batch(collections[start : start + len(batch)], batch, mid))
        return out

    def _request(self, wired: list[Any]) -> dict[str, Any]:
        a = self.applier
        return {
            "migrationId": a.spec.migration_id,
            "tableName": a.spec.table_name,
            "itemCollections": True,
            "items": wired,
        }

    def _batch(self, collections: list[list[Item]], wired: list[Any], mid: str) -> list[list[Item]]:
        a = self.applier
        out = function_items(
            lambda: a.invoke(a.op.function or "", self._request(wired)),
            mid,
            lambda exc: self._named(wired, exc),
        )
        if len(out) != len(collections):
            raise MigrationError(
                f"Migration {mid}: the function returned {len(out)} results for "
                f"{len(collections)} item collections; with ItemCollections it must return one "
                "result (the list of items the collection becomes) per collection, in order"
            )
        results = []
        for old, new in zip(wired, out, strict=True):
            pk = {a.key_names[0]: old[0][a.key_names[0]]}
            if not isinstance(new, list):
                raise MigrationError(
                    f"Migration {mid}: the function's result for the item collection "
                    f"{json.dumps(pk)} is {type(new).__name__}; with ItemCollections each result "
                    "is the list of items the collection becomes ([] deletes it)"
                )
            results.append(parse_list(new, mid, a.key_names, pk))
        return results

    def _named(self, wired: list[Any], failed: FunctionFailed) -> MigrationError:
        """The failure, naming the collection it failed on (the batch halved, as for items)."""
        a = self.applier
        lo, hi = 0, len(wired)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            try:
                a.invoke(a.op.function or "", self._request(wired[lo:mid]))
            except FunctionFailed as exc:
                hi, failed = mid, exc
                continue
            lo = mid
        pk = {a.key_names[0]: wired[lo][0][a.key_names[0]]}
        return MigrationError(
            f"Migration {a.spec.migration_id}: the transform function {failed.function} "
            f"failed on the item collection {json.dumps(pk)}: {failed.error}"
        )

    def apply(self, collections: list[list[Item]]) -> list[Counter[str] | Exception]:
        """Each collection's counters (or the error it failed with), in order."""
        results = self.transform(collections)
        pairs = list(zip(collections, results, strict=True))
        journal = getattr(self.applier, "journal", None)
        if journal is not None and not self.applier.dry_run:  # runner.journal: the write-ahead
            keys = self.applier.key_names
            journal.write([r for old, new in pairs for r in collection_records(old, new, keys)])
        concurrency = self.applier.concurrency
        if concurrency > 1 and len(pairs) > 1:
            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                return list(pool.map(self._attempt, pairs))
        return [self._attempt(p) for p in pairs]

    def _attempt(self, pair: tuple[list[Item], list[Item]]) -> Counter[str] | Exception:
        try:
            return self.write(*pair)
        except Exception as exc:  # the page fails once every collection was tried
            return exc

    def write(self, old: list[Item], new: list[Item]) -> Counter[str]:
        a = self.applier
        table, keys = a.spec.table_name, a.key_names
        settled: set[str] = set()
        extra: Counter[str] = Counter()
        for _ in range(MAX_CONFLICT_RETRIES + 1):
            planned = plan_writes(table, keys, old, new, settled)
            if len(planned.actions) > MAX_TRANSACTION_ACTIONS:
                pk = json.dumps(to_wire({keys[0]: old[0][keys[0]]}))
                raise MigrationError(
                    f"Migration {a.spec.migration_id}: the item collection {pk} "
                    f"({len(old)} items) needs {len(planned.actions)} writes; one transaction "
                    f"takes at most {MAX_TRANSACTION_ACTIONS}"
                )
            if a.dry_run or not planned.actions:
                return planned.counts + extra
            conflicted = self._send(planned.actions)
            if conflicted is None:
                return planned.counts + extra
            extra["conflicts"] += 1
            for index in conflicted:
                created = planned.creates[index] if index < len(planned.creates) else None
                if created is not None and not any(
                    key_id(created, keys) == key_id(i, keys) for i in old
                ):
                    counter = settle_existing(a, table, created, keys)
                    settled.add(key_id(created, keys))
                    extra[counter] += 1
            old = self.reader.reread(old)
            if not old:  # the application deleted the collection meanwhile
                return extra
            new = self.transform([old])[0]
        extra["failed"] += len(old)
        return extra

    def _send(self, actions: list[dict[str, Any]]) -> list[int] | None:
        """Write; None when done, else the indexes of the actions that conflicted."""
        a = self.applier
        a.bucket.take()
        try:
            if len(actions) == 1:
                _single(a, actions[0])
            else:
                call_with_backoff(
                    lambda: a.client.transact_write_items(
                        TransactItems=actions, ClientRequestToken=_token(actions)
                    )
                )
        except ClientError as exc:
            conflicted = _conflicting(exc)
            if conflicted is None:
                message = exc.response.get("Error", {}).get("Message", str(exc))
                first = next(iter(actions[0].values()))
                key = first.get("Key") or {k: first["Item"][k] for k in a.key_names}
                raise MigrationError(
                    f"Migration {a.spec.migration_id}: DynamoDB rejected the writes of the item "
                    f"collection {json.dumps(to_wire({a.key_names[0]: key[a.key_names[0]]}))} "
                    f"({message})"
                ) from exc
            return conflicted
        return None


class CollectionSource:
    """The worker's side: collection pages of one segment, and applying one of them."""

    def __init__(self, applier: Any, client: Any, request: dict[str, Any]) -> None:
        self.applier = applier
        self.reader = CollectionReader(
            client,
            request,
            applier.spec.migration_id,
            applier.key_names[0],
            MAX_FUNCTION_REQUEST_BYTES,
        )
        self.writer = CollectionWriter(applier, self.reader)

    def pages(self, start_key: Item | None) -> Iterator[CollectionPage]:
        return self.reader.pages(start_key)

    def apply(self, page: Page) -> PageResult:
        """The page's counters; PageFailed (after the other collections' writes) if one failed."""
        result = PageResult()
        collections = page.collections if isinstance(page, CollectionPage) else []
        collections = self._screen(collections, result)
        if not collections:
            return result
        outcomes = self.writer.apply(collections)
        errors = [o for o in outcomes if isinstance(o, Exception)]
        for outcome in outcomes:
            if not isinstance(outcome, Exception):
                result.counters.update(+outcome)
        if errors:
            if isinstance(errors[0], MigrationError):
                raise PageFailed(str(errors[0]), result) from errors[0]
            raise errors[0]
        return result

    def _screen(self, collections: list[list[Item]], result: PageResult) -> list[list[Item]]:
        """Leave out the collections an earlier attempt at the page already wrote (counted as
        that transaction counted) or that the application wrote since (kept: runner.journal)."""
        journal = getattr(self.applier, "journal", None)
        earlier = journal.earlier if journal is not None else None
        if not earlier:
            return collections
        pk_name = self.applier.key_names[0]
        left: list[list[Item]] = []
        for collection in collections:
            verdict, counts = collection_verdict(earlier, collection, pk_name)
            if verdict == "written":
                result.counters.update(counts)
            elif verdict == "moved":
                result.counters["kept"] += 1
                key = {"M": {pk_name: collection[0][pk_name]}}
                result.samples.append({"M": {"key": key, "operation": {"S": KEPT_NOTE}}})
            else:
                left.append(collection)
        return left
