"""1:N results: a transform function's result for one input item may be a list of items.

In the list, the input's own key keeps (and rewrites) the input, its absence deletes it, and
every other key is created. New items are written first and the input last, each write
conditioned:

- a new item is created only where no item has its key (`attribute_not_exists`), so a re-run
  never duplicates one and never overwrites an item the application wrote meanwhile; an item
  already there that equals the result is the migration's own earlier write (a page re-run after
  a crash) and counts `unchanged`, one that differs is the application's and is kept as it is
  (counted `conflicts`, never overwritten);
- the input is rewritten (or deleted) conditioned on the values it was read with, as a 1:1
  result is (runner.item_diff). A conflict there re-reads the input and calls the function
  again; items created from the first answer and absent from the new one are deleted again,
  conditioned on still being exactly what was created.

Writing the new items before the input means a crash between the two leaves the input as it was
read: the re-run hands it to the function again, which returns the same list, and the creates
are recognised as done. The other order would leave a rewritten input whose new items were never
written.

With `Target` every item of the list is copied into the target table, created only where no item
has its key there (what a 1:1 copy does).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Protocol

from botocore.exceptions import ClientError

from runner.attrs import Item, from_wire, to_wire
from runner.errors import MigrationError
from runner.item_check import check_item
from runner.item_diff import diff_items, same_value, unchanged_condition
from runner.pacing import TokenBucket
from runner.retry import call_with_backoff
from runner.spec import MigrationSpec

MAX_CONFLICT_RETRIES = 5
KEY_PLACEHOLDER = "#dynamigrate_key"


class Applier(Protocol):
    """What fan-out needs from runner.operations.PageApplier."""

    spec: MigrationSpec
    client: Any
    key_names: list[str]
    target_key_names: list[str] | None
    bucket: TokenBucket
    dry_run: bool

    def key_of(self, item: Item) -> Item: ...


def key_id(item: Item, key_names: list[str]) -> str:
    """A comparable identity of an item's key (numbers as DynamoDB wrote them)."""
    return json.dumps(to_wire({k: item[k] for k in key_names if k in item}), sort_keys=True)


def parse_list(
    results: list[Any], migration_id: str, key_names: list[str], old_key: dict[str, Any]
) -> list[Item]:
    """A function's list result, checked: items in DynamoDB JSON, each with the whole key, no
    key twice. `old_key` (wire form) names the input in every error."""
    where = f"Migration {migration_id}: the function's result for {json.dumps(old_key)}"
    items: list[Item] = []
    seen: set[str] = set()
    for index, entry in enumerate(results):
        if not isinstance(entry, dict):
            raise MigrationError(
                f"{where}, entry {index}: expected an item in DynamoDB JSON, "
                f"got {type(entry).__name__}"
            )
        missing = [k for k in key_names if k not in entry]
        if missing:
            raise MigrationError(
                f"{where}, entry {index}: lacks the key attribute(s) {', '.join(missing)}"
            )
        check_item(entry, migration_id, {k: entry[k] for k in key_names})
        identity = json.dumps({k: entry[k] for k in key_names}, sort_keys=True)
        if identity in seen:
            raise MigrationError(f"{where}, entry {index}: the key {identity} appears twice")
        seen.add(identity)
        items.append(from_wire(entry, migration_id))
    return items


def _same_item(a: Item, b: Item) -> bool:
    return set(a) == set(b) and all(same_value(a[k], b[k]) for k in a)


def _rejected(spec: MigrationSpec, what: str, exc: ClientError, key: Item) -> MigrationError:
    message = exc.response.get("Error", {}).get("Message", str(exc))
    return MigrationError(
        f"Migration {spec.migration_id}: DynamoDB rejected the {what} of "
        f"{json.dumps(to_wire(key))} ({message})"
    )


def _conflict(exc: ClientError) -> bool:
    return bool(exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


def create_kwargs(table: str, item: Item, key_names: list[str]) -> dict[str, Any]:
    """UpdateItem arguments that create `item` only where no item has its key.

    UpdateItem creates the item when none has the key ("UpdateItem: edits an existing item's
    attributes, or adds a new item to the table if it does not already exist", API reference),
    so the data role needs no PutItem; the condition refuses an existing one.
    """
    names = {KEY_PLACEHOLDER: key_names[0]}
    values: dict[str, Any] = {}
    sets: list[str] = []
    for attr in sorted(a for a in item if a not in key_names):
        names[f"#c{len(sets)}"] = attr
        values[f":c{len(sets)}"] = item[attr]
        sets.append(f"#c{len(sets)} = :c{len(sets)}")
    kwargs: dict[str, Any] = {
        "TableName": table,
        "Key": {k: item[k] for k in key_names},
        "ConditionExpression": f"attribute_not_exists({KEY_PLACEHOLDER})",
        "ExpressionAttributeNames": names,
    }
    if sets:
        kwargs["UpdateExpression"] = "SET " + ", ".join(sets)
        kwargs["ExpressionAttributeValues"] = values
    return kwargs


def settle_existing(applier: Applier, table: str, item: Item, key_names: list[str]) -> str:
    """An item already has the key of one being created: ours from an earlier run (`unchanged`)
    or the application's, kept as it is (`conflicts`)."""
    found = call_with_backoff(
        lambda: applier.client.get_item(
            TableName=table, Key={k: item[k] for k in key_names}, ConsistentRead=True
        )
    ).get("Item")
    return "unchanged" if found is not None and _same_item(found, item) else "conflicts"


def _create(applier: Applier, item: Item) -> str:
    if applier.dry_run:
        return "created"
    table, keys = applier.spec.table_name, applier.key_names
    applier.bucket.take()
    try:
        call_with_backoff(lambda: applier.client.update_item(**create_kwargs(table, item, keys)))
    except ClientError as exc:
        if _conflict(exc):
            return settle_existing(applier, table, item, keys)
        raise _rejected(applier.spec, "creation of a function result", exc, item) from exc
    return "created"


def _undo_create(applier: Applier, item: Item) -> str | None:
    """Delete an item this run created, only while it is still exactly what was created."""
    if applier.dry_run:
        return None
    condition, names, values = unchanged_condition(item, applier.key_names)
    kwargs: dict[str, Any] = {
        "TableName": applier.spec.table_name,
        "Key": applier.key_of(item),
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
    }
    if values:
        kwargs["ExpressionAttributeValues"] = values
    applier.bucket.take()
    try:
        call_with_backoff(lambda: applier.client.delete_item(**kwargs))
    except ClientError as exc:
        if _conflict(exc):
            return None  # changed since: the application's now
        raise _rejected(applier.spec, "withdrawal of a created item", exc, item) from exc
    return "created"


def _rewrite_own(applier: Applier, old: Item, own: Item | None) -> str | None:
    """Rewrite or delete the input; None is a conflict (re-read and call the function again)."""
    key = applier.key_of(old)
    if own is None:
        condition, names, values = unchanged_condition(old, applier.key_names)
        kwargs: dict[str, Any] = {
            "TableName": applier.spec.table_name,
            "Key": key,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
        }
        if values:
            kwargs["ExpressionAttributeValues"] = values
        call, counter, what = applier.client.delete_item, "deleted", "delete"
    else:
        write = diff_items(old, own, applier.key_names)
        if write is None:
            return "unchanged"
        kwargs = {"TableName": applier.spec.table_name, "Key": key, **write.as_kwargs()}
        call, counter, what = applier.client.update_item, "updated", "write"
    if applier.dry_run:
        return counter
    applier.bucket.take()
    try:
        call_with_backoff(lambda: call(**kwargs))
    except ClientError as exc:
        if _conflict(exc):
            return None
        raise _rejected(applier.spec, f"{what} of a function result", exc, key) from exc
    return counter


class Fanout:
    """Writes the list results of one input item, across conflict retries."""

    def __init__(self, applier: Applier) -> None:
        self.applier = applier
        self.created: dict[str, Item] = {}  # what this item's attempts created, by key

    def write(self, old: Item, results: list[Item]) -> tuple[Counter[str], bool]:
        """The counters of one attempt, and whether the input's own write conflicted."""
        a = self.applier
        if a.spec.target:
            return self._copy(results), True
        own_id = key_id(old, a.key_names)
        own = next((r for r in results if key_id(r, a.key_names) == own_id), None)
        counts: Counter[str] = Counter()
        wanted = {key_id(r, a.key_names): r for r in results if key_id(r, a.key_names) != own_id}
        kept = {i: c for i, c in self.created.items() if i in wanted and _same_item(c, wanted[i])}
        for identity, item in self.created.items():
            if identity not in kept and _undo_create(a, item):
                counts["created"] -= 1
        self.created = kept
        for identity, item in wanted.items():
            if identity in self.created and _same_item(self.created[identity], item):
                continue
            counter = _create(a, item)
            if counter == "created":
                self.created[identity] = item
            counts[counter] += 1
        written = _rewrite_own(a, old, own)
        if written is None:
            return counts, False
        counts[written] += 1
        return counts, True

    def write_gone(self, results: list[Item]) -> Counter[str]:
        """The input was deleted meanwhile: withdraw what its attempts created (the
        application's delete wins), counting the input `unchanged`."""
        counts: Counter[str] = Counter(unchanged=1)
        for item in self.created.values():
            if _undo_create(self.applier, item):
                counts["created"] -= 1
        self.created = {}
        return counts

    def _copy(self, results: list[Item]) -> Counter[str]:
        a = self.applier
        keys = a.target_key_names or []
        table = a.spec.target or ""
        counts: Counter[str] = Counter()
        for item in results:
            missing = [k for k in keys if k not in item]
            if missing:
                raise MigrationError(
                    f"Migration {a.spec.migration_id}: a function result lacks the Target key "
                    f"attribute(s) {', '.join(missing)}"
                )
            if a.dry_run:
                counts["created"] += 1
                continue
            a.bucket.take()
            kwargs = {
                "TableName": table,
                "Item": item,
                "ConditionExpression": f"attribute_not_exists({KEY_PLACEHOLDER})",
                "ExpressionAttributeNames": {KEY_PLACEHOLDER: keys[0]},
            }
            try:
                call_with_backoff(lambda kw=kwargs: a.client.put_item(**kw))  # type: ignore[misc]
            except ClientError as exc:
                if _conflict(exc):
                    counts["unchanged"] += 1
                    continue
                key = {k: item[k] for k in keys}
                raise _rejected(a.spec, "write to the Target table", exc, key) from exc
            counts["created"] += 1
        return counts


def fanout_sample(key: Item, before: Item, results: list[Item]) -> dict[str, Any]:
    """A dry-run sample of a list result: the input, and the items it becomes."""
    return {
        "M": {
            "key": {"M": key},
            "before": {"M": before},
            "after": {"L": [{"M": r} for r in results]},
        }
    }
