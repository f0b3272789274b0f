"""Exactly once per item: a page's write-ahead journal, and recognising an earlier attempt's writes.

A page is processed again after its worker was killed or failed part-way (its checkpoint had not
moved past it). Re-applying an operation that is not repeatable (`SET n = n + :one`, `ADD n :one`,
`list_append` onto itself, a transform function) to the items the earlier attempt already wrote
would apply it twice. So, before a page's first write, the worker writes the page's journal to S3:
for each item it is about to change, the values it read and the values it will leave (the same
record as a before-image, runner.before_images), computed as DynamoDB would (runner.update_eval)
or from the function's result. Every write is conditioned on the values read
(runner.recording), so an item holds either what was read, or exactly what the journal planned,
or something the application wrote since.

When the page is tried again, each item it reads is judged against the earlier attempts' records
(their before-images, else their journals):
- it holds what an earlier attempt wrote: that write is recognised and not made again (counted
  `updated`, as the earlier attempt's counters were never committed with the page);
- it holds what was read: it was not written; it is processed as usual;
- it holds neither: the application wrote it in between, and it cannot be known whether the
  earlier write landed first. A repeatable operation is applied (applying it again changes
  nothing); any other is left as the application wrote it, counted `kept` and sampled in the
  history. This is the limit: such an item is migrated at most once, not exactly once.

An item a journal planned to delete that the page no longer holds is looked up (a strongly
consistent GetItem); if it is gone, the earlier attempt's delete is counted, and its record kept
for the restore.

The journal of a run is kept when the run's rollback restores from before-images (so a killed
worker's writes are undone too) and whenever the operation is not repeatable. Its objects live
beside the run's before-images, `dynamigrate/before-images/<table>/<migration>/<run>.journal/`,
under the same lifecycle rule and the same least-privilege statement (macro.rollback).
Amazon S3 gives strong read-after-write consistency for PUT and LIST ("Amazon S3 data
consistency model", Amazon S3 User Guide), so a retried page sees every journal written before.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from runner.attrs import Item
from runner.before_images import (
    PREFIX,
    BeforeImage,
    BeforeImageStore,
    changed,
    page_key,
    same_or_absent,
)
from runner.fanout import key_id
from runner.spec import Direction, MigrationSpec, Operation
from runner.update_eval import Unknown, crossed, evaluate, overlaps, reads_of
from runner.update_expr import Action, IfNotExists, Update, Value, parse_update

Verdict = Literal["written", "untouched", "moved"]
KEPT_NOTE = (
    "kept: the application wrote it while an interrupted attempt was writing it; not applied "
    "again (the operation is not repeatable)"
)


def journal_prefix(table: str, migration_id: str, run_id: str) -> str:
    return f"{PREFIX}{table}/{migration_id}/{run_id}.journal/"


def _repeatable_action(action: Action, values: dict[str, Any]) -> bool:
    if action.clause in ("REMOVE", "DELETE"):
        return True
    if action.clause == "ADD":  # adding set elements again adds nothing; a number grows again
        value = values.get(action.value.placeholder) if isinstance(action.value, Value) else None
        return isinstance(value, dict) and set(value) <= {"SS", "NS", "BS"}
    value = action.value
    if isinstance(value, IfNotExists) and value.path == action.path:
        return not reads_of(value.default)  # SET a = if_not_exists(a, :v): set once, then kept
    return not any(overlaps(r.elements, action.path.elements) for r in reads_of(value))


def repeatable(update: Update | None, values: dict[str, Any]) -> bool:
    """Whether applying `update` a second time certainly changes nothing: no action reads what
    the update writes (no `n = n + :one`, no `list_append(l, ...)` onto `l`, no ADD of a number)."""
    if update is None:
        return False
    return not crossed(update) and all(_repeatable_action(a, values) for a in update.actions)


def keeps_journal(spec: MigrationSpec, op: Operation, direction: Direction, values: Any) -> bool:
    """Whether a run of `op` writes a journal before each page's writes (module docstring)."""
    if op.kind not in ("Update", "Delete", "Function"):
        return False
    if direction == "up" and spec.restores:
        return True
    if op.kind == "Function":
        return True
    if op.kind == "Update":
        return not repeatable(parse_update(op.expression or "", op.names), values)
    return False


def planned_update(
    key: Item, item: Item, update: Update | None, values: Any, touched: set[str]
) -> BeforeImage | None:
    """The record of the update the worker is about to make, or None where what DynamoDB would
    do is not certain (that item is journalled by its before-image only after its write)."""
    if update is None:
        return None
    try:
        after = evaluate(update, item, values)
    except Unknown:
        return None
    if after.crossed:
        return None
    return changed(key, item, after.item, touched or None)


@dataclass
class EarlierAttempts:
    """The records earlier attempts at one page left, by item key: exact before-images first,
    then what their journals planned."""

    key_names: list[str]
    records: dict[str, BeforeImage] = field(default_factory=dict)
    from_journal: set[str] = field(default_factory=set)

    @classmethod
    def load(
        cls,
        images: BeforeImageStore | None,
        journal: BeforeImageStore,
        segment: int,
        page: int,
        migration_id: str,
        key_names: list[str],
    ) -> EarlierAttempts:
        found = cls(key_names)
        stores = [s for s in (journal, images) if s is not None]  # exact records win: last
        for store in stores:
            start = page_key(store.prefix, segment, page, 0)[: -len("0000.json")]
            for object_key in sorted(store.keys_under(start)):
                for record in store.load(object_key, migration_id):
                    ident = key_id(record.key, key_names)
                    found.records[ident] = record
                    if store is journal:
                        found.from_journal.add(ident)
                    else:
                        found.from_journal.discard(ident)
        return found

    def __bool__(self) -> bool:
        return bool(self.records)

    def record(self, key: Item) -> BeforeImage | None:
        return self.records.get(key_id(key, self.key_names))

    def journalled_only(self, key: Item) -> bool:
        """Whether the record is only a plan (the attempt was killed before its before-images)."""
        return key_id(key, self.key_names) in self.from_journal

    def verdict(self, key: Item, item: Item) -> Verdict | None:
        """What `item`, read again, says of an earlier attempt's write to it (None: none)."""
        record = self.record(key)
        if record is None or record.kind == "put":
            return None
        if record.kind == "deleted":
            whole = set(item) == set(record.before) and all(
                same_or_absent(item.get(a), v) for a, v in record.before.items()
            )
            return "untouched" if whole else "moved"
        if all(same_or_absent(item.get(a), v) for a, v in record.written.items()):
            return "written"
        if all(same_or_absent(item.get(a), v) for a, v in record.before.items()):
            return "untouched"
        return "moved"

    def deleted_keys(self, seen: set[str]) -> list[BeforeImage]:
        """Records of deletes planned for items the page read again no longer holds."""
        return [r for i, r in self.records.items() if r.kind == "deleted" and i not in seen]


@dataclass
class PageJournal:
    """Where the worker journals the page it is on, and what earlier attempts at it left."""

    store: BeforeImageStore
    segment: int
    page: int = 0
    attempt: int = 0
    earlier: EarlierAttempts | None = None

    def begin(
        self,
        page: int,
        attempt: int,
        images: BeforeImageStore | None,
        migration_id: str,
        key_names: list[str],
    ) -> None:
        """Move to a page; read what earlier attempts at it left (only a retried page has any)."""
        self.page, self.attempt, self.earlier = page, attempt, None
        if attempt:
            self.earlier = EarlierAttempts.load(
                images, self.store, self.segment, page, migration_id, key_names
            )

    def write(self, records: list[BeforeImage]) -> None:
        self.store.put_page(self.segment, self.page, self.attempt, records)


def collection_records(old: list[Item], new: list[Item], key_names: list[str]) -> list[BeforeImage]:
    """The journal of one item collection's transaction: its rewrites, deletes and creates."""
    before = {key_id(i, key_names): i for i in old}
    after = {key_id(i, key_names): i for i in new}
    records: list[BeforeImage] = []
    for ident, item in before.items():
        key = {k: item[k] for k in key_names}
        if ident not in after:
            records.append(BeforeImage("deleted", key, before=item))
        elif (record := changed(key, item, after[ident])) is not None:
            records.append(record)
    for ident, item in after.items():
        if ident not in before:
            records.append(BeforeImage("put", {k: item[k] for k in key_names}, written=item))
    return records


def collection_verdict(
    earlier: EarlierAttempts, collection: list[Item], pk_name: str
) -> tuple[Verdict | None, Counter[str]]:
    """What a collection read again says of an earlier attempt's transaction for it, and the
    counts of that transaction when it landed. A transaction is all or nothing: one item as it
    was read proves it did not land; every item as planned proves it did."""
    pk = collection[0][pk_name] if collection else None
    mine = [r for r in earlier.records.values() if same_or_absent(r.key.get(pk_name), pk)]
    if not mine:
        return None, Counter()
    present = {key_id(i, earlier.key_names): i for i in collection}
    verdicts = []
    counts: Counter[str] = Counter()
    for record in mine:
        item = present.get(key_id(record.key, earlier.key_names))
        if record.kind == "deleted":
            verdicts.append("written" if item is None else earlier.verdict(record.key, item))
            counts["deleted"] += 1
        elif record.kind == "put":
            verdicts.append("written" if item is not None else "untouched")
            counts["created"] += 1
        else:
            verdicts.append("moved" if item is None else earlier.verdict(record.key, item))
            counts["updated"] += 1
    if "untouched" in verdicts:
        return "untouched", Counter()
    if all(v == "written" for v in verdicts):
        return "written", counts
    return "moved", Counter()
